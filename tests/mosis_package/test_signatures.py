"""Signing keys: which public keys are accepted, fingerprints, and file signatures."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, padding, rsa, utils

from mosis_package import (
    InvalidPrivateKey,
    InvalidPublicKey,
    fingerprint,
    generate_signing_key,
    load_private_key,
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


def test_ed25519_signs_the_packages_sha256_digest_not_its_bytes(tmp_path):
    """The prehashed protocol: any Ed25519 library verifies the signature over sha256(file), 32 bytes."""
    path = tmp_path / "f.mpk"
    path.write_bytes(b"package bytes" * 1000)
    private, pem = generate_signing_key("ed25519")
    signature = base64.b64decode(sign_file(path, private))
    digest = hashlib.sha256(path.read_bytes()).digest()
    private.public_key().verify(signature, digest)  # raises if it is not over the digest
    with pytest.raises(InvalidSignature):
        private.public_key().verify(signature, path.read_bytes())


def test_a_pure_ed25519_signature_over_the_file_bytes_is_refused(tmp_path):
    """The format before the prehashed protocol signed the bytes themselves; such a signature is not valid."""
    path = tmp_path / "f.mpk"
    path.write_bytes(b"package bytes" * 10)
    private = ed25519.Ed25519PrivateKey.generate()
    pem = pem_of(private.public_key())
    assert not verify_file_signature(path, base64.b64encode(private.sign(path.read_bytes())).decode(), pem)


@pytest.mark.parametrize("kind", ["ed25519", "ecdsa-p256", "rsa"])
def test_a_given_digest_is_verified_without_reading_the_file(tmp_path, kind):
    """The validator passes the SHA-256 of its one streaming pass: verification never reads the file."""
    path = tmp_path / "f.mpk"
    path.write_bytes(b"x" * 4096)
    private, pem = generate_signing_key(kind)
    signature = sign_file(path, private)
    digest = hashlib.sha256(path.read_bytes()).digest()
    path.unlink()
    assert verify_file_signature(path, signature, pem, sha256_digest=digest)
    assert not verify_file_signature(path, signature, pem, sha256_digest=hashlib.sha256(b"other").digest())


def test_raw_r_s_ecdsa_signatures_are_accepted(tmp_path):
    path = tmp_path / "f.mpk"
    path.write_bytes(b"y" * 100)
    private, pem = generate_signing_key("ecdsa-p256")
    der = base64.b64decode(sign_file(path, private))
    r, s = utils.decode_dss_signature(der)
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert verify_file_signature(path, base64.b64encode(raw).decode(), pem)


def test_a_raw_ecdsa_signature_whose_first_byte_looks_like_der_is_accepted(tmp_path):
    """One raw r||s in 256 starts with 0x30, DER's first byte: it was taken for DER and refused (a flaky
    test run found it)."""
    path = tmp_path / "f.mpk"
    path.write_bytes(b"y" * 100)
    private, pem = generate_signing_key("ecdsa-p256")
    for _ in range(4000):
        r, s = utils.decode_dss_signature(base64.b64decode(sign_file(path, private)))
        if r.to_bytes(32, "big")[0] == 0x30:
            break
    else:
        pytest.fail("no signature with r starting with 0x30 in 4000 tries")
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert verify_file_signature(path, base64.b64encode(raw).decode(), pem)
    assert not verify_file_signature(path, base64.b64encode(raw[:-1] + bytes([raw[-1] ^ 1])).decode(), pem)


@pytest.mark.parametrize("kind", ["ed25519", "ecdsa-p256", "rsa"])
def test_private_keys_load_from_pem_with_and_without_a_passphrase(kind):
    from cryptography.hazmat.primitives import serialization as ser

    private, _ = generate_signing_key(kind)
    plain = private.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, ser.NoEncryption())
    assert type(load_private_key(plain)) is type(private)
    locked = private.private_bytes(
        ser.Encoding.PEM, ser.PrivateFormat.PKCS8, ser.BestAvailableEncryption(b"secret")
    )
    assert type(load_private_key(locked, b"secret")) is type(private)
    with pytest.raises(TypeError):
        load_private_key(locked)
    with pytest.raises(InvalidPrivateKey, match="passphrase"):
        load_private_key(locked, b"wrong")


def test_unsupported_private_keys_are_refused_with_a_reason():
    from cryptography.hazmat.primitives import serialization as ser

    p384 = ec.generate_private_key(ec.SECP384R1())
    pem = p384.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, ser.NoEncryption())
    with pytest.raises(InvalidPrivateKey, match="Unsupported key type"):
        load_private_key(pem)
    with pytest.raises(InvalidPrivateKey, match="Not a PEM private key"):
        load_private_key(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")


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
            ["pkeyutl", "-sign", "-rawin", "-inkey", "{key}", "-in", "{digest}"],
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
    """The signing commands of docs/package-format.md (the docs test runs the page's blocks verbatim too)."""
    key, file = tmp_path / "key.pem", tmp_path / "pkg.mpk"
    digest = tmp_path / "pkg.mpk.sha256"
    file.write_bytes(b"pretend package" * 100)
    subprocess.run(["openssl", *genkey, "-out", str(key)], check=True, capture_output=True)
    public = subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout"], check=True, capture_output=True)
    subprocess.run(["openssl", "dgst", "-sha256", "-binary", "-out", str(digest), str(file)], check=True)
    args = [a.format(key=key, file=file, digest=digest) for a in sign]
    raw = subprocess.run(["openssl", *args], check=True, capture_output=True).stdout
    assert verify_file_signature(file, base64.b64encode(raw).decode(), public.stdout.decode())
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-outform", "DER"], input=public.stdout, check=True, capture_output=True
    ).stdout
    assert fingerprint(public.stdout.decode()) == hashlib.sha256(der).hexdigest()
