"""``mosis init`` and ``mosis pack`` (offline): the package is what the validator wants, reproducible, without
junk, links refused; the scaffold is valid as generated."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from mosis_cli.errors import CliError, ExitCode
from mosis_cli.main import main
from mosis_cli.packing import pack
from mosis_package import Expected, validate_package


@pytest.fixture(autouse=True)
def _config(tmp_path, monkeypatch):
    monkeypatch.setenv("MOSIS_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)


def _init(folder="notes", package_id="com.example.notes") -> Path:
    assert main(["init", folder, "--package-id", package_id, "--name", "Notes"]) == 0
    return Path(folder)


def test_init_makes_a_folder_the_store_accepts(capsys):
    folder = _init()
    out = capsys.readouterr().out
    for field in ("package_id", "version_code", "min_mosis_version", "icon"):
        assert field in out
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["package_id"] == "com.example.notes" and manifest["version_code"] == 1
    with Image.open(folder / "icon.png") as icon:
        assert icon.format == "PNG" and icon.size == (512, 512)
    assert (folder / "nls" / "en" / "messages.json").is_file()
    result = pack(folder)
    assert result.validation.ok, result.validation.report()
    assert result.validation.languages == ["en"]
    assert result.path == Path.cwd() / "com.example.notes-1.0.0.mpk"


def test_init_refuses_to_overwrite_a_manifest_and_a_bad_package_id(capsys):
    _init()
    assert main(["init", "notes", "--package-id", "com.example.notes"]) == ExitCode.USAGE
    assert "--force" in capsys.readouterr().err
    assert main(["init", "other", "--package-id", "Not An Id"]) == ExitCode.USAGE
    assert "reverse-domain" in capsys.readouterr().err


def test_packing_twice_gives_the_same_bytes_sorted_with_folders():
    folder = _init()
    (folder / "lib").mkdir()
    (folder / "lib" / "b.js").write_text("b")
    (folder / "lib" / "a.js").write_text("a")
    first = pack(folder, Path("one.mpk")).path.read_bytes()
    os.utime(folder / "main.js", (1, 1))  # timestamps do not matter
    second = pack(folder, Path("two.mpk")).path.read_bytes()
    assert first == second
    names = zipfile.ZipFile(io.BytesIO(first)).namelist()
    assert names == sorted(names)
    assert "lib/" in names and "nls/en/" in names
    assert oct(Path("one.mpk").stat().st_mode & 0o777) == oct(0o644)


def test_junk_keys_and_earlier_packages_are_left_out():
    folder = _init()
    for junk in (".DS_Store", "Thumbs.db", "main.js~", ".env", "release.pem", "old-1.0.0.mpk", "old.mpk.sig"):
        (folder / junk).write_text("junk")
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref")
    (folder / "build").mkdir()
    (folder / "build" / "out.js").write_text("x")
    (folder / ".mosisignore").write_text("# generated\nbuild/\n")
    result = pack(folder, folder / "pkg.mpk")
    assert result.files == ["icon.png", "main.js", "manifest.json", "nls/en/messages.json"]
    assert {".DS_Store", ".env", "release.pem", ".git/", "build/", "pkg.mpk"} <= set(result.skipped)


def test_a_symbolic_link_is_an_error_with_a_fix():
    folder = _init()
    (folder / "link.js").symlink_to(folder / "main.js")
    with pytest.raises(CliError) as caught:
        pack(folder)
    assert caught.value.exit_code == ExitCode.INVALID_PACKAGE
    assert "symbolic link" in caught.value.message and "copy" in caught.value.fix


def test_pack_reports_the_validators_errors_with_fixes_and_writes_nothing(capsys):
    folder = _init()
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.update(icon="missing.png", dependencies={"com.example.notes": "^1.0.0"})
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert main(["pack", str(folder)]) == ExitCode.INVALID_PACKAGE
    captured = capsys.readouterr()
    assert "ICON_MISSING" in captured.out and "fix: Add the icon file" in captured.out
    assert "DEPENDENCY_ON_SELF" in captured.out
    assert "fix:" in captured.err
    assert not list(Path.cwd().glob("*.mpk")) and not list(Path.cwd().glob(".*.tmp"))


def test_pack_json_describes_the_package(capsys):
    _init()
    capsys.readouterr()
    assert main(["--json", "pack", "notes"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["ok"] is True and body["package_id"] == "com.example.notes"
    assert body["files"] == ["icon.png", "main.js", "manifest.json", "nls/en/messages.json"]
    assert len(body["sha256"]) == 64
    result = validate_package(
        body["package"],
        expected=Expected("com.example.notes", 1, "1.0.0"),
        signature=None,
        signing_keys=(),
        require_signature=False,
    )
    assert result.ok and result.sha256 == body["sha256"]


def test_sign_and_verify_offline_with_each_key_type(capsys):
    _init()
    assert main(["pack", "notes"]) == 0
    package = "com.example.notes-1.0.0.mpk"
    for algorithm in ("ed25519", "ecdsa-p256", "rsa"):
        key = f"{algorithm}.pem"
        assert main(["keygen", "--no-register", "--algorithm", algorithm, "--out", key]) == 0
        assert oct(Path(key).stat().st_mode & 0o777) == oct(0o600)
        assert main(["sign", package, "--key", key]) == 0
        assert main(["verify", package, "--key", key.replace(".pem", ".pub.pem")]) == 0
        assert main(["verify", package, "--key", key]) == 0  # a private key's public half works too
    capsys.readouterr()
    Path(package).write_bytes(Path(package).read_bytes() + b"tampered")
    assert main(["verify", package, "--key", "rsa.pub.pem"]) == ExitCode.SIGNATURE
    assert "does not verify" in capsys.readouterr().err


def test_keygen_will_not_overwrite_a_key():
    assert main(["keygen", "--no-register", "--out", "k.pem"]) == 0
    before = Path("k.pem").read_bytes()
    assert main(["keygen", "--no-register", "--out", "k.pem"]) == ExitCode.USAGE
    assert Path("k.pem").read_bytes() == before
    assert main(["keygen", "--no-register", "--out", "k.pem", "--force"]) == 0
    assert Path("k.pem").read_bytes() != before


def test_an_encrypted_key_asks_for_its_passphrase(monkeypatch, capsys):
    from cryptography.hazmat.primitives import serialization

    from mosis_package import generate_signing_key

    _init()
    assert main(["pack", "notes"]) == 0
    private, public = generate_signing_key("ed25519")
    Path("locked.pem").write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"open sesame"),
        )
    )
    Path("locked.pub.pem").write_text(public)
    assert main(["sign", "com.example.notes-1.0.0.mpk", "--key", "locked.pem"]) == ExitCode.SIGNATURE
    assert "MOSIS_KEY_PASSPHRASE" in capsys.readouterr().err
    monkeypatch.setenv("MOSIS_KEY_PASSPHRASE", "open sesame")
    assert main(["sign", "com.example.notes-1.0.0.mpk", "--key", "locked.pem"]) == 0
    assert main(["verify", "com.example.notes-1.0.0.mpk", "--key", "locked.pub.pem"]) == 0
