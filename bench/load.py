"""Store load benchmark: gunicorn on 127.0.0.1 under ``wrk``, each store read compared with the framework floor.

Usage (from the repository root, after bench/dataset.py; see docs/performance.md "Store load")::

    .venv/bin/python bench/load.py                      # every target, 15 s each, 32 connections
    .venv/bin/python bench/load.py --only floor,listing --duration 5

Each round starts gunicorn (``mosis.wsgi`` with ``mosis.settings.production`` and the image's defaults:
rate limits counted on every request with limits too high to refuse, the JSON request log and gunicorn's
access log written to a file — ``--no-rate-limits`` / ``--no-logs`` turn them off —, ``BENCH_ENDPOINTS=1``
so ``/v1/_bench/floor`` exists, local package storage, the ``mosis_bench`` database, Redis under a fresh key namespace, so every round starts with a cold store cache), waits for ``/v1/health``,
checks that each target answers its expected status, then per target runs a short warm-up and measures it
against the floor (``--paired``, the default): the two alternate in ``--slices`` short ``wrk --latency`` runs
(floor, target, floor, ...), pooled per side, so the shared host's drift over seconds falls on both alike;
then it stops gunicorn. After ``--rounds`` rounds it prints the
medians of req/s, p50, p99 and of the ratio to the floor, each round's ratio, and the issue 4 goals. Only
127.0.0.1 is contacted; every step has a time bound.
Needs ``wrk`` (Debian package ``wrk``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/mosis_bench"
BENCH_RATE = "100000000/h"  # every category's limit under --rate-limits: counted, never refused

QUANTILES = 1000  # latency quantiles wrk prints per run (the Lua done() below)

# Picks a random package id per request from the file given as the first script argument and substitutes
# it for {id} in the path template given as the second. The third says how: "uniform" (every id alike) or
# "zipf" (the file's i-th id with probability ~ 1/i, drawn log-uniformly: a store's popularity curve, where
# a few apps take most requests).
RANDOM_IDS_LUA = r"""
local ids = {}
local template = ""
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  for line in io.lines(args[1]) do
    ids[#ids + 1] = line
  end
  template = args[2]
  zipf = args[3] == "zipf"
  if not string.find(template, "{id}", 1, true) then
    fixed = wrk.format("GET", template)
  end
  math.randomseed(os.time() + (tid or 0) * 7919)
end

function request()
  if fixed then
    return fixed
  end
  local index
  if zipf then
    index = math.min(#ids, math.floor(math.exp(math.random() * math.log(#ids + 1))))
  else
    index = math.random(#ids)
  end
  local path = string.gsub(template, "{id}", ids[index])
  return wrk.format("GET", path)
end

-- The latency distribution as 1000 quantiles (microseconds), so slices of one target can be pooled.
function done(summary, latency, requests)
  local values = {}
  for i = 1, QUANTILES do
    values[i] = string.format("%d", latency:percentile((i - 0.5) * 100 / QUANTILES))
  end
  io.write("quantiles: " .. table.concat(values, " ") .. "\n")
end
""".replace("QUANTILES", str(QUANTILES))


@dataclass
class Target:
    name: str
    path: str  # may contain {id}: then each request picks a random listed package id
    expect: int  # the status a correct answer has
    headers: dict = field(default_factory=dict)
    goal_p99_ms: float | None = None
    goal_floor_ratio: float | None = None


@dataclass
class Result:
    name: str
    path: str
    requests_per_s: float = 0.0
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    requests: int = 0
    bad_status: int = 0
    socket_errors: str = ""
    floor_ratio: float | None = None
    goals: list = field(default_factory=list)
    floor_runs: list = field(default_factory=list)  # req/s of the floor runs paired with this target
    rps_runs: list = field(default_factory=list)  # combined: req/s of every round (floor: every floor run)
    p99_runs: list = field(default_factory=list)
    ratio_runs: list = field(default_factory=list)
    skipped: str = ""
    quantiles_ms: list = field(default_factory=list, repr=False)  # the run's latency distribution


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- gunicorn ---------------------------------------------------------------------------------------------

PRODUCTION_GUNICORN_CONFIG = "python:mosis.gunicorn_config"  # what the image's CMD runs with
# --worker-class names: "balanced" is what the image's CMD runs (gthread that accepts a new connection
# only with a free thread, or one per 20 ms when busy: mosis/gunicorn_worker.py).
WORKER_CLASSES = {
    "balanced": "mosis.gunicorn_worker.BalancedThreadWorker",
    "gthread": "gthread",
    "sync": "sync",
}
THREADED_WORKERS = frozenset({"balanced", "gthread"})


def drop_cache_namespace(redis_url: str, prefix: str) -> int:
    """Delete this run's cache keys (the catalog document alone is ~160 MB) so runs leave Redis as found."""
    import redis

    client = redis.Redis.from_url(redis_url)
    deleted = 0
    batch = []
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        batch.append(key)
        if len(batch) == 500:
            deleted += client.delete(*batch)
            batch = []
    if batch:
        deleted += client.delete(*batch)
    return deleted


def server_env(args) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "mosis.settings.production",
            "SECRET_KEY": env.get("SECRET_KEY", "bench-secret-key-not-for-production-0123456789abcdef"),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SITE_URL": f"http://127.0.0.1:{args.port}",
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            # A fresh namespace per run: every run starts with a cold store cache, nothing else is touched.
            "CACHE_KEY_PREFIX": args.cache_prefix,
            "BENCH_ENDPOINTS": "1",
            "STORAGE": "local",
            # TLS ends at the load balancer in a deployment; wrk speaks plain HTTP to gunicorn, which the
            # production settings would otherwise answer with a redirect to https.
            "SECURE_SSL_REDIRECT": "False",
        }
    )
    # The image's defaults unless a flag turns them off: rate limits counted on every request (with limits
    # far above what one benchmark client sends, so nothing is refused), and the JSON request log at INFO.
    if args.rate_limits:
        env.update(
            {f"RATE_LIMIT_{name}": BENCH_RATE for name in ("AUTH", "READ", "WRITE", "UPLOAD", "TELEMETRY")}
        )
    else:
        env["RATE_LIMITS_ENABLED"] = "False"
    env["LOG_LEVEL"] = "INFO" if args.logs else "WARNING"
    if args.store_cache_ttl is not None:
        env["STORE_CACHE_TTL"] = str(args.store_cache_ttl)
    return env


def start_gunicorn(args) -> subprocess.Popen:
    command = [
        str(VENV_BIN / "gunicorn"),
        "mosis.wsgi",
        "--bind",
        f"127.0.0.1:{args.port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        WORKER_CLASSES[args.worker_class],
        "--log-level",
        "warning",
        "--timeout",
        str(args.catalog_timeout + 20),  # the first catalog request builds the whole document
    ]
    if args.worker_class in THREADED_WORKERS:
        command += ["--threads", str(args.threads_per_worker)]
    if args.worker_connections:
        command += ["--worker-connections", str(args.worker_connections)]
    if args.reuse_port:
        command += ["--reuse-port"]  # a listening socket per worker: the kernel spreads connections
    if args.gunicorn_config:
        command += ["--config", args.gunicorn_config]
    if args.logs:
        command += ["--access-logfile", "-"]  # as the image's CMD
    log(f"starting: {' '.join(command[1:])}")
    # The server's output (request log, access log) goes to a file, as a container's stdout goes to its log
    # collector; printed to this terminal it would cost the terminal's speed instead.
    output = open(args.server_log, "ab") if args.server_log else subprocess.DEVNULL  # noqa: SIM115
    try:
        # Own process group, so stopping it stops its workers too and nothing else.
        return subprocess.Popen(
            command, cwd=ROOT, env=server_env(args), start_new_session=True, stdout=output, stderr=output
        )
    finally:
        if output is not subprocess.DEVNULL:
            output.close()  # the child holds its own copy


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def fetch(url: str, headers: dict | None = None, timeout: float = 10.0) -> tuple[int, dict, bytes]:
    """One GET that does not follow redirects; returns status, headers, body."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **kw):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def wait_healthy(base: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode} before becoming healthy")
        try:
            status, _, body = fetch(f"{base}/v1/health", timeout=2)
            if status == 200:
                return
            last = f"{status} {body[:200]!r}"
        except OSError as error:
            last = str(error)
        time.sleep(0.25)  # polling a starting server: nothing to await but the socket
    raise SystemExit(f"/v1/health not healthy after {timeout:.0f} s: {last}")


# --- targets -------------------------------------------------------------------------------------------


def listed_package_ids(database_url: str, limit: int, popularity: str = "uniform") -> list[str]:
    """``limit`` random listed package ids; for ``zipf`` ordered most downloaded first (the Lua script
    requests the i-th with probability ~ 1/i), so the apps popular in the dataset are also the most requested."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT package_id, downloads_recent, downloads_total FROM store_applisting WHERE listed"
            " ORDER BY random() LIMIT %s",
            [limit],
        ).fetchall()
    if popularity == "zipf":  # the order of sort=popular: last 7 days, then total
        rows.sort(key=lambda row: (row[1], row[2]), reverse=True)
    return [row[0] for row in rows]


