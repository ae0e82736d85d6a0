"""Package signatures: public-key parsing, fingerprints, signing and verification of a package file.

Every scheme signs the package's SHA-256, so a signer, the store and a device each hash the file once, in
1 MiB chunks, and verify with `cryptography` in constant memory. The scheme is chosen by the key type (there
is no algorithm field):

* Ed25519 over the package's 32-byte SHA-256 digest (prehashed, as minisign does): the signed message is
  exactly ``sha256(file)``, 32 bytes. Ed25519 itself stays the standard RFC 8032 algorithm, so any Ed25519
  library verifies it; only the message is the digest rather than the file.
* ECDSA over P-256 with SHA-256 of the file; the signature is DER-encoded (what `openssl dgst -sha256 -sign`
  writes); a raw 64-byte r||s signature (WebCrypto, PKCS#11) is accepted too.
* RSA-PSS with SHA-256 of the file, MGF1-SHA-256; we sign with salt length = digest length (32 bytes) and
  accept any salt length on verification (`PSS.AUTO`), so `openssl ... rsa_pss_saltlen:digest` and `:max`
  both work. RSA keys must be 2048..8192 bits.

The validator passes the digest it computed while streaming the file (`sha256_digest=`), so verification
never reads the file again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

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
    """True iff `signature_b64` is a valid signature of the file under the key (see the module docstring).

    `path` is a path or an open binary file. `sha256_digest`, when given, must be the SHA-256 of the file
    (the validator already computed it while streaming); the file is then not read at all. Raises
    InvalidPublicKey for a bad key; a malformed signature just returns False.
    """
    algorithm, key = load_public_key(public_key_pem)
    try:
        signature = decode_signature(signature_b64)
    except ValueError:
        return False
    digest = sha256_digest if sha256_digest is not None else file_sha256(path)
    return verify_digest_signature(algorithm, key, signature, digest)


def verify_digest_signature(algorithm: str, key, signature: bytes, digest: bytes) -> bool:
    """Verify decoded `signature` over a package whose SHA-256 is `digest`, with a key `load_public_key`
    returned. False for any mismatch."""
    try:
        if algorithm == ED25519:
            key.verify(signature, digest)
        elif algorithm == ECDSA_P256:
            return any(_ecdsa_verifies(key, candidate, digest) for candidate in _ecdsa_encodings(signature))
        else:
            key.verify(signature, digest, _PSS_VERIFY, utils.Prehashed(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def _ecdsa_encodings(signature: bytes) -> list[bytes]:
    """The DER forms ``signature`` may stand for: itself, and for 64 bytes also raw r||s (IEEE P1363, what
    WebCrypto and many HSMs emit). A raw signature may start with 0x30 like DER does (one in 256), so the
    first byte cannot tell them apart: both are tried."""
    if len(signature) != 64:
        return [signature]
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    return [signature, utils.encode_dss_signature(r, s)]


def _ecdsa_verifies(key, der: bytes, digest: bytes) -> bool:
    try:
        key.verify(der, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    except (InvalidSignature, ValueError):
        return False
    return True


def sign_digest(digest: bytes, private_key) -> str:
    """Sign a package whose SHA-256 is `digest` with an Ed25519, P-256 or RSA private key; return base64."""
    if len(digest) != hashlib.sha256().digest_size:
        raise ValueError("digest must be the 32-byte SHA-256 of the package")
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        signature = private_key.sign(digest)
    elif isinstance(private_key, ec.EllipticCurvePrivateKey):
        if not isinstance(private_key.curve, ec.SECP256R1):
            raise TypeError(
                f"Elliptic curve {private_key.curve.name} is not supported; use P-256 or Ed25519."
            )
        signature = private_key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    elif isinstance(private_key, rsa.RSAPrivateKey):
        signature = private_key.sign(digest, _PSS_SIGN, utils.Prehashed(hashes.SHA256()))
    else:
        raise TypeError(f"Unsupported private key type {type(private_key).__name__}")
    return base64.b64encode(signature).decode("ascii")


def sign_file(path, private_key) -> str:
    """Sign the package at `path` (path or open binary file); return base64. Reads the file once, in
    chunks, whatever its size."""
    return sign_digest(file_sha256(path), private_key)


class InvalidPrivateKey(ValueError):
    """The PEM is not a private key we can sign with; the message says why."""


def load_private_key(pem: bytes, password: bytes | None = None):
    """Load a PEM private key (PKCS#8 or traditional) of a supported type. Raises InvalidPrivateKey, or
    TypeError from `cryptography` when the key is encrypted and no password was given."""
    try:
        key = serialization.load_pem_private_key(pem, password=password)
    except (ValueError, UnsupportedAlgorithm):
        if password is not None:
            raise InvalidPrivateKey("Wrong passphrase, or not a PEM private key.") from None
        raise InvalidPrivateKey(
            "Not a PEM private key (expected '-----BEGIN PRIVATE KEY-----', e.g. from 'mosis keygen' or "
            "'openssl genpkey')."
        ) from None
    if isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    raise InvalidPrivateKey("Unsupported key type: sign with Ed25519, ECDSA P-256 or RSA (2048+ bits).")


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
