"""FFmpeg work on uploaded files, in a child process with bounded memory and time.

A hostile file can make a decoder allocate gigabytes or spin for hours. The
API process (a threaded gunicorn worker) must not be the one that pays, so
each probe (at upload) and each processing job (probe, rendition, probe,
thumbnail) runs in a fresh child, ``python -m services.media.sandbox``:

- started with ``subprocess`` (fork + exec at once): a threaded process is
  never forked to go on running Python, and no ``preexec_fn`` runs in it;
- the child lowers its own RLIMIT_AS (address space) and RLIMIT_CPU before
  it opens anything, so a decoder that asks for too much gets ENOMEM, and a
  child whose parent died still stops;
- the parent waits at most a wall-clock budget, then kills and reaps it; it
  kills it as soon as the work is unwanted too (a lost lease, a stopping worker).

The request (paths and limits) goes to the child's stdin as JSON; progress
lines and then the answer come back on its stdout, small
(services.media.conversation); the database and GridFS stay in the parent.
Starting a child costs about a tenth of a second (PyAV imports fast; OpenCV is
only imported by the thumbnail step).
"""

import json
import logging
import os
import resource
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import av

from services.media.conversation import SandboxFailed, converse, let_exit
from services.media.limits import MediaLimits
from services.media.probe import MediaInfo, NotMedia

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Decoders and x264 run threads, whose CPU time adds up: the wall clock is the real budget,
# this only stops a child that outlives its parent.
CPU_SECONDS_PER_WALL_SECOND = 2
# The child reads hostile bytes: it inherits no secrets, only what running Python needs.
INHERITED_VARIABLES = ("PATH", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "LD_LIBRARY_PATH")
CHILD_ENVIRONMENT = {
    # One thread per math library and two malloc arenas: every idle thread pool and
    # per-thread arena reserves address space, which RLIMIT_AS counts.
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MALLOC_ARENA_MAX": "2",
}
ERROR_TAIL = 2000  # characters of the child's stderr kept for the log
ORPHANED_EXIT = 3  # the child found its parent gone


@dataclass(frozen=True)
class Budget:
    memory_mb: int
    seconds: int


def probe_upload(path, config):
    """MediaInfo of an upload, probed in a child with the upload budget; NotMedia otherwise."""
    answer = run(
        "probe",
        {"path": str(path), "limits": asdict(MediaLimits.from_config(config))},
        Budget(config["MEDIA_JOB_MEMORY_MB"], config["MEDIA_PROBE_SECONDS"]),
    )
    return MediaInfo(**answer)


def prepare_media(source, workdir, config, on_progress=None, cancelled=None):
    """services.media.steps.prepare, in a child with the processing budget.

    ``on_progress(stage, done)`` hears the child's progress lines; ``cancelled()`` is asked
    while it works, and the child is killed (SandboxCancelled) once it says True."""
    return run(
        "prepare",
        {
            "source": str(source),
            "workdir": str(workdir),
            "limits": asdict(MediaLimits.from_config(config)),
        },
        Budget(config["MEDIA_JOB_MEMORY_MB"], config["MEDIA_JOB_SECONDS"]),
        on_progress,
        cancelled,
    )


