"""Where the CLI keeps what it remembers: one JSON file in the user's config directory, readable by the user
only (0600 in a 0700 folder), since it holds sign-in tokens or an API key.

    {"default_store": "http://127.0.0.1:8000",
     "stores": {"http://127.0.0.1:8000": {"email": "...", "access_token": "...", "refresh_token": "...",
                                          "api_key": null,
                                          "signing_key": {"id": "...", "fingerprint": "...", "path": "..."}}}}

The folder is ``$MOSIS_CONFIG_DIR`` when set, else the platform's config folder for "mosis"
(``~/.config/mosis`` on Linux, ``~/Library/Application Support/mosis`` on macOS, ``%APPDATA%\\mosis`` on
Windows). Private signing keys made by ``mosis keygen`` go to its ``keys/`` folder (0600 each).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs

from .errors import CliError, ExitCode

DEFAULT_STORE = "http://127.0.0.1:8000"  # the demo store of `make run`
CONFIG_FILE = "config.json"


def config_dir() -> Path:
    override = os.environ.get("MOSIS_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir("mosis", appauthor=False))


def keys_dir() -> Path:
    return config_dir() / "keys"


def normalize_store_url(url: str) -> str:
    """``https://store.example.com/v1/`` → ``https://store.example.com``; a bare host gets ``https://``."""
    url = url.strip()
    if "://" not in url:
        url = ("http://" if url.startswith(("127.0.0.1", "localhost")) else "https://") + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CliError(
            f"{url!r} is not a store address.",
            fix="Pass the store's base URL, e.g. --store https://store.example.com",
            exit_code=ExitCode.USAGE,
        )
    path = parts.path.rstrip("/")
    path = path.removesuffix("/v1")
    return f"{parts.scheme}://{parts.netloc}{path}"


def ensure_private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # not ours to change (e.g. a shared mount): the files stay 0600
        os.chmod(path, 0o700)


def write_private_file(path: Path, data: bytes, *, overwrite: bool = True) -> None:
    """Write ``data`` to ``path`` readable by the user only (0600), atomically (a temp file renamed). The
    folder is created if needed but left as it is otherwise (it may be the developer's project)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not overwrite and path.exists():
        raise FileExistsError(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if not overwrite:
            os.link(tmp, path)  # fails if someone created it meanwhile: never clobber a key
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


class Config:
    """The config file's contents; ``save()`` writes them back (0600)."""

    def __init__(self, data: dict | None = None, path: Path | None = None):
        self.path = path or config_dir() / CONFIG_FILE
        self.data = data if data is not None else {}
        self.data.setdefault("stores", {})

    @classmethod
    def load(cls) -> Config:
        path = config_dir() / CONFIG_FILE
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(path=path)
        except OSError as exc:
            raise CliError(f"Cannot read {path}: {exc.strerror}.", fix="Check the file's permissions.")
        try:
            data = json.loads(raw)
            if not isinstance(data, dict) or not isinstance(data.get("stores", {}), dict):
                raise ValueError("not an object")
        except ValueError:
            raise CliError(
                f"{path} is not a valid mosis config file.",
                fix=f"Remove it (rm {path}) and run `mosis login` again.",
            )
        return cls(data, path)

    def save(self) -> None:
        ensure_private_dir(self.path.parent)
        write_private_file(self.path, (json.dumps(self.data, indent=2, sort_keys=True) + "\n").encode())

    def store_url(self, override: str | None = None) -> str:
        chosen = override or os.environ.get("MOSIS_STORE") or self.data.get("default_store") or DEFAULT_STORE
        return normalize_store_url(chosen)

    def store(self, url: str) -> dict:
        """The saved entry of one store (created empty)."""
        return self.data["stores"].setdefault(url, {})

    def forget_credentials(self, url: str) -> None:
        entry = self.store(url)
        for name in ("access_token", "refresh_token", "api_key", "email"):
            entry.pop(name, None)
