"""Package signatures: public-key parsing, fingerprints, signing and verification over raw file bytes.

Algorithms (chosen by the key type, there is no algorithm field):

* Ed25519 (RFC 8032, "pure" Ed25519 over the file bytes).
* ECDSA over P-256 with SHA-256; the signature is DER-encoded (what `openssl dgst -sha256 -sign` writes);
  a raw 64-byte r||s signature (WebCrypto, PKCS#11) is accepted too.
* RSA-PSS with SHA-256, MGF1-SHA-256; we sign with salt length = digest length (32 bytes) and accept any
  salt length on verification (`PSS.AUTO`), so `openssl ... rsa_pss_saltlen:digest` and `:max` both work.
  RSA keys must be 2048..8192 bits.

Memory: the file is never read whole for verification. ECDSA and RSA verify a SHA-256 digest computed in
1 MiB chunks (`utils.Prehashed`). Ed25519 has no pre-hashed mode in `cryptography` (Ed25519ph is not
exposed), so it is verified by `ed25519_stream.verify_stream`, which needs one streaming pass:
SHA-512(R || A || file) in 1 MiB chunks, then the curve check. R || A must come first, so this is a second
read of the file (from the page cache) rather than reusing the validator's SHA-256 pass; memory stays flat.
Signing (`sign_file`, tests and tools only) still maps the file for Ed25519.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import mmap
import os
from collections.abc import Iterator
from contextlib import contextmanager

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

from .ed25519_stream import verify_stream

ED25519 = "ed25519"
ECDSA_P256 = "ecdsa-p256"
RSA = "rsa"
ALGORITHMS = (ED25519, ECDSA_P256, RSA)

RSA_MIN_BITS = 2048
RSA_MAX_BITS = 8192
MAX_PEM_CHARS = 16 * 1024
MAX_SIGNATURE_BYTES = 1024  # an RSA-8192 signature; anything longer is rejected before decoding
HASH_CHUNK = 1024 * 1024


class InvalidPublicKey(ValueError):
    """The PEM is not a public key the store accepts; the message says why."""


def _as_bytes(pem: str | bytes) -> bytes:
    if isinstance(pem, str):
        try:
            return pem.encode("ascii")
        except UnicodeEncodeError:
            raise InvalidPublicKey("The key must be ASCII PEM text ('-----BEGIN PUBLIC KEY-----').") from None
    return bytes(pem)


def load_public_key(pem: str | bytes):
    """Load and vet a PEM public key; raise InvalidPublicKey with a developer-facing message."""
    data = _as_bytes(pem)
    if len(data) > MAX_PEM_CHARS:
        raise InvalidPublicKey("The key is too long to be a PEM public key.")
    if b"PRIVATE KEY" in data:
        raise InvalidPublicKey(
            "This is a PRIVATE key. Upload only the public key; keep the private key secret."
        )
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InvalidPublicKey(
            "Not a PEM public key. Expected '-----BEGIN PUBLIC KEY-----' (SubjectPublicKeyInfo), e.g. the "
            "output of 'openssl pkey -in key.pem -pubout'."
        ) from None
    if isinstance(key, ed25519.Ed25519PublicKey):
        return ED25519, key
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise InvalidPublicKey(
                f"Elliptic curve {key.curve.name} is not supported; use P-256 (prime256v1) or Ed25519."
            )
        return ECDSA_P256, key
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < RSA_MIN_BITS:
            raise InvalidPublicKey(
                f"RSA key of {key.key_size} bits is too weak; use at least {RSA_MIN_BITS}."
            )
        if key.key_size > RSA_MAX_BITS:
            raise InvalidPublicKey(
                f"RSA key of {key.key_size} bits is too large; use at most {RSA_MAX_BITS}."
            )
        return RSA, key
    raise InvalidPublicKey(
        f"{type(key).__name__.removesuffix('PublicKey') or 'This'} keys are not supported; use Ed25519, "
        "ECDSA P-256 or RSA (2048+ bits)."
    )


def _der(key) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(pem: str | bytes) -> str:
    """Lowercase hex SHA-256 of the DER SubjectPublicKeyInfo (no 'SHA256:' prefix)."""
    _, key = load_public_key(pem)
    return hashlib.sha256(_der(key)).hexdigest()


def parse_public_key(pem: str | bytes) -> tuple[str, str]:
    """Return (algorithm, fingerprint); algorithm is one of ALGORITHMS. Raises InvalidPublicKey."""
    algorithm, key = load_public_key(pem)
    return algorithm, hashlib.sha256(_der(key)).hexdigest()


def public_key_pem(private_key) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def file_chunks(source) -> Iterator[bytes]:
    """The file's bytes in HASH_CHUNK pieces (path or open binary file, read from its start)."""
    if hasattr(source, "read"):
        source.seek(0)
        while chunk := source.read(HASH_CHUNK):
            yield chunk
        return
    with open(source, "rb") as fh:
        yield from file_chunks(fh)


