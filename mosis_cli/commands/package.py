"""``mosis pack``, ``mosis sign``, ``mosis verify``: offline, with the store's own package code."""

from __future__ import annotations

import base64
from pathlib import Path

from mosis_package import ISSUE_FIXES, file_sha256, sign_digest, verify_file_signature

from ..context import Context
from ..errors import CliError, ExitCode
from ..output import human_size
from ..packing import pack
from ..signing import default_key_path, load_local_key, load_public_pem


def register(sub, common) -> None:
    pack_cmd = sub.add_parser(
        "pack",
        parents=[common],
        help="Build the .mpk of an app folder and check it as the store will.",
        description="Build <package_id>-<version_name>.mpk from a folder holding manifest.json: entries sorted, "
        "regular files only, junk left out (.git/, .DS_Store, editor backups, keys, earlier packages, and what "
        ".mosisignore lists). The result is checked by the store's validator (schema, permissions, icon, ZIP "
        "rules); nothing is written when it fails. Works offline.",
    )
    pack_cmd.add_argument("folder", nargs="?", default=".", help="The app folder (default: here).")
    pack_cmd.add_argument("-o", "--out", help="Where to write the package (default: ./<id>-<version>.mpk).")
    pack_cmd.set_defaults(handler=pack_command)

    sign = sub.add_parser(
        "sign",
        parents=[common],
        help="Sign a package (writes FILE.sig, base64).",
        description="Sign the package's SHA-256 with your key (Ed25519, ECDSA P-256 or RSA-PSS; see "
        "docs/package-format.md §7) and write the base64 signature to FILE.sig. Sign last: any change to the "
        "file afterwards invalidates the signature.",
    )
    sign.add_argument("file", help="The .mpk to sign.")
    sign.add_argument("--key", help="Private key PEM (default: the key `mosis keygen` made for this store).")
    sign.add_argument("-o", "--out", help="Where to write the signature (default: FILE.sig).")
    sign.set_defaults(handler=sign_command)

    verify = sub.add_parser(
        "verify",
        parents=[common],
        help="Check a package's signature against a public key, as the store and devices do.",
        description="Verify the signature of a package (FILE.sig, or --signature) with a public key (or a "
        "private key's public half). Exits 0 when it verifies, 5 when it does not.",
    )
    verify.add_argument("file", help="The .mpk to check.")
    verify.add_argument(
        "--key", help="Public key PEM, or your private key file (default: the key mosis signs with here)."
    )
    verify.add_argument("--signature", help="The base64 signature, or a file holding it (default: FILE.sig).")
    verify.set_defaults(handler=verify_command)


def report_issues(ctx: Context, validation) -> None:
    report = validation.report()
    ctx.out.issue_lines(report["errors"] + report["warnings"], ISSUE_FIXES)


def pack_command(ctx: Context) -> int:
    opts, out = ctx.options, ctx.out
    result = pack(Path(opts.folder), Path(opts.out) if opts.out else None)
    validation = result.validation
    report = validation.report()
    if not validation.ok:
        out.say(f"{opts.folder}: the package would be refused by the store:")
        report_issues(ctx, validation)
        raise CliError(
            f"The package has {len(report['errors'])} error(s); nothing was written.",
            fix="Fix the errors above (each shows how) and run `mosis pack` again.",
            exit_code=ExitCode.INVALID_PACKAGE,
            details={"errors": report["errors"], "warnings": report["warnings"]},
        )
    out.say(f"Packed {len(result.files)} file(s) into {result.path} ({human_size(report['size'])})")
    for name in result.files:
        out.say(f"  {name}")
    if result.skipped:
        out.say(f"Left out: {', '.join(result.skipped)}")
    if report["warnings"]:
        out.say("Warnings:")
        report_issues(ctx, validation)
    out.say(f"sha256 {report['sha256']}")
    out.result(
        {
            "package": str(result.path),
            "package_id": result.manifest.get("package_id"),
            "version_name": result.manifest.get("version_name"),
            "version_code": result.manifest.get("version_code"),
            "files": result.files,
            "skipped": result.skipped,
            "size": report["size"],
            "sha256": report["sha256"],
            "warnings": report["warnings"],
            "languages": validation.languages,
        }
    )
    return 0


def _existing_file(name: str) -> Path:
    path = Path(name)
    if not path.is_file():
        raise CliError(
            f"{name}: no such file.", fix="Pass the .mpk file (see `mosis pack`).", exit_code=ExitCode.USAGE
        )
    return path


def sign_command(ctx: Context) -> int:
    opts, out = ctx.options, ctx.out
    path = _existing_file(opts.file)
    key = load_local_key(default_key_path(ctx, opts.key))
    digest = file_sha256(path)
    signature = sign_digest(digest, key.private_key)
    if not verify_file_signature(path, signature, key.public_pem, sha256_digest=digest):
        raise CliError("The signature just made does not verify.", fix="Report this as a bug.")
    target = Path(opts.out) if opts.out else path.with_name(path.name + ".sig")
    target.write_text(signature + "\n", encoding="ascii")
    out.say(f"Signed {path} with {key.path} ({key.algorithm}, {key.fingerprint[:16]}…)")
    out.say(f"Signature written to {target}")
    out.result(
        {
            "package": str(path),
            "signature": signature,
            "signature_file": str(target),
            "sha256": digest.hex(),
            "algorithm": key.algorithm,
            "fingerprint": key.fingerprint,
        }
    )
    return 0


def _signature_text(opts, path: Path) -> tuple[str, str]:
    if opts.signature:
        candidate = Path(opts.signature)
        if candidate.is_file():
            return candidate.read_text(encoding="ascii", errors="replace").strip(), str(candidate)
        return opts.signature.strip(), "--signature"
    sig_path = path.with_name(path.name + ".sig")
    if not sig_path.is_file():
        raise CliError(
            f"No signature: {sig_path} does not exist.",
            fix='Pass --signature BASE64 (e.g. the download\'s "signature") or sign with `mosis sign`.',
            exit_code=ExitCode.SIGNATURE,
        )
    return sig_path.read_text(encoding="ascii", errors="replace").strip(), str(sig_path)


def verify_command(ctx: Context) -> int:
    opts, out = ctx.options, ctx.out
    path = _existing_file(opts.file)
    public_pem, algorithm, fingerprint = load_public_pem(default_key_path(ctx, opts.key))
    signature, source = _signature_text(opts, path)
    try:
        decoded = len(base64.b64decode(signature, validate=False))
    except ValueError:
        decoded = 0
    digest = file_sha256(path)
    ok = bool(signature) and verify_file_signature(path, signature, public_pem, sha256_digest=digest)
    result = {
        "package": str(path),
        "sha256": digest.hex(),
        "fingerprint": fingerprint,
        "algorithm": algorithm,
        "signature_source": source,
        "verified": ok,
    }
    if not ok:
        raise CliError(
            f"The signature in {source} ({decoded} bytes) does not verify for {path} with key "
            f"{fingerprint[:16]}… ({algorithm}).",
            fix="Check you have the right key and the exact file that was signed (sign last, after packing).",
            exit_code=ExitCode.SIGNATURE,
            details=result,
        )
    out.say(
        f"Signature OK: {path} (sha256 {digest.hex()[:16]}…) signed by {fingerprint[:16]}… ({algorithm})."
    )
    out.result(result)
    return 0
