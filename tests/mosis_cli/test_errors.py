"""Every way a first publish goes wrong prints what to fix and exits non-zero with the documented code:
a bad manifest, the wrong key, an expired sign-in, a package over the store's limit, a package the store's
validation rejects — and re-running after the fix does the right thing."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
import requests
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from apps.models import App
from mosis_cli.errors import ExitCode
from versions.models import AppVersion

pytestmark = [pytest.mark.network]


def _init(cli, **manifest_changes) -> None:
    done = cli.run("init", "notes", "--package-id", "com.example.notes", "--name", "Notes")
    assert done.returncode == 0, done.stderr
    if manifest_changes:
        path = cli.cwd / "notes" / "manifest.json"
        manifest = json.loads(path.read_text())
        manifest.update(manifest_changes)
        path.write_text(json.dumps(manifest))


def _fails(done, exit_code: ExitCode, *needles: str) -> None:
    assert done.returncode == exit_code, (done.returncode, done.stdout, done.stderr)
    text = done.stdout + done.stderr
    assert "fix:" in done.stderr, text
    for needle in needles:
        assert needle.lower() in text.lower(), (needle, text)


def test_a_bad_manifest_is_caught_before_anything_is_uploaded(signed_in):
    _init(signed_in, permissions=["mind_control"], version_name="one")
    packed = signed_in.run("pack", "notes")
    _fails(
        packed,
        ExitCode.INVALID_PACKAGE,
        "UNKNOWN_PERMISSION",
        "VERSION_NAME_NOT_SEMVER",
        "nothing was written",
    )
    assert "Remove the permission or use a name from the permission list." in packed.stdout
    assert not list(signed_in.cwd.glob("*.mpk"))

    published = signed_in.run("publish", "notes")
    _fails(published, ExitCode.INVALID_PACKAGE, "UNKNOWN_PERMISSION", "nothing was uploaded")
    assert not App.objects.filter(package_id="com.example.notes").exists()


def test_invalid_json_in_the_manifest_names_the_problem(cli):
    _init(cli)
    (cli.cwd / "notes" / "manifest.json").write_text('{"package_id": "com.example.notes",}')
    _fails(cli.run("pack", "notes"), ExitCode.INVALID_PACKAGE, "not valid JSON", "syntax")


def test_a_key_the_store_does_not_know_is_refused_before_upload(signed_in):
    _init(signed_in)
    made = signed_in.run("keygen", "--no-register", "--out", "stranger.pem")
    assert made.returncode == 0, made.stderr
    published = signed_in.run("publish", "notes", "--key", "stranger.pem")
    _fails(published, ExitCode.SIGNATURE, "is not registered", "mosis keys add")
    assert not AppVersion.objects.exists()

    verified = signed_in.run(
        "verify", "com.example.notes-1.0.0.mpk", "--key", "stranger.pub.pem", "--signature", "AAAA"
    )
    _fails(verified, ExitCode.SIGNATURE, "does not verify")


def test_a_revoked_key_is_refused_with_how_to_make_a_new_one(signed_in, developer):
    _init(signed_in)
    from accounts.models import SigningKey
    from accounts.services import signing_key_revoke

    signing_key_revoke(key=SigningKey.objects.get(user=developer))
    _fails(signed_in.run("publish", "notes"), ExitCode.SIGNATURE, "was revoked", "mosis keygen")


def test_an_expired_sign_in_is_refreshed_and_a_revoked_one_asks_to_log_in(signed_in, live_server, developer):
    config = signed_in.config()
    entry = config["stores"][live_server.url]
    expired = AccessToken.for_user(developer)
    expired.set_exp(lifetime=-timedelta(minutes=1))
    entry["access_token"] = str(expired)
    signed_in.write_config(config)

    # The refresh token still works: the CLI refreshes, saves the rotated pair and carries on.
    assert signed_in.run("whoami").returncode == 0
    rotated = signed_in.config()["stores"][live_server.url]
    assert rotated["refresh_token"] != entry["refresh_token"]
    assert rotated["access_token"] != entry["access_token"]

    RefreshToken(rotated["refresh_token"]).blacklist()  # e.g. signed out elsewhere, or 14 days passed
    rotated["access_token"] = str(expired)
    config["stores"][live_server.url] = rotated
    signed_in.write_config(config)
    _fails(signed_in.run("whoami"), ExitCode.AUTH, "has expired or was revoked", "mosis login")
    _init(signed_in)
    _fails(signed_in.run("publish", "notes"), ExitCode.AUTH, "mosis login")


def test_not_signed_in_at_all(cli, live_server, transactional_db):
    _fails(cli.run("whoami", "--store", live_server.url), ExitCode.AUTH, "not signed in", "mosis login")


def test_a_wrong_password_is_refused_without_saving_anything(cli, live_server, developer, no_ratelimits):
    done = cli.run("login", "--store", live_server.url, "--email", developer.email, input="wrong-password\n")
    _fails(done, ExitCode.AUTH, "refused the email or password")
    assert not (cli.config_dir / "config.json").exists()


def test_an_unreachable_store_says_so(cli):
    done = cli.run("login", "--store", "http://127.0.0.1:9", "--email", "dev@example.com", input="password\n")
    _fails(done, ExitCode.UNAVAILABLE, "Cannot reach")


def test_a_package_over_the_stores_limit_is_refused_with_its_size(signed_in, settings):
    settings.MAX_PACKAGE_SIZE = 1000  # this store accepts less than the default 200 MiB
    _init(signed_in)
    published = signed_in.run("publish", "notes")
    _fails(published, ExitCode.INVALID_PACKAGE, "KB", "1000 bytes", "Make the package smaller")
    assert not AppVersion.objects.exists()


def test_a_rejected_validation_prints_the_report_and_asks_for_a_new_version_code(
    signed_in, live_server, developer
):
    """Someone uploaded the package with curl and forgot to sign it: the store rejected it. `mosis publish`
    shows the store's report with fixes, and says a rejected version keeps its version_code."""
    _init(signed_in)
    assert signed_in.run("pack", "notes").returncode == 0
    package = signed_in.cwd / "com.example.notes-1.0.0.mpk"
    _upload_unsigned(live_server.url, developer, package.read_bytes())
    assert AppVersion.objects.get().status == "rejected"

    published = signed_in.run("publish", package.name)
    _fails(
        published,
        ExitCode.SIGNATURE,
        "The store rejected version_code 1",
        "SIGNATURE_MISSING",
        "fix: Sign the package",
        "set version_code to 2",
    )

    manifest_path = signed_in.cwd / "notes" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest.update(version_code=2, version_name="1.0.1")
    manifest_path.write_text(json.dumps(manifest))
    fixed = signed_in.run("publish", "notes")
    assert fixed.returncode == 0, fixed.stderr
    assert "Submitted for review" in fixed.stdout
    assert AppVersion.objects.get(version_code=2).status == "review"


