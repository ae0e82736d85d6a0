"""``mosis publish``: from a folder or a package to a published version, re-runnable at every step.

The steps, each skipped when the store already has it done for this very package (same version_code and
sha256): pack and check locally → sign → find or create the app → create the version → upload → complete →
wait for validation → submit → (with --wait) wait for the reviewer → publish. Re-running after an
interruption carries on where the store is; re-running after a fix says when version_code must grow (a
version_code whose package was uploaded is taken, even if it was rejected).
"""

from __future__ import annotations

import time
from pathlib import Path

from mosis_package import ISSUE_FIXES, file_sha256, sign_digest, verify_file_signature

from ..context import Context
from ..errors import ApiError, CliError, ExitCode
from ..output import human_size
from ..packing import check_package, pack
from ..signing import default_key_path, load_local_key, registered_key
from .package import report_issues

VALIDATION_TIMEOUT = 15 * 60


def register(sub, common) -> None:
    publish = sub.add_parser(
        "publish",
        parents=[common],
        help="Pack, sign, upload and submit a version; with --wait, publish it once approved.",
        description="Publish an app folder (packed first) or a .mpk: creates the app if it is new, creates "
        "the version, uploads it with a progress bar, waits for validation (errors are printed with how to fix "
        "them), submits it for review and, with --wait, waits for the reviewer's decision and publishes. Run "
        "it again after an interruption or to publish an approved version: it carries on where the store is.",
    )
    publish.add_argument("path", nargs="?", default=".", help="App folder or .mpk file (default: here).")
    publish.add_argument("--wait", action="store_true", help="Wait for the review decision, then publish.")
    publish.add_argument("--notes", default="", help="Release notes of this version.")
    publish.add_argument("--key", help="Private key to sign with (default: the one `mosis keygen` made).")
    publish.add_argument(
        "--timeout",
        type=float,
        default=0,
        help="Give up waiting for review after this many seconds (exit 8; default: wait as long as it takes).",
    )
    publish.set_defaults(handler=publish_command)


