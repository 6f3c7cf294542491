# The API image: `docker compose up` runs it as `api`, as `worker` (python worker.py) and, once, as
# `seed` (docker-compose.yml).
# Static checks (no Docker engine needed): `make containers` (hadolint + `docker-compose config`).
# The CMD and HEALTHCHECK below are run for real by tests/test_container_command.py.

# Debian 12, like the machines the test suite runs on; Python 3.11 as in the project.
FROM python:3.11.14-slim-bookworm

# APP_ENV=production: the image refuses to start without real secrets (config.py).
ENV APP_ENV=production \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /app

# The service user. A home of its own: gunicorn keeps its control socket in ~/.gunicorn.
# /var/cache/video-app: the media cache's directory (MEDIA_CACHE_DIR), owned by that user, so
# a named volume mounted there starts with its owner and mode.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /home/app --create-home \
        --shell /usr/sbin/nologin app \
    && install -d -o 10001 -g 10001 -m 0700 /var/cache/video-app

# No apt packages: the opencv-python-headless and av (PyAV, with FFmpeg and libx264) wheels are
# self-contained manylinux wheels; outside their own *.libs they need only libc, libm,
# libstdc++, libgcc_s and zlib, which every Debian slim image has (apt and dpkg depend on them).
# Runtime dependencies only: requirements-dev.txt (pytest, mongomock, SecantusDB) stays out.
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

# The code is owned by root and read-only for the service user; uploads and seeding write
# only to temporary files (tempfile, /tmp) and to MongoDB.
COPY . .

# Numeric, so a runtime that enforces runAsNonRoot can tell it is not root.
USER 10001:10001

EXPOSE 5000

# slim has no curl: Python's urllib, on the port of GUNICORN_BIND (0.0.0.0:5000 by default).
# Any answer but 200 (503 while MongoDB is away), a refused connection or a timeout fails.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; port = os.environ.get('GUNICORN_BIND', '0.0.0.0:5000').rsplit(':', 1)[-1]; urllib.request.urlopen(f'http://127.0.0.1:{port}/health', timeout=4)"]

# docs/operations.md#gunicorn: production starts as `gunicorn -c gunicorn.conf.py "app:create_app()"`.
CMD ["gunicorn", "-c", "gunicorn.conf.py", "app:create_app()"]
