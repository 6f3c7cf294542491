"""Domain errors. Services raise them; one handler turns them into JSON.

Each carries the HTTP status, a snake_case ``code`` and a human sentence, so a
view never builds an error response by hand (docs/conventions.md#errors).
"""


class ServiceError(Exception):
    status = 400
    code = "bad_request"
    message = "The request could not be processed."

    def __init__(self, message=None, *, code=None, details=None, headers=None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.code = code or self.code
        self.details = details
        self.headers = headers or {}

    def to_dict(self):
        body = {"error": self.message, "code": self.code}
        if self.details:
            body["details"] = self.details
        return body


class InvalidInput(ServiceError):
    status = 400
    code = "validation_error"
    message = "Some fields are invalid."


class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"
    message = "Authentication required."

    def __init__(self, message=None, **kwargs):
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(message, **kwargs)


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"
    message = "You are not allowed to do this."


class NotFound(ServiceError):
    status = 404
    code = "not_found"
    message = "Not found."


class Conflict(ServiceError):
    status = 409
    code = "conflict"
    message = "The request conflicts with the current state."


class PaymentRequired(ServiceError):
    status = 402
    code = "payment_failed"
    message = "The payment did not go through."


class Unavailable(ServiceError):
    status = 503
    code = "service_unavailable"
    message = "The service is temporarily unavailable."
