"""Verdaccio 6 as a reference server for bench/load.py: a package registry answering the same kind of reads.

Usage (from the repository root; see docs/performance.md "Store load")::

    .venv/bin/python bench/verdaccio.py                  # set up, publish 200 packages, measure, stop
    .venv/bin/python bench/load.py --verdaccio ...       # the same, measured in the same run as the store

What it does, every step time-bounded and only on 127.0.0.1:

1. installs ``verdaccio@6`` from the npm registry with ``npm install --prefix var/bench/verdaccio`` (a
   gitignored folder; never a global install; skipped when it is there already);
2. writes ``var/bench/verdaccio/config.yaml``: storage and htpasswd in that folder, **no uplinks** (it never
   asks the internet for a package it does not have), every package readable by anyone and publishable by
   anyone (``$anonymous`` and ``$authenticated``), the web UI off, warnings-only logs, listening on
   ``127.0.0.1:<port>``;
3. starts it in its own process group and waits for ``/-/ping``;
4. registers a user (``PUT /-/user/org.couchdb.user:<name>``, which answers a token) and publishes
   ``--packages`` small packages with the request ``npm publish`` sends (``PUT /<name>`` with the version's
   package.json and the tarball base64-encoded in ``_attachments``), names and descriptions made of the
   store's vocabulary so searches find something;
5. ``wrk`` measures package metadata (``GET /<name>``, names drawn zipf-like: the i-th with probability
   ~ 1/i) and search (``GET /-/v1/search?text=<word>&size=20``, words drawn the same way) with the
   connections and duration given;
6. stops it by its process id (``SIGTERM`` to its group, ``SIGKILL`` if it lingers).

None of Verdaccio's code is committed: it lives in ``var/``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = ROOT / "var" / "bench" / "verdaccio"
VERSION = "6"
USER = "bench"
PASSWORD = "bench-password-local-only"

# Used when no vocabulary is given (load.py passes the catalog's, most frequent first).
_WORD_TEXT = (
    "notes sync calendar weather editor markdown theme dark light git terminal shell python rust java html css "
    "json yaml sql database docker cloud deploy build test debug lint format snippet preview viewer player "
    "music video photo camera gallery image icon font color palette clock timer todo task project chat mail "
    "map travel fitness health food recipe finance budget wallet pdf document office chart graph monitor "
    "logs backup file manager search translate reader news feed podcast game puzzle chess quiz learn math"
)
WORDS = _WORD_TEXT.split(" ")

CONFIG = """\
# Written by bench/verdaccio.py: a reference server for the store benchmark, local only.
storage: {storage}
auth:
  htpasswd:
    file: {htpasswd}
    max_users: 10
uplinks: {{}}
packages:
  '**':
    access: $all
    publish: $anonymous $authenticated
    unpublish: $authenticated
web:
  enable: false
log: {{ type: stdout, format: json, level: warn }}
listen: 127.0.0.1:{port}
max_body_size: 10mb
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def binary(directory: Path) -> Path:
    return directory / "node_modules" / ".bin" / "verdaccio"


def install(directory: Path, timeout: int = 600) -> str:
    """``npm install --prefix directory verdaccio@6`` unless it is installed; returns the installed version."""
    directory.mkdir(parents=True, exist_ok=True)
    if not binary(directory).exists():
        if not shutil.which("npm"):
            raise SystemExit("npm is not installed (Debian: apt-get install -y npm)")
        log(f"installing verdaccio@{VERSION} into {directory} (npm, at most {timeout} s)")
        subprocess.run(
            ["npm", "install", "--prefix", str(directory), "--no-audit", "--no-fund", f"verdaccio@{VERSION}"],
            check=True,
            timeout=timeout,
            stdout=subprocess.DEVNULL,
        )
    package = json.loads((directory / "node_modules" / "verdaccio" / "package.json").read_text())
    return package["version"]


def write_config(directory: Path, port: int, *, fresh: bool = True) -> Path:
    """The config file; ``fresh`` empties the storage first, so every run publishes the same packages."""
    storage = directory / "storage"
    if fresh and storage.exists():
        shutil.rmtree(storage)
    htpasswd = directory / "htpasswd"
    if fresh and htpasswd.exists():
        htpasswd.unlink()
    storage.mkdir(parents=True, exist_ok=True)
    path = directory / "config.yaml"
    path.write_text(CONFIG.format(storage=storage, htpasswd=htpasswd, port=port))
    return path


