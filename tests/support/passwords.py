"""A spy on bcrypt: the cost of every hash a login compares against."""

import bcrypt


def bcrypt_costs(monkeypatch):
    """Record the cost of every hash bcrypt.checkpw is asked to compare against."""
    seen = []
    real = bcrypt.checkpw

    def spy(password, hashed):
        seen.append(int(hashed.split(b"$")[2]))
        return real(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", spy)
    return seen
