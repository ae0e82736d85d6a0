"""The quickstart, run as written (docs/quickstart.md's five commands) against a live store on 127.0.0.1,
with local storage and with S3 over moto's server: from `mosis init` to a published app whose download
verifies. A staff reviewer approves through the service while `mosis publish --wait` polls."""

from __future__ import annotations

import hashlib
import re
import shlex
from pathlib import Path

import pytest
import requests

from tests.flows.test_version_journey_s3 import moto_endpoint, s3_storage  # noqa: F401 - fixtures
from tests.mosis_cli.conftest import PASSWORD
from versions.constants import VersionStatus
from versions.models import AppVersion
from versions.services import version_review

pytestmark = [pytest.mark.network]

QUICKSTART = Path(__file__).resolve().parents[2] / "docs" / "quickstart.md"
DEMO_STORE = "http://127.0.0.1:8000"


def quickstart_commands() -> list[list[str]]:
    """The `mosis ...` lines of the quickstart's first sh block, comments dropped."""
    block = re.search(r"```sh\n(.*?)```", QUICKSTART.read_text(), re.S).group(1)
    commands = []
    for line in block.splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("mosis "):
            commands.append(shlex.split(line)[1:])
    return commands


def test_the_quickstart_is_five_commands():
    commands = quickstart_commands()
    assert [c[0] for c in commands] == ["login", "init", "keygen", "publish", "status"]


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


@pytest.mark.parametrize("storage", ["local", "s3"])
def test_quickstart_publishes_a_downloadable_app_whose_signature_verifies(
    storage, request, cli, live_server, developer, staff_user, no_ratelimits
):
    if storage == "s3":
        request.getfixturevalue("s3_storage")
    outputs = {}
    for args in quickstart_commands():
        args = [live_server.url if a == DEMO_STORE else a for a in args]
        args = [developer.email if a == "dev@mosis.dev" else a for a in args]
        if args[0] == "publish":
            outputs["publish"] = _publish_while_a_reviewer_approves(cli, args, staff_user)
            continue
        done = cli.run(*args, input=PASSWORD + "\n" if args[0] == "login" else None)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        outputs[args[0]] = done.stdout

    assert f"as {developer.email}" in outputs["login"]
    assert "manifest.json, field by field" in outputs["init"]
    assert "Registered with" in outputs["keygen"]
    assert "Published com.example.notes 1.0.0" in outputs["publish"]
    assert re.search(r"1\s+1\.0\.0\s+published", outputs["status"])

    config = cli.config()
    assert (cli.config_dir / "config.json").stat().st_mode & 0o777 == 0o600
    key_path = Path(config["stores"][live_server.url]["signing_key"]["path"])
    assert key_path.stat().st_mode & 0o777 == 0o600
    assert b"PRIVATE KEY" in key_path.read_bytes()

    session = _session()
    info = session.get(f"{live_server.url}/v1/store/apps/com.example.notes/download", timeout=10).json()
    package = session.get(info["download_url"], timeout=10)
    assert package.status_code == 200
    assert hashlib.sha256(package.content).hexdigest() == info["sha256"]
    downloaded = cli.cwd / "downloaded.mpk"
    downloaded.write_bytes(package.content)
    public_key = key_path.with_name(key_path.name.removesuffix(".pem") + ".pub.pem")
    verified = cli.run("verify", downloaded, "--key", public_key, "--signature", info["signature"])
    assert verified.returncode == 0, verified.stderr
    assert "Signature OK" in verified.stdout
    version = AppVersion.objects.get(app__package_id="com.example.notes")
    assert version.signing_key_fingerprint == info["signing_key_fingerprint"]

    # Running publish again changes nothing: the version is already published.
    again = cli.run("publish", "notes")
    assert again.returncode == 0, again.stderr
    assert "already at the store ('published')" in again.stdout
    assert AppVersion.objects.filter(app__package_id="com.example.notes").count() == 1


def _publish_while_a_reviewer_approves(cli, args, staff_user) -> str:
    process = cli.start(*args)
    try:
        seen = []
        for line in process.stderr:  # the CLI says when it starts waiting for the reviewer
            seen.append(line)
            if line.startswith("In review"):
                break
        else:
            raise AssertionError(f"publish ended before review: {''.join(seen)} {process.stdout.read()}")
        version = AppVersion.objects.get(app__package_id="com.example.notes", status=VersionStatus.REVIEW)
        version_review(version=version, reviewer=staff_user, decision="approve", notes="Welcome.")
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, (stdout, "".join(seen), stderr)
    return stdout
