"""Flask's cookie session, opened without building its signer when no cookie came.

The API keeps nothing in Flask's session (its credentials are bearer and playback tokens),
yet Flask opens one on every request, and ``SecureCookieSessionInterface.open_session``
builds an itsdangerous signer before it looks for the cookie: ~3% of a short media range's
CPU (py-spy on the workers, bench/ranges.py). Written by hand for that: with no cookie the
answer is the same empty session; with one, or with no secret key, Flask's own path.
"""

from flask.sessions import SecureCookieSessionInterface


class CookieSessionInterface(SecureCookieSessionInterface):
    def open_session(self, app, request):
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)