def test_a_changed_package_under_a_taken_version_code_asks_for_a_bump(signed_in):
    _init(signed_in)
    assert signed_in.run("publish", "notes").returncode == 0
    (signed_in.cwd / "notes" / "main.js").write_text("export default {fixed: true};\n")
    _fails(
        signed_in.run("publish", "notes"),
        ExitCode.INVALID_PACKAGE,
        "already holds another package",
        "set version_code to 2",
    )
    assert AppVersion.objects.count() == 1


def test_a_lower_version_code_than_the_newest_is_refused(signed_in):
    _init(signed_in, version_code=5, version_name="1.0.5")
    assert signed_in.run("publish", "notes").returncode == 0
    manifest_path = signed_in.cwd / "notes" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest.update(version_code=3, version_name="1.0.3")
    manifest_path.write_text(json.dumps(manifest))
    _fails(
        signed_in.run("publish", "notes"), ExitCode.INVALID_PACKAGE, "lower than 5", "set version_code to 6"
    )


def test_a_package_id_of_another_developer_is_refused(signed_in):
    from tests.factories import AppFactory

    AppFactory(package_id="com.example.notes")
    _init(signed_in)
    _fails(
        signed_in.run("publish", "notes"),
        ExitCode.INVALID_PACKAGE,
        "taken by another developer",
        "Choose another package_id",
    )


def test_errors_are_json_with_json(signed_in):
    rc, body = signed_in.json("status", "com.example.missing")
    assert rc == ExitCode.ERROR
    assert body["ok"] is False
    assert body["error"]["code"] == "ERROR" and body["error"]["fix"]


def _upload_unsigned(store: str, developer, data: bytes) -> None:
    """What a developer does with curl (docs/api/versions.md), without the signature."""
    session = requests.Session()
    session.trust_env = False
    token = str(AccessToken.for_user(developer))
    headers = {"Authorization": f"Bearer {token}"}
    app = session.post(
        f"{store}/v1/apps",
        json={"package_id": "com.example.notes", "name": "Notes"},
        headers=headers,
        timeout=10,
    ).json()
    created = session.post(
        f"{store}/v1/apps/{app['id']}/versions",
        json={"version_name": "1.0.0", "version_code": 1, "size": len(data)},
        headers=headers,
        timeout=10,
    ).json()
    put = session.put(created["upload_url"], data=data, headers=created["upload_headers"], timeout=10)
    assert put.status_code == 200, put.text
    done = session.put(
        f"{store}/v1/apps/{app['id']}/versions/{created['version']['id']}/upload-complete",
        json={},
        headers=headers,
        timeout=10,
    )
    assert done.status_code == 200, done.text


class _Replies:
    """A requests.Session stand-in that answers with the given (status, headers, body) in turn."""

    def __init__(self, *replies):
        self.replies = list(replies)
        self.headers: dict[str, str] = {}
        self.calls = 0

    def request(self, method, url, **kwargs):
        status, headers, body = self.replies.pop(0)
        self.calls += 1
        response = requests.Response()
        response.status_code, response.url = status, url
        response.headers.update({"Content-Type": "application/json", **headers})
        response.raw = io.BytesIO(json.dumps(body).encode())
        return response


_OUTAGE = (
    503,
    {"Retry-After": "0"},
    {"error": {"code": "SERVICE_UNAVAILABLE", "message": "The database is unavailable.", "request_id": "r1"}},
)


def test_a_poll_waits_out_a_brief_outage_and_reports_a_long_one():
    from mosis_cli.api import MAX_OUTAGE_RETRIES, ApiError, Credentials, StoreClient

    brief = _Replies(_OUTAGE, _OUTAGE, (200, {}, {"status": "published"}))
    client = StoreClient("http://store.test", Credentials(api_key="k"), session=brief)
    assert client.request("GET", "/apps/x", wait_on_rate_limit=True) == {"status": "published"}
    assert brief.calls == 3

    endless = _Replies(*[_OUTAGE] * (MAX_OUTAGE_RETRIES + 1))
    client = StoreClient("http://store.test", Credentials(api_key="k"), session=endless)
    with pytest.raises(ApiError) as raised:
        client.request("GET", "/apps/x", wait_on_rate_limit=True)
    assert raised.value.exit_code == ExitCode.UNAVAILABLE and "r1" in raised.value.fix

    once = _Replies(_OUTAGE)  # a command that is not a poll reports the first 503 at once
    client = StoreClient("http://store.test", Credentials(api_key="k"), session=once)
    with pytest.raises(ApiError):
        client.request("POST", "/apps")
    assert once.calls == 1
