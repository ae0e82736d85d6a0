"""Benchmark: the review console's package diff on two ~200 MiB, 10 000-entry packages, beside the validator.

    .venv/bin/python bench/diff.py [--size-mib 190] [--entries 10000] [--changed-percent 10] [--pathological]

Builds two versions of one package (half incompressible blobs, half text that compresses ~3x; each ≤ the
200 MiB package limit, `--entries` entries each counting manifest.json and the icon). The second changes
`--changed-percent` of the text files (a few lines each) and of the blobs, removes 1 % of the files and adds
as many, and asks for one more permission. Then, each in a fresh child process:
  1. `validate_package` of each package (ECDSA P-256 signed), as validation after upload does;
  2. `diff_packages(old, new)`, what `versions.tasks.package_diff_task` computes after validation;
  3. the task's whole body as a worker runs it, `versions.services.package_diff_compute` (Django set up on a
     throw-away SQLite database, both packages in local package storage): the diff plus storing its rows.
For each: wall time of the call measured in the child, and the child's peak RSS (its own VmHWM).
Goals (docs/performance.md): the diff under 1 minute with peak RSS ≤ 150 MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mosis_package import (  # noqa: E402
    Expected,
    PublicSigningKey,
    fingerprint,
    generate_signing_key,
    make_icon_png,
    sign_file,
    validate_package,
)
from mosis_package.diff import ADDED, CHANGED, REMOVED, diff_packages  # noqa: E402

WORDS = [
    "const", "return", "function", "import", "export", "await", "value", "state", "render", "props",
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
]  # fmt: skip


def manifest(version_name: str, version_code: int, permissions: list[str]) -> dict:
    return {
        "package_id": "com.example.benchdiff",
        "name": "Bench diff",
        "version_name": version_name,
        "version_code": version_code,
        "min_mosis_version": "1.0",
        "permissions": permissions,
        "icon": "icon.png",
    }


def corpus(rng: random.Random, size: int) -> str:
    """Code-like lines to slice text files from (fast to make; compresses about 3x like real code)."""
    lines, total = [], 0
    while total < size:
        line = "  " * rng.randrange(4) + " ".join(
            rng.choice(WORDS) + str(rng.randrange(100)) for _ in range(8)
        )
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines)


def plan(size_mib: int, entries: int, seed: int = 7) -> dict[str, tuple[str, int, int]]:
    """path -> (kind, size, seed) for the first version: half blobs, half text, sized to fill `size_mib`."""
    files = entries - 2  # manifest.json and icon.png
    blob_size = size_mib * 1024 * 1024 // 2 // (files // 2)
    text_size = blob_size * 3  # text compresses ~3x, so it takes about as much of the archive as a blob
    out = {}
    for i in range(files):
        if i % 2 == 0:
            out[f"assets/blob{i:05d}.bin"] = ("blob", blob_size, seed + i)
        else:
            out[f"src/module{i:05d}.js"] = ("text", text_size, seed + i)
    return out


def content(kind: str, size: int, seed: int, text: str, edited: bool = False, every: int = 0) -> bytes:
    if kind == "blob":
        return random.Random(seed).randbytes(size)
    start = random.Random(seed).randrange(len(text) - size)
    body = text[start : start + size]
    if edited:  # a few lines changed, as an update to a source file does (every other line: --pathological)
        lines = body.split("\n")
        step = every or max(1, len(lines) // 6)
        for n in range(5 if not every else 0, len(lines), step):
            lines[n] = lines[n] + " // changed"
        body = "\n".join(lines)
    return body.encode()


def build(path: Path, files: dict, text: str, manifest_: dict, edited: set[str], every: int = 0) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("manifest.json", json.dumps(manifest_))
        archive.writestr("icon.png", make_icon_png(64))
        for name, (kind, size, seed) in files.items():
            data = content(kind, size, seed, text, edited=name in edited, every=every)
            archive.writestr(name, data, compress_type=zipfile.ZIP_STORED if kind == "blob" else None)


def second_version(files: dict, percent: int, rng: random.Random) -> tuple[dict, set[str]]:
    """The update: `percent` % of text files edited and of blobs replaced, 1 % removed, as many added."""
    names = sorted(files)
    new = dict(files)
    edited = set()
    for name in names:
        kind, size, seed = files[name]
        if rng.randrange(100) < percent:
            if kind == "blob":
                new[name] = (kind, size, seed + 1_000_000)
            else:
                edited.add(name)
    removed = rng.sample(names, max(1, len(names) // 100))
    for i, name in enumerate(removed):
        del new[name]
        kind, size, seed = files[name]
        new[f"src/added{i:05d}.js" if kind == "text" else f"assets/added{i:05d}.bin"] = (
            kind,
            size,
            seed + 2_000_000,
        )
    return new, edited


def _vm_hwm_kib(field: str = "VmHWM") -> int | None:
    """This process's own peak RSS (VmHWM), fresh at exec (ru_maxrss can carry the parent's across exec);
    `field="VmRSS"` for the current RSS."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def child_validate(path: str, version_code: str, version_name: str, signature: str, pem: str) -> None:
    key = PublicSigningKey(id="k1", fingerprint=fingerprint(pem), public_key_pem=pem, active=True)
    started = time.perf_counter()
    result = validate_package(
        path,
        expected=Expected(
            package_id="com.example.benchdiff", version_code=int(version_code), version_name=version_name
        ),
        signature=signature,
        signing_keys=[key],
        require_signature=True,
    )
    elapsed = time.perf_counter() - started
    print(json.dumps({"ok": result.ok, "errors": [i.code for i in result.errors], "seconds": elapsed,
                      "hwm_kib": _vm_hwm_kib()}))  # fmt: skip


