"""The CLI as a program: --help on every command, the documented exit codes, no Django anywhere, and an
installable distribution that carries it (`pip install` of the project)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from mosis_cli.errors import ExitCode
from mosis_cli.main import build_parser, main
from tests.mosis_cli.conftest import cli_environment

ROOT = Path(__file__).resolve().parents[2]


COMMANDS = [
    ("login",), ("logout",), ("whoami",), ("init",), ("keygen",),
    ("keys",), ("keys", "list"), ("keys", "add"), ("keys", "revoke"),
    ("api-keys",), ("api-keys", "list"), ("api-keys", "create"), ("api-keys", "revoke"),
    ("pack",), ("sign",), ("verify",), ("publish",), ("status",), ("yank",),
]  # fmt: skip


def test_the_help_lists_exactly_these_commands_and_the_reference_documents_each(capsys):
    assert main(["--help"]) == 0
    listed = re.findall(r"^    ([a-z-]+) ", capsys.readouterr().out, re.M)
    assert listed == [c[0] for c in COMMANDS if len(c) == 1]
    reference = (ROOT / "docs" / "cli.md").read_text()
    for (name,) in (c for c in COMMANDS if len(c) == 1):
        assert f"| `mosis {name}" in reference, name


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(command, capsys):
    assert main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: mosis " + " ".join(command))
    assert len(out.splitlines()) > 3


def test_a_bad_command_line_is_exit_code_2(capsys):
    assert main(["publish", "--no-such-option"]) == ExitCode.USAGE
    assert main([]) == ExitCode.USAGE
    assert "usage:" in capsys.readouterr().err


def test_the_exit_codes_are_documented_as_they_are():
    doc = (ROOT / "docs" / "cli.md").read_text()
    table = dict(re.findall(r"^\| (\d+) \| `([A-Z_]+)` \|", doc, re.M))
    assert table == {str(int(code)): code.name for code in ExitCode}
    epilog = build_parser().epilog
    for code in ExitCode:
        if code not in (ExitCode.OK,):
            assert f"{int(code)} " in epilog


_NO_DJANGO = textwrap.dedent(
    """
    import sys
    class NoDjango:
        def find_spec(self, name, path=None, target=None):
            if name == "django" or name.startswith("django."):
                raise ImportError("the CLI must not import Django: " + name)
    sys.meta_path.insert(0, NoDjango())
    from mosis_cli.main import main
    code = main(sys.argv[1:])
    assert not [m for m in sys.modules if m == "django" or m.startswith("django.")]
    sys.exit(code)
    """
)


def test_the_cli_imports_nothing_from_django(tmp_path):
    env = cli_environment(tmp_path)

    def run(*args):
        return subprocess.run(
            [sys.executable, "-c", _NO_DJANGO, *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    for args in (
        ("--help",),
        ("init", "notes", "--package-id", "com.example.notes"),
        ("pack", "notes"),
        ("keygen", "--no-register", "--out", "k.pem"),
        ("sign", "com.example.notes-1.0.0.mpk", "--key", "k.pem"),
        ("verify", "com.example.notes-1.0.0.mpk", "--key", "k.pub.pem"),
        ("publish", "notes", "--store", "http://127.0.0.1:9"),  # every module loaded, up to the network
    ):
        done = run(*args)
        assert "must not import Django" not in done.stderr, (args, done.stderr)
        assert done.returncode in (0, ExitCode.SIGNATURE, ExitCode.AUTH), (args, done.stderr)


def test_pip_installs_the_cli_and_the_package_format_alone(tmp_path):
    """`pip install` of the project puts `mosis` and what it needs on the path, and it runs from there."""
    source = tmp_path / "source"
    source.mkdir()
    shutil.copy(ROOT / "pyproject.toml", source)
    for package in ("mosis_cli", "mosis_package"):
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            wheels,
            source,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        assert "mosis = mosis_cli.main:main" in archive.read(entry_points).decode()
    assert {n.split("/")[0] for n in names if n.endswith(".py")} == {"mosis_cli", "mosis_package"}

    target = tmp_path / "site"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", target, wheel],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr
    env = cli_environment(tmp_path)
    env["PYTHONPATH"] = str(target)
    work = tmp_path / "elsewhere"
    work.mkdir()
    probe = "import mosis_cli, mosis_package, sys; print(mosis_cli.__file__); sys.exit(0)"
    where = subprocess.run([sys.executable, "-c", probe], cwd=work, env=env, capture_output=True, text=True)
    assert where.stdout.startswith(str(target)), where.stdout + where.stderr
    for args in (("init", "app", "--package-id", "com.example.app"), ("pack", "app")):
        done = subprocess.run(
            [sys.executable, "-m", "mosis_cli", *args],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
    assert (work / "com.example.app-1.0.0.mpk").is_file()
