"""The rest of what a developer does often, against a live store: sign in with an API key, sign out, list,
add and revoke signing keys, API keys for CI, status and yank — with --json for scripts."""

from __future__ import annotations

import json

import pytest
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts.models import ApiKey, SigningKey
from mosis_cli.errors import ExitCode
from versions.constants import VersionStatus
from versions.models import AppVersion
from versions.services import version_review

pytestmark = [pytest.mark.network]


def test_logout_revokes_the_sign_in_at_the_store_and_forgets_it(signed_in, live_server):
    refresh = signed_in.config()["stores"][live_server.url]["refresh_token"]
    done = signed_in.run("logout")
    assert done.returncode == 0, done.stderr
    assert f"Signed out of {live_server.url}" in done.stdout
    assert BlacklistedToken.objects.filter(token__token=refresh).exists()
    entry = signed_in.config()["stores"][live_server.url]
    assert "refresh_token" not in entry and "access_token" not in entry
    assert entry["signing_key"]  # the key is not a credential: it stays for the next sign-in
    assert signed_in.run("whoami").returncode == ExitCode.AUTH
    assert "You were not signed in" in signed_in.run("logout").stdout


def test_api_keys_for_ci_and_signing_in_with_one(signed_in, live_server, developer, tmp_path):
    rc, created = signed_in.json("api-keys", "create", "--name", "CI", "--expires-days", "30")
    assert rc == 0, created
    secret = created["secret"]
    assert secret.startswith("mk_live_")
    assert set(created["key"]["permissions"]) == {
        "apps:read",
        "apps:write",
        "versions:upload",
        "versions:publish",
    }
    rc, listed = signed_in.json("api-keys")
    assert [k["id"] for k in listed["keys"]] == [created["key"]["id"]]

    # A CI job: MOSIS_API_KEY instead of a saved sign-in.
    signed_in.env["MOSIS_API_KEY"] = secret
    rc, me = signed_in.json("whoami", "--store", live_server.url)
    assert rc == 0 and me["user"]["email"] == developer.email
    del signed_in.env["MOSIS_API_KEY"]

    # `login --api-key` reads the key from stdin when it is not a terminal.
    other = signed_in.config_dir.parent / "other-config"
    signed_in.env["MOSIS_CONFIG_DIR"] = str(other)
    done = signed_in.run("login", "--store", live_server.url, "--api-key", input=secret + "\n")
    assert done.returncode == 0, done.stderr
    assert "with an API key" in done.stdout
    saved = json.loads((other / "config.json").read_text())["stores"][live_server.url]
    assert saved["api_key"] == secret and "refresh_token" not in saved
    assert oct((other / "config.json").stat().st_mode & 0o777) == oct(0o600)

    signed_in.env["MOSIS_CONFIG_DIR"] = str(signed_in.config_dir.parent / "config")
    assert signed_in.run("api-keys", "revoke", created["key"]["id"]).returncode == 0
    assert ApiKey.objects.get(pk=created["key"]["id"]).revoked_at is not None
    signed_in.env["MOSIS_API_KEY"] = secret
    assert signed_in.run("whoami").returncode == ExitCode.AUTH


def test_signing_keys_list_add_and_revoke(signed_in, developer):
    rc, listed = signed_in.json("keys")
    assert rc == 0 and len(listed["keys"]) == 1
    assert listed["keys"][0]["fingerprint"] == listed["local_fingerprint"]
    assert "*" in signed_in.run("keys", "list").stdout  # marks the key mosis signs with

    assert signed_in.run("keygen", "--no-register", "--out", "second.pem").returncode == 0
    rc, added = signed_in.json("keys", "add", "second.pub.pem", "--name", "laptop")
    assert rc == 0 and added["signs_with_it"] is False
    again = signed_in.run("keys", "add", "second.pem")
    assert again.returncode == ExitCode.SIGNATURE and "already registered" in again.stderr

    rc, listed = signed_in.json("keys")
    first = next(k for k in listed["keys"] if k["fingerprint"] == listed["local_fingerprint"])
    revoked = signed_in.run("keys", "revoke", first["fingerprint"])
    assert revoked.returncode == 0, revoked.stderr
    assert "mosis keygen" in revoked.stdout  # it was the key mosis signed with
    assert SigningKey.objects.get(pk=first["id"]).revoked_at is not None
    assert signed_in.run("keys", "revoke", "nope").returncode == ExitCode.ERROR


def test_status_lists_apps_and_versions_and_yank_hides_a_release(signed_in, staff_user):
    assert signed_in.run("init", "notes", "--package-id", "com.example.notes").returncode == 0
    assert signed_in.run("publish", "notes").returncode == 0
    version = AppVersion.objects.get(status=VersionStatus.REVIEW)
    version_review(version=version, reviewer=staff_user, decision="approve")
    published = signed_in.run("publish", "notes")  # the re-run publishes the approved version
    assert published.returncode == 0, published.stderr
    assert "Published com.example.notes 1.0.0" in published.stdout

    rc, apps = signed_in.json("status")
    assert rc == 0 and [a["package_id"] for a in apps["apps"]] == ["com.example.notes"]
    rc, detail = signed_in.json("status", "com.example.notes")
    assert [(v["version_code"], v["status"]) for v in detail["versions"]] == [(1, "published")]

    yanked = signed_in.run("yank", "com.example.notes", "1.0.0")
    assert yanked.returncode == 0, yanked.stderr
    assert AppVersion.objects.get(pk=version.pk).yanked_at is not None
    assert "(yanked)" in signed_in.run("status", "com.example.notes").stdout
    missing = signed_in.run("yank", "com.example.notes", "9")
    assert missing.returncode == ExitCode.ERROR and "mosis status" in missing.stderr


def test_a_reviewers_rejection_prints_the_notes_and_exits_6(signed_in, staff_user):
    assert signed_in.run("init", "notes", "--package-id", "com.example.notes").returncode == 0
    assert signed_in.run("publish", "notes").returncode == 0
    version = AppVersion.objects.get(status=VersionStatus.REVIEW)
    version_review(
        version=version, reviewer=staff_user, decision="reject", notes="The icon is a placeholder."
    )
    done = signed_in.run("publish", "notes", "--wait")
    assert done.returncode == ExitCode.REJECTED
    assert "The icon is a placeholder." in done.stdout + done.stderr
    assert "set version_code to 2" in done.stderr


def test_waiting_for_review_gives_up_at_the_timeout(signed_in):
    assert signed_in.run("init", "notes", "--package-id", "com.example.notes").returncode == 0
    done = signed_in.run("publish", "notes", "--wait", "--timeout", "1")
    assert done.returncode == ExitCode.TIMEOUT
    assert "run the same `mosis publish` command later" in done.stderr.lower()
    assert AppVersion.objects.get().status == VersionStatus.REVIEW
