"""What the resumable-upload tests (tests/tus/) drive the server with: tuspy's uploader as
a client makes it, a PATCH sent by hand a piece at a time, and the bytes GridFS holds."""

import http.client

from tusclient import client as tus_client


def uploader(endpoint, token, path, url=None, **options):
    client = tus_client.TusClient(endpoint, headers={"Authorization": f"Bearer {token}"})
    options.setdefault("chunk_size", 64 * 1024 * 1024)  # the whole file in one PATCH
    options.setdefault("metadata", {"title": "Cut and resumed", "filename": path.name})
    return client.uploader(str(path), url=url, **options)


def stored_prefix(state, upload):
    """The bytes stored for ``upload``, its chunks in order."""
    chunks = sorted(
        (c for c in state["chunks"] if c["files_id"] == upload["file_id"]), key=lambda c: c["n"]
    )
    assert [c["n"] for c in chunks] == list(range(len(chunks)))
    return b"".join(bytes(c["data"]) for c in chunks)


class HeldPatch:
    """A PATCH sent by hand, its body a piece at a time, so another can come in between."""

    def __init__(self, port, path, headers, data):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.connection.putrequest("PATCH", path)
        headers = {
            **headers,
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
            "Content-Length": str(len(data)),
        }
        for name, value in headers.items():
            self.connection.putheader(name, value)
        self.connection.endheaders()

    def send(self, data):
        self.connection.send(data)

    def status(self):
        return self.connection.getresponse().status

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.connection.close()
