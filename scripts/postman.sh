#!/usr/bin/env bash
# make postman: run the Postman collection with newman, top to bottom, against a
# fresh server on a throwaway embedded database, as a Postman user would.
# Exits with newman's status; the server and its database stop whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

NEWMAN_VERSION=6.2.2
NEWMAN_DIR=.tools/newman # git-ignored; a local install needs no root and pins the version
NEWMAN="$NEWMAN_DIR/node_modules/.bin/newman"
PYTHON=.venv/bin/python

if [ "$("$NEWMAN" --version 2>/dev/null)" != "$NEWMAN_VERSION" ]; then
	echo "Installing newman $NEWMAN_VERSION into $NEWMAN_DIR"
	npm install --prefix "$NEWMAN_DIR" --no-audit --no-fund --loglevel=error "newman@$NEWMAN_VERSION"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/video-app-postman.XXXXXX")
SERVER_PID=

cleanup() {
	if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -TERM "$SERVER_PID" # the launcher stops the API, then the database
		for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$SERVER_PID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM # run the EXIT trap on Ctrl-C too

# A clean environment for the server: a MONGODB_URI or PUBLIC_BASE_URL from the
# caller's shell would point it at another database or other URLs. Rate limits
# stay on, as users get them: the collection signs up 4 users (limit 5/min) and
# logs in ten times (10/min), and each run has a new database, so new counters.
env -u MONGODB_URI -u PUBLIC_BASE_URL -u RATELIMIT_STORAGE_URI \
	APP_ENV=development RATELIMIT_ENABLED=true LOG_LEVEL=WARNING MAIL_OUTBOX_DIR="$WORK/outbox" \
	MEDIA_CACHE_DIR="$WORK/media-cache" \
	"$PYTHON" scripts/postman_server.py "$WORK" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

server_failed() {
	echo "postman: $1; the server's log:" >&2
	tail -n 40 "$WORK/server.log" >&2
	exit 1
}

# The launcher writes the API's port once it listens (the database and seed come first).
for _ in $(seq 600); do
	[ -s "$WORK/port" ] && break
	kill -0 "$SERVER_PID" 2>/dev/null || server_failed "the server exited"
	sleep 0.2
done
[ -s "$WORK/port" ] || server_failed "the server did not start within 120 s"
BASE_URL="http://127.0.0.1:$(cat "$WORK/port")"

for _ in $(seq 100); do
	curl -fsS -o /dev/null "$BASE_URL/health" 2>/dev/null && break
	sleep 0.2
done
curl -fsS -o /dev/null "$BASE_URL/health" || server_failed "/health is not 200"
echo "Server up at $BASE_URL (the collection's Dashboard request waits for the demo videos)"

# --working-dir: the upload's file (sample.mp4) is relative to postman/.
status=0
"$NEWMAN" run postman/video-app.postman_collection.json \
	-e postman/local.postman_environment.json \
	--env-var "baseUrl=$BASE_URL" \
	--working-dir postman \
	"$@" || status=$?
[ "$status" -eq 0 ] || tail -n 40 "$WORK/server.log" >&2
exit "$status"
