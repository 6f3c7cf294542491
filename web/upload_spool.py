"""Upload bodies go straight to a temporary file on disk, never to memory.

werkzeug's form parser asks the request for a file object for each uploaded
part; we hand it a NamedTemporaryFile (deleted when closed) so the probe can
read it by path and GridFS can copy it in chunks, with no second copy.

Each spooled part holds a file descriptor until it is closed, so a request
gets one: a second file part is refused before anything of it is written,
and every spooled file is closed when the request ends, however it ends
(parse error, client gone, 400, 413, 422 or success), not whenever the
garbage collector gets to an exception's traceback.
"""

import tempfile
from pathlib import Path

from flask import Request

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

    def _get_file_stream(
        self, total_content_length, content_type, filename=None, content_length=None
    ):
        spooled = self._spooled_files()
        if len(spooled) >= self.FILE_PARTS:
            raise TooManyFiles()
        # Open past this call on purpose: close() below closes it when the request ends.
        part = tempfile.NamedTemporaryFile(prefix="upload-", suffix=".part")  # noqa: SIM115
        spooled.append(part)
        return part

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


def spooled_path(part):
    """Where ``SpoolToDiskRequest`` put an uploaded file part: its temporary file on disk,
    removed when the request ends (app.py installs the request class, web.request_class)."""
    return Path(part.stream.name)


def allow_large_body(view):
    """Mark a view whose body may exceed the JSON limit (up to MAX_UPLOAD_MB)."""
    view.large_body = True
    return view
