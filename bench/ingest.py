"""Telemetry ingestion benchmark: event batches and crash reports against gunicorn on PostgreSQL, beside a raw
COPY of the same rows in the same run.

Usage (from the repository root; see docs/performance.md "Telemetry ingestion")::

    .venv/bin/python bench/ingest.py                     # 4 clients, 1 000-event batches, 15 s per phase
    .venv/bin/python bench/ingest.py --duration 30 --json /tmp/ingest.json

What it does, every step bounded in time and talking only to 127.0.0.1:

1. creates the ``mosis_bench_telemetry`` database if needed (only databases whose name contains ``bench``
   unless ``--force``), migrates it, and sets up a developer, an app and one device token per client;
2. **raw COPY**: ``--clients`` processes, each on its own psycopg connection, run ``COPY telemetry_event ...
   FROM STDIN`` of a 1 000-row batch in its own transaction, over and over for ``--duration`` seconds: the
   database's own cost for exactly the rows the server writes (same text as ``telemetry.services.ingest``);
3. **HTTP**: gunicorn (``mosis.settings.production``, the image's worker class and config, rate limits off)
   and ``--clients`` processes, each POSTing its own pre-built 1 000-event body to ``/v1/telemetry/events``
   on a kept-alive connection for ``--duration`` seconds; every answer must be 200 with 1 000 received;
4. **crashes**: ``wrk`` POSTs crash reports (``--crash-groups`` distinct crashes, created before the run, so
   every report joins an existing group) to ``/v1/telemetry/crash`` for ``--duration`` seconds.

The phases alternate COPY and HTTP ``--rounds`` times (``telemetry_event`` truncated before each), so drift of
the shared host falls on both; it prints events/s and p50/p99 per batch for each, the ratio, crash reports/s,
and the issue 14 goals (>= 20 000 events/s, >= 50 % of raw COPY, >= 1 000 crash reports/s).
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import multiprocessing
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/mosis_bench_telemetry"
EVENT_TYPES = ("app.open", "app.close", "screen_view", "purchase:started", "settings.changed", "sync.done")
GOAL_EVENTS_PER_S = 20_000
GOAL_COPY_RATIO = 0.5
GOAL_CRASHES_PER_S = 1_000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def server_env(args) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "mosis.settings.production",
            "SECRET_KEY": env.get("SECRET_KEY", "bench-secret-key-not-for-production-0123456789abcdef"),
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": args.database_url,
            "RATE_LIMITS_ENABLED": "False",
            # The bench speaks plain HTTP to gunicorn, as the TLS-terminating proxy in front of it does.
            "SECURE_SSL_REDIRECT": "False",
            "BENCH_ENDPOINTS": "1",  # GET /v1/_bench/floor, the framework floor the crash phase is compared with
            "STORAGE": "local",
            "LOG_LEVEL": "WARNING",
        }
    )
    if args.redis_url:
        env.update({"REDIS_URL": args.redis_url, "CACHE_KEY_PREFIX": f"bench-ingest-{uuid.uuid4().hex[:8]}"})
    return env


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of ``values`` (``fraction`` in 0..1)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(fraction * len(ordered)))) - 1]


# --- CPU accounting (robust to a shared host: CPU time spent, not wall time waited) ----------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """User + system CPU seconds ``pid`` has used so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def database_backends(database_url: str) -> list[int]:
    """Backend pids of the bench database other than the asking connection (the web workers' ones)."""
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [name]
        ).fetchall()
    return [row[0] for row in rows]


def cpu_snapshot(pids: list[int]) -> dict[int, float]:
    return {pid: process_cpu(pid) for pid in pids}


def cpu_spent(before: dict[int, float], after_pids: list[int]) -> float:
    """CPU used since ``before`` by ``after_pids`` (a process that appeared meanwhile counts in full: a web
    thread's new database connection)."""
    return sum(process_cpu(pid) - before.get(pid, 0.0) for pid in after_pids)


# --- set-up ----------------------------------------------------------------------------------------------


def ensure_database(database_url: str, force: bool) -> None:
    import psycopg
    from psycopg import sql

    name = database_url.rsplit("/", 1)[1]
    if "bench" not in name and not force:
        raise SystemExit(f"refusing to use database {name!r}: its name has no 'bench' (--force to insist)")
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            log(f"created database {name}")


def migrate(args) -> None:
    started = time.monotonic()
    subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=server_env(args),
        check=True,
        timeout=600,
    )
    log(f"migrated in {time.monotonic() - started:.1f} s")