def request(method: str, url: str, body: dict | None = None, token: str = "", timeout: float = 30.0):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def start(
    directory: Path, config: Path, port: int, output_path: Path, timeout: float = 60.0
) -> subprocess.Popen:
    """Starts Verdaccio in its own process group and waits until ``/-/ping`` answers."""
    output = open(output_path, "ab")  # noqa: SIM115 - the child keeps its own copy
    try:
        process = subprocess.Popen(
            [str(binary(directory)), "--config", str(config), "--listen", f"127.0.0.1:{port}"],
            cwd=directory,
            start_new_session=True,
            stdout=output,
            stderr=output,
        )
    finally:
        output.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"verdaccio exited with {process.returncode}; its output is in {output_path}")
        try:
            status, _ = request("GET", f"http://127.0.0.1:{port}/-/ping", timeout=2)
            if status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.25)  # polling a starting server: nothing to await but the socket
    stop(process)
    raise SystemExit(f"verdaccio did not answer /-/ping within {timeout:.0f} s; see {output_path}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def tarball(manifest: dict) -> bytes:
    """A package tarball as ``npm pack`` makes it: ``package/package.json`` and a small ``index.js``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in (
            ("package/package.json", json.dumps(manifest, indent=2).encode()),
            ("package/index.js", b"module.exports = () => 'bench';\n" * 20),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mtime = 499162500  # npm's fixed date: the same bytes every run
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def zipf_index(n: int, rng) -> int:
    """0-based index with probability ~ 1/(index + 1), log-uniform (as bench/load.py's wrk script draws)."""
    return min(n, int(math.exp(rng.random() * math.log(n + 1)))) - 1


def package_documents(count: int, words: list[str], seed: int = 18) -> list[dict]:
    """``count`` publish documents (what ``npm publish`` PUTs), named and described with ``words``."""
    rng = random.Random(seed)
    common = words[: max(20, min(len(words), 300))]
    documents = []
    for i in range(count):
        picked = rng.sample(common, 4)
        name = f"{picked[0]}-{picked[1]}-{i}"
        # Words drawn as the searches draw them (the i-th with probability ~ 1/i), so frequent ones hit.
        description = " ".join(common[zipf_index(len(common), rng)] for _ in range(12)).capitalize() + "."
        manifest = {
            "name": name,
            "version": "1.0.0",
            "description": description,
            "keywords": picked[2:],
            "main": "index.js",
            "license": "MIT",
        }
        data = tarball(manifest)
        filename = f"{name}-1.0.0.tgz"
        integrity = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
        version = {
            **manifest,
            "_id": f"{name}@1.0.0",
            "readme": f"# {name}\n\n{description}\n",
            "dist": {
                "shasum": hashlib.sha1(data).hexdigest(),  # noqa: S324 - npm's tarball checksum
                "integrity": integrity,
                "tarball": f"http://127.0.0.1/{name}/-/{filename}",
            },
        }
        documents.append(
            {
                "_id": name,
                "name": name,
                "description": description,
                "dist-tags": {"latest": "1.0.0"},
                "versions": {"1.0.0": version},
                "readme": version["readme"],
                "_attachments": {
                    filename: {
                        "content_type": "application/octet-stream",
                        "data": base64.b64encode(data).decode(),
                        "length": len(data),
                    }
                },
            }
        )
    return documents


def publish(base: str, documents: list[dict]) -> int:
    """Registers the bench user and publishes every document; returns how many were accepted."""
    status, body = request(
        "PUT",
        f"{base}/-/user/org.couchdb.user:{USER}",
        {"_id": f"org.couchdb.user:{USER}", "name": USER, "password": PASSWORD, "type": "user", "roles": []},
    )
    if status not in (200, 201):
        raise SystemExit(f"verdaccio refused the bench user: {status} {body[:200]!r}")
    token = json.loads(body).get("token", "")
    published = 0
    for document in documents:
        status, body = request("PUT", f"{base}/{document['name']}", document, token=token)
        if status in (200, 201):
            published += 1
        else:
            log(f"publish {document['name']}: {status} {body[:200]!r}")
    return published


class Verdaccio:
    """Context manager: installed, configured, started and filled on enter; stopped on exit."""

    def __init__(self, *, directory: Path = DEFAULT_DIR, port: int = 4873, packages: int = 200, words=None):
        self.directory = Path(directory)
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.count = packages
        self.words = list(words or WORDS)
        self.names: list[str] = []
        self.version = ""
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Verdaccio:
        self.version = install(self.directory)
        config = write_config(self.directory, self.port)
        self.process = start(self.directory, config, self.port, self.directory / "verdaccio.log")
        try:
            documents = package_documents(self.count, self.words)
            started = time.monotonic()
            published = publish(self.base, documents)
            log(
                f"verdaccio {self.version} on {self.base}: {published} of {len(documents)} packages published "
                f"in {time.monotonic() - started:.1f} s"
            )
            self.names = [d["name"] for d in documents]
            if published < len(documents):
                raise SystemExit("verdaccio did not take every package; see the lines above")
            word = self.search_words()[0]
            status, body = request("GET", f"{self.base}/-/v1/search?text={word}&size=20")
            hits = len(json.loads(body).get("objects", [])) if status == 200 else 0
            log(f"verdaccio search for {word!r}: {status}, {hits} of at most 20 packages")
        except BaseException:
            stop(self.process)
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            stop(self.process)
            log(f"verdaccio stopped (pid {self.process.pid})")

    def search_words(self) -> list[str]:
        """The words searched, most frequent first (drawn zipf-like by the wrk script)."""
        return self.words[:300]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=4873)
    parser.add_argument("--packages", type=int, default=200)
    parser.add_argument("--directory", default=str(DEFAULT_DIR))
    parser.add_argument("--duration", type=int, default=15, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=2)
    args = parser.parse_args(argv)

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import load  # bench/load.py: its wrk runner and parser (no Django at import)

    with Verdaccio(directory=Path(args.directory), port=args.port, packages=args.packages) as server:
        results = load.measure_verdaccio(args, server)
    for result in results:
        print(
            f"{result.name:<24} {result.requests_per_s:>9.0f} req/s  p50 {result.p50_ms:.1f} ms  "
            f"p99 {result.p99_ms:.1f} ms  bad statuses {result.bad_status}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