def target_list(args) -> list[Target]:
    """Every target with its goal, in measuring order (``--only`` applied; the floor always comes first)."""
    targets = [
        Target("floor", "/v1/_bench/floor", 200),
        Target("browse popular", "/v1/store/apps?sort=popular", 200, goal_p99_ms=50),
        Target("search word", f"/v1/store/apps?q={args.word}", 200, goal_p99_ms=50),
        Target("search typo", f"/v1/store/apps?q={args.typo}", 200, goal_p99_ms=50),
        Target("listing", "/v1/store/apps/{id}", 200, goal_p99_ms=50, goal_floor_ratio=0.5),
        Target("catalog 304", "/v1/store/catalog", 304, goal_floor_ratio=0.8),
        Target("download redirect", "/v1/store/apps/{id}/download?redirect=1", 302, goal_floor_ratio=0.5),
    ]
    next(t for t in targets if t.name == "catalog 304").headers = {"Accept-Encoding": "gzip"}
    if args.only:
        wanted = {name.strip() for name in args.only.split(",")}
        targets = [t for t in targets if t.name.split()[0] in wanted or t.name in wanted]
        if not any(t.name == "floor" for t in targets):
            targets.insert(0, Target("floor", "/v1/_bench/floor", 200))
    return targets


def build_targets(args, base: str) -> list[Target]:
    """``target_list``; the catalog's first answer (after the document is built: its time is reported)
    gives the ETag its 304 run sends."""
    targets = target_list(args)
    catalog = next((t for t in targets if t.name == "catalog 304"), None)
    if catalog is not None:
        # With a worker, a store without a document answers 503 (Retry-After) while the worker builds it.
        started = time.monotonic()
        status, headers, body = 503, {}, b""
        while status == 503 and time.monotonic() - started < args.catalog_timeout:
            if headers:
                time.sleep(min(float(headers.get("Retry-After", 1)), 5.0))
            try:
                status, headers, body = fetch(
                    f"{base}/v1/store/catalog", {"Accept-Encoding": "gzip"}, timeout=args.catalog_timeout
                )
            except TimeoutError:
                status, headers, body = 0, {}, b""
                log(f"catalog: no answer within {args.catalog_timeout} s")
        etag = headers.get("ETag") or headers.get("Etag")
        log(f"catalog: first answer {status} after {time.monotonic() - started:.1f} s, {len(body):,} bytes")
        if status in (200, 302) and etag:  # 302: S3 storage redirects to the file
            catalog.headers["If-None-Match"] = etag
    return targets


