"""Every recipe of docs/package-format.md, run as written: each `sh` and `python` block in a fresh folder
holding what the page says a reader has (`notes-1.4.0.mpk`, an Ed25519 `signing.pem`/`public.pem` pair and
`~/art/icon-512.png`), with `mosis` on the PATH. Then every package the block leaves is validated by the
store's validator and every `<package>.sig` is verified against the block's public key: a recipe that makes an
empty or wrong signature, or a package the store refuses, fails here (issue 16: a documented recipe once
produced an empty signature that the store took as "unsigned")."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from mosis_package import (
    ISSUE_CODES,
    ISSUE_FIXES,
    MANIFEST_SCHEMA,
    Expected,
    build_package,
    generate_signing_key,
    make_icon_png,
    validate_package,
    verify_file_signature,
)
from tests.mosis_cli.conftest import cli_environment

DOC = Path(__file__).resolve().parents[2] / "docs" / "package-format.md"
NOTES_MANIFEST = {
    "package_id": "com.example.notes", "name": "Notes", "version_name": "1.4.0", "version_code": 14,
    "min_mosis_version": "1.2", "permissions": ["network"], "icon": "icon.png",
}  # fmt: skip


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", DOC.read_text(), re.S | re.M)


RECIPES = [("sh", b) for b in blocks("sh")] + [("python", b) for b in blocks("python")]


def _label(recipe) -> str:
    language, body = recipe
    first = next(line for line in body.splitlines() if line.strip())
    return f"{language}: {first.strip()[:60]}"


@pytest.fixture
def folder(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    build_package(
        work / "notes-1.4.0.mpk", manifest=NOTES_MANIFEST, files={"main.js": b"export default {}\n"}
    )
    private, public_pem = generate_signing_key("ed25519")
    (work / "signing.pem").write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    (work / "public.pem").write_text(public_pem)
    art = tmp_path / "home" / "art"
    art.mkdir(parents=True)
    (art / "icon-512.png").write_bytes(make_icon_png(512))
    return work


def test_the_page_has_its_recipes():
    assert len([r for r in RECIPES if r[0] == "sh"]) >= 5
    assert len([r for r in RECIPES if r[0] == "python"]) >= 3


@pytest.mark.parametrize("recipe", RECIPES, ids=_label)
def test_recipe_runs_and_what_it_makes_is_accepted(recipe, folder, tmp_path):
    language, body = recipe
    env = cli_environment(tmp_path)
    interpreter = {"sh": ["bash", "-euo", "pipefail"], "python": [sys.executable]}[language]
    argv = [*interpreter, "-c", body]
    done = subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (body, done.stdout, done.stderr)

    packages = sorted(folder.rglob("*.mpk"))
    for package in packages:
        manifest = _manifest(package)
        result = validate_package(
            package,
            expected=Expected(manifest["package_id"], manifest["version_code"], manifest["version_name"]),
            signature=None,
            signing_keys=(),
            require_signature=False,
        )
        assert result.ok, (package.name, result.report())
    signatures = sorted(folder.rglob("*.mpk.sig"))
    public_keys = [folder / "public.pem", *folder.glob("*.pub.pem")]
    newest_key = max(public_keys, key=lambda p: p.stat().st_mtime_ns)
    for signature in signatures:
        package = signature.with_name(signature.name.removesuffix(".sig"))
        text = signature.read_text().strip()
        assert text, f"{signature.name} is empty"
        assert verify_file_signature(package, text, newest_key.read_text()), (signature.name, newest_key.name)
    if "print(result.report())" in body:
        assert "'ok': True" in done.stdout


def _manifest(package: Path) -> dict:
    import zipfile

    with zipfile.ZipFile(package) as archive:
        return json.loads(archive.read("manifest.json"))


def test_the_schema_on_the_page_is_the_one_the_store_applies():
    (schema,) = [b for b in blocks("json") if '"$schema"' in b]
    assert json.loads(schema) == MANIFEST_SCHEMA


def test_the_report_table_lists_every_code_with_its_meaning_and_fix():
    doc = DOC.read_text()
    for code, meaning in ISSUE_CODES.items():
        severity = "warning" if meaning.startswith("(warning) ") else "error"
        row = f"| `{code}` | {severity} | {meaning.removeprefix('(warning) ')} | {ISSUE_FIXES[code]} |"
        assert row in doc, row
    assert set(ISSUE_FIXES) == set(ISSUE_CODES)
