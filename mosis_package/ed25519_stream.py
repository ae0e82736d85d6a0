"""Streaming Ed25519 verification (RFC 8032 §5.1.7, cofactorless like OpenSSL) in pure Python.

`cryptography` only verifies Ed25519 over a message held as one buffer (no Ed25519ph), but verification
needs a single pass over the message: k = SHA-512(R || A || M) mod L, then [S]B == R + [k]A. This module
hashes the message chunk by chunk, so memory stays flat whatever the package size; the curve arithmetic
is done once per signature with Python ints (a few milliseconds).

Checks (all of them make `verify_stream` return False, it never raises on bad input):
* the public key and R are 32 bytes and S is 32 bytes (a 64-byte signature);
* S < L (non-malleability, RFC 8032 §5.1.7 step 1);
* A decodes per RFC 8032 §5.1.3: y < p, x exists, not (x == 0 and sign bit 1);
* [S]B - [k]A encodes to exactly the R bytes. This is equivalent to decoding R (with the same §5.1.3
  checks) and comparing points: a non-canonical or undecodable R is the encoding of no point, so it
  can never match the canonical encoding of the computed point. OpenSSL does the same comparison.

All data here is public (key, signature, message), so variable-time arithmetic is fine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = (-121665 * pow(121666, P - 2, P)) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)

# Base point B (RFC 8032 §5.1): y = 4/5, x positive (even).
_BY = (4 * pow(5, P - 2, P)) % P
_BX = 15112221349535400772501151409588531511454012693041857206046113283949847762202
_B = (_BX, _BY, 1, (_BX * _BY) % P)
_IDENTITY = (0, 1, 1, 0)

_Point = tuple[int, int, int, int]  # extended homogeneous coordinates (X, Y, Z, T), x = X/Z, y = Y/Z


def _add(p: _Point, q: _Point) -> _Point:
    """RFC 8032 §5.1.4 addition (complete on edwards25519: also correct for doubling and the identity)."""
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = 2 * t1 * t2 * D % P
    dd = 2 * z1 * z2 % P
    e, f, g, h = b - a, dd - c, dd + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _double(p: _Point) -> _Point:
    """RFC 8032 §5.1.4 doubling."""
    x1, y1, z1, _ = p
    a = x1 * x1 % P
    b = y1 * y1 % P
    c = 2 * z1 * z1 % P
    h = a + b
    e = h - (x1 + y1) * (x1 + y1)
    g = a - b
    f = c + g
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(scalar: int, point: _Point) -> _Point:
    """[scalar]point by double-and-add, most significant bit first (variable time: public inputs)."""
    result = _IDENTITY
    for bit in bin(scalar)[2:] if scalar > 0 else "":
        result = _double(result)
        if bit == "1":
            result = _add(result, point)
    return result


def _neg(p: _Point) -> _Point:
    x, y, z, t = p
    return (-x % P, y, z, -t % P)


def _encode(p: _Point) -> bytes:
    x, y, z, _ = p
    z_inv = pow(z, P - 2, P)
    x, y = x * z_inv % P, y * z_inv % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def _decode(data: bytes) -> _Point | None:
    """RFC 8032 §5.1.3 point decoding; None for anything that is not the canonical encoding of a point."""
    if len(data) != 32:
        return None
    value = int.from_bytes(data, "little")
    sign = value >> 255
    y = value & ((1 << 255) - 1)
    if y >= P:
        return None  # non-canonical y
    u = (y * y - 1) % P
    v = (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    vxx = v * x * x % P
    if vxx == u:
        pass
    elif vxx == (-u) % P:
        x = x * SQRT_M1 % P
    else:
        return None  # no square root: not on the curve
    if x == 0 and sign == 1:
        return None  # -0 is not a canonical encoding
    if x & 1 != sign:
        x = P - x
    return (x, y, 1, x * y % P)


def _as_bytes(value) -> bytes | None:
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    return None


def verify_stream(public_key_bytes: bytes, signature: bytes, chunks: Iterable[bytes]) -> bool:
    """True iff `signature` (R || S, 64 bytes) is a valid Ed25519 signature by the raw 32-byte public key
    of the message made of `chunks` concatenated. Bad lengths, S >= L or an undecodable key give False.

    The key and signature are checked before the chunks are consumed, so a hopeless verification does not
    read the file. Exceptions raised by the `chunks` iterator itself (I/O errors) propagate.
    """
    key = _as_bytes(public_key_bytes)
    sig = _as_bytes(signature)
    if key is None or sig is None or len(key) != 32 or len(sig) != 64:
        return False
    r_bytes, s_bytes = sig[:32], sig[32:]
    s = int.from_bytes(s_bytes, "little")
    if s >= L:
        return False
    a = _decode(key)
    if a is None:
        return False
    h = hashlib.sha512()
    h.update(r_bytes)
    h.update(key)
    for chunk in chunks:
        h.update(chunk)
    k = int.from_bytes(h.digest(), "little") % L
    # [S]B - [k]A must be R; compare canonical encodings (see the module docstring).
    check = _add(_mul(s, _B), _neg(_mul(k, a)))
    return _encode(check) == r_bytes
