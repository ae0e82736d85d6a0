"""Run the ``mosis`` CLI as a developer does: a separate process with its own config folder and HOME, talking
to a live store on 127.0.0.1 over HTTP (pytest-django's ``live_server``: the test settings, SQLite or
PostgreSQL, local storage or S3 over moto's server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.factories import UserFactory

PASSWORD = "correct-horse-battery"  # UserFactory's
VENV_BIN = Path(sys.executable).parent
_DROPPED = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "DJANGO_SETTINGS_MODULE", "PYTHONPATH")


@dataclass
class Cli:
    cwd: Path
    env: dict

    def argv(self, args) -> list[str]:
        return [sys.executable, "-m", "mosis_cli", *map(str, args)]

    def run(self, *args, input: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.argv(args),
            cwd=self.cwd,
            env=self.env,
            input=input if input is not None else "",
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def json(self, *args, **kwargs) -> tuple[int, dict]:
        done = self.run("--json", *args, **kwargs)
        try:
            body = json.loads(done.stdout)
        except ValueError:
            raise AssertionError(f"not JSON (rc {done.returncode}): {done.stdout!r} {done.stderr!r}")
        return done.returncode, body

    def start(self, *args) -> subprocess.Popen:
        return subprocess.Popen(
            self.argv(args),
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )

    @property
    def config_dir(self) -> Path:
        return Path(self.env["MOSIS_CONFIG_DIR"])

    def config(self) -> dict:
        return json.loads((self.config_dir / "config.json").read_text())

    def write_config(self, data: dict) -> None:
        (self.config_dir / "config.json").write_text(json.dumps(data))


def cli_environment(tmp_path: Path) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MOSIS_") and k.upper() not in _DROPPED and not k.startswith("DATABASE")
    }
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update(
        MOSIS_CONFIG_DIR=str(tmp_path / "config"),
        HOME=str(home),
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        PYTHONUNBUFFERED="1",
        NO_PROXY="*",
    )
    return env


@pytest.fixture
def cli(tmp_path) -> Cli:
    work = tmp_path / "work"
    work.mkdir()
    return Cli(cwd=work, env=cli_environment(tmp_path))


@pytest.fixture
def developer(transactional_db):
    return UserFactory(email="dev@example.com", name="Dev Eloper")


@pytest.fixture
def signed_in(cli, live_server, developer, no_ratelimits) -> Cli:
    """A CLI signed in to the live store as ``developer``, with a registered signing key."""
    done = cli.run(
        "login", "--store", live_server.url, "--email", developer.email, "--password-stdin", input=PASSWORD
    )
    assert done.returncode == 0, done.stderr
    done = cli.run("keygen")
    assert done.returncode == 0, done.stderr
    return cli
