"""``mosis pack``: a folder → a ``.mpk`` exactly as the store's validator wants it, checked by that validator.

The archive is reproducible: entries sorted by name, folders included, fixed timestamps and permissions,
DEFLATE for everything, so packing the same folder twice gives the same bytes (and the same sha256).
Left out: version-control folders, OS and editor junk, private keys, earlier packages and signatures (see
``IGNORED_*``) and what ``.mosisignore`` lists (one ``fnmatch`` pattern per line, matched against the path
inside the package and against each name). A symbolic link or a special file is an error, not silently
followed: the store refuses links, and following one could pack a file from outside the folder.
"""

from __future__ import annotations

import fnmatch
import json
import os
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from mosis_package import Expected, ValidationResult, validate_package
from mosis_package.manifest import MANIFEST_NAME

from .errors import CliError, ExitCode

IGNORED_DIRS = {".git", ".hg", ".svn", "__MACOSX", ".idea", ".vscode", "__pycache__", ".mosis"}
IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini", ".mosisignore", ".env"}
IGNORED_PATTERNS = ("*~", "*.swp", "*.swo", "._*", "*.mpk", "*.mpk.sig", "*.pem", "*.key", "*.pyc")
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644 << 16
DIR_MODE = (0o040755 << 16) | 0x10  # Unix directory bits + the MS-DOS directory flag


@dataclass
class PackResult:
    path: Path
    manifest: dict
    files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    validation: ValidationResult | None = None

    @property
    def package_name(self) -> str:
        return package_filename(self.manifest)


def package_filename(manifest: dict) -> str:
    return f"{manifest.get('package_id', 'package')}-{manifest.get('version_name', '0')}.mpk"


def read_manifest(folder: Path) -> dict:
    """The folder's manifest.json as JSON (its rules are checked by the validator after packing)."""
    path = folder / MANIFEST_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(
            f"{folder} has no {MANIFEST_NAME}.",
            fix=f"Run `mosis init {folder}` to create one, or pack the folder that holds your app.",
            exit_code=ExitCode.INVALID_PACKAGE,
        )
    except UnicodeDecodeError:
        raise CliError(
            f"{path} is not UTF-8 text.",
            fix="Save manifest.json as UTF-8 (without BOM).",
            exit_code=ExitCode.INVALID_PACKAGE,
        )
    try:
        manifest = json.loads(text)
    except ValueError as exc:
        raise CliError(
            f"{path} is not valid JSON: {exc}.",
            fix="Fix the JSON syntax (a missing comma or quote is the usual cause).",
            exit_code=ExitCode.INVALID_PACKAGE,
        )
    if not isinstance(manifest, dict):
        raise CliError(
            f"{path} must hold a JSON object.", fix="See `mosis init`.", exit_code=ExitCode.INVALID_PACKAGE
        )
    return manifest


def _ignore_patterns(folder: Path) -> list[str]:
    try:
        lines = (folder / ".mosisignore").read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _ignored(relative: str, name: str, patterns: list[str]) -> bool:
    if name in IGNORED_NAMES or any(fnmatch.fnmatch(name, p) for p in IGNORED_PATTERNS):
        return True
    return any(fnmatch.fnmatch(relative, p) or fnmatch.fnmatch(name, p) for p in patterns)


def collect(folder: Path) -> tuple[list[str], list[str], list[str]]:
    """(folders, files, skipped) relative to ``folder``, '/'-separated and sorted."""
    patterns = _ignore_patterns(folder)
    dirs: list[str] = []
    files: list[str] = []
    skipped: list[str] = []
    for root, dirnames, filenames in os.walk(folder, followlinks=False):
        base = Path(root).relative_to(folder)
        for name in sorted(dirnames):
            relative = (base / name).as_posix()
            full = Path(root) / name
            if full.is_symlink():
                raise _link_error(relative)
            if name in IGNORED_DIRS or _ignored(relative + "/", name, patterns):
                skipped.append(relative + "/")
                dirnames.remove(name)
                continue
            dirs.append(relative + "/")
        for name in filenames:
            relative = (base / name).as_posix()
            mode = os.lstat(Path(root) / name).st_mode
            if stat.S_ISLNK(mode):
                raise _link_error(relative)
            if _ignored(relative, name, patterns):
                skipped.append(relative)
                continue
            if not stat.S_ISREG(mode):
                raise CliError(
                    f"{relative} is not a regular file (a device, FIFO or socket).",
                    fix="Remove it from the folder or list it in .mosisignore.",
                    exit_code=ExitCode.INVALID_PACKAGE,
                )
            files.append(relative)
    return sorted(dirs), sorted(files), sorted(skipped)


def _link_error(relative: str) -> CliError:
    return CliError(
        f"{relative} is a symbolic link; packages cannot contain links.",
        fix="Replace the link with a copy of what it points to, or list it in .mosisignore.",
        exit_code=ExitCode.INVALID_PACKAGE,
    )


def write_archive(folder: Path, dest, dirs: list[str], files: list[str]) -> None:
    entries = sorted([(d, True) for d in dirs] + [(f, False) for f in files])
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, is_dir in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.create_system = 3  # Unix: the mode bits below mean what they say
            if is_dir:
                info.external_attr = DIR_MODE
                archive.writestr(info, b"")
                continue
            info.external_attr = FILE_MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(folder / name, "rb") as src, archive.open(info, "w") as out:
                while chunk := src.read(1024 * 1024):
                    out.write(chunk)


def check_package(path: Path, manifest: dict | None = None) -> ValidationResult:
    """The store's validator on a package file, expecting what its own manifest says (the store adds only
    that the ids match the app and version you publish to, and the signature)."""
    manifest = manifest if manifest is not None else {}
    code = manifest.get("version_code")
    expected = Expected(
        package_id=str(manifest.get("package_id", "")),
        version_code=code if isinstance(code, int) and not isinstance(code, bool) else 0,
        version_name=str(manifest.get("version_name", "")),
    )
    return validate_package(path, expected=expected, signature=None, signing_keys=(), require_signature=False)


def pack(folder: Path, out: Path | None = None) -> PackResult:
    """Build ``folder`` into ``out`` (default: ``<package_id>-<version_name>.mpk`` in the current folder) and
    validate it. On errors the file is not left behind and the result's ``validation`` says why."""
    folder = folder.resolve()
    if not folder.is_dir():
        raise CliError(f"{folder} is not a folder.", fix="Pass the folder holding manifest.json.")
    manifest = read_manifest(folder)
    dirs, files, skipped = collect(folder)
    out = (out or Path.cwd() / package_filename(manifest)).resolve()
    if folder in out.parents:
        # A package written inside the folder would be packed next time; it is skipped, but say where it goes.
        skipped = sorted({*skipped, out.relative_to(folder).as_posix()})
    fd, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            write_archive(folder, fh, dirs, files)
        result = PackResult(path=out, manifest=manifest, files=files, skipped=skipped)
        result.validation = check_package(tmp, manifest)
        if result.validation.ok:
            os.chmod(tmp, 0o644)  # mkstemp made it 0600; a package is not a secret
            os.replace(tmp, out)
        return result
    finally:
        if tmp.exists():
            tmp.unlink()
