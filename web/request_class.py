"""The request class of the app: uploads spool to disk, and a query string that is not
UTF-8 is the client's error (400), not ours (500)."""

from werkzeug.exceptions import BadRequest
from werkzeug.utils import cached_property

from web.upload_spool import SpoolToDiskRequest


class ApiRequest(SpoolToDiskRequest):
    @cached_property
    def args(self):
        # werkzeug decodes the query string as strict UTF-8: a raw byte that is not (0xFF, or
        # ED A0 80, the bytes of half a UTF-16 pair) raised UnicodeDecodeError wherever the
        # arguments were first read (a schema, the rate limiter's key), a 500. Escaped
        # (%ED%A0%80) they are left as they are, and a path gets U+FFFD: only this was unsafe.
        try:
            return super().args
        except UnicodeDecodeError as error:
            raise BadRequest("The query string is not valid UTF-8.") from error