def run(operation, arguments, budget, on_progress=None, cancelled=None, pass_fds=()):
    """The child's answer to ``operation``; NotMedia or SandboxFailed when it has none.
    ``pass_fds``: descriptors the child inherits (a stored file's socket: stored_probe)."""
    request = {"operation": operation, "arguments": arguments, "memory_mb": budget.memory_mb}
    request["cpu_seconds"] = budget.seconds * CPU_SECONDS_PER_WALL_SECOND
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(
            [sys.executable, "-m", "services.media.sandbox"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            cwd=PROJECT_ROOT,
            env=_child_environment(),
            pass_fds=pass_fds,
        )
        try:
            answer = converse(child, request, budget.seconds, on_progress, cancelled)
            let_exit(child)
        finally:  # a timeout, a cancel or a parent error: the child never outlives the call
            if child.poll() is None:
                child.kill()
            child.stdout.close()
            child.wait()
        return _answer(answer, child.returncode, budget, _tail(errors))


def _child_environment():
    inherited = {name: os.environ[name] for name in INHERITED_VARIABLES if name in os.environ}
    return {**inherited, **CHILD_ENVIRONMENT}


def _tail(errors):
    errors.seek(max(0, os.fstat(errors.fileno()).st_size - ERROR_TAIL))
    return errors.read().decode("utf-8", "replace")


def _answer(output, returncode, budget, stderr):
    try:
        answer = json.loads(output)
    except ValueError:
        answer = None
    if isinstance(answer, dict) and answer.get("ok"):
        return answer["result"]
    if isinstance(answer, dict) and answer.get("kind") == "not_media":
        raise NotMedia(answer["message"])
    if isinstance(answer, dict):
        raise SandboxFailed(answer["message"])
    if returncode < 0:
        raise SandboxFailed(
            f"the media step was killed by signal {-returncode} "
            f"(limits: {budget.memory_mb} MB, {budget.seconds} s)"
        )
    log.warning("media child died (exit %s): %s", returncode, stderr)
    raise SandboxFailed(f"the media step died (exit {returncode})")  # no paths in it


# ---- the child ------------------------------------------------------------------------


def _limit_self(memory_mb, cpu_seconds):
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _perform(operation, arguments, report):
    if operation == "ladder":  # the HLS renditions: services.media.ladder reads its own arguments
        from services.media import ladder

        return ladder.run_request(arguments, report)
    from services.media import steps
    from services.media.probe import probe

    limits = MediaLimits(**arguments["limits"])
    if operation == "probe":
        return asdict(probe(arguments["path"], limits))
    if operation == "probe_remote":  # a file in GridFS, read from the parent (stored_probe)
        from services.media.remote_file import RemoteFile

        return asdict(probe(RemoteFile(arguments["fd"], arguments["length"]), limits))
    if operation == "prepare":
        workdir = Path(arguments["workdir"])
        return steps.prepare(Path(arguments["source"]), workdir, limits, report)
    raise ValueError(f"unknown operation {operation!r}")


class _Reporter:
    """The child's ``report(stage, done)``: a JSON line on stdout, and the moment to check
    that the parent is alive. A parent killed with SIGKILL cannot kill its child, and the
    repo starts children without ``preexec_fn`` (so no PDEATHSIG): an orphan would encode
    on, for nobody, until RLIMIT_CPU. It stops at its next report instead: its parent has
    changed, and the write would fail anyway (BrokenPipeError, the pipe has no reader)."""

    def __init__(self):
        self.parent = os.getppid()

    def __call__(self, stage, done=0.0):
        if os.getppid() != self.parent:
            os._exit(ORPHANED_EXIT)  # at once: nothing is owed to a dead parent
        sys.stdout.write(json.dumps({"progress": [stage, round(done, 4)]}) + "\n")
        sys.stdout.flush()


def _failure(error, memory_mb):
    if isinstance(error, NotMedia):
        return {"ok": False, "kind": "not_media", "message": str(error)}
    if isinstance(error, MemoryError) or getattr(error, "errno", None) == 12:  # ENOMEM
        message = f"the media step ran out of its memory budget ({memory_mb} MB)"
        return {"ok": False, "kind": "memory", "message": message}
    # FFmpeg's messages name the file: its strerror alone keeps temp paths out of the reason.
    detail = error.strerror if isinstance(error, av.FFmpegError) else str(error)
    return {"ok": False, "kind": "error", "message": f"{type(error).__name__}: {detail}"[:500]}


def main():
    # A Ctrl-C reaches the whole foreground group: the worker's, not the child's to act on
    # (it drains, then kills the child itself); dying here would fail the video instead.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    request = json.loads(sys.stdin.buffer.read())
    _limit_self(request["memory_mb"], request["cpu_seconds"])
    try:
        result = _perform(request["operation"], request["arguments"], _Reporter())
        answer = {"ok": True, "result": result}
    except Exception as error:  # every failure is an answer; the parent decides what it means
        answer = _failure(error, request["memory_mb"])
    sys.stdout.write(json.dumps(answer))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
