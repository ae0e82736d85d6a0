"""bench/verdaccio.py: the publish documents it PUTs (what ``npm publish`` sends) and its config (no uplinks,
local only). Starting Verdaccio itself needs npm and the registry, so it is not run here."""

import base64
import hashlib
import importlib.util
import io
import json
import sys
import tarfile
from pathlib import Path

SPEC = importlib.util.spec_from_file_location(
    "bench_verdaccio", Path(__file__).parents[2] / "bench" / "verdaccio.py"
)
verdaccio = importlib.util.module_from_spec(SPEC)
sys.modules["bench_verdaccio"] = verdaccio
SPEC.loader.exec_module(verdaccio)


def test_publish_documents_carry_a_tarball_whose_checksums_and_manifest_match():
    documents = verdaccio.package_documents(30, verdaccio.WORDS, seed=5)
    assert len({d["name"] for d in documents}) == 30
    for document in documents:
        name = document["name"]
        version = document["versions"]["1.0.0"]
        (filename, attachment), *rest = document["_attachments"].items()
        assert not rest and filename == f"{name}-1.0.0.tgz"
        data = base64.b64decode(attachment["data"])
        assert attachment["length"] == len(data)
        assert version["dist"]["shasum"] == hashlib.sha1(data).hexdigest()  # noqa: S324 - npm's checksum
        assert (
            version["dist"]["integrity"]
            == "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
        )
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            manifest = json.loads(archive.extractfile("package/package.json").read())
        assert (manifest["name"], manifest["version"]) == (name, "1.0.0")
        assert document["dist-tags"] == {"latest": "1.0.0"}


def test_frequent_words_are_found_in_many_descriptions():
    """Searches are drawn most frequent word first: the first words must hit several packages."""
    documents = verdaccio.package_documents(200, verdaccio.WORDS, seed=5)
    first = verdaccio.WORDS[0]
    assert sum(first in d["description"].lower().split() for d in documents) >= 20


def test_the_config_has_no_uplinks_and_listens_on_loopback(tmp_path):
    path = verdaccio.write_config(tmp_path, 4999)
    text = path.read_text()
    assert "uplinks: {}" in text and "registry.npmjs.org" not in text
    assert "listen: 127.0.0.1:4999" in text
    assert f"storage: {tmp_path / 'storage'}" in text
