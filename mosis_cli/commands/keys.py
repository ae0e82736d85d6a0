"""``mosis keygen``, ``mosis keys`` (signing keys) and ``mosis api-keys`` (API keys for CI)."""

from __future__ import annotations

import datetime as dt
import re
import socket
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from mosis_package import ALGORITHMS, generate_signing_key, parse_public_key

from ..config import ensure_private_dir, keys_dir, write_private_file
from ..context import Context
from ..errors import ApiError, CliError, ExitCode
from ..signing import load_public_pem, public_path_for

SCOPES = ("apps:read", "apps:write", "versions:upload", "versions:publish", "telemetry:read", "keys:manage")


def register(sub, common) -> None:
    keygen = sub.add_parser(
        "keygen",
        parents=[common],
        help="Make a signing key (private half stays here, 0600) and register its public half.",
        description="Generate a signing key pair. The private key is written readable by you only and never "
        "sent anywhere; the public key is written beside it (.pub.pem) and registered with the store, and the "
        "key becomes the one `mosis publish` and `mosis sign` use for this store.",
    )
    keygen.add_argument("--name", help="A name for the key in the store (default: this computer's name).")
    keygen.add_argument(
        "--algorithm", choices=ALGORITHMS, default="ed25519", help="Key type (default: ed25519)."
    )
    keygen.add_argument(
        "--out", help="Where to write the private key (default: keys/ in your mosis config folder)."
    )
    keygen.add_argument(
        "--no-register", action="store_true", help="Only write the files; do not contact any store."
    )
    keygen.add_argument("--force", action="store_true", help="Overwrite existing key files at --out.")
    keygen.set_defaults(handler=keygen_command)

    keys = sub.add_parser(
        "keys",
        parents=[common],
        help="List, add or revoke your signing keys at the store.",
        description="Your signing keys at the store. Without a subcommand: list them (* marks the one "
        "`mosis publish` signs with).",
    )
    keys.set_defaults(handler=keys_list_command)
    keys_sub = keys.add_subparsers(dest="keys_command", metavar="{list,add,revoke}")
    keys_sub.add_parser("list", parents=[common], help="List your signing keys.").set_defaults(
        handler=keys_list_command
    )
    add = keys_sub.add_parser(
        "add",
        parents=[common],
        help="Register a key you already have (public PEM, or your private key to also sign with it).",
        description="Register the public half of a key. Given a private key file, its public half is "
        "registered and the key becomes the one mosis signs with for this store.",
    )
    add.add_argument("pem", help="A public key (.pem) or your private key file.")
    add.add_argument("--name", help="A name for the key in the store.")
    add.set_defaults(handler=keys_add_command)
    revoke = keys_sub.add_parser(
        "revoke",
        parents=[common],
        help="Revoke a signing key (versions already published with it stay valid).",
    )
    revoke.add_argument("key", help="The key's id or fingerprint (see `mosis keys`).")
    revoke.set_defaults(handler=keys_revoke_command)

    api = sub.add_parser(
        "api-keys",
        parents=[common],
        help="List, create or revoke API keys (for CI: MOSIS_API_KEY).",
        description="API keys authenticate scripts and CI (set MOSIS_API_KEY). Without a subcommand: list.",
    )
    api.set_defaults(handler=api_keys_list_command)
    api_sub = api.add_subparsers(dest="api_keys_command", metavar="{list,create,revoke}")
    api_sub.add_parser("list", parents=[common], help="List your API keys.").set_defaults(
        handler=api_keys_list_command
    )
    create = api_sub.add_parser(
        "create", parents=[common], help="Create an API key; its secret is shown once."
    )
    create.add_argument("--name", required=True, help="What the key is for, e.g. CI.")
    create.add_argument(
        "--scope",
        action="append",
        choices=SCOPES,
        dest="scopes",
        help="A permission (repeat the option); default: what publishing needs "
        "(apps:read apps:write versions:upload versions:publish).",
    )
    create.add_argument("--expires-days", type=int, help="Expire the key after this many days.")
    create.set_defaults(handler=api_keys_create_command)
    api_revoke = api_sub.add_parser("revoke", parents=[common], help="Revoke an API key at once.")
    api_revoke.add_argument("key_id", help="The key's id (see `mosis api-keys`).")
    api_revoke.set_defaults(handler=api_keys_revoke_command)


def _default_key_name() -> str:
    return f"{socket.gethostname()} ({dt.date.today().isoformat()})"[:100]


def _default_key_path(ctx: Context) -> Path:
    host = re.sub(r"[^A-Za-z0-9.-]+", "-", ctx.store.split("://", 1)[1]).strip("-")
    path, n = keys_dir() / f"{host}-signing.pem", 1
    while path.exists():
        n += 1
        path = keys_dir() / f"{host}-signing-{n}.pem"
    return path


def _remember(ctx: Context, *, key_id: str, fingerprint: str, path: Path, name: str) -> None:
    ctx.store_entry["signing_key"] = {
        "id": key_id,
        "fingerprint": fingerprint,
        "path": str(path),
        "name": name,
    }
    ctx.config.save()


def _register(ctx: Context, name: str, public_pem: str) -> dict:
    try:
        return ctx.client.post("/signing-keys", {"name": name, "public_key": public_pem})
    except ApiError as exc:
        if exc.status == 409:
            raise CliError(
                f"This key is already registered to you at {ctx.store}: {exc.message}",
                fix="Nothing to do if it is active (see `mosis keys`); a revoked key cannot come back: "
                "`mosis keygen` makes a new one.",
                exit_code=ExitCode.SIGNATURE,
            )
        raise


