"""What every error answer of the API looks like (docs/conventions.md)."""


def assert_error(response, status, code=None):
    """``response`` is a JSON error of ``status`` with a sentence (and ``code``); its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    assert isinstance(response.json["error"], str) and response.json["error"]
    if code:
        assert response.json["code"] == code
    return response.json
