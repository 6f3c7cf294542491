"""A byte range of an open local file as a response body the server may send with sendfile.

The media cache hands the media route an open file; ``file_response`` answers
with it through the server's ``wsgi.file_wrapper`` (PEP 3333). Under gunicorn
(web/http_worker/) the worker sees that wrapper, takes the file's descriptor
and its current offset, and sends exactly Content-Length bytes with the
kernel's sendfile: a range is a seek plus a length, and no byte passes
through Python. Any other server iterates the wrapper, which calls ``read``:
``FileRange`` never reads past the range, so the body is right either way.
"""

from flask import Response
from werkzeug.wsgi import wrap_file

READ_SIZE = 256 * 1024  # per read() when a server iterates the body instead


class FileRange:
    """``length`` bytes of ``file`` from ``start``: read(), fileno(), close().

    The file is positioned at ``start`` here: a server that sends with
    sendfile starts at the file's current offset (gunicorn's rule).
    ``close`` closes the file once and then runs ``on_close`` callbacks.
    """

    def __init__(self, file, start, length):
        file.seek(start)
        self.file, self.remaining = file, length
        self.on_close = []
        self.closed = False

    def read(self, size=-1):
        if size is None or size < 0 or size > self.remaining:
            size = self.remaining
        data = self.file.read(size) if size else b""
        self.remaining -= len(data)
        return data

    def fileno(self):
        return self.file.fileno()

    def close(self):
        if self.closed:  # the server and werkzeug may both close it
            return
        self.closed = True
        try:
            self.file.close()
        finally:
            _run_all(self.on_close)


def _run_all(callbacks):
    """Every callback runs even when one fails; the first failure is raised after."""
    failure = None
    for callback in callbacks:
        try:
            callback()
        except Exception as error:  # re-raised below, once every callback has run
            failure = failure or error
    if failure is not None:
        raise failure


class FileResponse(Response):
    """A response whose body is a FileRange in the server's file wrapper.

    ``direct_passthrough`` is what lets the server see its own wrapper (and
    so use sendfile), but then werkzeug never calls ``Response.close``, which
    is where ``call_on_close`` hooks (web/logs.py's access line) run. They are
    handed to the FileRange instead, whose ``close`` the server calls when the
    body is sent or the client hangs up. For a HEAD (or a 304) werkzeug sends
    an empty body and calls ``Response.close``, which closes the wrapper: the
    hooks run then.
    """

    def __init__(self, body, file_range, **kwargs):
        super().__init__(body, direct_passthrough=True, **kwargs)
        self.file_range = file_range

    def call_on_close(self, func):
        self.file_range.on_close.append(func)
        return func


def file_response(environ, file, start, length, status, headers, content_type):
    """``length`` bytes of the open ``file`` from ``start``, closed when the server is done.

    ``file`` must be a real file (a ``fileno`` for sendfile, ``seek`` and
    ``read`` otherwise); the response owns it from here.
    """
    file_range = FileRange(file, start, length)
    body = wrap_file(environ, file_range, READ_SIZE)
    response = FileResponse(body, file_range, status=status, headers=headers)
    response.content_type = content_type
    response.content_length = length
    return response
