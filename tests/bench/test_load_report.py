"""bench/load.py: wrk output parsing, the medians over rounds with paired floor ratios, priming, and the wrk
script itself (ids, headers, quantiles, uniform and zipf draws) against a local server."""

import argparse
import collections
import contextlib
import importlib.util
import random
import shutil
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from store.catalog.serializers import SORT_CHOICES

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


# --- issue 18's traffic shapes -------------------------------------------------------------------------


def _edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (optimal string alignment), small enough for a test."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def test_one_edit_makes_exactly_one_typing_mistake():
    rng = random.Random(1)
    for word in ["markdown", "git", "calendar", "aab", "zzzz"] * 200:
        typo = load.one_edit(word, rng)
        assert _edit_distance(word, typo) == 1, (word, typo)
        assert typo.isalpha() and typo.islower()


def test_longtail_searches_are_zipf_over_the_vocabulary_with_a_fifth_misspelt():
    rng = random.Random(0)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(8)) for _ in range(500)]
    queries = load.longtail_searches(words, 20_000, typo_share=0.2, seed=3)
    known = collections.Counter(q for q in queries if q in set(words))
    misspelt = sum(1 for q in queries if q not in set(words))
    assert 0.17 * len(queries) < misspelt < 0.21 * len(queries)
    assert known[words[0]] > 5 * known[words[100]] > 0  # most frequent first, the i-th ~ 1/i
    assert len(set(queries)) > 2000  # a long tail of distinct URLs


def test_browse_paths_cover_pages_1_to_50_four_sorts_and_some_categories():
    paths = load.browse_paths(["games", "media"], 5000, seed=2)
    pages = {int(p.split("page=")[1].split("&")[0]) for p in paths}
    sorts = {p.split("sort=")[1].split("&")[0] for p in paths}
    with_category = [p for p in paths if "&category=" in p]
    assert pages == set(range(1, 51))
    assert sorts == {"popular", "recent", "rating", "name"} <= set(SORT_CHOICES)
    assert 0.2 * len(paths) < len(with_category) < 0.3 * len(paths)
    assert all(p.startswith("/v1/store/apps?") for p in paths)


def test_judge_compares_with_verdaccio_when_measured_beside():
    target = load.Target("search longtail", "/s", 200, goal_p99_ms=100, goal_vs_verdaccio=("search", 10.0))
    result = load.Result(name="search longtail", path="/s", requests_per_s=900, p99_ms=80, requests=9000)
    load.judge(result, target, {"metadata": 1000, "search": 100})
    assert result.goals == ["p99<=100ms met", ">=10x Verdaccio search MISSED (9.0x)"]
    alone = load.Result(name="search longtail", path="/s", requests_per_s=900, p99_ms=80, requests=9000)
    load.judge(alone, target, None)
    assert alone.goals == ["p99<=100ms met"]  # no Verdaccio in the run: no such goal printed


@contextlib.contextmanager
def catalog_server(etags: list[str]):
    """A keep-alive server answering GET /catalog as the store does: 304 when If-None-Match is the current
    ETag, else 200 with a 1000-byte body and the ETag. ``etags[0]`` is current (a test may change it)."""
    seen: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self):  # noqa: N802 - http.server's name
            sent = self.headers.get("If-None-Match")
            seen.append(sent)
            if sent == etags[0]:
                self.send_response(304)
                self.send_header("ETag", etags[0])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("ETag", etags[0])
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"x" * 1000)

        def log_message(self, *args):
            pass

    class QuietServer(ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass

    server = QuietServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


@needs_wrk
def test_the_poller_script_sends_the_last_etag_it_got_and_counts_answers_and_bytes(tmp_path):
    """The real wrk with the poller script: starting from the given ETag every answer is a 304; started
    from a stale one, each thread's first answers are 200s (1000 bytes each) and then 304s with the new tag."""
    lua_file = tmp_path / "poller.lua"
    lua_file.write_text(load.POLLER_LUA)
    args = argparse.Namespace(wrk_threads=1, connections=2, popularity="zipf", poller_lua=str(lua_file))
    etags = ['"v1"']
    with catalog_server(etags) as (base, seen):
        current = load.Target("catalog poller", "/catalog", 200, kind="poller", etag='"v1"')
        fresh = load.parse_wrk(load.run_wrk(args, base, current, "", "", 1), load.Result(name="p", path="/"))
        seen.clear()
        stale = load.Target("catalog poller", "/catalog", 200, kind="poller", etag='"v0"')
        changed = load.parse_wrk(load.run_wrk(args, base, stale, "", "", 1), load.Result(name="p", path="/"))
    assert fresh.poller["full"] == 0 and fresh.poller["not_modified"] > 100 and fresh.poller["other"] == 0
    assert fresh.poller["body_bytes"] == 0
    assert 1 <= changed.poller["full"] <= 2  # one per connection at most, then the thread has the new tag
    assert changed.poller["body_bytes"] == 1000 * changed.poller["full"]
    assert changed.poller["not_modified"] > 100
    assert changed.poller_etag == '"v1"'  # the next slice starts from it
    # The server may see a request or two more: the ones in flight when wrk's time was up.
    assert 0 <= seen.count('"v1"') - changed.poller["not_modified"] <= 2
    assert len(fresh.quantiles_ms) == load.QUANTILES


def test_pool_slices_adds_up_the_pollers_counts():
    one = load.Result(name="p", path="/", requests_per_s=100, requests=300)
    one.poller = {"full": 1, "not_modified": 299, "other": 0, "body_bytes": 10}
    two = load.Result(name="p", path="/", requests_per_s=50, requests=150)
    two.poller = {"full": 0, "not_modified": 150, "other": 0, "body_bytes": 0}
    pooled = load.pool_slices([one, two], "p", "/")
    assert pooled.poller == {"full": 1, "not_modified": 449, "other": 0, "body_bytes": 10, "seconds": 6.0}


def test_a_target_with_no_completed_request_misses_its_latency_goal():
    """wrk reports no latency when no request finished within the run: that is not a p99 of 0 ms."""
    target = load.Target("browse pages", "{id}", 200, goal_p99_ms=100)
    result = load.Result(name="browse pages", path="{id}", requests_per_s=0.0, p99_ms=0.0, requests=0)
    load.judge(result, target)
    assert result.goals == ["p99<=100ms MISSED (no request completed within a run)"]
