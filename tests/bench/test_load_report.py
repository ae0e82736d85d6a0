"""bench/load.py: wrk output parsing, the medians over rounds with paired floor ratios, priming, and the wrk
script itself (ids, headers, quantiles, uniform and zipf draws) against a local server."""

import argparse
import collections
import contextlib
import importlib.util
import shutil
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location("bench_load", Path(__file__).parents[2] / "bench" / "load.py")
load = importlib.util.module_from_spec(SPEC)
sys.modules["bench_load"] = load  # dataclasses look their module up while the class is built
SPEC.loader.exec_module(load)

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:8099/v1/_bench/floor
  2 threads and 32 connections
  Latency Distribution
     50%   13.04ms
     75%   20.11ms
     90%   31.50ms
     99%  154.56ms
  22860 requests in 10.00s, 50.03MB read
  Non-2xx or 3xx responses: 3
Requests/sec:   2286.00
"""


def test_parse_wrk_reads_rate_percentiles_and_bad_statuses():
    result = load.parse_wrk(WRK_OUTPUT, load.Result(name="floor", path="/"))
    assert result.requests_per_s == 2286.0
    assert (result.p50_ms, result.p90_ms, result.p99_ms) == (13.04, 31.5, 154.56)
    assert (result.requests, result.bad_status) == (22860, 3)


def _slice(rps: float, requests: int, latencies_us: list[int]) -> "load.Result":
    """A slice as parse_wrk reads it: wrk's lines plus the script's 1000 quantiles."""
    quantiles = " ".join(str(v) for v in latencies_us)
    output = WRK_OUTPUT.replace("Requests/sec:   2286.00", f"Requests/sec:   {rps}").replace(
        "22860 requests", f"{requests} requests"
    )
    return load.parse_wrk(output + f"quantiles: {quantiles}\n", load.Result(name="x", path="/"))


def test_parse_wrk_reads_the_scripts_quantiles():
    result = _slice(100.0, 1000, list(range(1000, 1_001_000, 1000)))
    assert len(result.quantiles_ms) == load.QUANTILES == 1000
    assert result.quantiles_ms[0] == 1.0 and result.quantiles_ms[-1] == 1000.0


def test_pool_slices_reads_percentiles_from_the_pooled_distribution():
    fast = _slice(300.0, 3000, [1000] * 1000)  # every request 1 ms
    slow = _slice(100.0, 1000, [100_000] * 1000)  # every request 100 ms
    pooled = load.pool_slices([fast, slow], "listing", "/l")
    assert pooled.requests_per_s == 200.0  # slices of equal length: the mean rate
    assert (pooled.requests, pooled.bad_status) == (4000, 6)
    # 75 % of the requests took 1 ms: the median is 1 ms, the p90 and p99 are the slow slice's.
    assert (pooled.p50_ms, pooled.p90_ms, pooled.p99_ms) == (1.0, 100.0, 100.0)
    # Averaging each slice's p99 would say 50.5 ms; weighting by requests is what the pooled run saw.
    mostly_fast = load.pool_slices([_slice(1.0, 99_000, [1000] * 1000), slow], "x", "/")
    assert mostly_fast.p99_ms == 1.0


def test_pool_slices_without_quantiles_takes_the_median_of_each_slice():
    plain = [load.parse_wrk(WRK_OUTPUT, load.Result(name="x", path="/")) for _ in range(3)]
    assert load.pool_slices(plain, "x", "/").p99_ms == 154.56


def _round(floor_rps, download_rps, paired_floor, p99):
    floor = load.Result(name="floor", path="/v1/_bench/floor", requests_per_s=floor_rps, p99_ms=p99)
    download = load.Result(
        name="download redirect", path="/d", requests_per_s=download_rps, p99_ms=p99, requests=100
    )
    download.floor_runs = [paired_floor]
    download.floor_ratio = download_rps / paired_floor
    return [floor, download]


def test_combine_takes_medians_and_judges_the_median_ratio():
    args = argparse.Namespace(only="download", word="w", typo="t")
    rounds = [_round(2000, 900, 2000, 80), _round(1000, 600, 1000, 40), _round(1800, 1000, 1600, 60)]
    floor, download = load.combine(rounds, args)
    assert floor.requests_per_s == 1700  # median of the 3 own runs and the 3 paired runs
    assert download.requests_per_s == 900 and download.p99_ms == 60
    assert download.ratio_runs == [0.45, 0.6, 0.625]
    assert download.floor_ratio == pytest.approx(0.6)
    assert download.goals == [">=60% floor met"]
    assert download.requests == 300


def test_combine_keeps_a_target_skipped_in_every_round_skipped():
    args = argparse.Namespace(only="listing", word="w", typo="t")
    rounds = [
        [
            load.Result(name="floor", path="/f", requests_per_s=1000),
            load.Result(name="listing", path="/l", skipped="no apps"),
        ]
    ]
    floor, listing = load.combine(rounds, args)
    assert listing.skipped == "no apps" and listing.goals == []


def test_prime_ids_requests_every_id_once_and_counts_the_expected_answers():
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            seen.append(self.path)
            status = 404 if self.path.startswith("/apps/missing") else 302
            self.send_response(status)
            self.send_header("Location", "/file")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        target = load.Target(name="download redirect", path="/apps/{id}/download?redirect=1", expect=302)
        base = f"http://127.0.0.1:{server.server_address[1]}"
        answered, seconds = load.prime_ids(base, target, ["a", "b", "missing", "c"], threads=2)
    finally:
        server.shutdown()
        server.server_close()
    assert answered == 3  # the 404 is not a primed entry
    assert sorted(seen) == sorted(f"/apps/{i}/download?redirect=1" for i in ["a", "b", "missing", "c"])
    assert seconds >= 0


needs_wrk = pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (apt-get install wrk)"
)


@contextlib.contextmanager
def recording_server():
    """A local keep-alive HTTP/1.1 server (as gunicorn's gthread worker) answering ``{}`` to every GET;
    yields its base URL and the list of ``(path, If-None-Match)`` it was sent."""
    seen: list[tuple[str, str | None]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else each answer waits out the client's delayed ACK: ~25 a second

        def do_GET(self):  # noqa: N802 - http.server's name
            seen.append((self.path, self.headers.get("If-None-Match")))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    class QuietServer(ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # wrk resets its connections when its time is up

    server = QuietServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


@needs_wrk
def test_the_wrk_script_fills_ids_sends_headers_and_prints_quantiles(tmp_path):
    """The real wrk with the script, 1 s against a local HTTP/1.1 server: {id} paths, a fixed path with a
    header (the catalog 304's If-None-Match), and 1000 quantiles that parse_wrk reads."""
    ids_file, lua_file = tmp_path / "ids.txt", tmp_path / "ids.lua"
    ids_file.write_text("a.one\nb.two\n")
    lua_file.write_text(load.RANDOM_IDS_LUA)
    args = argparse.Namespace(wrk_threads=1, connections=2, popularity="uniform")
    with recording_server() as (base, seen):
        by_id = load.Target(name="listing", path="/apps/{id}", expect=200)
        listing = load.parse_wrk(
            load.run_wrk(args, base, by_id, str(ids_file), str(lua_file), 1), load.Result(name="l", path="/")
        )
        fixed = load.Target(name="catalog 304", path="/catalog", expect=200, headers={"If-None-Match": '"e"'})
        catalog = load.parse_wrk(
            load.run_wrk(args, base, fixed, str(ids_file), str(lua_file), 1), load.Result(name="c", path="/")
        )
    assert {path for path, _ in seen} == {"/apps/a.one", "/apps/b.two", "/catalog"}
    assert {tag for path, tag in seen if path == "/catalog"} == {'"e"'}
    for result in (listing, catalog):
        assert result.requests > 0 and len(result.quantiles_ms) == load.QUANTILES
        assert result.quantiles_ms == sorted(result.quantiles_ms)


@needs_wrk
def test_the_wrk_script_draws_zipf_ids_most_popular_first(tmp_path):
    """``--popularity zipf``: the file's i-th id with probability ~ 1/i (the first about 15 % of 100 ids,
    the last ten together about 2 %); ``uniform`` draws each alike."""
    ids = [f"p{i}" for i in range(1, 101)]
    ids_file, lua_file = tmp_path / "ids.txt", tmp_path / "ids.lua"
    ids_file.write_text("\n".join(ids) + "\n")
    lua_file.write_text(load.RANDOM_IDS_LUA)
    by_id = load.Target(name="listing", path="/apps/{id}", expect=200)
    counts = {}
    with recording_server() as (base, seen):
        for popularity in ("zipf", "uniform"):
            seen.clear()
            args = argparse.Namespace(wrk_threads=1, connections=2, popularity=popularity)
            load.run_wrk(args, base, by_id, str(ids_file), str(lua_file), 1)
            counts[popularity] = collections.Counter(path.rsplit("/", 1)[-1] for path, _ in seen)
    for popularity, seen_ids in counts.items():
        assert sum(seen_ids.values()) > 500, popularity  # ~11 000 a second on the development machine
        assert set(seen_ids) <= set(ids), popularity
    zipf, uniform = counts["zipf"], counts["uniform"]
    assert zipf["p1"] > 3 * sum(zipf[i] for i in ids[-10:])
    assert zipf["p1"] > 0.08 * sum(zipf.values())
    assert uniform["p1"] < 0.05 * sum(uniform.values())
    assert len(uniform) > 90


def _server_args(*flags):
    """What main() would parse, for server_env(): the real parser is built inside main()."""
    args = argparse.Namespace(
        port=8099,
        database_url="postgres://x/mosis_bench",
        redis_url="redis://127.0.0.1:6379/0",
        cache_prefix="p",
        store_cache_ttl=None,
        rate_limits="--no-rate-limits" not in flags,
        logs="--no-logs" not in flags,
    )
    return args


def test_the_server_runs_with_the_images_defaults_unless_a_flag_says_otherwise():
    env = load.server_env(_server_args())
    assert env.get("RATE_LIMITS_ENABLED") != "False"
    assert env["RATE_LIMIT_READ"] == env["RATE_LIMIT_AUTH"] == load.BENCH_RATE  # counted, never refused
    assert env["LOG_LEVEL"] == "INFO"  # the JSON request log, as production writes it

    bare = load.server_env(_server_args("--no-rate-limits", "--no-logs"))
    assert bare["RATE_LIMITS_ENABLED"] == "False"
    assert bare["LOG_LEVEL"] == "WARNING"