def check_target(base: str, target: Target, ids: list[str]) -> str:
    """'' when the target answers its expected status, else why it is skipped."""
    path = target.path.replace("{id}", ids[0]) if ids else target.path
    if "{id}" in target.path and not ids:
        return "no listed apps in the database"
    try:
        status, _, body = fetch(base + path, target.headers, timeout=60)
    except TimeoutError:
        return "no answer within 60 s"
    if status != target.expect:
        return f"answered {status} (expected {target.expect}): {body[:120]!r}"
    return ""


def prime_ids(base: str, target: Target, ids: list[str], threads: int = 8) -> tuple[int, float]:
    """Request ``target`` once for every id (``--prime``), so its run measures a warm store cache (the
    steady state of a store whose cache has seen each of these packages) instead of a fresh one.
    Returns (requests that got the expected status, seconds)."""
    from concurrent.futures import ThreadPoolExecutor

    def one(package_id: str) -> bool:
        status, _, _ = fetch(base + target.path.replace("{id}", package_id), target.headers, timeout=30)
        return status == target.expect

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        answered = sum(pool.map(one, ids))
    return answered, time.monotonic() - started


# --- wrk -----------------------------------------------------------------------------------------------

UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def to_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * UNITS_MS[match.group(2)]


def parse_wrk(output: str, result: Result) -> Result:
    """Fills req/s, latency percentiles, request and error counts from ``wrk --latency`` output."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not rps:
        raise ValueError(f"no Requests/sec in wrk output:\n{output}")
    result.requests_per_s = float(rps.group(1))
    for percent, attr in (("50", "p50_ms"), ("90", "p90_ms"), ("99", "p99_ms")):
        match = re.search(rf"^\s+{percent}(?:\.000)?%\s+(\S+)", output, re.MULTILINE)
        if match:
            setattr(result, attr, to_ms(match.group(1)))
    total = re.search(r"(\d+) requests in", output)
    result.requests = int(total.group(1)) if total else 0
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    result.bad_status = int(bad.group(1)) if bad else 0
    errors = re.search(r"Socket errors:\s+(.+)", output)
    result.socket_errors = errors.group(1).strip() if errors else ""
    quantiles = re.search(r"^quantiles: ([\d ]+)$", output, re.MULTILINE)
    result.quantiles_ms = [int(x) / 1000 for x in quantiles.group(1).split()] if quantiles else []
    return result


def _as_json(result: Result) -> dict:
    return {k: v for k, v in asdict(result).items() if k != "quantiles_ms"}


def pool_slices(slices: list[Result], name: str, path: str) -> Result:
    """One result from runs of equal length of the same target (``--slices``): req/s is their mean,
    counts add up, and p50/p90/p99 are read from the pooled distribution (each run's 1000 quantiles
    weighted by its number of requests), not averaged."""
    pooled = Result(name=name, path=path)
    pooled.requests_per_s = statistics.fmean(r.requests_per_s for r in slices)
    pooled.requests = sum(r.requests for r in slices)
    pooled.bad_status = sum(r.bad_status for r in slices)
    pooled.socket_errors = "; ".join(r.socket_errors for r in slices if r.socket_errors)
    points = sorted(
        (value, r.requests / len(r.quantiles_ms))
        for r in slices
        if r.quantiles_ms
        for value in r.quantiles_ms
    )
    total = sum(weight for _, weight in points)
    for percent, attr in ((50, "p50_ms"), (90, "p90_ms"), (99, "p99_ms")):
        if not points:
            setattr(pooled, attr, statistics.median(getattr(r, attr) for r in slices))
            continue
        running, wanted = 0.0, total * percent / 100
        for value, weight in points:
            running += weight
            if running >= wanted:
                setattr(pooled, attr, value)
                break
    return pooled


def run_wrk(args, base: str, target: Target, ids_file: str, lua_file: str, seconds: int) -> str:
    command = ["wrk", f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{seconds}s", "--latency"]
    command += ["--timeout", "10s"]
    for name, value in target.headers.items():
        command += ["-H", f"{name}: {value}"]
    # Always through the script (a fixed path too): it picks the {id}s and prints the quantiles.
    command += ["-s", lua_file, base, "--", ids_file, target.path, args.popularity]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr}")
    return completed.stdout


def judge(result: Result, target: Target) -> None:
    if target.goal_p99_ms is not None:
        met = result.p99_ms <= target.goal_p99_ms
        result.goals.append(f"p99<={target.goal_p99_ms:.0f}ms {'met' if met else 'MISSED'}")
    if target.goal_floor_ratio is not None and result.floor_ratio is not None:
        met = result.floor_ratio >= target.goal_floor_ratio
        result.goals.append(f">={target.goal_floor_ratio:.0%} floor {'met' if met else 'MISSED'}")
    if result.bad_status:
        result.goals.append(f"{result.bad_status} bad statuses")


def print_table(results: list[Result], out=sys.stdout) -> None:
    """Medians over the rounds; "ratios" lists each round's ratio to its floor, so the spread is visible."""
    print(
        f"| {'target':<18} | {'req/s':>8} | {'p50 ms':>7} | {'p99 ms':>7} | {'vs floor':>8} | "
        f"{'ratios':<17} | goals",
        file=out,
    )
    print(
        "|"
        + "-" * 20
        + "|"
        + "-" * 10
        + "|"
        + "-" * 9
        + "|"
        + "-" * 9
        + "|"
        + "-" * 10
        + "|"
        + "-" * 19
        + "|------",
        file=out,
    )
    for r in results:
        if r.skipped:
            print(
                f"| {r.name:<18} | {'-':>8} | {'-':>7} | {'-':>7} | {'-':>8} | {'-':<17} | skipped: {r.skipped}",
                file=out,
            )
            continue
        ratio = f"{r.floor_ratio:.0%}" if r.floor_ratio is not None else "-"
        runs = " ".join(f"{x:.0%}" for x in r.ratio_runs) or "-"
        print(
            f"| {r.name:<18} | {r.requests_per_s:>8.0f} | {r.p50_ms:>7.2f} | {r.p99_ms:>7.2f} | {ratio:>8} | "
            f"{runs:<17} | " + ", ".join(r.goals),
            file=out,
        )


