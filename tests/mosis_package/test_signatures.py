"""Signing keys: which public keys are accepted, fingerprints, and file signatures."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa, utils

from mosis_package import (
    InvalidPublicKey,
    fingerprint,
    generate_signing_key,
    parse_public_key,
    sign_file,
    verify_file_signature,
)


def pem_of(public_key) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


@pytest.mark.parametrize(
    ("kind", "algorithm"), [("ed25519", "ed25519"), ("ecdsa-p256", "ecdsa-p256"), ("rsa", "rsa")]
)
def test_accepted_public_keys(kind, algorithm):
    private, pem = generate_signing_key(kind)
    parsed_algorithm, fp = parse_public_key(pem)
    assert parsed_algorithm == algorithm
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert fp == hashlib.sha256(der).hexdigest() == fingerprint(pem)
    assert not fp.startswith("SHA256:")


def test_rsa_1024_is_refused():
    pem = pem_of(rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key())
    with pytest.raises(InvalidPublicKey, match="1024 bits"):
        parse_public_key(pem)


def test_secp384r1_is_refused():
    pem = pem_of(ec.generate_private_key(ec.SECP384R1()).public_key())
    with pytest.raises(InvalidPublicKey, match="secp384r1"):
        parse_public_key(pem)


def test_dsa_is_refused():
    pem = pem_of(dsa.generate_private_key(key_size=2048).public_key())
    with pytest.raises(InvalidPublicKey, match="not supported"):
        parse_public_key(pem)


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "hello",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        "\u00e9" * 10,
        "A" * 20_000,
    ],
)
def test_garbage_is_refused(garbage):
    with pytest.raises(InvalidPublicKey):
        parse_public_key(garbage)


def test_private_key_pem_is_refused_with_a_clear_message():
    private, _ = generate_signing_key("ed25519")
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with pytest.raises(InvalidPublicKey, match="PRIVATE key"):
        parse_public_key(pem)


def test_invalid_public_key_is_a_value_error():
    assert issubclass(InvalidPublicKey, ValueError)


@pytest.mark.parametrize("kind", ["ed25519", "ecdsa-p256", "rsa"])
def test_sign_and_verify_roundtrip(tmp_path, kind):
    path = tmp_path / "f.bin"
    path.write_bytes(b"package bytes" * 1000)
    private, pem = generate_signing_key(kind)
    signature = sign_file(path, private)
    assert verify_file_signature(path, signature, pem)
    path.write_bytes(b"package bytes" * 1000 + b"!")
    assert not verify_file_signature(path, signature, pem)


def test_verify_empty_file(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    private, pem = generate_signing_key("ed25519")
    assert verify_file_signature(path, sign_file(path, private), pem)


def test_rsa_pss_with_max_salt_is_accepted(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 5000)
    private, pem = generate_signing_key("rsa")
    digest = hashlib.sha256(path.read_bytes()).digest()
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH)
    signature = base64.b64encode(private.sign(digest, pss, utils.Prehashed(hashes.SHA256()))).decode()
    assert verify_file_signature(path, signature, pem)


def test_rsa_pkcs1v15_signature_is_not_accepted(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 5000)
    private, pem = generate_signing_key("rsa")
    signature = base64.b64encode(
        private.sign(path.read_bytes(), padding.PKCS1v15(), hashes.SHA256())
    ).decode()
    assert not verify_file_signature(path, signature, pem)


@pytest.mark.parametrize("signature", ["", "!!!", "AAAA", base64.b64encode(b"x" * 2000).decode()])
def test_malformed_signatures_do_not_verify(tmp_path, signature):
    path = tmp_path / "f.bin"
    path.write_bytes(b"x")
    _, pem = generate_signing_key("ecdsa-p256")
    assert verify_file_signature(path, signature, pem) is False


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not installed")
@pytest.mark.parametrize(
    ("genkey", "sign"),
    [
        (
            ["genpkey", "-algorithm", "ed25519"],
            ["pkeyutl", "-sign", "-rawin", "-inkey", "{key}", "-in", "{file}"],
        ),
        (
            ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
            ["dgst", "-sha256", "-sign", "{key}", "{file}"],
        ),
        (
            ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            [
                "dgst",
                "-sha256",
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:digest",
                "-sign",
                "{key}",
                "{file}",
            ],
        ),
    ],
)
def test_openssl_commands_from_the_docs_produce_accepted_signatures(tmp_path, genkey, sign):
    """docs/package-format.md tells developers to sign with these commands."""
    key, file = tmp_path / "key.pem", tmp_path / "pkg.mpk"
    file.write_bytes(b"pretend package" * 100)
    subprocess.run(["openssl", *genkey, "-out", str(key)], check=True, capture_output=True)
    public = subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout"], check=True, capture_output=True)
    args = [a.format(key=key, file=file) for a in sign]
    raw = subprocess.run(["openssl", *args], check=True, capture_output=True).stdout
    assert verify_file_signature(file, base64.b64encode(raw).decode(), public.stdout.decode())
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-outform", "DER"], input=public.stdout, check=True, capture_output=True
    ).stdout
    assert fingerprint(public.stdout.decode()) == hashlib.sha256(der).hexdigest()
