"""The image's CMD and HEALTHCHECK, run for real without a Docker engine.

No Docker engine runs on the developers' machines or in CI (``make containers`` checks the files
statically), so the container is reproduced as closely as a process can be: the Dockerfile's own
CMD, its JSON array unchanged, runs in a copy of the build context (the repository less
``.dockerignore``: what ``COPY . .`` puts in /app), with the Dockerfile's ``ENV``, the project
venv's bin first on PATH (the image's python and gunicorn), what docker-compose.yml passes
(production secrets, the admin, a MongoDB URI: here the embedded server) and nothing else of the
caller's environment. Then the Dockerfile's HEALTHCHECK command runs against it.
"""

import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from devtools.embedded_mongo import free_port
from devtools.gunicorn_process import GunicornProcess
from tests.support.tools import require_tool

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
VENV_BIN = Path(sys.executable).parent
PRODUCTION_COMMAND = ["gunicorn", "-c", "gunicorn.conf.py", "app:create_app()"]
SECRET_NAMES = ("SECRET_KEY", "JWT_SECRET_KEY", "PLAYBACK_SECRET_KEY")


# The Dockerfile, read as Docker reads it ---------------------------------------------------


def dockerfile_instructions():
    """(INSTRUCTION, arguments) in order: comments dropped, continuation lines joined."""
    instructions, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue  # also inside a continuation, as Docker does
        if stripped.endswith("\\"):
            current += stripped[:-1].strip() + " "
            continue
        keyword, _, arguments = (current + stripped).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        current = ""
    assert not current, "the Dockerfile ends inside a continuation line"
    return instructions


def last_instruction(name):
    """The one that counts (for CMD, USER, HEALTHCHECK: the last)."""
    found = [arguments for keyword, arguments in dockerfile_instructions() if keyword == name]
    assert found, f"the Dockerfile has no {name}"
    return found[-1]


def image_command():
    command = json.loads(last_instruction("CMD"))  # exec form only: a JSON array of strings
    assert isinstance(command, list) and all(isinstance(part, str) for part in command)
    return command


def healthcheck_command():
    match = re.fullmatch(r"(?:--[a-z-]+=\S+\s+)*CMD\s+(\[.*\])", last_instruction("HEALTHCHECK"))
    assert match, "HEALTHCHECK must be [--options] CMD [exec form]"
    return json.loads(match.group(1))


def image_env():
    """Every ENV of the Dockerfile, in the KEY=value form."""
    env = {}
    for keyword, arguments in dockerfile_instructions():
        if keyword == "ENV":
            for item in shlex.split(arguments):
                key, equals, value = item.partition("=")
                assert equals, f"ENV {arguments!r}: use the KEY=value form"
                env[key] = value
    return env


# The build context, as .dockerignore makes it ------------------------------------------------


def dockerignore_rules():
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.removeprefix("!").strip().strip("/")
        rules.append((re.compile(glob_regex(pattern)), negate))
    return rules


def glob_regex(pattern):
    """Docker's patterns: ``*`` and ``?`` stay within a path segment, ``**`` crosses them."""
    parts, index = [], 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            parts.append("(?:.*/)?")
            index += 3
        elif pattern.startswith("**", index):
            parts.append(".*")
            index += 2
        else:
            char = pattern[index]
            parts.append({"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char)))
            index += 1
    return "".join(parts)


def ignored(relative, rules):
    """The last rule matching the path or one of its parents decides (Docker's rule)."""
    segments = relative.split("/")
    candidates = ["/".join(segments[:count]) for count in range(1, len(segments) + 1)]
    verdict = False
    for regex, negate in rules:
        if any(regex.fullmatch(candidate) for candidate in candidates):
            verdict = not negate
    return verdict


def context_files():
    """Relative paths of the files ``docker build .`` would send."""
    rules = dockerignore_rules()
    prune = not any(negate for _, negate in rules)  # an exception could reach inside a folder
    found = []
    for folder, dirnames, filenames in os.walk(ROOT):
        base = Path(folder).relative_to(ROOT)
        if prune:
            dirnames[:] = [d for d in dirnames if not ignored((base / d).as_posix(), rules)]
        for filename in filenames:
            relative = (base / filename).as_posix()
            if not ignored(relative, rules):
                found.append(relative)
    return sorted(found)


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory):
    """/app of the image: the build context's files."""
    target = tmp_path_factory.mktemp("image") / "app"
    for relative in context_files():
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, destination)
    return target


# Running the image's commands --------------------------------------------------------------