def measure(args, base: str, target: Target, ids_file: str, lua_file: str, seconds: int) -> Result:
    """One ``wrk`` run of ``target``, parsed."""
    return parse_wrk(
        run_wrk(args, base, target, ids_file, lua_file, seconds), Result(name=target.name, path=target.path)
    )


def run_round(args, base: str, ids: list[str], ids_file: str, lua_file: str) -> list[Result]:
    """One round on a fresh server and cache namespace (so every round starts as cold as the first): each
    target after its warm-up; with ``--paired`` the floor and the target alternate in ``--slices`` runs,
    pooled per side, and the ratio is between those two pools (a drift of the machine over seconds falls on
    both alike)."""
    args.cache_prefix = f"mosis-bench-{time.time_ns()}"
    results: list[Result] = []
    process = start_gunicorn(args)
    try:
        wait_healthy(base, process)
        targets = build_targets(args, base)
        floor_target = next(t for t in targets if t.name == "floor")
        floor_rps = None
        floor_warm = False
        for target in targets:
            result = Result(name=target.name, path=target.path)
            results.append(result)
            result.skipped = check_target(base, target, ids)
            if result.skipped:
                log(f"skip {target.name}: {result.skipped}")
                continue
            if args.prime and "{id}" in target.path:
                answered, seconds = prime_ids(base, target, ids)
                log(f"primed {target.name}: {answered} of {len(ids)} ids in {seconds:.1f} s")

            if args.paired and target is not floor_target:
                if not floor_warm and args.warmup:
                    run_wrk(args, base, floor_target, ids_file, lua_file, args.warmup)
                floor_warm = True
                if args.warmup:
                    run_wrk(args, base, target, ids_file, lua_file, args.warmup)
                # Floor and target alternate in short slices, so the host's drift falls on both alike.
                slices = max(1, min(args.slices, args.duration))
                seconds = args.duration // slices
                log(f"measuring floor and {target.name}, {slices} alternating slice(s) of {seconds} s each")
                floors, parts = [], []
                for _ in range(slices):
                    floors.append(measure(args, base, floor_target, ids_file, lua_file, seconds))
                    parts.append(measure(args, base, target, ids_file, lua_file, seconds))
                paired = pool_slices(floors, "floor", floor_target.path)
                floor_rps = paired.requests_per_s
                result.floor_runs.append(paired.requests_per_s)
                pooled = pool_slices(parts, target.name, target.path)
                pooled.floor_runs = result.floor_runs
                results[-1] = result = pooled
            else:
                if args.warmup and not (target is floor_target and floor_warm):
                    run_wrk(args, base, target, ids_file, lua_file, args.warmup)
                log(f"measuring {target.name} ({args.duration} s)")
                parse_wrk(run_wrk(args, base, target, ids_file, lua_file, args.duration), result)
            if target is floor_target:
                floor_warm = True
                floor_rps = result.requests_per_s
            elif floor_rps:
                result.floor_ratio = result.requests_per_s / floor_rps
    finally:
        stop_gunicorn(process)
        log(f"dropped {drop_cache_namespace(args.redis_url, args.cache_prefix)} cache keys of this round")
    return results