def setup_django(args) -> None:
    os.environ.update(server_env(args))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def prepare(args) -> dict:
    """A developer, an app and one device token per client (new tokens every run)."""
    from accounts.models import User
    from accounts.services import device_register
    from apps.models import App

    developer, _ = User.objects.get_or_create(email="bench-telemetry@mosis.dev", defaults={"name": "Bench"})
    app, _ = App.objects.get_or_create(
        package_id="com.bench.telemetry", defaults={"owner": developer, "name": "Telemetry bench"}
    )
    tokens, device_ids = [], []
    for _ in range(max(args.clients, 1)):
        device, token = device_register(platform="bench", mosis_version="1.5")
        tokens.append(token)
        device_ids.append(str(device.pk))
    return {"app_id": str(app.pk), "tokens": tokens, "device_ids": device_ids}


def batch_events(app_id: str, size: int, seed: int) -> list[dict]:
    """``size`` plausible events of the last hour (80-250 bytes of event_data each)."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    events = []
    for n in range(size):
        moment = now - timedelta(seconds=rng.uniform(0, 3600))
        events.append(
            {
                "app_id": app_id,
                "event_type": rng.choice(EVENT_TYPES),
                "event_data": {
                    "screen": rng.choice(["home", "editor", "settings", "search", "store"]),
                    "session": uuid.UUID(int=rng.getrandbits(128)).hex,
                    "duration_ms": rng.randint(1, 60_000),
                    "sequence": n,
                    "flags": {"dark": rng.random() < 0.5, "beta": rng.random() < 0.1},
                },
                "timestamp": moment.isoformat().replace("+00:00", "Z"),
            }
        )
    return events


def truncate_events() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE telemetry_event")


def counted_events() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM telemetry_event")
        return cursor.fetchone()[0]


# --- raw COPY ----------------------------------------------------------------------------------------------


def copy_payload_for(events: list[dict], device_id: str) -> bytes:
    """The text the server COPYs for these events (its own function: the same bytes, the same columns)."""
    from telemetry.services.ingest import copy_payload, event_row, ingestion_window

    now, oldest = ingestion_window()
    rows = [event_row(item, now=now, oldest=oldest) for item in events]
    return copy_payload(rows, device_id=uuid.UUID(device_id), received_at=now)


def copy_client(database_url: str, payload: bytes, columns: str, duration: float, queue) -> None:
    import psycopg

    latencies, batches = [], 0
    own_before = time.process_time()
    with psycopg.connect(database_url) as conn:
        backend = conn.info.backend_pid
        backend_before = process_cpu(backend)
        deadline = time.monotonic() + duration
        while time.monotonic() < deadline:
            started = time.perf_counter()
            with (
                conn.transaction(),
                conn.cursor() as cursor,
                cursor.copy(f"COPY telemetry_event ({columns}) FROM STDIN") as copy,
            ):
                copy.write(payload)
            latencies.append(time.perf_counter() - started)
            batches += 1
        database_cpu = process_cpu(backend) - backend_before
    client_cpu = time.process_time() - own_before
    queue.put(
        {"batches": batches, "latencies": latencies, "database_cpu": database_cpu, "client_cpu": client_cpu}
    )


# --- HTTP ----------------------------------------------------------------------------------------------------


def http_client(port: int, token: str, body: bytes, expect: int, duration: float, queue) -> None:
    latencies, batches, errors = [], 0, []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        started = time.perf_counter()
        conn.request("POST", "/v1/telemetry/events", body=body, headers=headers)
        response = conn.getresponse()
        answer = response.read()
        latencies.append(time.perf_counter() - started)
        if response.status != 200 or json.loads(answer).get("received") != expect:
            errors.append(f"{response.status} {answer[:200]!r}")
            break
        batches += 1
    conn.close()
    queue.put({"batches": batches, "latencies": latencies, "errors": errors})


def run_clients(target, argument_sets: list[tuple]) -> list[dict]:
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    processes = [context.Process(target=target, args=(*arguments, queue)) for arguments in argument_sets]
    for process in processes:
        process.start()
    results = [queue.get(timeout=600) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    return results


def summarise(results: list[dict], batch: int, wall: float) -> dict:
    latencies = [value for result in results for value in result["latencies"]]
    batches = sum(result["batches"] for result in results)
    return {
        "wall_s": wall,
        "batches": batches,
        "events_per_s": batches * batch / wall,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "errors": [error for result in results for error in result.get("errors", [])],
    }


def start_gunicorn(args) -> subprocess.Popen:
    command = [
        str(VENV_BIN / "gunicorn"),
        "mosis.wsgi",
        "--bind",
        f"127.0.0.1:{args.port}",
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--worker-class",
        "mosis.gunicorn_worker.BalancedThreadWorker",
        "--config",
        "python:mosis.gunicorn_config",
        "--log-level",
        "warning",
        "--timeout",
        "120",
    ]
    log(f"starting: {' '.join(command[1:])}")
    return subprocess.Popen(command, cwd=ROOT, env=server_env(args), start_new_session=True)


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_healthy(port: int, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/v1/health")
            if conn.getresponse().status in (200, 503):
                return
        except OSError:
            pass
        time.sleep(0.25)  # polling a starting server: nothing to await but the socket
    raise SystemExit("gunicorn did not answer /v1/health in time")


# --- crashes (wrk) --------------------------------------------------------------------------------------------

CRASH_LUA = r"""
local bodies = {}
local token = ""

