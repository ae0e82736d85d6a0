"""mosis.gunicorn_worker.BalancedThreadWorker: a gthread worker that only accepts with a free thread.

The counter, the accept switch and the busy interval are tested on a worker object (gthread's own socket
work replaced); the balance over workers and a new client's wait under saturation on a real gunicorn on
127.0.0.1 serving a WSGI app that answers slowly with its pid, the way the image runs it.
"""

from __future__ import annotations

import http.client
import json
import os
import selectors
import socket
import subprocess
import sys
import textwrap
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest

from mosis.gunicorn_worker import BalancedThreadWorker

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clock(monkeypatch):
    """The worker module's ``monotonic``, set by the test: ``clock.now = ...``."""
    clock = SimpleNamespace(now=100.0)
    monkeypatch.setattr("mosis.gunicorn_worker.monotonic", lambda: clock.now)
    return clock


@pytest.fixture
def worker(clock, monkeypatch):
    """A BalancedThreadWorker with 2 threads and a real poller on a real listening socket, not running;
    gthread's own ``accept``/``enqueue_req``/``finish_request`` are replaced by bookkeeping only."""

    def accept(self, listener):
        self.enqueue_req("conn")

    monkeypatch.setattr("gunicorn.workers.gthread.ThreadWorker.accept", accept)
    monkeypatch.setattr("gunicorn.workers.gthread.ThreadWorker.enqueue_req", lambda self, conn: None)
    monkeypatch.setattr("gunicorn.workers.gthread.ThreadWorker.finish_request", lambda self, conn, fs: None)
    listener = socket.create_server(("127.0.0.1", 0))
    worker = BalancedThreadWorker.__new__(BalancedThreadWorker)
    worker.cfg = SimpleNamespace(threads=2)
    worker.sockets = [listener]
    worker.poller = selectors.DefaultSelector()
    worker._accepting = False
    worker.in_flight = 0
    worker.last_accept = 0.0
    yield worker
    worker.poller.close()
    listener.close()


def listening(worker) -> bool:
    return any(key.fileobj in worker.sockets for key in worker.poller.get_map().values())


def test_it_stops_accepting_while_every_thread_is_busy_and_starts_again_when_one_frees(worker, clock):
    worker.set_accept_enabled(True)
    worker.accept(worker.sockets[0])
    assert listening(worker) and worker.in_flight == 1  # one thread still free

    worker.accept(worker.sockets[0])  # the connection that fills the last thread turns accepting off
    assert not listening(worker) and worker._accepting is False and worker.in_flight == 2
    worker.set_accept_enabled(True)  # gthread's loop asks again on every wake-up
    assert not listening(worker)

    worker.finish_request("conn", None)
    worker.set_accept_enabled(True)
    assert listening(worker) and worker.in_flight == 1


def test_requests_on_kept_alive_connections_count_as_busy_threads(worker, clock):
    worker.last_accept = clock.now
    worker.enqueue_req("kept-alive 1")
    worker.enqueue_req("kept-alive 2")

    worker.set_accept_enabled(True)

    assert not listening(worker)


def test_while_busy_it_still_takes_one_new_connection_per_interval(worker, clock):
    worker.set_accept_enabled(True)
    worker.accept(worker.sockets[0])
    worker.accept(worker.sockets[0])
    assert not listening(worker)

    clock.now += worker.accept_when_busy_every / 2
    worker.set_accept_enabled(True)
    assert not listening(worker)

    clock.now += worker.accept_when_busy_every / 2  # a client connecting now is not starved by the others
    worker.set_accept_enabled(True)
    assert listening(worker)
    worker.accept(worker.sockets[0])
    assert not listening(worker) and worker.in_flight == 3 and worker.last_accept == clock.now


APP = """
import os, time

def application(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        time.sleep(float(environ.get("QUERY_STRING") or 0))
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
"""

WORKER = """
from mosis.gunicorn_worker import BalancedThreadWorker


class PatientWorker(BalancedThreadWorker):
    accept_when_busy_every = 30.0  # while busy, take nothing new during the test: its balance is exact
"""