def combine(rounds: list[list[Result]], args) -> list[Result]:
    """Per target, the median over rounds of req/s, p50, p99 and ratio to the floor, with the ratios' range;
    the floor's row takes every floor run (its own and the paired ones)."""
    combined = []
    targets = {t.name: t for t in target_list(args)}
    for position, first in enumerate(rounds[0]):
        runs = [r[position] for r in rounds if not r[position].skipped]
        result = Result(name=first.name, path=first.path, skipped=first.skipped if not runs else "")
        combined.append(result)
        if not runs:
            continue
        result.requests = sum(r.requests for r in runs)
        result.bad_status = sum(r.bad_status for r in runs)
        result.socket_errors = "; ".join(r.socket_errors for r in runs if r.socket_errors)
        rps = [r.requests_per_s for r in runs]
        if first.name == "floor":
            rps += [x for round_ in rounds for r in round_ for x in r.floor_runs]
        result.requests_per_s = statistics.median(rps)
        result.rps_runs = rps
        result.p50_ms = statistics.median(r.p50_ms for r in runs)
        result.p90_ms = statistics.median(r.p90_ms for r in runs)
        result.p99_ms = statistics.median(r.p99_ms for r in runs)
        result.p99_runs = [r.p99_ms for r in runs]
        ratios = [r.floor_ratio for r in runs if r.floor_ratio is not None]
        if ratios:
            result.floor_ratio = statistics.median(ratios)
            result.ratio_runs = ratios
        if first.name in targets:
            judge(result, targets[first.name])
    return combined