def file_sha256(source) -> bytes:
    """SHA-256 of a file (path or open binary file, read from its start) in HASH_CHUNK pieces."""
    if hasattr(source, "read"):
        digest = hashlib.sha256()
        source.seek(0)
        while chunk := source.read(HASH_CHUNK):
            digest.update(chunk)
        return digest.digest()
    with open(source, "rb") as fh:
        return file_sha256(fh)


@contextmanager
def _mapped(source) -> Iterator[bytes | mmap.mmap]:
    """The file's bytes as a read-only mmap (file-backed, not heap). Empty files cannot be mapped.

    `source` is a path or an open binary file (then the very file the caller already hashed is mapped).
    """
    if hasattr(source, "fileno"):
        fd = source.fileno()
        if os.fstat(fd).st_size == 0:
            yield b""
            return
        mapped = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
        try:
            yield mapped
        finally:
            mapped.close()
        return
    with open(source, "rb") as fh, _mapped(fh) as mapped:
        yield mapped


def decode_signature(signature_b64: str | bytes) -> bytes:
    """Strict base64 -> bytes (whitespace and line breaks ignored); ValueError with a clear message."""
    if not isinstance(signature_b64, str | bytes):
        raise ValueError("The signature must be a base64 string.")
    if len(signature_b64) > 4 * MAX_SIGNATURE_BYTES:
        raise ValueError("The signature is too long.")
    text = signature_b64 if isinstance(signature_b64, str) else signature_b64.decode("latin-1")
    text = "".join(text.split())  # `base64` without -w0 wraps lines; whitespace carries no data
    if not text:
        raise ValueError("The signature is empty.")
    try:
        signature = binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError("The signature is not valid base64.") from None
    if len(signature) > MAX_SIGNATURE_BYTES:
        raise ValueError("The signature is too long.")
    return signature


_PSS_VERIFY = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
_PSS_SIGN = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)


def verify_file_signature(
    path,
    signature_b64: str,
    public_key_pem: str,
    *,
    sha256_digest: bytes | None = None,
) -> bool:
    """True iff `signature_b64` is a valid signature of the file's raw bytes under the key.

    `path` is a path or an open binary file (used by the validator so that the bytes hashed, parsed and
    verified are those of one open file).
    `sha256_digest`, when given, must be the SHA-256 of the file (the validator already computed it while
    streaming); it saves a second hashing pass for ECDSA and RSA (Ed25519 streams the file once more through
    SHA-512, see the module docstring). Raises InvalidPublicKey for a bad key;
    a malformed signature just returns False.
    """
    algorithm, key = load_public_key(public_key_pem)
    try:
        signature = decode_signature(signature_b64)
    except ValueError:
        return False
    try:
        if algorithm == ED25519:
            raw_key = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            return verify_stream(raw_key, signature, file_chunks(path))
        digest = sha256_digest if sha256_digest is not None else file_sha256(path)
        if algorithm == ECDSA_P256:
            if len(signature) == 64 and signature[0] != 0x30:
                # Raw r||s (IEEE P1363, what WebCrypto and many HSMs emit) rather than DER.
                r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
                signature = utils.encode_dss_signature(r, s)
            key.verify(signature, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        else:
            key.verify(signature, digest, _PSS_VERIFY, utils.Prehashed(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


def sign_file(path, private_key) -> str:
    """Sign the file's raw bytes; return base64. For tests, the demo seeder and benchmarks."""
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        with _mapped(path) as message:
            signature = private_key.sign(message)
    elif isinstance(private_key, ec.EllipticCurvePrivateKey):
        signature = private_key.sign(file_sha256(path), ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    elif isinstance(private_key, rsa.RSAPrivateKey):
        signature = private_key.sign(file_sha256(path), _PSS_SIGN, utils.Prehashed(hashes.SHA256()))
    else:
        raise TypeError(f"Unsupported private key type {type(private_key).__name__}")
    return base64.b64encode(signature).decode("ascii")


def generate_signing_key(kind: str = ED25519):
    """Return (private_key, public_pem) for kind in ALGORITHMS."""
    if kind == ED25519:
        private_key = ed25519.Ed25519PrivateKey.generate()
    elif kind == ECDSA_P256:
        private_key = ec.generate_private_key(ec.SECP256R1())
    elif kind == RSA:
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        raise ValueError(f"kind must be one of {ALGORITHMS}")
    return private_key, public_key_pem(private_key)