def child_diff(old: str, new: str) -> None:
    started = time.perf_counter()
    result = diff_packages(old, new)
    elapsed = time.perf_counter() - started
    diffs = [f for f in result.files if f.diff]
    print(json.dumps({
        "error": result.error, "seconds": elapsed, "hwm_kib": _vm_hwm_kib(),
        "added": result.count(ADDED), "removed": result.count(REMOVED), "changed": result.count(CHANGED),
        "unchanged": result.unchanged, "text_diffs": len(diffs),
        "diff_bytes": sum(len(f.diff.encode()) for f in diffs),
        "truncated": sum(1 for f in result.files if f.truncated),
        "not_diffed": sum(1 for f in result.files if "budget" in f.note or "lines:" in f.note),
    }))  # fmt: skip


def worker_env(workdir: str) -> dict:
    return {
        "DJANGO_SETTINGS_MODULE": "mosis.settings.test",
        "DATABASE_URL": f"sqlite:///{workdir}/bench.sqlite3",
        "MEDIA_ROOT": f"{workdir}/media",
    }


def child_worker(old: str, new: str, workdir: str) -> None:
    """package_diff_compute in a Django process of its own: a temporary SQLite database and media root."""
    import shutil

    os.environ.update(worker_env(workdir))
    import django

    django.setup()
    from apps.models import App
    from tests.factories import UserFactory
    from versions.models import AppVersion
    from versions.services import package_diff_compute

    app = App.objects.create(owner=UserFactory(), package_id="com.example.benchdiff", name="Bench diff")
    versions = []
    for code, name, path, status in ((1, "1.0.0", old, "published"), (2, "1.1.0", new, "review")):
        key = f"bench/{code}.mpk"
        os.makedirs(f"{workdir}/media/packages/bench", exist_ok=True)
        shutil.copyfile(path, f"{workdir}/media/packages/{key}")
        versions.append(
            AppVersion.objects.create(
                app=app, version_code=code, version_name=name, status=status, package_key=key, manifest={}
            )
        )
    before_kib = _vm_hwm_kib()
    started = time.perf_counter()
    diff = package_diff_compute(version_id=versions[1].pk)
    elapsed = time.perf_counter() - started
    print(json.dumps({"status": diff.status, "error": diff.error, "seconds": elapsed, "hwm_kib": _vm_hwm_kib(),
                      "before_kib": before_kib, "rows": diff.files.count()}))  # fmt: skip


