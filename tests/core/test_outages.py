"""Outages answer 503 or degrade, and no version gets stuck (issue "Trust" §2).

The database outage is real: a server process talks to PostgreSQL through a TCP proxy this test cuts and
restores. The broker outage points Celery at a port nothing listens on.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.db import OperationalError, connection
from django.utils import timezone

from mosis.core.models import OutboxMessage
from mosis.core.tasks import outbox_send_pending
from tests.conftest import requires_postgres
from tests.factories import AppFactory
from tests.versions.pipeline import (
    create_version,
    manifest_for,
    package_bytes,
    signed_completion,
    upload_locally,
    version_url,
)
from versions.constants import VersionStatus
from versions.models import AppVersion
from versions.services import versions_sweep

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class CuttableProxy:
    """A TCP forwarder to ``target`` that can drop every connection and refuse new ones (``cut``), then
    forward again (``restore``): the database going away and coming back, as the server sees it."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = free_port()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()
        self.forwarding = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.forwarding:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def cut(self):
        self.forwarding = False
        with self.lock:
            for sock in self.open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self.open.clear()

    def restore(self):
        self.forwarding = True

    def close(self):
        self.cut()
        self.listener.close()


@pytest.fixture
def server_through_proxy(db):
    """``manage.py runserver`` whose database connection goes through a ``CuttableProxy`` to the test
    database (already migrated by pytest-django)."""
    settings_dict = connection.settings_dict
    proxy = CuttableProxy((settings_dict["HOST"] or "127.0.0.1", int(settings_dict["PORT"] or 5432)))
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL",)},
        "DJANGO_SETTINGS_MODULE": "mosis.settings.test",
        "DATABASE_URL": f"postgres://{settings_dict['USER']}@127.0.0.1:{proxy.port}/{settings_dict['NAME']}",
        "RATE_LIMITS_ENABLED": "false",
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(f"{base}/v1/health", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield base, proxy
    finally:
        process.terminate()
        process.wait(timeout=10)
        proxy.close()


@requires_postgres
def test_a_database_outage_answers_503_with_retry_after_and_recovers(server_through_proxy):
    base, proxy = server_through_proxy
    session = requests.Session()
    session.trust_env = False
    sign_in = {"email": "nobody@example.com", "password": "not-the-password"}
    assert session.post(f"{base}/v1/auth/token", json=sign_in, timeout=10).status_code == 401

    proxy.cut()
    for method, path, body in (
        ("post", "/v1/auth/token", sign_in),
        ("get", "/v1/store/apps?q=notes", None),
        ("get", "/v1/health", None),
    ):
        response = session.request(method, f"{base}{path}", json=body, timeout=10)
        assert response.status_code == 503, (path, response.text)
        assert response.headers["Content-Type"].startswith("application/json")
        if path != "/v1/health":
            assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
            assert int(response.headers["Retry-After"]) > 0
            assert "Traceback" not in response.text

    proxy.restore()
    assert session.post(f"{base}/v1/auth/token", json=sign_in, timeout=10).status_code == 401


@pytest.fixture
def broker_down(monkeypatch):
    """Tasks are sent to a broker (not run in-process) and the broker refuses every message, as kombu does
    when the broker is down (its connection error)."""
    from kombu.exceptions import OperationalError as BrokerUnreachable

    from mosis.celery import app
    from versions.tasks import validate_version_task

    def refuse(*args, **kwargs):
        raise BrokerUnreachable("[Errno 111] Connection refused")

    monkeypatch.setattr(validate_version_task, "apply_async", refuse)
    app.conf.task_always_eager = False
    yield app
    app.conf.task_always_eager = True


def test_broker_down_at_upload_complete_loses_no_validation(
    auth_client, user, broker_down, monkeypatch, no_ratelimits, django_capture_on_commit_callbacks
):
    app = AppFactory(owner=user)
    data = package_bytes(manifest_for(app))
    created = create_version(auth_client, app, size=len(data)).json()
    assert upload_locally(auth_client, created, data).status_code == 200
    vid = created["version"]["id"]

    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.put(
            version_url(app, vid, "/upload-complete"), signed_completion(user, data), format="json"
        )
    assert response.status_code == 200
    assert response.json()["status"] == "validating"
    owed = OutboxMessage.objects.get()
    assert owed.task_name == "versions.tasks.validate_version_task" and owed.args == [vid]
    assert owed.attempts == 1 and owed.last_error

    # The broker comes back (here: tasks run in-process again); the drain sends what was owed.
    monkeypatch.undo()
    broker_down.conf.task_always_eager = True
    assert outbox_send_pending(older_than=timedelta(0)) == 1
    assert not OutboxMessage.objects.filter(task_name="versions.tasks.validate_version_task").exists()
    assert AppVersion.objects.get(pk=vid).status == VersionStatus.DRAFT


def test_the_drain_stops_at_the_first_refusal_and_keeps_everything(broker_down, user):
    from mosis.core.tasks import enqueue_on_commit
    from versions.tasks import validate_version_task

    for _ in range(3):
        enqueue_on_commit(validate_version_task, "00000000-0000-0000-0000-000000000000")
    OutboxMessage.objects.update(created_at=timezone.now() - timedelta(minutes=1))
    assert outbox_send_pending() == 0
    assert OutboxMessage.objects.count() == 3


def _validating(user, **fields) -> AppVersion:
    from tests.factories import AppVersionFactory

    return AppVersionFactory(app=AppFactory(owner=user), status=VersionStatus.VALIDATING, **fields)


def test_a_lost_validation_task_is_requeued_within_minutes(
    user, settings, django_capture_on_commit_callbacks
):
    now = timezone.now()
    lost = _validating(
        user, validation_started_at=now - timedelta(minutes=settings.VALIDATION_STUCK_MINUTES + 1)
    )
    queued = _validating(user, validation_started_at=now - timedelta(minutes=1))
    report = versions_sweep(now=now)
    assert report.requeued == [str(lost.id)]
    lost.refresh_from_db()
    assert lost.validation_attempts == 0  # never started: not a failure of the package
    assert str(queued.id) not in report.requeued


def test_a_validation_whose_worker_died_is_requeued_then_rejected(user, settings):
    now = timezone.now()
    started = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 120)
    running_long_ago = _validating(user, validation_started_at=started, validation_running_at=started)
    still_running = _validating(user, validation_started_at=now, validation_running_at=now)
    report = versions_sweep(now=now)
    assert report.requeued == [str(running_long_ago.id)]
    running_long_ago.refresh_from_db()
    assert running_long_ago.validation_attempts == 1 and running_long_ago.validation_running_at is None
    assert str(still_running.id) not in report.requeued


