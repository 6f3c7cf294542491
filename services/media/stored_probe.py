"""Probing a file stored in GridFS in the sandbox child, with no copy of it on disk.

The parent serves the child's range requests (services.media.remote_file) from the file's
chunks on a thread of its own while the child probes; it reads a batch of chunks per
request and keeps the last few blocks, so its memory is RECENT_BLOCKS x remote_file.MAX_READ
whatever the file's size.
"""

import collections
import logging
import socket
import threading
from dataclasses import asdict

from flask import current_app

from models import tus_chunks
from services.media.limits import MediaLimits
from services.media.probe import MediaInfo
from services.media.remote_file import ANSWER, MAX_READ, REQUEST
from services.media.sandbox import Budget, run

log = logging.getLogger(__name__)
RECENT_BLOCKS = 3  # the parent's memory: this many blocks of remote_file.MAX_READ at most


def probe_stored(file_id, length, config):
    """MediaInfo of the stored file ``file_id``; NotMedia or SandboxFailed as probe_upload."""
    parent_end, child_end = socket.socketpair()
    failures = []  # what stopped the server: the database, not the file, is then at fault
    server = threading.Thread(
        target=_serve,
        args=(current_app._get_current_object(), parent_end, file_id, length, failures),
        name="probe-ranges",
        daemon=True,
    )
    server.start()
    try:
        arguments = {
            "fd": child_end.fileno(),
            "length": length,
            "limits": asdict(MediaLimits.from_config(config)),
        }
        budget = Budget(config["MEDIA_JOB_MEMORY_MB"], config["MEDIA_PROBE_SECONDS"])
        with child_end:
            answer = run("probe_remote", arguments, budget, pass_fds=(child_end.fileno(),))
    except Exception:
        _raise_first(failures)
        raise
    finally:
        parent_end.shutdown(socket.SHUT_RDWR)  # the server's recv returns: it ends
        server.join(timeout=10)
        parent_end.close()
    _raise_first(failures)
    return MediaInfo(**answer)


def _raise_first(failures):
    if failures:
        raise failures[0]


def _serve(app, connection, file_id, length, failures):
    """Answer range requests until the child (or probe_stored) closes its end."""
    try:
        with app.app_context():
            recent = collections.OrderedDict()
            while True:
                request = _receive(connection, REQUEST.size)
                if request is None:
                    return
                start, size = REQUEST.unpack(request)
                data = _block(recent, file_id, start, size, length)
                connection.sendall(ANSWER.pack(len(data)))
                connection.sendall(data)
    except OSError:
        return  # the child died or was killed: its exit says why, not this
    except Exception as error:  # the database: the child then reads a closed file
        log.warning("serving the probe of stored file %s failed: %r", file_id, error)
        failures.append(error)
        connection.close()


def _block(recent, file_id, start, size, length):
    """The bytes asked for, from the last few blocks served when it is one of them: the probe
    opens the file twice and reads its head again (and the mov demuxer seeks back)."""
    key = (start, min(size, MAX_READ))
    data = recent.pop(key, None)
    if data is None:
        data = tus_chunks.read(file_id, start, key[1], length)
    recent[key] = data
    while len(recent) > RECENT_BLOCKS:
        recent.popitem(last=False)
    return data


def _receive(connection, size):
    data = b""
    while len(data) < size:
        part = connection.recv(size - len(data))
        if not part:
            return None
        data += part
    return data
