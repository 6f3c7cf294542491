"""Short Range requests benchmark (issue 18): players' many small ranges, media route vs nginx.

One synthetic video (90 MB by default, made once and kept, bench/media_servers.py) goes
through ``POST /video/upload`` on gunicorn (repo config) and the embedded database; Debian's
nginx serves the bytes GridFS then holds from disk (sendfile on, its own config, a free
port). wrk, 50 connections, asks each for random 300 KiB ranges
(``Range: bytes=N-(N+300K-1)``, a Lua script; the same seeded sequence for both), nginx and
the route interleaved, best of ``--rounds``. Every request carries the same playback token.
The media cache is set up and warmed as in bench/cache.py (bench/media_servers.media_and_nginx;
``--cache-mb 0``: off).
Rate limits are ON, as in production (the limiter's counter is part of each request's
work), with ``RATELIMIT_MEDIA`` raised to 1000000 per minute for the run so that the one
token is never refused; ``--no-limiter`` turns them off to show what the counter costs.
nginx keeps wrk's connections alive; gunicorn closes each after its answer (keepalive = 0 in
gunicorn.conf.py: the proxy in front keeps the clients'), so each of its requests opens one.
Prints (never asserts): requests/s of each, latency p50/p95, errors, and the ratio
media/nginx (goal >= 0.2x).
Run: .venv/bin/python -m bench.ranges [--mb 90] [--seconds 15] [--rounds 2] [--no-limiter]
                                      [--cache-mb 1024]
"""

import argparse
import random

from bench.media_servers import (
    errors_text,
    media_and_nginx,
    run_wrk,
    sha256_of_get,
    write_script,
)

SPAN = 300 * 1024
MEDIA_LIMIT = "1000000 per minute"

# Each wrk thread has its own Lua state: setup() numbers them, so each seeds its own
# sequence, the same one against nginx and against the route.
RANGES_LUA = """
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("id", threads)
end
init = function(args)
  math.randomseed(1000 + id)
end
request = function()
  local first = math.random(0, {last_start})
  local range = "bytes=" .. first .. "-" .. (first + {span} - 1)
  return wrk.format("GET", nil, {{["Range"] = range}})
end
"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=90, help="the video's size, MiB")
    parser.add_argument("--seconds", type=int, default=15, help="each wrk run")
    parser.add_argument("--rounds", type=int, default=2, help="wrk runs of each server")
    parser.add_argument("--connections", type=int, default=50, help="wrk's connections")
    parser.add_argument("--no-limiter", action="store_true", help="RATELIMIT_ENABLED=false")
    parser.add_argument("--cache-mb", type=int, default=1024, help="MEDIA_CACHE_MB (0: off)")
    parser.add_argument("--cache-wait", type=float, default=120, help="seconds, for the fill")
    parser.add_argument("--workers", type=int, help="default: gunicorn.conf.py's")
    parser.add_argument("--threads", type=int, help="default: gunicorn.conf.py's")
    return parser.parse_args()


def same_ranges(targets, size, count=5):
    """A few random ranges through both: 206, 300 KiB and the same bytes, or stop."""
    rng = random.Random(7)
    for _ in range(count):
        first = rng.randrange(size - SPAN)
        header = {"Range": f"bytes={first}-{first + SPAN - 1}"}
        answers = {
            name: sha256_of_get(port, path, header) for name, (port, path) in targets.items()
        }
        if len(set(answers.values())) != 1 or answers["nginx"][0] != 206:
            raise RuntimeError(f"{header}: not the same 206 from both: {answers}")


def figure(targets, script, args):
    runs = {"media": [], "nginx": []}
    for _ in range(args.rounds):  # interleaved: drift in the machine's load hits both
        for name, (port, path) in targets.items():
            url = f"http://127.0.0.1:{port}{path}"
            runs[name].append(run_wrk(url, args.connections, args.seconds, script))
    print(
        f"\nrandom {SPAN // 1024} KiB ranges, wrk {args.connections} connections,"
        f" {args.seconds} s each, best of {args.rounds}"
    )
    best = {}
    for name, results in runs.items():
        top = max(results, key=lambda result: result["rps"])
        best[name] = top["rps"]
        rates = ", ".join(f"{result['rps']:.0f}" for result in results)
        print(
            f"   {name:6} {top['rps']:9.1f} requests/s  (all: {rates}); best run: p50"
            f" {top['p50_us'] / 1000:.1f} ms, p95 {top['p95_us'] / 1000:.1f} ms,"
            f" {top['mibps']:.0f} MiB/s, errors: {errors_text(top)}"
        )
    print(f"   ratio media / nginx: {best['media'] / best['nginx']:.3f}  (goal >= 0.2)")


def limiter_env(args):
    if args.no_limiter:
        return {"RATELIMIT_ENABLED": "false"}
    return {"RATELIMIT_ENABLED": "true", "RATELIMIT_MEDIA": MEDIA_LIMIT}


def main():
    args = parse_args()
    limits = "off" if args.no_limiter else f"on, RATELIMIT_MEDIA={MEDIA_LIMIT} for this run"
    print(f"rate limits: {limits}")
    with media_and_nginx(args, "bench-ranges-", limiter_env(args)) as bench:
        lua = RANGES_LUA.format(last_start=bench.size - SPAN, span=SPAN)
        script = write_script(bench.tmp, "ranges.lua", lua)
        same_ranges(bench.targets, bench.size)
        figure(bench.targets, script, args)


if __name__ == "__main__":
    main()