def test_the_sweeper_waits_while_the_broker_owes_tasks(user, settings):
    now = timezone.now()
    _validating(user, validation_started_at=now - timedelta(hours=1))
    OutboxMessage.objects.create(task_name="x", created_at=now - timedelta(minutes=2))
    assert versions_sweep(now=now).requeued == []


def test_the_validation_task_retries_when_the_database_goes_away(user, monkeypatch, settings):
    """A database lost mid-validation is a retry, not a verdict: the task runs again and finishes."""
    from versions import tasks

    version = _validating(user, validation_started_at=timezone.now())
    calls = []
    real = tasks.version_validate

    def flaky(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)

    monkeypatch.setattr(tasks, "version_validate", flaky)
    monkeypatch.setattr(tasks.validate_version_task, "retry_backoff", False)
    result = tasks.validate_version_task.apply(args=[str(version.id)], throw=False)
    assert len(calls) == 2
    assert result.get() in (VersionStatus.DRAFT, VersionStatus.REJECTED)


def test_a_killed_workers_task_comes_back_within_the_time_limit_on_redis(settings):
    from mosis.celery import app

    timeout = app.conf.broker_transport_options["visibility_timeout"]
    assert timeout == settings.CELERY_TASK_TIME_LIMIT + 60
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost


# --- Redis (the cache) going away ---------------------------------------------------------------------------


@contextlib.contextmanager
def private_redis():
    """A redis-server of this test's own on a free port (nothing kept on disk); yields (url, stop)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def stop() -> None:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)

    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0", stop
    finally:
        stop()


@pytest.mark.django_db(transaction=True)
def test_redis_going_away_degrades_reads_downloads_and_writes_without_a_500(settings, api_client, user):
    """Issue "Trust" §2: with the cache's Redis stopped mid-run, list, search, listing, categories, catalog,
    download and an owner's write all answer (from the database), rate limits fail open, health says
    degraded. The write is kept."""
    from django.core.cache import cache
    from rest_framework_simplejwt.tokens import RefreshToken

    from apps.models import App
    from tests.store.conftest import make_published_app

    with private_redis() as (url, stop):
        settings.CACHES = {
            "default": {
                "BACKEND": "mosis.core.cache.RedisCache",
                "LOCATION": url,
                "KEY_PREFIX": "outage",
                "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
            }
        }
        settings.RATE_LIMITS_ENABLED = True
        app = make_published_app(versions=1, owner=user)
        reads = [
            "/v1/store/apps",
            "/v1/store/apps?q=app",
            f"/v1/store/apps/{app.package_id}",
            "/v1/store/categories",
            "/v1/store/catalog",
        ]
        for path in reads:  # warm: the answers are in Redis now
            assert api_client.get(path).status_code == 200, path
        cache.set("probe", 1)

        stop()

        for path in reads:
            response = api_client.get(path)
            assert response.status_code == 200, (path, response.content[:300])
        download = api_client.get(f"/v1/store/apps/{app.package_id}/download", {"redirect": "1"})
        assert download.status_code == 302
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
        changed = api_client.patch(f"/v1/apps/{app.pk}", {"name": "Renamed in an outage"}, format="json")
        assert changed.status_code == 200, changed.content
        assert App.objects.get(pk=app.pk).name == "Renamed in an outage"
        health = api_client.get("/v1/health").json()
        assert health["status"] == "degraded"