def container_env(tmp_path, **settings):
    """The image's environment: its ENV, then what docker-compose.yml passes."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', os.defpath)}",
        "HOME": str(home),
        "LANG": "C.UTF-8",  # set by the python base image
    }
    env.update(image_env())
    env.update({key: str(value) for key, value in settings.items()})
    return env


def strong_secrets():
    return {name: secrets.token_urlsafe(48) for name in SECRET_NAMES}


def get(port, path, timeout=5):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as response:
        return response.status, json.loads(response.read())


def image_process(app_dir, env, port, log_path):
    """The image's CMD, as ``docker run`` starts it in /app."""
    return GunicornProcess(env, log_path, command=image_command(), port=port, cwd=app_dir)


@pytest.fixture
def database_name(embedded_server):
    name = f"container_{secrets.token_hex(6)}"
    yield name
    from pymongo import MongoClient

    with MongoClient(embedded_server.uri(), serverSelectionTimeoutMS=2000) as client:
        client.drop_database(name)


# Tests --------------------------------------------------------------------------------------


def test_the_image_is_the_production_service():
    assert image_command() == PRODUCTION_COMMAND  # docs/operations.md#gunicorn
    assert image_env()["APP_ENV"] == "production"
    base = last_instruction("FROM")
    assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", base), f"unpinned base image {base}"
    assert last_instruction("USER").split(":")[0] not in ("", "0", "root")
    assert "5000" in last_instruction("EXPOSE").split()
    installs = [args for keyword, args in dockerfile_instructions() if keyword in ("RUN", "COPY")]
    assert not any("requirements-dev" in args for args in installs)
    assert any("-r requirements.txt" in args for args in installs)


def test_the_build_context_keeps_secrets_and_local_files_out():
    rules = dockerignore_rules()
    for path in (".env", ".env.production", ".venv/bin/python", ".git/HEAD", "data/db/x"):
        assert ignored(path, rules), path
    for path in (
        "tests/conftest.py",
        "requirements-dev.txt",
        ".tools/x",
        "blueprints/__pycache__/a.pyc",
    ):
        assert ignored(path, rules), path
    files = context_files()
    for path in ("app.py", "gunicorn.conf.py", "seed_videos.py", "requirements.txt", "config.py"):
        assert path in files, path
    assert not [path for path in files if path.startswith(("tests/", ".venv/", ".git/"))]


@pytest.mark.slow
@pytest.mark.embedded
def test_the_image_command_serves_and_passes_its_healthcheck(
    app_dir, embedded_server, database_name, tmp_path
):
    require_tool((VENV_BIN / "gunicorn").exists(), "gunicorn (make install)")
    port = free_port()
    env = container_env(
        tmp_path,
        MONGODB_URI=embedded_server.uri(database_name),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS=2,
        ADMIN_EMAIL="ops@example.com",
        ADMIN_PASSWORD=secrets.token_urlsafe(24),
        **strong_secrets(),
    )
    server = image_process(app_dir, env, port, tmp_path / "container.log").start()
    try:
        server.wait_until_healthy()
        assert get(port, "/health") == (200, {"status": "ok", "database": "ok"})
        status, index = get(port, "/")
        assert status == 200
        assert index["message"] == "Video App API"
        assert index["status"] == "running"
        assert index["version"]

        check = subprocess.run(
            healthcheck_command(), cwd=app_dir, env=env, capture_output=True, timeout=15
        )
        assert check.returncode == 0, check.stderr.decode()
    finally:
        returncode = server.stop()
    assert returncode == 0, f"gunicorn did not stop cleanly ({returncode}):\n{server.log()}"
    assert not server.workers_outlived_master

    down = subprocess.run(
        healthcheck_command(), cwd=app_dir, env=env, capture_output=True, timeout=15
    )
    assert down.returncode != 0, "the healthcheck passed with nothing listening"


@pytest.mark.slow
def test_the_image_command_refuses_default_secrets(app_dir, tmp_path):
    """``cp .env.example .env`` without filling it in: empty secrets mean the defaults."""
    require_tool((VENV_BIN / "gunicorn").exists(), "gunicorn (make install)")
    port = free_port()
    env = container_env(
        tmp_path,
        MONGODB_URI=f"mongodb://127.0.0.1:{free_port()}/video_app",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS=1,
        **dict.fromkeys(SECRET_NAMES, ""),
    )
    server = image_process(app_dir, env, port, tmp_path / "refused.log").start()
    try:
        returncode = server.process.wait(20)
    except subprocess.TimeoutExpired:
        pytest.fail(f"production started with default secrets:\n{server.log()}")
    finally:
        server.stop(timeout=5)
    assert returncode != 0
    assert "SECRET_KEY must be set" in server.log()