class Publisher:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.out = ctx.out
        self.api = ctx.client
        self.opts = ctx.options
        self.started = time.monotonic()

    # -- 1. the package --------------------------------------------------------------------------------
    def package(self) -> tuple[Path, dict]:
        source = Path(self.opts.path)
        if source.is_dir():
            result = pack(source)
            if not result.validation.ok:
                self.out.say(f"{source}: the package would be refused by the store:")
                report_issues(self.ctx, result.validation)
                raise CliError(
                    "The package is invalid; nothing was uploaded.",
                    fix="Fix the errors above (each shows how) and run `mosis publish` again.",
                    exit_code=ExitCode.INVALID_PACKAGE,
                    details={"errors": result.validation.report()["errors"]},
                )
            self.out.say(f"Packed {source} into {result.path} ({human_size(result.validation.size)}).")
            return result.path, result.manifest
        if not source.is_file():
            raise CliError(
                f"{source}: no such folder or file.",
                fix="Pass your app folder (with manifest.json) or a .mpk built by `mosis pack`.",
                exit_code=ExitCode.USAGE,
            )
        validation = check_package(source, _manifest_of(source))
        if not validation.ok:
            self.out.say(f"{source} would be refused by the store:")
            report_issues(self.ctx, validation)
            raise CliError(
                "The package is invalid; nothing was uploaded.",
                fix="Fix the errors above and build the package again (`mosis pack FOLDER`).",
                exit_code=ExitCode.INVALID_PACKAGE,
                details={"errors": validation.report()["errors"]},
            )
        return source, validation.manifest

    # -- 2. the signature ------------------------------------------------------------------------------
    def signature(self, path: Path, digest: bytes) -> tuple[str, dict]:
        key = load_local_key(default_key_path(self.ctx, self.opts.key))
        record = registered_key(self.ctx, key.fingerprint)
        if record is None:
            raise CliError(
                f"The key {key.path} ({key.fingerprint[:16]}…) is not registered to your account at "
                f"{self.ctx.store}.",
                fix=f"Register it with `mosis keys add {key.path}`, or sign with a registered key (--key), "
                "or make a new one with `mosis keygen`.",
                exit_code=ExitCode.SIGNATURE,
            )
        if not record.get("active", True):
            raise CliError(
                f"The key {key.path} ({key.fingerprint[:16]}…) was revoked at {self.ctx.store}.",
                fix="Make and register a new key with `mosis keygen`, then publish again.",
                exit_code=ExitCode.SIGNATURE,
            )
        signature = sign_digest(digest, key.private_key)
        if not verify_file_signature(path, signature, key.public_pem, sha256_digest=digest):
            raise CliError("The signature just made does not verify.", fix="Report this as a bug.")
        self.out.say(f"Signed with {key.path.name} ({key.algorithm}, {key.fingerprint[:16]}…).")
        return signature, record

    # -- 3. the app --------------------------------------------------------------------------------------
    def app(self, manifest: dict) -> dict:
        package_id = manifest["package_id"]
        for app in self.api.pages("/apps", "apps"):
            if app.get("package_id") == package_id:
                return app
        body = {
            "package_id": package_id,
            "name": str(manifest.get("name", package_id))[:100],
            "description": str(manifest.get("description", ""))[:500],
            "requires_restart": bool(manifest.get("requires_restart", False)),
        }
        try:
            app = self.api.post("/apps", body)
        except ApiError as exc:
            if exc.status == 409:
                raise CliError(
                    f"The package id {package_id} is taken by another developer (or reserved) at {self.ctx.store}.",
                    fix="Choose another package_id in manifest.json (your own reverse domain), pack and publish.",
                    exit_code=ExitCode.INVALID_PACKAGE,
                )
            raise
        self.out.say(f"Created the app {package_id} ({app['id']}).")
        return app

    # -- 4. the version ----------------------------------------------------------------------------------
    def existing(self, app: dict, code: int) -> tuple[dict | None, int | None]:
        """(the version with this version_code, the highest version_code of the app)."""
        highest = None
        for version in self.api.pages(f"/apps/{app['id']}/versions", "versions"):
            highest = version["version_code"] if highest is None else max(highest, version["version_code"])
            if version["version_code"] == code:
                return version, highest
            if version["version_code"] < code:
                break  # newest first: nothing further down has this code
        return None, highest

    def url(self, app: dict, version: dict, suffix: str = "") -> str:
        return f"/apps/{app['id']}/versions/{version['id']}{suffix}"

    def create(self, app: dict, manifest: dict, size: int) -> dict:
        body = {
            "version_name": manifest["version_name"],
            "version_code": manifest["version_code"],
            "release_notes": self.opts.notes,
            "size": size,
        }
        try:
            return self.api.post(f"/apps/{app['id']}/versions", body)
        except ApiError as exc:
            if exc.status == 409:
                raise CliError(
                    f"The store refused version_code {manifest['version_code']}: {exc.message}",
                    fix="Set version_code in manifest.json above every earlier version's (and a new "
                    "version_name), pack and publish again.",
                    exit_code=ExitCode.INVALID_PACKAGE,
                )
            if exc.status == 413:
                raise CliError(
                    f"The package is {human_size(size)}; {exc.message}",
                    fix=ISSUE_FIXES["PACKAGE_TOO_LARGE"],
                    exit_code=ExitCode.INVALID_PACKAGE,
                )
            raise

    def upload(self, created: dict, path: Path, size: int) -> None:
        progress = self.out.progress("Uploading", size)
        with open(path, "rb") as fh:
            self.api.upload(
                created["upload_url"],
                method=created.get("upload_method", "PUT"),
                headers=created.get("upload_headers") or {},
                body=_ProgressReader(fh, progress),
                size=size,
            )
        progress.finish()

    def complete(self, app: dict, version: dict, signature: str, key: dict) -> dict:
        return self.api.request(
            "PUT",
            self.url(app, version, "/upload-complete"),
            json={"signature": signature, "signing_key_id": key["id"]},
        )

    # -- 5. waiting -------------------------------------------------------------------------------------------
    def wait_while(
        self,
        app: dict,
        version: dict,
        statuses: tuple,
        label: str,
        *,
        timeout: float,
        interval: float,
        max_interval: float,
    ) -> dict:
        if version["status"] not in statuses:
            return version
        waiting = self.out.waiting(label)
        deadline = time.monotonic() + timeout if timeout else None
        while version["status"] in statuses:
            if deadline is not None and time.monotonic() >= deadline:
                waiting.finish(f"still '{version['status']}' after {timeout:.0f}s")
                raise CliError(
                    f"Gave up waiting: the version is still '{version['status']}'.",
                    fix="Run the same `mosis publish` command later: it carries on from here.",
                    exit_code=ExitCode.TIMEOUT,
                    details={"version_id": version["id"], "status": version["status"]},
                )
            time.sleep(interval)
            interval = min(max_interval, interval * 1.5)
            version = self.api.get(self.url(app, version), wait_on_rate_limit=True)
            waiting.tick(version["status"])
        waiting.finish(f"now '{version['status']}'")
        return version

    # -- the whole journey -----------------------------------------------------------------------------------
    def run(self) -> int:
        path, manifest = self.package()
        size = path.stat().st_size
        digest = file_sha256(path)
        sha256 = digest.hex()
        code = manifest["version_code"]
        signature, key = self.signature(path, digest)
        app = self.app(manifest)
        version, highest = self.existing(app, code)
        label = f"{manifest['package_id']} {manifest['version_name']} (version_code {code})"

        self.same_package(version, manifest, code, highest, sha256)
        if version is None and highest is not None and highest > code:
            raise CliError(
                f"version_code {code} is lower than {highest}, the newest version of {manifest['package_id']}.",
                fix=f"Set version_code to {highest + 1} (and a new version_name) in manifest.json, then publish.",
                exit_code=ExitCode.INVALID_PACKAGE,
            )
        if version is not None and version["status"] == "uploading":
            # An earlier run stopped before the upload completed: its URL may have expired or been used.
            self.api.request("DELETE", self.url(app, version))
            version = None
        if version is None:
            created = self.create(app, manifest, size)
            version = created["version"]
            self.out.say(f"Created version {label} ({version['id']}).")
            self.upload(created, path, size)
            version = self.complete(app, version, signature, key)
        elif version["status"] == "rejected" and _retryable(version):
            self.out.say("The store failed to validate this version last time; retrying.")
            version = self.complete(app, version, signature, key)
        else:
            self.out.say(f"Version {label} is already at the store ('{version['status']}'); carrying on.")

        version = self.wait_while(
            app,
            version,
            ("validating",),
            "Validating",
            timeout=VALIDATION_TIMEOUT,
            interval=0.3,
            max_interval=2.0,
        )
        self.same_package(version, manifest, code, highest, sha256)
        report = version.get("validation_report") or {}
        if version["status"] == "rejected" and version.get("reviewed_at") is None:
            return self.validation_failed(version, report, highest or code)
        if report.get("warnings"):
            self.out.say("Validation passed with warnings:")
            self.out.issue_lines(report["warnings"], ISSUE_FIXES)
        elif version["status"] == "draft":
            self.out.say("Validation passed.")

        if version["status"] == "draft":
            version = self.api.post(self.url(app, version, "/submit"))
            self.out.say("Submitted for review.")
        if version["status"] == "review":
            if not self.opts.wait:
                self.out.say(
                    "A reviewer decides next (you are emailed). Run this command again with --wait to publish "
                    f"once approved; `mosis status {manifest['package_id']}` shows where it is."
                )
                return self.done(app, version, manifest, path)
            self.out.say("Waiting for a reviewer (Ctrl-C stops waiting; run the command again to carry on).")
            version = self.wait_while(
                app,
                version,
                ("review",),
                "In review",
                timeout=self.opts.timeout,
                interval=1.0,
                max_interval=30.0,
            )
        if version["status"] == "rejected":
            notes = version.get("review_notes") or "(no notes)"
            self.out.say(f"A reviewer rejected {label}: {notes}")
            raise CliError(
                f"Rejected by a reviewer: {notes}",
                fix=f"Address the notes, set version_code to {max(highest or code, code) + 1} in manifest.json, "
                "and publish again.",
                exit_code=ExitCode.REJECTED,
                details={"version_id": version["id"], "review_notes": version.get("review_notes")},
            )
        if version["status"] == "approved":
            version = self.api.post(self.url(app, version, "/publish"))
        if version["status"] == "published":
            listing = f"{self.ctx.store}/apps/{manifest['package_id']}/"
            self.out.say(f"Published {label}: {listing}")
            self.out.say(f"Download: {self.ctx.store}/v1/store/apps/{manifest['package_id']}/download")
        return self.done(app, version, manifest, path)

    def same_package(self, version: dict | None, manifest: dict, code: int, highest: int | None, sha256: str):
        """A version_code's package never changes: one holding other bytes means version_code must grow."""
        if version is None or version.get("sha256") in (None, "", sha256):
            return
        raise CliError(
            f"version_code {code} of {manifest['package_id']} already holds another package "
            f"(status '{version['status']}', sha256 {str(version['sha256'])[:16]}…).",
            fix=f"A version_code's package never changes: set version_code to {max(highest or code, code) + 1} "
            "(and a new version_name) in manifest.json, then publish again.",
            exit_code=ExitCode.INVALID_PACKAGE,
        )

    def validation_failed(self, version: dict, report: dict, highest: int) -> int:
        errors = report.get("errors") or []
        self.out.say(f"The store rejected version_code {version['version_code']}:")
        self.out.issue_lines(errors + (report.get("warnings") or []), ISSUE_FIXES)
        codes = {e.get("code") for e in errors}
        if _retryable(version):
            fix = "Nothing to change: run `mosis publish` again to retry the validation."
        else:
            fix = (
                f"Fix the errors above, then set version_code to {max(highest, version['version_code']) + 1} "
                "(a rejected version keeps its version_code) and publish again."
            )
        only_signature = bool(codes) and all(str(c).startswith("SIGNATURE_") for c in codes)
        raise CliError(
            f"Validation failed with {len(errors)} error(s).",
            fix=fix,
            exit_code=ExitCode.SIGNATURE if only_signature else ExitCode.INVALID_PACKAGE,
            details={"version_id": version["id"], "errors": errors},
        )

    def done(self, app: dict, version: dict, manifest: dict, path: Path) -> int:
        self.out.result(
            {
                "store": self.ctx.store,
                "package": str(path),
                "package_id": manifest["package_id"],
                "app_id": app["id"],
                "version_id": version["id"],
                "version_code": version["version_code"],
                "version_name": version["version_name"],
                "status": version["status"],
                "sha256": version.get("sha256"),
                "signature": version.get("signature"),
                "signing_key_fingerprint": version.get("signing_key_fingerprint"),
                "warnings": (version.get("validation_report") or {}).get("warnings", []),
                "seconds": round(time.monotonic() - self.started, 1),
            }
        )
        return 0


def _retryable(version: dict) -> bool:
    report = version.get("validation_report") or {}
    return version.get("reviewed_at") is None and any(
        (e or {}).get("code") == "INTERNAL" for e in report.get("errors", [])
    )


def _manifest_of(path: Path) -> dict | None:
    """The manifest inside a package, for the local check's expectations (None when unreadable: the
    validator then reports why)."""
    import json
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive, archive.open("manifest.json") as fh:
            manifest = json.loads(fh.read(64 * 1024 + 1))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
    return manifest if isinstance(manifest, dict) else None


class _ProgressReader:
    """The package file as the upload body: requests reads it in chunks; each read advances the bar."""

    def __init__(self, fh, progress):
        self.fh = fh
        self.progress = progress

    def read(self, size: int = -1) -> bytes:
        chunk = self.fh.read(size if size and size > 0 else 1024 * 1024)
        self.progress.advance(len(chunk))
        return chunk

    def __len__(self) -> int:
        return self.progress.total or 0


def publish_command(ctx: Context) -> int:
    return Publisher(ctx).run()