# --- main ----------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=15, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of unmeasured load before each run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=2)
    # Measured (docs/performance.md): sync workers close every connection, so wrk reconnects per request and
    # the floor drops ~4x; gthread keeps connections alive. 2 workers per core x 4 threads did best, and
    # "balanced" (the image's gthread, accepting by free threads) spreads the connections evenly.
    parser.add_argument("--workers", type=int, default=2 * cores, help="gunicorn workers (2 per core)")
    parser.add_argument(
        "--worker-class",
        default="balanced",
        choices=sorted(WORKER_CLASSES),
        help="balanced: mosis.gunicorn_worker.BalancedThreadWorker (the image's); gthread: gunicorn's own",
    )
    parser.add_argument(
        "--threads-per-worker", type=int, default=4, help="with --worker-class balanced or gthread"
    )
    parser.add_argument(
        "--worker-connections", type=int, default=0, help="gunicorn --worker-connections (0: its default)"
    )
    parser.add_argument("--reuse-port", action="store_true", help="gunicorn --reuse-port")
    parser.add_argument(
        "--gunicorn-config",
        default=PRODUCTION_GUNICORN_CONFIG,
        help="gunicorn --config (default: the image's, which freezes startup objects out of the GC; '' for none)",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds, each on a fresh server and cache; medians are reported"
    )
    parser.add_argument(
        "--paired",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="measure the floor beside each target (see --slices) and take the ratio to those runs",
    )
    parser.add_argument(
        "--slices",
        type=int,
        default=5,
        help="with --paired: the floor and each target alternate in this many runs of duration/slices seconds "
        "(1: the floor's whole run, then the target's)",
    )
    parser.add_argument(
        "--prime",
        action="store_true",
        help="request each id once before measuring listing and download: a warm store cache, not a fresh one",
    )
    parser.add_argument(
        "--rate-limits",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="count rate limits on every request as the image does (limits set high enough never to refuse)",
    )
    parser.add_argument(
        "--logs",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the image's logging: JSON request log at INFO and gunicorn's access log (to --server-log)",
    )
    parser.add_argument(
        "--server-log",
        default="",
        help="file the server's output is appended to (default: a file in the run's temporary folder)",
    )
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--word", default="markdown", help="the one-word search")
    parser.add_argument("--typo", default="markdwon", help="the misspelt search")
    parser.add_argument("--ids", type=int, default=10_000, help="how many random listed package ids to use")
    parser.add_argument(
        "--popularity",
        choices=("uniform", "zipf"),
        default="uniform",
        help="how listing and download requests pick among the ids: uniform (the goals' figure), or zipf "
        "(most downloaded first, the i-th with probability ~ 1/i: a store's traffic shape, mostly warm)",
    )
    parser.add_argument("--only", default="", help="comma-separated target names (floor always runs)")
    parser.add_argument("--json", default="", help="also write the results to this JSON file")
    parser.add_argument(
        "--catalog-timeout", type=int, default=600, help="seconds for the first catalog build"
    )
    parser.add_argument(
        "--store-cache-ttl",
        type=int,
        default=None,
        help="STORE_CACHE_TTL for the server; 0 measures the database path (every read a cache miss)",
    )
    args = parser.parse_args(argv)

    if not shutil.which("wrk"):
        parser.error("wrk is not installed (Debian: apt-get install -y wrk)")
    base = f"http://127.0.0.1:{args.port}"
    ids = listed_package_ids(args.database_url, args.ids, args.popularity)
    log(f"{len(ids)} listed package ids from {args.database_url.rsplit('/', 1)[-1]}")

    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    rounds: list[list[Result]] = []
    with tempfile.TemporaryDirectory(prefix="mosis-bench-") as tmp:
        ids_file = os.path.join(tmp, "ids.txt")
        Path(ids_file).write_text("\n".join(ids) + "\n")
        lua_file = os.path.join(tmp, "random_ids.lua")
        Path(lua_file).write_text(RANDOM_IDS_LUA)
        args.server_log = args.server_log or os.path.join(tmp, "server.log")
        for number in range(1, args.rounds + 1):
            log(f"round {number} of {args.rounds}")
            rounds.append(run_round(args, base, ids, ids_file, lua_file))
    results = combine(rounds, args)
    server = f"{args.worker_class} x{args.workers}" + (
        f" x{args.threads_per_worker} threads" if args.worker_class in THREADED_WORKERS else ""
    )
    if args.worker_connections:
        server += f", {args.worker_connections} connections per worker"
    if args.reuse_port:
        server += ", reuse-port"
    if args.gunicorn_config != PRODUCTION_GUNICORN_CONFIG:
        server += f", config {args.gunicorn_config or '(none)'}"
    server += ", rate limits " + ("on (counted, never refused)" if args.rate_limits else "off")
    server += ", " + ("JSON request log + access log" if args.logs else "logs at WARNING, no access log")
    cache = "store cache on" if args.store_cache_ttl is None else f"STORE_CACHE_TTL={args.store_cache_ttl}"
    if args.prime:
        cache += ", primed with every id before each {id} target"
    if args.popularity != "uniform":
        cache += f", {args.popularity} ids"
    print(
        f"\n{cores} cores, gunicorn {server}, wrk {args.wrk_threads} threads / {args.connections} connections"
    )
    print(f"{args.duration} s per target after {args.warmup} s warm-up, {cache}, load average {load_before}")
    if not args.paired:
        pairing = "one floor run per round"
    elif args.slices > 1:
        pairing = f"the floor alternating with each target in {args.slices} slices"
    else:
        pairing = "the floor measured right before each target"
    print(f"median of {args.rounds} round(s), each on a fresh server and cache namespace, {pairing}\n")
    print_table(results)
    if args.json:
        payload = {
            "server": server,
            "cores": cores,
            "connections": args.connections,
            "duration": args.duration,
            "slices": args.slices if args.paired else None,
            "store_cache_ttl": args.store_cache_ttl,
            "primed": args.prime,
            "popularity": args.popularity,
            "load_average_before": load_before,
            "rounds": args.rounds,
            "paired": args.paired,
        }
        payload["results"] = [_as_json(r) for r in results]
        payload["per_round"] = [[_as_json(r) for r in round_] for round_ in rounds]
        Path(args.json).write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