CONFIG = """
import os

def post_worker_init(worker):
    open(os.path.join({ready!r}, f"ready-{{os.getpid()}}"), "w").close()
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def serve(tmp_path):
    """``serve(workers, threads[, worker_class])`` starts gunicorn on 127.0.0.1 and returns its port; by
    default with a BalancedThreadWorker that takes no new connection while busy during a test."""
    processes = []
    (tmp_path / "slowapp.py").write_text(APP)
    (tmp_path / "patient.py").write_text(WORKER)
    ready = tmp_path / "ready"
    ready.mkdir()
    (tmp_path / "hooks.py").write_text(textwrap.dedent(CONFIG.format(ready=str(ready))))

    def start(workers: int, threads: int, worker_class: str = "patient.PatientWorker") -> int:
        port = free_port()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
        command = [sys.executable, "-m", "gunicorn", "slowapp:application", "--bind", f"127.0.0.1:{port}"]
        command += ["--workers", str(workers), "--threads", str(threads), "--log-level", "warning"]
        command += ["--worker-class", worker_class]
        command += ["--config", "python:hooks"]
        process = subprocess.Popen(command, cwd=tmp_path, env=env, start_new_session=True)
        processes.append(process)
        deadline = time.monotonic() + 30
        while len(list(ready.iterdir())) < workers:  # every worker has loaded the app and is serving
            assert process.poll() is None, "gunicorn exited"
            assert time.monotonic() < deadline, "gunicorn's workers did not start within 30 s"
            time.sleep(0.05)
        return port

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def get(port: int, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_simultaneous_connections_are_spread_over_the_workers_by_free_threads(serve):
    port = serve(workers=2, threads=2)

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: get(port, "/slow?1.0"), range(4)))

    assert [status for status, _ in answers] == [200] * 4
    # Each worker has 2 threads and each request holds one for a second: a worker that took two stopped
    # accepting, so the other two connections went to the other worker (stock gthread may take all four).
    assert sorted(Counter(pid for _, pid in answers).values()) == [2, 2]


def test_connections_beyond_every_free_thread_wait_and_are_served(serve):
    port = serve(workers=1, threads=1)
    started = time.monotonic()

    with ThreadPoolExecutor(max_workers=3) as pool:
        answers = list(pool.map(lambda _: get(port, "/slow?0.3"), range(3)))

    assert [status for status, _ in answers] == [200] * 3  # none refused, none dropped
    assert len({pid for _, pid in answers}) == 1
    assert time.monotonic() - started >= 0.9  # one thread: one request after the other


def test_a_client_connecting_while_kept_alive_clients_keep_every_thread_busy_is_not_starved(serve):
    port = serve(workers=1, threads=1, worker_class="mosis.gunicorn_worker.BalancedThreadWorker")
    hammering = 20  # requests of 50 ms each, back to back, on each of two kept-alive connections

    def hammer(_) -> float:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            for _ in range(hammering):
                connection.request("GET", "/slow?0.05")
                response = connection.getresponse()
                assert response.status == 200
                response.read()
            return time.monotonic()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        started = time.monotonic()
        hammers = [pool.submit(hammer, n) for n in range(2)]
        time.sleep(0.3)  # both connections accepted; one thread, two requests always in flight
        asked = time.monotonic()
        status, _ = get(port, "/")
        answered = time.monotonic()
        ended = min(future.result() for future in hammers)

    assert status == 200
    assert ended - started >= 2 * hammering * 0.05 * 0.9  # the one thread was busy the whole time
    # It was taken within accept_when_busy_every and queued behind at most the two hammering requests,
    # instead of waiting in the accept queue until the hammering stopped.
    assert answered - asked < 1.0 and answered < ended


def test_the_image_and_the_benchmark_run_this_worker():
    from gunicorn.util import load_class

    from tests.bench.test_load_report import load  # bench/load.py, which is a script, not a package

    assert load_class(load.WORKER_CLASSES["balanced"]) is BalancedThreadWorker
    assert "--worker-class mosis.gunicorn_worker.BalancedThreadWorker" in (ROOT / "Dockerfile").read_text()


def _raw(port: int, request: bytes) -> tuple[int, dict, dict]:
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), headers, json.loads(body)


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "PAYLOAD_TOO_LARGE"),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(200)) + b"\r\n",
            431,
            "PAYLOAD_TOO_LARGE",
        ),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"y" * 9000 + b"\r\n\r\n", 431, "PAYLOAD_TOO_LARGE"),
        (b"GET / HTTP/9.9\r\nHost: x\r\n\r\n", 400, "VALIDATION_ERROR"),
        (b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", 400, "VALIDATION_ERROR"),
    ],
    ids=["request-line", "header-count", "header-size", "http-version", "header-name"],
)
def test_requests_gunicorn_refuses_are_answered_in_the_error_format(serve, request_bytes, status, code):
    port = serve(1, 1)
    answered, headers, body = _raw(port, request_bytes)
    assert answered == status
    assert headers["Content-Type"] == "application/json"
    assert body["error"]["code"] == code and body["error"]["message"]
    assert body["error"]["request_id"] == headers["X-Request-ID"]
    assert get(port, "/")[0] == 200  # the worker goes on serving
