"""Store load benchmark: gunicorn on 127.0.0.1 under ``wrk``, each store read compared with the framework floor.

Usage (from the repository root, after bench/dataset.py; see docs/performance.md "Store load")::

    .venv/bin/python bench/load.py                      # every target, 15 s each, 32 connections
    .venv/bin/python bench/load.py --only floor,listing --duration 5
    .venv/bin/python bench/load.py --verdaccio          # and Verdaccio 6 measured in each round
    .venv/bin/python bench/load.py --checkout ../before --database-url .../mosis_bench_before \
        --checkout . --database-url .../mosis_bench     # two checkouts alternating in each round

Each round starts gunicorn (``mosis.wsgi`` with ``mosis.settings.production`` and the image's defaults:
rate limits counted on every request with limits too high to refuse, the JSON request log and gunicorn's
access log written to a file — ``--no-rate-limits`` / ``--no-logs`` turn them off —, ``BENCH_ENDPOINTS=1``
so ``/v1/_bench/floor`` exists, local package storage, the ``mosis_bench`` database, Redis under a fresh
key namespace, so every round starts with a cold store cache), waits for ``/v1/health``, measures the
catalog's full answers (the first builds it) with the workers' peak RSS, checks that each target answers its
expected status, then per target runs a short warm-up (none for the long-tail targets: cold at start) and
measures it against the floor (``--paired``, the default): the two alternate in ``--slices`` short
``wrk --latency`` runs (floor, target, floor, ...), pooled per side, so the shared host's drift over seconds
falls on both alike; then it stops gunicorn. Traffic shapes (issue 18): search words drawn zipf-like from
the catalog's own vocabulary with a fifth misspelt, browse pages 1-50 in four sorts, listings and downloads
zipf over package ids, and a catalog poller sending the last ETag it got while a Celery worker of the
measured checkout rebuilds the catalog and a changer edits one app a second through ``apps.services``.
After ``--rounds`` rounds it prints the medians of req/s, p50, p99 and of the ratio to the floor, each
round's ratio, and the goals of issues 4 and 18 met or missed. ``--checkout`` serves another checkout from
its own database copy (created from ``--template-database``, migrated by its own ``manage.py``); several
alternate within each round. ``--verdaccio`` runs bench/verdaccio.py beside it. Only 127.0.0.1 is
contacted; every step has a time bound. Needs ``wrk`` (Debian package ``wrk``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
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

# The catalog poller: each wrk thread's clients send If-None-Match with the last ETag the thread got (the
# first from the script's second argument: clients that polled before), count 200/304/other answers and the
# body bytes received, and done() sums them over the threads.
POLLER_LUA = r"""
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  path = args[1]
  etag = args[2]
  if etag == "" then
    etag = nil
  end
  full, not_modified, other, body_bytes = 0, 0, 0, 0
end

function request()
  local headers = {}
  for name, value in pairs(wrk.headers) do
    headers[name] = value
  end
  if etag then
    headers["If-None-Match"] = etag
  end
  return wrk.format("GET", path, headers)
end

function response(status, headers, body)
  local tag = headers["ETag"] or headers["Etag"] or headers["etag"]
  if status == 200 then
    full = full + 1
  elseif status == 304 then
    not_modified = not_modified + 1
  else
    other = other + 1
  end
  if tag and (status == 200 or status == 304) then
    etag = tag
  end
  body_bytes = body_bytes + #body
end

function done(summary, latency, requests)
  local a, b, c, d = 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    a = a + thread:get("full")
    b = b + thread:get("not_modified")
    c = c + thread:get("other")
    d = d + thread:get("body_bytes")
  end
  io.write(string.format("poller: %d %d %d %d\n", a, b, c, d))
  local last = threads[1]:get("etag")
  if last then
    io.write("poller-etag: " .. last .. "\n")
  end
  local values = {}
  for i = 1, QUANTILES do
    values[i] = string.format("%d", latency:percentile((i - 0.5) * 100 / QUANTILES))
  end
  io.write("quantiles: " .. table.concat(values, " ") .. "\n")
end
""".replace("QUANTILES", str(QUANTILES))

# Run by the measured checkout's Python while the catalog poller runs (arguments: at most how many seconds,
# and a file whose existence stops it sooner; environment: the server's): edits one listed app's description
# a second through the project's own service (apps.services.app_update, which sends catalog_changed after
# commit, as an edit in the portal does), then puts every description it changed back the same way.
CHANGER_PY = r"""
import os, sys, time
import django
django.setup()
from apps import services
from apps.models import App
from store.models import AppListing

seconds, stop_file = float(sys.argv[1]), sys.argv[2]
ids = list(AppListing.objects.filter(listed=True).order_by("?").values_list("app_id", flat=True)[:100])
original = {}
changes = failures = 0
deadline = time.monotonic() + seconds
while time.monotonic() < deadline and not os.path.exists(stop_file):
    started = time.monotonic()
    app = App.objects.select_related("owner").get(pk=ids[changes % len(ids)])
    original.setdefault(app.pk, app.description)
    text = f"{original[app.pk][:480]} (edit {changes})"
    try:
        services.app_update(app=app, actor=app.owner, description=text)
        changes += 1
    except Exception as error:
        failures += 1
        print(f"change failed: {error!r}", flush=True)
    time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
