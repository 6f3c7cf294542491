"""Upload bodies go straight to a temporary file on disk, never to memory.

werkzeug's form parser asks the request for a file object for each uploaded
part; we hand it a NamedTemporaryFile (deleted when closed) so the probe can
read it by path and GridFS can copy it in chunks, with no second copy.

Each spooled part holds a file descriptor until it is closed, so a request
gets one: a second file part is refused before anything of it is written,
and every spooled file is closed when the request ends, however it ends
(parse error, client gone, 400, 413, 422 or success), not whenever the
garbage collector gets to an exception's traceback.

A batch upload (``allow_batch_body``) raises the bounds for its own request only, before
its form is read: at most MAX_BATCH_FILES file parts (and as many text fields as a single
upload), a body of at most MAX_BATCH_FILES x MAX_UPLOAD_MB MiB plus 1 MiB, and no more
than MAX_UPLOAD_MB MiB + 1 byte of each file on disk: the rest of a larger file is counted
and dropped, so it is that file's 413 (services.media.uploads) without filling the disk.
Set after the form was read, the bounds would not apply; they only ever widen this one
request's, so a route that does not ask keeps the single upload's.
"""

import tempfile
from functools import wraps
from pathlib import Path

from flask import Request, current_app, request

from services.errors import ServiceError


class TooManyFiles(ServiceError):
    status = 400
    code = "too_many_files"
    message = "Send one file per upload: the form has more than one file part."


class MalformedForm(ServiceError):
    status = 400
    code = "malformed_form"
    message = "The form body could not be read: it is truncated or not valid multipart."


class SpoolToDiskRequest(Request):
    # werkzeug's default is 1,000; an upload is six fields (413 above this).
    max_form_parts = 20
    FILE_PARTS = 1
    file_parts = FILE_PARTS  # allow_files raises it for one request
    file_bytes = None  # at most this much of each file is written to disk (None: no cap)

    def allow_files(self, count, file_bytes, body_bytes):
        """Let this request's form carry up to ``count`` file parts of which ``file_bytes``
        each are kept, in a body of up to ``body_bytes``. Before the form is read only."""
        if "form" in self.__dict__ or "stream" in self.__dict__:
            raise RuntimeError("the form was read already: its bounds can no longer change")
        self.file_parts = count
        self.file_bytes = file_bytes
        self.max_form_parts = type(self).max_form_parts + count
        self.max_content_length = body_bytes

    def _get_file_stream(
        self, total_content_length, content_type, filename=None, content_length=None
    ):
        spooled = self._spooled_files()
        if len(spooled) >= self.file_parts:
            raise TooManyFiles(self._too_many_files_message())
        # Open past this call on purpose: close() below closes it when the request ends.
        part = tempfile.NamedTemporaryFile(prefix="upload-", suffix=".part")  # noqa: SIM115
        if self.file_bytes is not None:
            part = _CappedFile(part, self.file_bytes)
        spooled.append(part)
        return part

    def _too_many_files_message(self):
        if self.file_parts == self.FILE_PARTS:
            return None  # the single upload's sentence
        return f"Send at most {self.file_parts} files in one batch."

    def _spooled_files(self):
        return self.__dict__.setdefault("_spooled", [])

    def make_form_data_parser(self):
        parser = super().make_form_data_parser()
        parser.silent = False  # a broken body is the client's error, said as such
        return parser

    def _load_form_data(self):
        try:
            super()._load_form_data()
        except ValueError as error:  # werkzeug's word for a body that is not multipart
            self._give_up_parsing()
            raise MalformedForm() from error
        except BaseException:
            self._give_up_parsing()
            raise

    def _give_up_parsing(self):
        """Close what was spooled now; later reads of the form find it empty, and do not
        parse the rest of a body that was already refused."""
        self.close()
        empty = self.parameter_storage_class()
        self.__dict__.update(form=empty, files=empty)

    def close(self):
        """werkzeug closes the parts in ``files``; a parse that failed never put its parts
        there. Flask calls this at the end of every request."""
        super().close()
        for spooled in self._spooled_files():
            spooled.close()


class _CappedFile:
    """A spool file that keeps the first ``cap`` bytes written to it and counts the rest:
    the file on disk is then over the limit the upload checks, and no larger."""

    def __init__(self, file, cap):
        self._file = file
        self._room = cap

    def write(self, data):
        if self._room > 0:
            self._file.write(data[: self._room])
            self._room -= len(data)
        return len(data)

    def __getattr__(self, name):
        return getattr(self._file, name)


def spooled_path(part):
    """Where ``SpoolToDiskRequest`` put an uploaded file part: its temporary file on disk,
    removed when the request ends (app.py installs the request class, web.request_class)."""
    return Path(part.stream.name)


def allow_large_body(view):
    """Mark a view whose body may exceed the JSON limit (up to MAX_UPLOAD_MB)."""
    view.large_body = True
    return view


def allow_batch_body(view):
    """A view whose form may carry up to MAX_BATCH_FILES files of up to MAX_UPLOAD_MB each
    (see the module's docstring). Goes right under the route, like allow_large_body."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        files = current_app.config["MAX_BATCH_FILES"]
        file_bytes = current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024
        request.allow_files(files, file_bytes + 1, files * file_bytes + 1024 * 1024)
        return view(*args, **kwargs)

    return allow_large_body(wrapper)
