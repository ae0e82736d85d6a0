"""Real webhook receivers on 127.0.0.1 (HTTP or HTTPS with a throwaway CA), a DNS answer table for ``.test``
names, and a record of every socket connection attempt: what the webhook tests observe instead of mocks."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Received:
    method: str
    path: str
    headers: dict
    body: bytes


@dataclass
class Receiver:
    """What the server answers (change before sending) and what it received."""

    status: int = 200
    body: bytes = b"ok"
    headers: dict = field(default_factory=dict)
    hold: threading.Event | None = None  # set: the handler waits for it before answering
    requests: list[Received] = field(default_factory=list)
    connections: int = 0
    port: int = 0
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        scheme = "https" if isinstance(self.server, TLSServer) else "http"
        return f"{scheme}://127.0.0.1:{self.port}/hook"


class _Handler(BaseHTTPRequestHandler):
    receiver: Receiver
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        self.receiver.requests.append(Received("POST", self.path, dict(self.headers.items()), body))
        if self.receiver.hold is not None:
            self.receiver.hold.wait(timeout=30)
        self.send_response(self.receiver.status)
        for name, value in self.receiver.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(self.receiver.body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the store reads only 1 KiB
            self.wfile.write(self.receiver.body)


class _CountingServer(ThreadingHTTPServer):
    daemon_threads = True
    receiver: Receiver

    def verify_request(self, request, client_address):
        self.receiver.connections += 1
        return True


class TLSServer(_CountingServer):
    context: ssl.SSLContext

    def handle_error(self, request, client_address):
        pass  # a client refusing the certificate is what some tests expect

    def get_request(self):
        sock, address = super().get_request()
        return self.context.wrap_socket(sock, server_side=True), address


def _serve(server_class, receiver: Receiver, context: ssl.SSLContext | None = None):
    handler = type("Handler", (_Handler,), {"receiver": receiver})
    server = server_class(("127.0.0.1", 0), handler)
    server.receiver = receiver
    if context is not None:
        server.context = context
    receiver.server = server
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture
def receiver_factory():
    """``receiver_factory()`` → a running HTTP Receiver; ``receiver_factory(tls=(cert, key))`` → HTTPS."""
    running = []

    def make(tls: tuple[str, str] | None = None) -> Receiver:
        receiver = Receiver()
        context = None
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
        server, thread = _serve(TLSServer if tls else _CountingServer, receiver, context)
        running.append((receiver, server, thread))
        return receiver

    yield make
    for receiver, server, thread in running:
        if receiver.hold is not None:
            receiver.hold.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def receiver(receiver_factory):
    return receiver_factory()


# --- DNS and connections ------------------------------------------------------------------------------------


@dataclass
class Dns:
    """Answers for ``*.test`` names: a list of address lists, one per lookup (the last one repeats)."""

    answers: dict = field(default_factory=dict)
    lookups: list = field(default_factory=list)

    def set(self, name: str, *answers: list[str]) -> None:
        self.answers[name] = list(answers)


@pytest.fixture
def dns(monkeypatch):
    table = Dns()
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".test"):
            table.lookups.append(host)
            answers = table.answers.get(host)
            if not answers:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            addresses = answers.pop(0) if len(answers) > 1 else answers[0]
            return [
                (
                    socket.AF_INET6 if ":" in address else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (address, port, 0, 0) if ":" in address else (address, port),
                )
                for address in addresses
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table


@pytest.fixture
def connects(monkeypatch):
    """Every address a socket tried to connect to (after the autouse 127.0.0.1-only guard)."""
    attempts: list[str] = []
    guarded = socket.socket.connect

    def connect(sock, address):
        attempts.append(address[0] if isinstance(address, tuple) else address)
        return guarded(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


# --- a throwaway CA -------------------------------------------------------------------------------------------


def certificate_files(directory, host: str) -> tuple[str, str, str]:
    """A CA and a server certificate for ``host`` signed by it: (ca.pem, server cert.pem, server key.pem)."""
    now = dt.datetime.now(dt.UTC)

    def build(subject, issuer, public_key, signing_key, *, ca: bool, names=()):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if names:
            alt = [
                x509.IPAddress(ipaddress.ip_address(name)) if name[0].isdigit() else x509.DNSName(name)
                for name in names
            ]
            builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
            )
        return builder.sign(signing_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = build("Test CA", "Test CA", ca_key.public_key(), ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = build(host, "Test CA", key.public_key(), ca_key, ca=False, names=(host,))
    paths = [directory / "ca.pem", directory / f"{host}.pem", directory / f"{host}.key"]
    paths[0].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return tuple(str(p) for p in paths)