for app_id, description in original.items():
    app = App.objects.select_related("owner").get(pk=app_id)
    services.app_update(app=app, actor=app.owner, description=description)
print(f"changer: {changes} changes {failures} failures {len(original)} restored", flush=True)
"""


@dataclass
class Target:
    name: str
    path: str  # may contain {id}: then each request picks a random listed package id
    expect: int  # the status a correct answer has
    headers: dict = field(default_factory=dict)
    goal_p99_ms: float | None = None
    goal_floor_ratio: float | None = None
    # ("metadata" | "search", factor): req/s at least factor x Verdaccio's rate for that read (--verdaccio)
    goal_vs_verdaccio: tuple | None = None
    lines: list | None = None  # what {id} is drawn from (default: the listed package ids)
    draw: str = ""  # how the wrk script draws a line: uniform or zipf (default: --popularity)
    cold: bool = False  # no warm-up of its own: measured from a cold store cache
    kind: str = "plain"  # "poller": the catalog poller script (If-None-Match of the last ETag it got)
    lines_file: str = ""  # set by build_targets
    etag: str = ""  # the poller's first If-None-Match


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
    poller: dict = field(default_factory=dict)  # catalog poller: statuses, bytes, catalog changes
    poller_etag: str = ""  # the last ETag the poller's first thread got (the next slice starts from it)
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
            # Production runs the periodic tasks (download rollups, sweepers) in one beat + worker, not in the
            # web processes; without a broker each gunicorn worker would run the whole schedule in a thread
            # (the embedded mode, mosis.core.periodic): 4 x the rollup's UPDATEs of the listings (they
            # deadlocked each other at 100 000 apps) inside the measured server.
            "PERIODIC_IN_PROCESS": "False",
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
        str(Path(args.checkout) / ".venv" / "bin" / "gunicorn"),
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
            command,
            cwd=args.checkout,
            env=server_env(args),
            start_new_session=True,
            stdout=output,
            stderr=output,
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


def worker_memory(master_pid: int) -> dict[int, tuple[int, int]]:
    """{worker pid: (VmHWM, VmRSS) in KiB} of gunicorn's workers (the master's children), from /proc."""
    memory = {}
    try:
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    except OSError:
        return memory
    for pid in children:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        values = dict(re.findall(r"^(VmHWM|VmRSS):\s+(\d+) kB", status, re.MULTILINE))
        if "VmHWM" in values:
            memory[int(pid)] = (int(values["VmHWM"]), int(values.get("VmRSS", 0)))
    return memory


def checkout_python(args) -> str:
    return str(Path(args.checkout) / ".venv" / "bin" / "python")


def ensure_database(url: str, template: str) -> bool:
    """Creates the database of ``url`` as a copy of ``template`` when it does not exist (names must contain
    ``bench``); PostgreSQL copies a template only while nobody is connected to it. True when created."""
    import psycopg

    name = url.rsplit("/", 1)[-1]
    if "bench" not in name or "bench" not in template:
        raise SystemExit(f"refusing to create {name!r} from {template!r}: bench databases only")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        started = time.monotonic()
        for attempt in range(10):  # a connection that is closing (or autovacuum) holds the template a moment
            try:
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                break
            except psycopg.errors.ObjectInUse:
                if attempt == 9:
                    raise SystemExit(f"{template} stays in use by other connections: it cannot be copied now")
                time.sleep(3)
        log(f"created {name} as a copy of {template} in {time.monotonic() - started:.0f} s")
    return True


def build_catalog(args) -> float:
    """The checkout's own ``manage.py rebuild_catalog`` (what its worker's task does; time-bounded): seconds."""
    started = time.monotonic()
    completed = subprocess.run(
        [checkout_python(args), "manage.py", "rebuild_catalog"],
        cwd=args.checkout,
        env=server_env(args),
        capture_output=True,
        text=True,
        timeout=args.catalog_timeout,
        check=False,
    )
    seconds = time.monotonic() - started
    if completed.returncode != 0:
        raise SystemExit(f"rebuild_catalog in {args.checkout} failed:\n{completed.stderr[-2000:]}")
    log(f"catalog: built by manage.py rebuild_catalog in {seconds:.1f} s")
    return round(seconds, 1)


def migrate(args) -> None:
    """The checkout's own ``manage.py migrate`` on its own database (time-bounded)."""
    env = server_env(args)
    started = time.monotonic()
    completed = subprocess.run(
        [checkout_python(args), "manage.py", "migrate", "--noinput"],
        cwd=args.checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(
            f"migrate in {args.checkout} failed:\n{completed.stdout[-2000:]}{completed.stderr[-2000:]}"
        )
    log(
        f"migrated {args.database_url.rsplit('/', 1)[-1]} with {args.checkout} in {time.monotonic() - started:.0f} s"
    )


# Celery's keys in the broker database (kombu's Redis transport): deleted after each poller run, so a task
# scheduled with a countdown does not wait there for the next round's worker.
BROKER_KEYS = ("celery", "unacked", "unacked_index", "unacked_mutex", "_kombu.binding*")


def clear_broker(broker_url: str) -> int:
    import redis

    client = redis.Redis.from_url(broker_url)
    deleted = 0
    for pattern in BROKER_KEYS:
        keys = list(client.scan_iter(match=pattern, count=1000))
        if keys:
            deleted += client.delete(*keys)
    return deleted


class CatalogChanges:
    """While the catalog poller runs: a Celery worker of the measured checkout (the production path of the
    debounced catalog rebuild, broker ``--broker-url``; its INFO log, with each task's time, goes to the
    server log) and the changer script editing one listed app a
    second through ``apps.services.app_update``. Both in their own process groups, stopped by their ids."""

    def __init__(self, args, seconds: float):
        self.args = args
        self.seconds = seconds
        self.env = server_env(args)
        self.env["CELERY_BROKER_URL"] = args.broker_url
        self.env["CELERY_TASK_ALWAYS_EAGER"] = "False"
        if args.catalog_debounce is not None:
            self.env["CATALOG_REBUILD_DEBOUNCE"] = str(args.catalog_debounce)
        self.stop_file = os.path.join(args.tmp, f"stop-changes-{time.time_ns()}")
        self.worker: subprocess.Popen | None = None
        self.changer: subprocess.Popen | None = None
        self.summary = ""

    def __enter__(self) -> CatalogChanges:
        clear_broker(self.args.broker_url)
        celery = str(Path(self.args.checkout) / ".venv" / "bin" / "celery")
        output = open(self.args.server_log, "ab")  # noqa: SIM115 - the children keep their own copies
        try:
            self.worker = subprocess.Popen(
                [celery, "-A", "mosis", "worker", "--pool", "solo", "--loglevel", "INFO"]
                + ["--without-gossip", "--without-mingle", "--without-heartbeat"],
                cwd=self.args.checkout,
                env=self.env,
                start_new_session=True,
                stdout=output,
                stderr=output,
            )
        finally:
            output.close()
        self.changer = subprocess.Popen(
            [checkout_python(self.args), "-c", CHANGER_PY, str(self.seconds), self.stop_file],
            cwd=self.args.checkout,
            env=self.env,
            start_new_session=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        return self

    def __exit__(self, *exc) -> None:
        Path(self.stop_file).touch()
        if self.changer is not None:
            try:
                output, _ = self.changer.communicate(timeout=self.seconds + 120)
            except subprocess.TimeoutExpired:
                os.killpg(self.changer.pid, signal.SIGKILL)
                output, _ = self.changer.communicate(timeout=10)
            summary = [line for line in output.splitlines() if line.startswith("changer:")]
            self.summary = (
                summary[-1] if summary else f"changer exited {self.changer.returncode}: {output[-500:]}"
            )
            log(self.summary)
        if self.worker is not None:
            stop_gunicorn(self.worker)  # the same: SIGTERM to its group, SIGKILL if it lingers
        clear_broker(self.args.broker_url)


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


def catalog_vocabulary(database_url: str, limit: int = 50_000) -> list[str]:
    """The words of the apps' names and descriptions, most frequent first (by how many apps use each;
    PostgreSQL's ``ts_stat`` over the ``simple`` configuration: lower-cased, unstemmed), letters only."""
    import psycopg

    with psycopg.connect(database_url, connect_timeout=10) as conn:
        conn.execute("SET statement_timeout = '300s'")
        rows = conn.execute(
            "SELECT word FROM ts_stat($$SELECT to_tsvector('simple', name || ' ' || description)"
            " FROM apps_app WHERE status = 'published'$$)"
            " WHERE word ~ '^[a-z]{3,20}$' ORDER BY ndoc DESC, word LIMIT %s",
            [limit],
        ).fetchall()
    return [row[0] for row in rows]


def categories(database_url: str) -> list[str]:
    import psycopg

    with psycopg.connect(database_url, connect_timeout=10) as conn:
        return [row[0] for row in conn.execute("SELECT slug FROM apps_category ORDER BY position, slug")]


LETTERS = "abcdefghijklmnopqrstuvwxyz"


def one_edit(word: str, rng) -> str:
    """``word`` with one typing mistake: a letter replaced, dropped, doubled in or two swapped."""
    i = rng.randrange(len(word))
    kind = rng.choice(("replace", "drop", "insert", "swap"))
    if kind == "replace":
        return word[:i] + rng.choice(LETTERS.replace(word[i], "")) + word[i + 1 :]
    if kind == "drop" and len(word) > 3:
        return word[:i] + word[i + 1 :]
    if kind == "swap" and i < len(word) - 1 and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + rng.choice(LETTERS) + word[i:]


def zipf_index(n: int, rng) -> int:
    """0-based index whose probability falls as ~ 1/(index + 1): log-uniform, as the wrk script draws."""
    return min(n, int(math.exp(rng.random() * math.log(n + 1)))) - 1


def longtail_searches(words: list[str], count: int, typo_share: float = 0.2, seed: int = 18) -> list[str]:
    """``count`` search words drawn zipf-like from ``words`` (most frequent first), ``typo_share`` of them
    with one edit: a long tail of distinct queries, most of them cache misses."""
    rng = random.Random(seed)
    queries = []
    for _ in range(count):
        word = words[zipf_index(len(words), rng)]
        queries.append(one_edit(word, rng) if rng.random() < typo_share else word)
    return queries


BROWSE_SORTS = ("popular", "recent", "rating", "name")  # store.catalog.serializers.SORT_CHOICES but relevance


def browse_paths(
    category_slugs: list[str], count: int, seed: int = 18, category_share: float = 0.25
) -> list[str]:
    """``count`` browse requests: page 1-50, a sort among popular/recent/rating/name, a category in
    ``category_share`` of them."""
    rng = random.Random(seed)
    paths = []
    for _ in range(count):
        path = f"/v1/store/apps?sort={rng.choice(BROWSE_SORTS)}&page={rng.randint(1, 50)}"
        if category_slugs and rng.random() < category_share:
            path += f"&category={rng.choice(category_slugs)}"
        paths.append(path)
    return paths


def target_list(args) -> list[Target]:
    """Every target with its goal, in measuring order (``--only`` applied; the floor always comes first)."""
    traffic = getattr(args, "traffic", {})
    targets = [
        Target("floor", "/v1/_bench/floor", 200),
        Target("browse popular", "/v1/store/apps?sort=popular", 200, goal_p99_ms=50),
        Target("search word", f"/v1/store/apps?q={args.word}", 200, goal_p99_ms=50),
        Target("search typo", f"/v1/store/apps?q={args.typo}", 200, goal_p99_ms=50),
        # Issue 18's traffic shapes: a long tail of distinct searches and browse pages, cold at start.
        Target(
            "search longtail",
            "/v1/store/apps?q={id}",
            200,
            goal_p99_ms=100,
            goal_vs_verdaccio=("search", 10.0),
            lines=traffic.get("search longtail"),
            draw="uniform",  # the lines are drawn zipf-like already, with their typos
            cold=True,
        ),
        Target(
            "browse pages",
            "{id}",
            200,
            goal_p99_ms=100,
            goal_vs_verdaccio=("search", 10.0),
            lines=traffic.get("browse pages"),
            draw="uniform",
            cold=True,
        ),
        Target(
            "listing",
            "/v1/store/apps/{id}",
            200,
            goal_p99_ms=50,
            goal_floor_ratio=0.55,
            goal_vs_verdaccio=("metadata", 1.0),
        ),
        Target("catalog 304", "/v1/store/catalog", 304, goal_floor_ratio=0.8),
        Target("catalog poller", "/v1/store/catalog", 200, kind="poller"),
        Target("download redirect", "/v1/store/apps/{id}/download?redirect=1", 302, goal_floor_ratio=0.6),
    ]
    for target in targets:
        if target.name.startswith("catalog"):
            target.headers = {"Accept-Encoding": "gzip"}
    if args.only:
        wanted = {name.strip() for name in args.only.split(",")}
        targets = [t for t in targets if t.name.split()[0] in wanted or t.name in wanted]
        if not any(t.name == "floor" for t in targets):
            targets.insert(0, Target("floor", "/v1/_bench/floor", 200))
    return targets


def catalog_get(base: str, master_pid: int, encoding: str, timeout: int, etag: str = "") -> dict:
    """One catalog GET (``If-None-Match`` when ``etag``): status, seconds, bytes, ETag, and the gunicorn
    workers' peak RSS (VmHWM) before and after it, the largest and the one that grew (the worker that
    served it, when its peak rose)."""
    before = worker_memory(master_pid)
    headers = {"Accept-Encoding": encoding}
    if etag:
        headers["If-None-Match"] = etag
    started = time.monotonic()
    try:
        status, answer, body = fetch(f"{base}/v1/store/catalog", headers, timeout=timeout)
    except TimeoutError:
        status, answer, body = 0, {}, b""
    seconds = time.monotonic() - started
    after = worker_memory(master_pid)
    grown = [pid for pid, (hwm, _) in after.items() if hwm > before.get(pid, (0, 0))[0]]
    return {
        "encoding": encoding,
        "status": status,
        "seconds": round(seconds, 3),
        "bytes": len(body),
        "etag": answer.get("ETag") or answer.get("Etag") or "",
        "peak_rss_mib_before": round(max((m[0] for m in before.values()), default=0) / 1024, 1),
        "peak_rss_mib_after": round(max((m[0] for m in after.values()), default=0) / 1024, 1),
        "grown_worker_peak_mib": [round(after[pid][0] / 1024, 1) for pid in grown],
    }


CATALOG_RSS_GOAL_MIB = 150


def build_targets(args, base: str, master_pid: int = 0) -> tuple[list[Target], list[dict]]:
    """``target_list``, and for a catalog target the catalog's full answers measured: the first request
    builds the whole document (unless the store keeps one already), then one full GET with gzip and one
    without, each with the workers' peak RSS before and after. The 304 run and the poller start from the
    ETag they got."""
    targets = target_list(args)
    for target in targets:
        if target.lines is not None:
            target.lines_file = os.path.join(args.tmp, target.name.replace(" ", "-") + ".txt")
            if not os.path.exists(target.lines_file):
                Path(target.lines_file).write_text("\n".join(target.lines) + "\n")
    catalog_targets = [t for t in targets if t.name.startswith("catalog")]
    full_gets: list[dict] = []
    if catalog_targets:
        for label, encoding in (("first", "gzip"), ("full", "gzip"), ("full", "identity")):
            answer = catalog_get(base, master_pid, encoding, args.catalog_timeout)
            if label == "first" and answer["status"] == 503:
                # A store whose worker builds the catalog answers 503 (Retry-After) until a document exists:
                # build it as the worker would (its own process, timed), then ask again.
                answer["build_seconds"] = build_catalog(args)
                answer = catalog_get(base, master_pid, encoding, args.catalog_timeout)
            answer["request"] = label
            full_gets.append(answer)
            log(
                f"catalog: {label} GET ({encoding}) answered {answer['status']} in {answer['seconds']:.2f} s, "
                f"{answer['bytes']:,} bytes; workers' peak RSS {answer['peak_rss_mib_before']} -> "
                f"{answer['peak_rss_mib_after']} MiB (grown: {answer['grown_worker_peak_mib']})"
            )
        etag = full_gets[0]["etag"]
        if full_gets[0]["status"] == 200 and etag:
            for target in catalog_targets:
                if target.kind == "poller":
                    target.etag = etag
                else:
                    target.headers["If-None-Match"] = etag
    return targets, full_gets


def check_target(base: str, target: Target, ids: list[str]) -> str:
    """'' when the target answers its expected status, else why it is skipped."""
    ids = target.lines if target.lines is not None else ids
    path = target.path.replace("{id}", ids[0]) if ids else target.path
    if "{id}" in target.path and not ids:
        return "nothing to request (no listed apps, or no words in the database)"
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


POLLER_COUNTS = ("full", "not_modified", "other", "body_bytes")


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
    poller = re.search(r"^poller: (\d+) (\d+) (\d+) (\d+)$", output, re.MULTILINE)
    if poller:
        result.poller = dict(zip(POLLER_COUNTS, map(int, poller.groups()), strict=True))
        last = re.search(r"^poller-etag: (.+)$", output, re.MULTILINE)
        result.poller_etag = last.group(1).strip() if last else ""
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
    if any(r.poller for r in slices):
        pooled.poller = {name: sum(r.poller.get(name, 0) for r in slices) for name in POLLER_COUNTS}
        pooled.poller["seconds"] = sum(r.requests / r.requests_per_s for r in slices if r.requests_per_s)
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
    if target.kind == "poller":
        command += ["-s", args.poller_lua, base, "--", target.path, target.etag]
    else:
        # Always through the script (a fixed path too): it picks the {id}s and prints the quantiles.
        lines = target.lines_file or ids_file
        command += ["-s", lua_file, base, "--", lines, target.path, target.draw or args.popularity]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr}")
    return completed.stdout


def judge(result: Result, target: Target, verdaccio: dict | None = None) -> None:
    if target.goal_p99_ms is not None and not result.requests:
        # No request finished within a run: every latency was longer than the run, none was measured.
        result.goals.append(f"p99<={target.goal_p99_ms:.0f}ms MISSED (no request completed within a run)")
    elif target.goal_p99_ms is not None:
        met = result.p99_ms <= target.goal_p99_ms
        result.goals.append(f"p99<={target.goal_p99_ms:.0f}ms {'met' if met else 'MISSED'}")
    if target.goal_floor_ratio is not None and result.floor_ratio is not None:
        met = result.floor_ratio >= target.goal_floor_ratio
        result.goals.append(f">={target.goal_floor_ratio:.0%} floor {'met' if met else 'MISSED'}")
    if target.goal_vs_verdaccio and verdaccio and verdaccio.get(target.goal_vs_verdaccio[0]):
        read, factor = target.goal_vs_verdaccio
        times = result.requests_per_s / verdaccio[read]
        met = times >= factor
        result.goals.append(f">={factor:g}x Verdaccio {read} {'met' if met else 'MISSED'} ({times:.1f}x)")
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


def measure_target(args, base, target, floor_target, ids_file, lua_file, floor_warm: bool) -> Result:
    """``target`` measured: with ``--paired`` alternating with the floor in ``--slices`` runs, pooled per
    side (``floor_runs`` holds the floor's rate); a ``cold`` target gets no warm-up of its own; the catalog
    poller runs ``--poller-duration`` seconds a side."""
    duration = args.poller_duration if target.kind == "poller" else args.duration
    if args.paired and target is not floor_target:
        if not floor_warm and args.warmup:
            run_wrk(args, base, floor_target, ids_file, lua_file, args.warmup)
        if args.warmup and not target.cold:
            run_wrk(args, base, target, ids_file, lua_file, args.warmup)
        # Floor and target alternate in short slices, so the host's drift falls on both alike.
        slices = max(1, min(args.slices, duration))
        seconds = duration // slices
        log(f"measuring floor and {target.name}, {slices} alternating slice(s) of {seconds} s each")
        floors, parts = [], []
        for _ in range(slices):
            floors.append(measure(args, base, floor_target, ids_file, lua_file, seconds))
            parts.append(measure(args, base, target, ids_file, lua_file, seconds))
            if parts[-1].poller_etag:  # the poller's clients keep the last ETag they got
                target.etag = parts[-1].poller_etag
        paired = pool_slices(floors, "floor", floor_target.path)
        pooled = pool_slices(parts, target.name, target.path)
        pooled.floor_runs = [paired.requests_per_s]
        return pooled
    result = Result(name=target.name, path=target.path)
    if args.warmup and not target.cold and not (target is floor_target and floor_warm):
        run_wrk(args, base, target, ids_file, lua_file, args.warmup)
    log(f"measuring {target.name} ({duration} s)")
    return parse_wrk(run_wrk(args, base, target, ids_file, lua_file, duration), result)


def run_round(args, base: str, ids: list[str], ids_file: str, lua_file: str) -> tuple[list[Result], dict]:
    """One round on a fresh server and cache namespace (so every round starts as cold as the first): each
    target measured by ``measure_target``; the catalog poller while ``CatalogChanges`` edits apps. Returns
    the results and what else the round saw: the catalog's full answers and the workers' peak RSS at its end."""
    args.cache_prefix = f"mosis-bench-{time.time_ns()}"
    results: list[Result] = []
    info: dict = {"checkout": args.checkout, "database": args.database_url.rsplit("/", 1)[-1]}
    process = start_gunicorn(args)
    try:
        wait_healthy(base, process)
        targets, info["catalog_gets"] = build_targets(args, base, process.pid)
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
            if args.prime and "{id}" in target.path and target.lines is None:
                answered, seconds = prime_ids(base, target, ids)
                log(f"primed {target.name}: {answered} of {len(ids)} ids in {seconds:.1f} s")
            if target.kind == "poller":
                seconds = args.warmup * 2 + args.poller_duration * (2 if args.paired else 1) + 60
                with CatalogChanges(args, seconds) as changes:
                    result = measure_target(args, base, target, floor_target, ids_file, lua_file, floor_warm)
                result.poller["changes"] = changes.summary
            else:
                result = measure_target(args, base, target, floor_target, ids_file, lua_file, floor_warm)
            results[-1] = result
            if target is floor_target:
                floor_rps = result.requests_per_s
            elif result.floor_runs:
                result.floor_ratio = result.requests_per_s / result.floor_runs[0]
            elif floor_rps:
                result.floor_ratio = result.requests_per_s / floor_rps
            floor_warm = True
        memory = worker_memory(process.pid)
        info["workers_peak_rss_mib_at_end"] = sorted(round(hwm / 1024, 1) for hwm, _ in memory.values())
        log(f"workers' peak RSS at the end of the round: {info['workers_peak_rss_mib_at_end']} MiB")
    finally:
        stop_gunicorn(process)
        log(f"dropped {drop_cache_namespace(args.redis_url, args.cache_prefix)} cache keys of this round")
    return results, info


def combine(rounds: list[list[Result]], args, verdaccio: dict | None = None) -> list[Result]:
    """Per target, the median over rounds of req/s, p50, p99 and ratio to the floor, with the ratios' range;
    the floor's row takes every floor run (its own and the paired ones); the poller's counts add up.
    ``verdaccio``: {"metadata": req/s, "search": req/s}, medians of the same run, for the goals naming it."""
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
        if any(r.poller for r in runs):
            counted = [name for name in (*POLLER_COUNTS, "seconds") if name in runs[0].poller]
            result.poller = {name: sum(r.poller.get(name, 0) for r in runs) for name in counted}
            result.poller["changes"] = [r.poller.get("changes", "") for r in runs]
        if first.name in targets:
            judge(result, targets[first.name], verdaccio)
    return combined


def print_extras(results: list[Result], infos: list[dict], out=sys.stdout) -> None:
    """The catalog poller's answers and the catalog's full responses with the workers' peak RSS."""
    for r in results:
        if r.poller and not r.skipped:
            seconds = r.poller.get("seconds") or 1
            print(
                f"\ncatalog poller: {r.poller['not_modified']:,} x 304, {r.poller['full']:,} x 200, "
                f"{r.poller['other']:,} other; {r.poller['body_bytes'] / 1e6:,.1f} MB of bodies "
                f"({r.poller['body_bytes'] / 1e6 / seconds:,.2f} MB/s); changes: {'; '.join(r.poller['changes'])}",
                file=out,
            )
    peaks = []
    for info in infos:
        for get in info.get("catalog_gets", []):
            peaks.append(get["peak_rss_mib_after"])
            print(
                f"catalog {get['request']} GET ({get['encoding']}), round {info['round']}: {get['status']} in "
                f"{get['seconds']:.2f} s, {get['bytes']:,} bytes, workers' peak RSS {get['peak_rss_mib_before']} "
                f"-> {get['peak_rss_mib_after']} MiB (grown: {get['grown_worker_peak_mib']})",
                file=out,
            )
        peaks += info.get("workers_peak_rss_mib_at_end", [])
    if peaks:
        met = max(peaks) <= CATALOG_RSS_GOAL_MIB
        print(
            f"largest worker peak RSS of the run: {max(peaks)} MiB: <= {CATALOG_RSS_GOAL_MIB} MiB "
            f"{'met' if met else 'MISSED'}",
            file=out,
        )


def measure_verdaccio(args, server) -> list[Result]:
    """Verdaccio's package metadata (``GET /<name>``, names drawn zipf-like) and search
    (``GET /-/v1/search?text=<word>&size=20``, words drawn zipf-like, most frequent first), each after a
    warm-up, with the connections and duration of the store's runs."""
    reads = [
        Target("verdaccio metadata", "/{id}", 200, lines=server.names, draw="zipf"),
        Target(
            "verdaccio search",
            "/-/v1/search?text={id}&size=20",
            200,
            lines=server.search_words(),
            draw="zipf",
        ),
    ]
    results = []
    with tempfile.TemporaryDirectory(prefix="mosis-bench-verdaccio-") as tmp:
        lua_file = os.path.join(tmp, "random_ids.lua")
        Path(lua_file).write_text(RANDOM_IDS_LUA)
        for target in reads:
            target.lines_file = os.path.join(tmp, target.name.replace(" ", "-") + ".txt")
            Path(target.lines_file).write_text("\n".join(target.lines) + "\n")
            if args.warmup:
                run_wrk(args, server.base, target, target.lines_file, lua_file, args.warmup)
            log(f"measuring {target.name} ({args.duration} s)")
            output = run_wrk(args, server.base, target, target.lines_file, lua_file, args.duration)
            results.append(parse_wrk(output, Result(name=target.name, path=target.path)))
    return results


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
    parser.add_argument(
        "--checkout",
        action="append",
        default=[],
        help="serve from this checkout (its .venv, manage.py, gunicorn); repeat to measure several in the same "
        "run, alternating within each round (default: this one)",
    )
    parser.add_argument(
        "--database-url",
        action="append",
        default=[],
        help="the database of each --checkout, in the same order (each checkout its own copy; default "
        "$BENCH_DATABASE_URL or mosis_bench)",
    )
    parser.add_argument(
        "--template-database",
        default="mosis_bench",
        help="a --database-url that does not exist is created as a copy of this one (CREATE DATABASE ... TEMPLATE)",
    )
    parser.add_argument(
        "--migrate",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run each checkout's own manage.py migrate on its database first",
    )
    parser.add_argument(
        "--broker-url",
        default=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/10"),
        help="Celery broker of the catalog poller's worker (a Redis database of the bench's own)",
    )
    parser.add_argument(
        "--verdaccio",
        action="store_true",
        help="also measure Verdaccio 6 (bench/verdaccio.py) in each round: package metadata and search",
    )
    parser.add_argument("--verdaccio-port", type=int, default=4873)
    parser.add_argument("--verdaccio-packages", type=int, default=200)
    parser.add_argument(
        "--searches", type=int, default=200_000, help="long-tail search words drawn (with their typos)"
    )
    parser.add_argument(
        "--poller-duration",
        type=int,
        default=90,
        help="seconds the catalog poller is measured (a side): long enough for a rebuild to land in it",
    )
    parser.add_argument(
        "--catalog-debounce",
        type=int,
        default=5,
        help="CATALOG_REBUILD_DEBOUNCE of the poller's worker (production: 30 s); the poller sees a new "
        "catalog this long after a change plus the build time",
    )
    parser.add_argument("--typo-share", type=float, default=0.2, help="share of long-tail searches misspelt")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--word", default="markdown", help="the one-word search")
    parser.add_argument("--typo", default="markdwon", help="the misspelt search")
    parser.add_argument("--ids", type=int, default=10_000, help="how many random listed package ids to use")
    parser.add_argument(
        "--popularity",
        choices=("uniform", "zipf"),
        default="zipf",
        help="how listing and download requests pick among the ids: zipf (most downloaded first, the i-th "
        "with probability ~ 1/i: a store's traffic shape, issue 18) or uniform (issue 4's figures)",
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
    args.cache_prefix = f"mosis-bench-{time.time_ns()}"  # run_round sets a fresh one per round
    checkouts = [str(Path(c).resolve()) for c in args.checkout] or [str(ROOT)]
    urls = args.database_url or [os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)]
    if len(urls) != len(checkouts):
        parser.error("give one --database-url per --checkout")
    if len(set(urls)) != len(urls):
        parser.error("each checkout needs its own database (a copy: --template-database)")
    for checkout in checkouts:
        if not (Path(checkout) / ".venv" / "bin" / "gunicorn").exists():
            parser.error(f"{checkout} has no .venv/bin/gunicorn: run make install there")
    for checkout, url in zip(checkouts, urls, strict=True):
        ensure_database(url, args.template_database)
        if args.migrate:
            args.checkout, args.database_url = checkout, url
            migrate(args)
    base = f"http://127.0.0.1:{args.port}"
    ids = listed_package_ids(urls[0], args.ids, args.popularity)
    log(f"{len(ids)} listed package ids from {urls[0].rsplit('/', 1)[-1]}")
    words = catalog_vocabulary(urls[0])
    args.traffic = {
        "search longtail": longtail_searches(words, args.searches, args.typo_share),
        "browse pages": browse_paths(categories(urls[0]), 50_000),
    }
    log(
        f"{len(words)} words in the catalog's vocabulary; {len(set(args.traffic['search longtail'])):,} distinct "
        f"of {args.searches:,} long-tail searches"
    )

    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    rounds: dict[str, list[list[Result]]] = {checkout: [] for checkout in checkouts}
    infos: list[dict] = []
    verdaccio_rounds: list[list[Result]] = []
    with tempfile.TemporaryDirectory(prefix="mosis-bench-") as tmp, contextlib.ExitStack() as stack:
        ids_file = os.path.join(tmp, "ids.txt")
        Path(ids_file).write_text("\n".join(ids) + "\n")
        lua_file = os.path.join(tmp, "random_ids.lua")
        Path(lua_file).write_text(RANDOM_IDS_LUA)
        args.poller_lua = os.path.join(tmp, "poller.lua")
        Path(args.poller_lua).write_text(POLLER_LUA)
        args.tmp = tmp
        args.server_log = args.server_log or os.path.join(tmp, "server.log")
        verdaccio = None
        if args.verdaccio:
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from verdaccio import Verdaccio  # bench/verdaccio.py

            verdaccio = stack.enter_context(
                Verdaccio(port=args.verdaccio_port, packages=args.verdaccio_packages, words=words[:300])
            )
        for number in range(1, args.rounds + 1):
            for checkout, url in zip(checkouts, urls, strict=True):
                log(f"round {number} of {args.rounds}: {checkout} on {url.rsplit('/', 1)[-1]}")
                args.checkout, args.database_url = checkout, url
                results, info = run_round(args, base, ids, ids_file, lua_file)
                rounds[checkout].append(results)
                info["round"] = number
                infos.append(info)
            if verdaccio is not None:
                log(f"round {number} of {args.rounds}: verdaccio {verdaccio.version}")
                verdaccio_rounds.append(measure_verdaccio(args, verdaccio))
    reference = None
    if verdaccio_rounds:
        reference = {
            read: statistics.median(r[i].requests_per_s for r in verdaccio_rounds)
            for i, read in enumerate(("metadata", "search"))
        }
    combined = {checkout: combine(rounds[checkout], args, reference) for checkout in checkouts}
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
    print(f"median of {args.rounds} round(s), each on a fresh server and cache namespace, {pairing}")
    load_after = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average after {load_after}")
    for checkout in checkouts:
        print(f"\n{checkout} ({urls[checkouts.index(checkout)].rsplit('/', 1)[-1]}):\n")
        print_table(combined[checkout])
        print_extras(combined[checkout], [i for i in infos if i["checkout"] == checkout])
    if verdaccio_rounds:
        print(
            f"\nVerdaccio {verdaccio.version}, {args.verdaccio_packages} packages, the same wrk settings:\n"
        )
        for i, read in enumerate(("metadata", "search")):
            runs = [r[i] for r in verdaccio_rounds]
            print(
                f"| verdaccio {read:<9} | {statistics.median(r.requests_per_s for r in runs):>8.0f} req/s | "
                f"p50 {statistics.median(r.p50_ms for r in runs):.2f} ms | "
                f"p99 {statistics.median(r.p99_ms for r in runs):.2f} ms | each round "
                + " ".join(f"{r.requests_per_s:.0f}" for r in runs)
                + (
                    f" | {sum(r.bad_status for r in runs)} bad statuses"
                    if any(r.bad_status for r in runs)
                    else ""
                )
            )
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
            "load_average_after": load_after,
            "rounds": args.rounds,
            "paired": args.paired,
            "checkouts": {
                checkout: {
                    "database": url,
                    "results": [_as_json(r) for r in combined[checkout]],
                    "per_round": [[_as_json(r) for r in round_] for round_ in rounds[checkout]],
                }
                for checkout, url in zip(checkouts, urls, strict=True)
            },
            "rounds_seen": infos,
            "verdaccio": {
                "version": verdaccio.version if verdaccio_rounds else None,
                "median_rps": reference,
                "per_round": [[_as_json(r) for r in round_] for round_ in verdaccio_rounds],
            },
        }
        Path(args.json).write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