def run_child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mib", type=int, default=190, help="target size of each package (< 200)")
    parser.add_argument("--entries", type=int, default=10_000, help="entries per package (≤ 10 000)")
    parser.add_argument("--changed-percent", type=int, default=10)
    parser.add_argument(
        "--pathological",
        action="store_true",
        help="edit every other line of the changed text files: difflib's slow case (the time budget applies)",
    )
    parser.add_argument("--keep", help="directory to write the packages to (default: a temp dir, removed)")
    parser.add_argument("--child-validate", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument("--child-diff", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--child-worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_validate:
        child_validate(*args.child_validate)
        return
    if args.child_diff:
        child_diff(*args.child_diff)
        return
    if args.child_worker:
        child_worker(*args.child_worker)
        return

    workdir = Path(args.keep or tempfile.mkdtemp(prefix="mosis-bench-diff-"))
    workdir.mkdir(parents=True, exist_ok=True)
    old_path, new_path = workdir / "v1.mpk", workdir / "v2.mpk"
    rng = random.Random(42)
    t0 = time.perf_counter()
    text = corpus(rng, 8 * 1024 * 1024)
    files_v1 = plan(args.size_mib, args.entries)
    files_v2, edited = second_version(files_v1, args.changed_percent, rng)
    build(old_path, files_v1, text, manifest("1.0.0", 1, ["network"]), set())
    build(
        new_path,
        files_v2,
        text,
        manifest("1.1.0", 2, ["network", "camera"]),
        edited,
        2 if args.pathological else 0,
    )
    for path in (old_path, new_path):
        with zipfile.ZipFile(path) as archive:
            count = len(archive.infolist())
        print(f"package {path.name}: {path.stat().st_size / 1024**2:.1f} MiB, {count} entries")
    print(f"built in {time.perf_counter() - t0:.1f}s")

    key, pem = generate_signing_key("ecdsa-p256")
    validations = []
    for path, code, name in ((old_path, "1", "1.0.0"), (new_path, "2", "1.1.0")):
        result = run_child("--child-validate", str(path), code, name, sign_file(path, key), pem)
        assert result["ok"], result
        validations.append(result)
        print(f"validate_package {path.name}:        {result['seconds']:6.2f}s, peak RSS "
              f"{result['hwm_kib'] / 1024:6.1f} MiB")  # fmt: skip
    diff = run_child("--child-diff", str(old_path), str(new_path))
    assert diff["error"] is None, diff
    print(f"diff_packages v1 → v2:             {diff['seconds']:6.2f}s, peak RSS "
          f"{diff['hwm_kib'] / 1024:6.1f} MiB   (goal: < 60 s, ≤ 150 MiB)")  # fmt: skip
    total_validation = sum(v["seconds"] for v in validations)
    print(f"diff / validation of the new package: {diff['seconds'] / validations[1]['seconds']:.2f}x; "
          f"/ both validations: {diff['seconds'] / total_validation:.2f}x")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="mosis-bench-worker-") as scratch:
        # The schema is made in a process of its own, so the worker's peak RSS is the diff's, not migrate's.
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "migrate", "--verbosity", "0"],
            check=True,
            env={**os.environ, **worker_env(scratch)},
        )
        worker = run_child("--child-worker", str(old_path), str(new_path), scratch)
    assert worker["status"] == "ready", worker
    print(f"package_diff_compute (worker):     {worker['seconds']:6.2f}s, peak RSS "
          f"{worker['hwm_kib'] / 1024:6.1f} MiB   (a Django process at {worker['before_kib'] / 1024:.1f} MiB "
          f"before the task; storing {worker['rows']} rows in SQLite)")  # fmt: skip
    print(f"files: {diff['changed']} changed, {diff['added']} added, {diff['removed']} removed, "
          f"{diff['unchanged']} unchanged; {diff['text_diffs']} text diffs kept "
          f"({diff['diff_bytes'] / 1024**2:.1f} MiB, {diff['truncated']} cut), "
          f"{diff['not_diffed']} compared by hash once a budget was used")  # fmt: skip
    if not args.keep:
        old_path.unlink()
        new_path.unlink()
        workdir.rmdir()


if __name__ == "__main__":
    main()
