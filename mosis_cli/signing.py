"""Keys on the developer's side: load a private key (asking for its passphrase when it has one), derive the
public half, find which registered signing key of the store it is."""

from __future__ import annotations

import getpass
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from mosis_package import (
    InvalidPrivateKey,
    InvalidPublicKey,
    load_private_key,
    parse_public_key,
    public_key_pem,
)

from .context import Context
from .errors import CliError, ExitCode


@dataclass
class LocalKey:
    path: Path
    private_key: object
    public_pem: str
    algorithm: str
    fingerprint: str


def public_path_for(private_path: Path) -> Path:
    """``signing.pem`` → ``signing.pub.pem`` (the public half written beside it)."""
    name = private_path.name.removesuffix(".pem")
    return private_path.with_name(name + ".pub.pem")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CliError(
            f"Cannot read the key {path}: {exc.strerror}.",
            fix="Pass the path of a PEM key file with --key.",
            exit_code=ExitCode.SIGNATURE,
        )


def _passphrase(path: Path) -> bytes:
    passphrase = os.environ.get("MOSIS_KEY_PASSPHRASE")
    if passphrase is None and sys.stdin.isatty():
        passphrase = getpass.getpass(f"Passphrase for {path}: ")
    if passphrase is None:
        raise CliError(
            f"{path} is encrypted.",
            fix="Set MOSIS_KEY_PASSPHRASE, or run the command in a terminal to type the passphrase.",
            exit_code=ExitCode.SIGNATURE,
        )
    return passphrase.encode()


def load_local_key(path: Path) -> LocalKey:
    data = _read(path)
    try:
        try:
            key = load_private_key(data)
        except TypeError:  # encrypted: ask for the passphrase (MOSIS_KEY_PASSPHRASE in scripts)
            key = load_private_key(data, _passphrase(path))
    except InvalidPrivateKey as exc:
        raise CliError(f"{path}: {exc}", fix="Pass your private key file.", exit_code=ExitCode.SIGNATURE)
    pem = public_key_pem(key)
    algorithm, fingerprint = parse_public_key(pem)
    return LocalKey(path=path, private_key=key, public_pem=pem, algorithm=algorithm, fingerprint=fingerprint)


def load_public_pem(path: Path) -> tuple[str, str, str]:
    """(public PEM, algorithm, fingerprint) of a public key file, or of a private key file's public half."""
    data = _read(path)
    if b"PRIVATE KEY" in data:
        key = load_local_key(path)
        return key.public_pem, key.algorithm, key.fingerprint
    try:
        text = data.decode("ascii")
        algorithm, fingerprint = parse_public_key(text)
    except (UnicodeDecodeError, InvalidPublicKey) as exc:
        raise CliError(
            f"{path} is not a key mosis can use: {exc}",
            fix="Pass a PEM public key (-----BEGIN PUBLIC KEY-----) or your private key file.",
            exit_code=ExitCode.SIGNATURE,
        )
    return text, algorithm, fingerprint


def default_key_path(ctx: Context, explicit: str | None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("MOSIS_SIGNING_KEY")
    if env:
        return Path(env).expanduser()
    saved = ctx.store_entry.get("signing_key") or {}
    if saved.get("path"):
        return Path(saved["path"])
    raise CliError(
        f"No signing key for {ctx.store}.",
        fix="Run `mosis keygen` once (it makes a key and registers it with the store), or pass --key PEM.",
        exit_code=ExitCode.SIGNATURE,
    )


def registered_key(ctx: Context, fingerprint: str) -> dict | None:
    """The store's record of the caller's signing key with this fingerprint, or None."""
    for key in ctx.client.pages("/signing-keys", "keys"):
        if key.get("fingerprint") == fingerprint:
            return key
    return None
