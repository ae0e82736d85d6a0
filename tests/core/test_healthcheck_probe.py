"""The container HEALTHCHECK probe (mosis/core/healthcheck.py) against a real local server."""

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from mosis.core import healthcheck


@pytest.mark.parametrize(
    "allowed,expected",
    [
        ("store.example.com,localhost", "store.example.com"),
        ("*", "localhost"),
        (".example.com", "example.com"),
        ("", "localhost"),
    ],
)
def test_probe_host_comes_from_allowed_hosts(allowed, expected):
    assert healthcheck.probe_host(allowed) == expected


@pytest.fixture
def fake_server():
    seen = {}

    class Handler(BaseHTTPRequestHandler):
        status = 200

        def do_GET(self):  # noqa: N802
            seen["path"], seen["host"] = self.path, self.headers["Host"]
            self.send_response(Handler.status)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, Handler, seen
    server.shutdown()
    server.server_close()


def test_probe_passes_on_200_and_fails_on_503(fake_server, monkeypatch):
    server, handler, seen = fake_server
    monkeypatch.setenv("PORT", str(server.server_address[1]))
    monkeypatch.setenv("ALLOWED_HOSTS", "store.example.com")
    assert healthcheck.main() == 0
    assert seen == {"path": "/v1/health", "host": "store.example.com"}
    handler.status = 503
    assert healthcheck.main() == 1


def test_probe_fails_when_nothing_listens(monkeypatch):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("PORT", str(port))
    assert healthcheck.main() == 1
