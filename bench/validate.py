"""Benchmark: validate_package on a ~100 MiB package vs. `sha256sum` of the same file.

    .venv/bin/python bench/validate.py [--size-mib 100] [--files 2000] [--keep DIR] [--ed25519]

Builds a package of `--files` entries (half incompressible random bytes, half compressible text), signs
it with ECDSA P-256 (and, with --ed25519, also with Ed25519), then times in the same run:
  1. `sha256sum` of the file (after one warm-up read, so both sides read from the page cache);
  2. `validate_package` in a child process (wall time of the call, measured in the child, and the
     child's wall time including interpreter start-up), and the child's peak RSS
     (resource.getrusage(RUSAGE_CHILDREN).ru_maxrss in the parent, and RUSAGE_SELF in the child; for the
     Ed25519 run the child's own VmHWM, see `_vm_hwm_kib`).
Goals (docs/performance.md): validation wall ≤ 3x sha256sum, peak RSS ≤ 150 MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
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

MANIFEST = {
    "package_id": "com.example.bench",
    "name": "Bench",
    "version_name": "1.0.0",
    "version_code": 1,
    "min_mosis_version": "1.0",
    "permissions": ["network"],
    "icon": "icon.png",
}
WORDS = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
    "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
]  # fmt: skip


def build(path: Path, size_mib: int, n_files: int) -> None:
    rng = random.Random(42)
    per_file = size_mib * 1024 * 1024 // n_files
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("manifest.json", json.dumps(MANIFEST))
        archive.writestr("icon.png", make_icon_png(64))
        for i in range(n_files):
            if i % 2 == 0:  # incompressible (images, media)
                archive.writestr(f"assets/blob{i:05d}.bin", os.urandom(per_file))
            else:  # text that compresses ~3-4x (code, JSON); more of it so the archive stays ~size_mib
                text = " ".join(rng.choice(WORDS) + str(rng.randrange(1000)) for _ in range(per_file // 3))
                archive.writestr(f"src/module{i:05d}.js", text.encode()[: per_file * 3])


def child(path: str, signature: str, pem: str) -> None:
    key = PublicSigningKey(id="k1", fingerprint=fingerprint(pem), public_key_pem=pem, active=True)
    started = time.perf_counter()
    result = validate_package(
        path,
        expected=Expected(package_id="com.example.bench", version_code=1, version_name="1.0.0"),
        signature=signature,
        signing_keys=[key],
        require_signature=True,
    )
    elapsed = time.perf_counter() - started
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"ok": result.ok, "errors": [i.code for i in result.errors], "seconds": elapsed,
                      "rss_kib": rss_kib, "hwm_kib": _vm_hwm_kib()}))  # fmt: skip


def _vm_hwm_kib() -> int | None:
    """This process's own peak RSS (VmHWM of its address space, fresh at exec).

    ru_maxrss can over-report: Linux carries the spawning parent's high-water mark into the child's
    ru_maxrss across exec (vfork).
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def run_child(path: Path, signature: str, pem: str) -> tuple[dict, float]:
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path), signature, pem],
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    return json.loads(out.stdout.strip().splitlines()[-1]), wall


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mib", type=int, default=100)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--keep", help="directory to write the package to (default: a temp dir)")
    parser.add_argument("--ed25519", action="store_true", help="also measure an Ed25519-signed run")
    parser.add_argument("--child", nargs=3, metavar=("PATH", "SIGNATURE", "PEM"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    workdir = Path(args.keep or tempfile.mkdtemp(prefix="mosis-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "bench.mpk"
    t0 = time.perf_counter()
    build(path, args.size_mib, args.files)
    size = path.stat().st_size
    print(f"package: {path} {size / 1024**2:.1f} MiB, {args.files + 2} entries, built in "
          f"{time.perf_counter() - t0:.1f}s")  # fmt: skip
    ecdsa_key, ecdsa_pem = generate_signing_key("ecdsa-p256")
    ecdsa_sig = sign_file(path, ecdsa_key)

    subprocess.run(["sha256sum", str(path)], check=True, capture_output=True)  # warm the page cache
    t0 = time.perf_counter()
    subprocess.run(["sha256sum", str(path)], check=True, capture_output=True)
    sha_wall = time.perf_counter() - t0

    result, wall = run_child(path, ecdsa_sig, ecdsa_pem)
    children_rss_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert result["ok"], result
    print(f"sha256sum:                         {sha_wall:.3f}s")
    print(f"validate_package (ECDSA P-256):    {result['seconds']:.3f}s in-call, {wall:.3f}s child wall "
          f"(incl. interpreter start)")  # fmt: skip
    print(f"ratio vs sha256sum:                {result['seconds'] / sha_wall:.2f}x in-call, "
          f"{wall / sha_wall:.2f}x child wall")  # fmt: skip
    print(f"peak RSS of validating child:      {children_rss_mib:.1f} MiB (RUSAGE_CHILDREN), "
          f"{result['rss_kib'] / 1024:.1f} MiB (child RUSAGE_SELF)")  # fmt: skip

    if args.ed25519:
        ed_key, ed_pem = generate_signing_key("ed25519")
        ed_result, ed_wall = run_child(path, sign_file(path, ed_key), ed_pem)
        assert ed_result["ok"], ed_result
        hwm_kib = ed_result["hwm_kib"] or ed_result["rss_kib"]
        print(f"validate_package (Ed25519):        {ed_result['seconds']:.3f}s in-call, {ed_wall:.3f}s child "
              f"wall, {ed_result['seconds'] / sha_wall:.2f}x in-call, peak RSS {hwm_kib / 1024:.1f} MiB "
              f"(child VmHWM; ru_maxrss {ed_result['rss_kib'] / 1024:.1f} MiB)")  # fmt: skip
    if not args.keep:
        path.unlink()
        workdir.rmdir()


if __name__ == "__main__":
    main()