def keygen_command(ctx: Context) -> int:
    opts, out = ctx.options, ctx.out
    name = opts.name or _default_key_name()
    if not opts.no_register:
        ctx.client.get("/auth/me")  # signed in? find out before a key is written that cannot be registered
    if opts.out:
        path = Path(opts.out).expanduser()
    else:
        ensure_private_dir(keys_dir().parent)
        ensure_private_dir(keys_dir())
        path = _default_key_path(ctx)
    public_path = public_path_for(path)
    private_key, public_pem = generate_signing_key(opts.algorithm)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        write_private_file(path, pem, overwrite=opts.force)
    except FileExistsError:
        raise CliError(
            f"{path} already exists.",
            fix="Pick another --out, or pass --force to replace it.",
            exit_code=ExitCode.USAGE,
        )
    public_path.write_text(public_pem, encoding="ascii")
    algorithm, fingerprint = parse_public_key(public_pem)
    out.say(f"Private key: {path} (readable by you only; it never leaves this computer, back it up)")
    out.say(f"Public key:  {public_path}")
    out.say(f"Fingerprint: {fingerprint} ({algorithm})")
    result = {
        "private_key": str(path),
        "public_key": str(public_path),
        "fingerprint": fingerprint,
        "algorithm": algorithm,
        "registered": None,
    }
    if not opts.no_register:
        record = _register(ctx, name, public_pem)
        _remember(ctx, key_id=record["id"], fingerprint=fingerprint, path=path, name=name)
        out.say(
            f"Registered with {ctx.store} as {name!r} (id {record['id']}); `mosis publish` signs with it."
        )
        result["registered"] = record
    out.result(result)
    return 0


def keys_list_command(ctx: Context) -> int:
    keys = list(ctx.client.pages("/signing-keys", "keys"))
    local = (ctx.store_entry.get("signing_key") or {}).get("fingerprint")
    if not keys:
        ctx.out.say(f"No signing keys at {ctx.store}: `mosis keygen` makes and registers one.")
    for key in keys:
        mark = "*" if key.get("fingerprint") == local else " "
        state = "active" if key.get("active") else f"revoked {key.get('revoked_at', '')[:10]}"
        ctx.out.say(
            f"{mark} {key['id']}  {key.get('algorithm', ''):<10} {key['fingerprint'][:16]}…  {state:<18} "
            f"{key.get('name', '')}"
        )
    ctx.out.result({"keys": keys, "local_fingerprint": local})
    return 0


def keys_add_command(ctx: Context) -> int:
    path = Path(ctx.options.pem).expanduser()
    public_pem, algorithm, fingerprint = load_public_pem(path)
    name = ctx.options.name or _default_key_name()
    record = _register(ctx, name, public_pem)
    ctx.out.say(f"Registered {fingerprint} ({algorithm}) as {name!r} (id {record['id']}).")
    is_private = b"PRIVATE KEY" in path.read_bytes()
    if is_private:
        _remember(ctx, key_id=record["id"], fingerprint=fingerprint, path=path.resolve(), name=name)
        ctx.out.say("mosis signs with this key for this store from now on.")
    ctx.out.result({"key": record, "signs_with_it": is_private})
    return 0


def keys_revoke_command(ctx: Context) -> int:
    wanted = ctx.options.key.lower()
    match = next(
        (k for k in ctx.client.pages("/signing-keys", "keys") if wanted in (k["id"], k["fingerprint"])), None
    )
    if match is None:
        raise CliError(
            f"No signing key {ctx.options.key} at {ctx.store}.",
            fix="See `mosis keys` for ids and fingerprints.",
        )
    ctx.client.request("DELETE", f"/signing-keys/{match['id']}")
    saved = ctx.store_entry.get("signing_key") or {}
    if saved.get("fingerprint") == match["fingerprint"]:
        ctx.store_entry.pop("signing_key", None)
        ctx.config.save()
        ctx.out.say("It was the key mosis signed with here: run `mosis keygen` for a new one.")
    ctx.out.say(f"Revoked {match['fingerprint'][:16]}… ({match.get('name', '')}).")
    ctx.out.result({"revoked": match["id"]})
    return 0


def api_keys_list_command(ctx: Context) -> int:
    keys = list(ctx.client.pages("/keys", "keys"))
    if not keys:
        ctx.out.say("No API keys. `mosis api-keys create --name CI` makes one.")
    for key in keys:
        ctx.out.say(
            f"{key['id']}  {key.get('key_prefix', '')}…  {' '.join(key.get('permissions', []))}  "
            f"{key.get('name', '')}"
            + (f"  expires {key['expires_at'][:10]}" if key.get("expires_at") else "")
        )
    ctx.out.result({"keys": keys})
    return 0


def api_keys_create_command(ctx: Context) -> int:
    opts = ctx.options
    body = {
        "name": opts.name,
        "permissions": opts.scopes or ["apps:read", "apps:write", "versions:upload", "versions:publish"],
    }
    if opts.expires_days is not None:
        if opts.expires_days <= 0:
            raise CliError(
                "--expires-days must be positive.", fix="e.g. --expires-days 90", exit_code=ExitCode.USAGE
            )
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=opts.expires_days)
        body["expires_at"] = expires.isoformat().replace("+00:00", "Z")
    created = ctx.client.post("/keys", body)
    ctx.out.say(f"API key {created['key']['id']} ({' '.join(created['key']['permissions'])}).")
    ctx.out.say(f"Secret (shown once, store it now): {created['secret']}")
    ctx.out.say("Use it in CI as MOSIS_API_KEY, or here with `mosis login --api-key`.")
    ctx.out.result(created)
    return 0


def api_keys_revoke_command(ctx: Context) -> int:
    ctx.client.request("DELETE", f"/keys/{ctx.options.key_id}")
    ctx.out.say(f"Revoked API key {ctx.options.key_id}.")
    ctx.out.result({"revoked": ctx.options.key_id})
    return 0