function init(args)
  token = args[1]
  for line in io.lines(args[2]) do
    bodies[#bodies + 1] = line
  end
  math.randomseed(os.time())
end

function request()
  local body = bodies[math.random(#bodies)]
  return wrk.format("POST", "/v1/telemetry/crash",
    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end
"""


def crash_bodies(app_id: str, groups: int) -> list[str]:
    bodies = []
    for n in range(groups):
        bodies.append(
            json.dumps(
                {
                    "app_id": app_id,
                    "app_version": f"1.{n % 4}.0",
                    "crash_type": f"java.lang.IllegalStateException{n}",
                    "message": f"Fragment {n} not attached to a context (id 0x7f3a{n:04x})",
                    "stack_trace": "\n".join(
                        f"    at com.bench.app.Module{n}.method{k}(Module{n}.java:{100 + k})"
                        for k in range(12)
                    ),
                    "context": {"os": "mosis 1.5", "free_memory_mb": 300 + n},
                }
            )
        )
    return bodies


def run_crashes(args, server: subprocess.Popen, token: str, bodies: list[str]) -> dict:
    port = args.port
    # Every crash once first, so the measured reports all join an existing group.
    for body in bodies:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request(
            "POST",
            "/v1/telemetry/crash",
            body=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        status = conn.getresponse().status
        conn.close()
        if status not in (200, 201):
            raise SystemExit(f"crash report answered {status}")
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "crash.lua"
        script.write_text(CRASH_LUA)
        body_file = Path(tmp) / "bodies.txt"
        body_file.write_text("\n".join(bodies) + "\n")
        web_pids = children_of(server.pid)
        floor_before = cpu_snapshot(web_pids)
        floor = wrk(args, f"http://127.0.0.1:{port}/v1/_bench/floor")
        floor_cpu = cpu_spent(floor_before, web_pids)
        backends = database_backends(args.database_url)
        web_before, db_before = cpu_snapshot(web_pids), cpu_snapshot(backends)
        crashes = wrk(args, f"http://127.0.0.1:{port}", "-s", str(script), extra=[token, str(body_file)])
    reports = max(1.0, crashes["reports_per_s"] * args.duration)
    crashes["web_cpu_ms_per_report"] = cpu_spent(web_before, web_pids) * 1000 / reports
    crashes["db_cpu_ms_per_report"] = (
        cpu_spent(db_before, database_backends(args.database_url)) * 1000 / reports
    )
    crashes["floor_per_s"] = floor["reports_per_s"]
    crashes["floor_web_cpu_ms"] = floor_cpu * 1000 / max(1.0, floor["reports_per_s"] * args.duration)
    crashes["floor_ratio"] = (
        crashes["reports_per_s"] / floor["reports_per_s"] if floor["reports_per_s"] else 0.0
    )
    return crashes


def wrk(args, url: str, *options: str, extra: list[str] | None = None) -> dict:
    """One ``wrk --latency`` run of ``--duration`` seconds: requests/s, p50, p99, non-2xx answers."""
    command = [
        "wrk",
        "--latency",
        "-t",
        "2",
        "-c",
        str(args.crash_connections),
        "-d",
        f"{args.duration:g}s",
        *options,
        url,
    ]
    if extra:
        command += ["--", *extra]
    output = subprocess.run(command, capture_output=True, text=True, timeout=args.duration + 60).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return {
        "reports_per_s": float(rps.group(1)) if rps else 0.0,
        "p50": p50.group(1) if p50 else "",
        "p99": p99.group(1) if p99 else "",
        "non_2xx": int(bad.group(1)) if bad else 0,
        "wrk": output if not rps else "",
    }


# --- main ----------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--port", type=int, default=8931)
    parser.add_argument("--clients", type=int, default=4, help="concurrent batch senders (and COPY sessions)")
    parser.add_argument("--batch", type=int, default=1000, help="events per batch (at most 1000)")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per phase")
    parser.add_argument("--rounds", type=int, default=2, help="COPY/HTTP alternations")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--crash-groups", type=int, default=20)
    parser.add_argument("--crash-connections", type=int, default=16)
    parser.add_argument("--skip-crashes", action="store_true")
    parser.add_argument("--skip-events", action="store_true", help="only the crash phase")
    parser.add_argument("--force", action="store_true", help="allow a database whose name lacks 'bench'")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    ensure_database(args.database_url, args.force)
    migrate(args)
    setup_django(args)
    setup = prepare(args)
    from telemetry.services.ingest import COPY_COLUMNS

    columns = ", ".join(f'"{c}"' for c in COPY_COLUMNS)
    events = [batch_events(setup["app_id"], args.batch, seed) for seed in range(args.clients)]
    bodies = [json.dumps({"events": batch}).encode() for batch in events]
    payloads = [
        copy_payload_for(batch, device) for batch, device in zip(events, setup["device_ids"], strict=True)
    ]
    log(f"batch body {len(bodies[0]):,} bytes, COPY text {len(payloads[0]):,} bytes")
    from django.db import connections

    connections.close_all()  # no connection inherited by the forked clients

    rounds = []
    server = start_gunicorn(args)
    try:
        wait_healthy(args.port, server)
        # Warm-up: every worker loads and connects before anything is measured.
        run_clients(
            http_client,
            [(args.port, setup["tokens"][n], bodies[n], args.batch, 3.0) for n in range(args.clients)],
        )
        for number in range(1, 0 if args.skip_events else args.rounds + 1):
            truncate_events()
            connections.close_all()
            started = time.monotonic()
            copy_results = run_clients(
                copy_client,
                [(args.database_url, payloads[n], columns, args.duration) for n in range(args.clients)],
            )
            copy = summarise(copy_results, args.batch, time.monotonic() - started)
            copy["db_cpu_ms_per_batch"] = (
                sum(r["database_cpu"] for r in copy_results) * 1000 / max(1, copy["batches"])
            )
            copy["client_cpu_ms_per_batch"] = (
                sum(r["client_cpu"] for r in copy_results) * 1000 / max(1, copy["batches"])
            )
            copy["rows_counted"] = counted_events()
            truncate_events()
            connections.close_all()
            web_pids = children_of(server.pid)
            backends = database_backends(args.database_url)
            web_before, db_before = cpu_snapshot(web_pids), cpu_snapshot(backends)
            started = time.monotonic()
            http_results = run_clients(
                http_client,
                [
                    (args.port, setup["tokens"][n], bodies[n], args.batch, args.duration)
                    for n in range(args.clients)
                ],
            )
            http_figures = summarise(http_results, args.batch, time.monotonic() - started)
            http_figures["web_cpu_ms_per_batch"] = (
                cpu_spent(web_before, web_pids) * 1000 / max(1, http_figures["batches"])
            )
            http_figures["db_cpu_ms_per_batch"] = (
                cpu_spent(db_before, database_backends(args.database_url))
                * 1000
                / max(1, http_figures["batches"])
            )
            http_figures["rows_counted"] = counted_events()
            if http_figures["errors"]:
                raise SystemExit(f"the server refused a batch: {http_figures['errors'][0]}")
            ratio = http_figures["events_per_s"] / copy["events_per_s"] if copy["events_per_s"] else 0.0
            http_cpu = http_figures["web_cpu_ms_per_batch"] + http_figures["db_cpu_ms_per_batch"]
            cpu_ratio = copy["db_cpu_ms_per_batch"] / http_cpu if http_cpu else 0.0
            rounds.append({"copy": copy, "http": http_figures, "ratio": ratio, "cpu_ratio": cpu_ratio})
            log(
                f"round {number}: COPY {copy['events_per_s']:,.0f} rows/s (p99 {copy['p99_ms']:.1f} ms), HTTP "
                f"{http_figures['events_per_s']:,.0f} events/s (p50 {http_figures['p50_ms']:.1f} ms, p99 "
                f"{http_figures['p99_ms']:.1f} ms), {ratio:.0%} of COPY; CPU per batch: COPY database "
                f"{copy['db_cpu_ms_per_batch']:.1f} ms, HTTP web {http_figures['web_cpu_ms_per_batch']:.1f} ms + "
                f"database {http_figures['db_cpu_ms_per_batch']:.1f} ms ({cpu_ratio:.0%})"
            )
        crashes = None
        if not args.skip_crashes:
            crashes = run_crashes(
                args, server, setup["tokens"][0], crash_bodies(setup["app_id"], args.crash_groups)
            )
            log(
                f"crashes: {crashes['reports_per_s']:,.0f} reports/s ({crashes['floor_ratio']:.0%} of the framework "
                f"floor's {crashes['floor_per_s']:,.0f} req/s), p50 {crashes['p50']}, p99 {crashes['p99']}; "
                f"CPU per report: web {crashes['web_cpu_ms_per_report']:.2f} ms + database "
                f"{crashes['db_cpu_ms_per_report']:.2f} ms (floor: web {crashes['floor_web_cpu_ms']:.2f} ms)"
            )
    finally:
        stop_gunicorn(server)
        truncate_events()

    http_rates = [r["http"]["events_per_s"] for r in rounds] or [0.0]
    ratios = [r["ratio"] for r in rounds] or [0.0]
    summary = {
        "clients": args.clients,
        "batch": args.batch,
        "duration_s": args.duration,
        "workers": args.workers,
        "threads": args.threads,
        "load_average": os.getloadavg(),
        "rounds": rounds,
        "median_events_per_s": statistics.median(http_rates),
        "median_copy_rows_per_s": statistics.median([r["copy"]["events_per_s"] for r in rounds] or [0.0]),
        "median_ratio": statistics.median(ratios),
        "median_http_p99_ms": statistics.median([r["http"]["p99_ms"] for r in rounds] or [0.0]),
        "crashes": crashes,
    }
    goals = []
    if rounds:
        summary["median_cpu_ratio"] = statistics.median(r["cpu_ratio"] for r in rounds)
        met_rate = summary["median_events_per_s"] >= GOAL_EVENTS_PER_S
        met_ratio = summary["median_ratio"] >= GOAL_COPY_RATIO
        goals += [
            f">= {GOAL_EVENTS_PER_S:,} events/s: {'met' if met_rate else 'MISSED'}",
            f">= {GOAL_COPY_RATIO:.0%} of raw COPY: {'met' if met_ratio else 'MISSED'} (by CPU: "
            f"{summary['median_cpu_ratio']:.0%})",
        ]
    if crashes:
        met = crashes["reports_per_s"] >= GOAL_CRASHES_PER_S and crashes["non_2xx"] == 0
        goals.append(f">= {GOAL_CRASHES_PER_S:,} crash reports/s: {'met' if met else 'MISSED'}")
    summary["goals"] = goals
    print(
        "| round | raw COPY rows/s | COPY p99 ms | HTTP events/s | HTTP p50 ms | HTTP p99 ms | HTTP / COPY "
        "| CPU ms per batch: COPY database | HTTP web | HTTP database | COPY CPU / HTTP CPU |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for number, r in enumerate(rounds, 1):
        print(
            f"| {number} | {r['copy']['events_per_s']:,.0f} | {r['copy']['p99_ms']:.1f} | "
            f"{r['http']['events_per_s']:,.0f} | {r['http']['p50_ms']:.1f} | {r['http']['p99_ms']:.1f} "
            f"| {r['ratio']:.0%} | {r['copy']['db_cpu_ms_per_batch']:.1f} | {r['http']['web_cpu_ms_per_batch']:.1f} "
            f"| {r['http']['db_cpu_ms_per_batch']:.1f} | {r['cpu_ratio']:.0%} |"
        )
    if crashes:
        print(
            f"\ncrash reports into {args.crash_groups} existing groups ({args.crash_connections} connections): "
            f"{crashes['reports_per_s']:,.0f}/s ({crashes['floor_ratio']:.0%} of the framework floor's "
            f"{crashes['floor_per_s']:,.0f} req/s), p50 {crashes['p50']}, p99 {crashes['p99']}, non-2xx "
            f"{crashes['non_2xx']}; CPU per report: web {crashes['web_cpu_ms_per_report']:.2f} ms + database "
            f"{crashes['db_cpu_ms_per_report']:.2f} ms (floor request: web {crashes['floor_web_cpu_ms']:.2f} ms)"
        )
    print("\n" + "\n".join(goals))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2, default=str))


if __name__ == "__main__":
    main()
