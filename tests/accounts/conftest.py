"""A real OAuth provider on 127.0.0.1 (GitHub- and Google-shaped token, user and email endpoints).

The API flow talks to it over HTTP with ``requests`` exactly as it talks to GitHub/Google in production:
nothing is mocked, only ``settings.OAUTH_ENDPOINTS`` points here.
"""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

CLIENT_ID = "test-client-id"
CLIENT_SECRET = "test-client-secret"
GOOD_CODE = "good-code"
PROVIDER_TOKEN = "provider-access-token"


@dataclass
class ProviderBehaviour:
    """What the provider answers; tests change it before driving the flow."""

    github_user: dict = field(
        default_factory=lambda: {
            "id": 4242,
            "login": "octo",
            "name": "Octo Cat",
            "avatar_url": "https://a/octo.png",
        }
    )
    github_emails: list = field(
        default_factory=lambda: [
            {"email": "octo@example.com", "primary": True, "verified": True},
            {"email": "other@example.com", "primary": False, "verified": False},
        ]
    )
    google_user: dict = field(
        default_factory=lambda: {
            "sub": "g-1001",
            "email": "gina@example.com",
            "email_verified": True,
            "name": "Gina G",
            "picture": "https://a/gina.png",
        }
    )
    token_status: int = 200
    user_status: int = 200
    requests: list = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    behaviour: ProviderBehaviour

    def log_message(self, *args):  # keep pytest output clean
        pass

    def _send(self, status: int, payload) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        path = urlparse(self.path).path
        self.behaviour.requests.append(("POST", path, form))
        if path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if path not in ("/github/token", "/google/token"):
            return self._send(404, {"error": "not_found"})
        if self.behaviour.token_status != 200:
            return self._send(self.behaviour.token_status, {"message": "provider down"})
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return self._send(401, {"error": "invalid_client", "error_description": "Bad client credentials"})
        if form.get("code") != GOOD_CODE:
            # GitHub answers 200 with an error body; Google answers 400. Both must be handled.
            status = 200 if path.startswith("/github") else 400
            return self._send(
                status, {"error": "bad_verification_code", "error_description": "The code is wrong"}
            )
        return self._send(200, {"access_token": PROVIDER_TOKEN, "token_type": "bearer"})

    def do_GET(self):
        path = urlparse(self.path).path
        self.behaviour.requests.append(("GET", path, dict(self.headers)))
        # GitHub takes "token <t>" (allauth's form) or "Bearer <t>"; Google takes "Bearer <t>".
        accepted = {f"Bearer {PROVIDER_TOKEN}"} | (
            {f"token {PROVIDER_TOKEN}"} if path.startswith("/github") else set()
        )
        if self.headers.get("Authorization") not in accepted:
            return self._send(401, {"message": "Bad credentials"})
        if self.behaviour.user_status != 200:
            return self._send(self.behaviour.user_status, {"message": "boom"})
        if path == "/github/user":
            return self._send(200, self.behaviour.github_user)
        if path == "/github/emails":
            return self._send(200, self.behaviour.github_emails)
        if path == "/google/user":
            return self._send(200, self.behaviour.google_user)
        return self._send(404, {"message": "not found"})


@pytest.fixture
def oauth_provider(settings, monkeypatch):
    """Start the local provider and point the OAuth settings of both providers at it."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    behaviour = ProviderBehaviour()
    handler = type("Handler", (_Handler,), {"behaviour": behaviour})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    settings.OAUTH_ENDPOINTS = {
        "github": {
            "authorize": f"{base}/github/authorize",
            "token": f"{base}/github/token",
            "user": f"{base}/github/user",
            "emails": f"{base}/github/emails",
        },
        "google": {
            "authorize": f"{base}/google/authorize",
            "token": f"{base}/google/token",
            "user": f"{base}/google/user",
        },
    }
    settings.SOCIALACCOUNT_PROVIDERS = {
        name: {**conf, "APP": {"client_id": CLIENT_ID, "secret": CLIENT_SECRET}}
        for name, conf in settings.SOCIALACCOUNT_PROVIDERS.items()
    }
    settings.OAUTH_HTTP_TIMEOUT = 5.0
    behaviour.base_url = base
    try:
        yield behaviour
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
