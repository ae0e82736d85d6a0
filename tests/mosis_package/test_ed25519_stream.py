"""Streaming Ed25519 verifier (`mosis_package.ed25519_stream`): RFC 8032 vectors, differential tests
against `cryptography` (OpenSSL), and the strict decoding rules of RFC 8032 §5.1.3 / §5.1.7."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mosis_package import generate_signing_key, sign_file, verify_file_signature
from mosis_package.ed25519_stream import _B, L, P, _decode, _encode, _mul, verify_stream

_TEST_1024_MESSAGE = (
    "08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98fa6e264bf09efe12ee50f8f54e9f77b1"
    "e355f6c50544e23fb1433ddf73be84d879de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d"
    "658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc1a858efcb8550ee3a5e1998bd177e93a"
    "7363c344fe6b199ee5d02e82d522c4feba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e"
    "06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbefefd75499da96bd68a8a97b928a8bbc10"
    "3b6621fcde2beca1231d206be6cd9ec7aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1"
    "85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2d17ba70eb6248e594e1a2297acbbb39d"
    "502f1a8c6eb6f1ce22b3de1a1f40cc24554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270"
    "88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc2732e69485bbc9c90bfbd62481d9089b"
    "eccf80cfe2df16a2cf65bd92dd597b0707e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba"
    "b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51addd3b75a2b1ae0784504df543af8969b"
    "e3ea7082ff7fc9888c144da2af58429ec96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7"
    "51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c42f58c30c04aafdb038dda0847dd988d"
    "cda6f3bfd15c4b4c4525004aa06eeff8ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df"
    "f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08d78ff4ef5d63653a65040cf9bfd4aca7"
    "984a74d37145986780fc0b16ac451649de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4"
    "88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a32ef5b52a1ecc820e308aa342721aac09"
    "43bf6686b64b2579376504ccc493d97e6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f"
    "b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b50d334ba77c225bc307ba537152f3f161"
    "0e4eafe595f6d9d90d11faa933a15ef1369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d"
    "b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c0618983f8741c5ef68d3a101e8a3b8ca"
    "c60c905c15fc910840b94c00a0b9d0"
)

# RFC 8032 §7.1: (name, secret key, public key, message, signature), all hex.
RFC8032_VECTORS = [
    (
        "TEST 1",
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "TEST 2",
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "TEST 3",
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
    (
        "TEST 1024",
        "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
        "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
        _TEST_1024_MESSAGE,
        "0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03",
    ),
    (
        "TEST SHA(abc)",
        "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
        "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
        "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704",
    ),
]


def raw_public(private_key: ed25519.Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def reference_verify(public: bytes, signature: bytes, message: bytes) -> bool:
    """cryptography (OpenSSL) as the oracle."""
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def split(message: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(message)) for c in cuts})
    bounds = [0, *points, len(message)]
    return [message[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def encode_y(y: int, sign: int = 0) -> bytes:
    return (y | (sign << 255)).to_bytes(32, "little")


IDENTITY = encode_y(1)


@pytest.mark.parametrize(("name", "secret", "public", "message", "signature"), RFC8032_VECTORS)
def test_rfc8032_vectors(name, secret, public, message, signature):
    secret, public, message, signature = map(bytes.fromhex, (secret, public, message, signature))
    # The transcription is right: OpenSSL derives the same key and (deterministic) signature.
    private = ed25519.Ed25519PrivateKey.from_private_bytes(secret)
    assert raw_public(private) == public
    assert private.sign(message) == signature

    assert verify_stream(public, signature, [message])
    assert verify_stream(public, signature, [message[i : i + 7] for i in range(0, len(message), 7)])
    assert verify_stream(public, signature, iter([b"", message, b""]))
    assert not verify_stream(public, signature, [message + b"\x00"])
    assert not verify_stream(public, signature[:63] + bytes([signature[63] ^ 0x01]), [message])


def test_base_point_and_group_order():
    assert _encode(_B) == bytes([0x58]) + bytes([0x66]) * 31  # RFC 8032 §5.1: y = 4/5, x even
    assert _encode(_mul(L, _B)) == IDENTITY


_MUTATIONS = st.sampled_from(["none", "signature", "message", "key"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.binary(min_size=32, max_size=32),
    message=st.binary(min_size=0, max_size=5000),
    cuts=st.lists(st.integers(min_value=0, max_value=5000), max_size=8),
    mutation=_MUTATIONS,
    bit=st.integers(min_value=0, max_value=8 * 5000 - 1),
)
def test_agrees_with_cryptography(seed, message, cuts, mutation, bit):
    private = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    public = raw_public(private)
    signature = private.sign(message)

    def flip(data: bytes) -> bytes:
        if not data:
            return data
        i = bit % (8 * len(data))
        out = bytearray(data)
        out[i // 8] ^= 1 << (i % 8)
        return bytes(out)

    if mutation == "signature":
        signature = flip(signature)
    elif mutation == "message":
        message = flip(message)
    elif mutation == "key":
        public = flip(public)

    expected = reference_verify(public, signature, message)
    assert verify_stream(public, signature, split(message, cuts)) is expected
    if mutation == "none" or (mutation == "message" and not message):
        assert expected


@settings(max_examples=100, deadline=None)
@given(public=st.binary(max_size=40), signature=st.binary(max_size=80), message=st.binary(max_size=64))
def test_arbitrary_bytes_never_raise(public, signature, message):
    assert verify_stream(public, signature, [message]) is reference_verify(public, signature, message)


@pytest.mark.parametrize(
    ("public", "signature"),
    [
        (bytes(31), bytes(64)),
        (bytes(33), bytes(64)),
        (b"", bytes(64)),
        (bytes(32), bytes(63)),
        (bytes(32), bytes(65)),
        (bytes(32), b""),
        (None, bytes(64)),
        (bytes(32), None),
        ("a" * 32, bytes(64)),
        (bytes(32), "a" * 64),
    ],
)
def test_wrong_lengths_and_types_return_false(public, signature):
    assert verify_stream(public, signature, [b"msg"]) is False


def test_bytearray_and_memoryview_inputs():
    name, secret, public, message, signature = RFC8032_VECTORS[1]
    public, message, signature = map(bytes.fromhex, (public, message, signature))
    assert verify_stream(bytearray(public), memoryview(signature), [memoryview(message)])


def test_s_not_reduced_is_rejected():
    private = ed25519.Ed25519PrivateKey.generate()
    public, message = raw_public(private), b"malleable?"
    signature = private.sign(message)
    s = int.from_bytes(signature[32:], "little")
    malleated = signature[:32] + (s + L).to_bytes(32, "little")  # same equation mod L: S >= L must fail
    assert verify_stream(public, signature, [message])
    assert not verify_stream(public, malleated, [message])
    assert not reference_verify(public, malleated, message)
    for bad_s in (L, L + 1, 2**256 - 1):
        assert not verify_stream(public, signature[:32] + bad_s.to_bytes(32, "little"), [message])


def forged_for_identity_key(message: bytes) -> bytes:
    """A signature that satisfies [S]B == R + [k]A when A is the identity: R = [r]B, S = r."""
    r = int.from_bytes(os.urandom(32), "little") % L
    return _encode(_mul(r, _B)) + r.to_bytes(32, "little")


def test_public_key_decoding_is_strict():
    message = b"any message"
    signature = forged_for_identity_key(message)
    # Sanity: the canonical identity key accepts it (cofactorless equation holds), so the rejections
    # below come from decoding alone.
    assert verify_stream(IDENTITY, signature, [message])
    assert _decode(IDENTITY) is not None
    assert not verify_stream(encode_y(P + 1), signature, [message])  # y >= p (non-canonical 1)
    assert not verify_stream(IDENTITY[:31] + b"\x80", signature, [message])  # x = 0 with sign bit 1
    assert _decode(encode_y(P - 1, sign=1)) is None  # the other x = 0 point, y = -1, with sign bit
    assert _decode(encode_y(P - 1)) is not None
    for y in range(P, 2**255):  # every y >= p is rejected (there are only 19)
        assert _decode(encode_y(y)) is None
        assert _decode(encode_y(y, sign=1)) is None


def test_public_key_not_on_curve_is_rejected():
    not_on_curve = next(encode_y(y) for y in range(2, 100) if _decode(encode_y(y)) is None)
    name, secret, public, message, signature = RFC8032_VECTORS[0]
    assert not verify_stream(not_on_curve, bytes.fromhex(signature), [b""])


def test_r_must_be_canonical():
    # With the identity as key and S = 0, R = identity satisfies the equation for every message.
    message = b"R encodings"
    zero_s = bytes(32)
    assert verify_stream(IDENTITY, IDENTITY + zero_s, [message])
    assert not verify_stream(IDENTITY, encode_y(P + 1) + zero_s, [message])  # non-canonical y
    assert not verify_stream(IDENTITY, IDENTITY[:31] + b"\x80" + zero_s, [message])  # -0


def test_valid_signature_on_every_decoded_point_roundtrips():
    # Decoding then encoding is the identity on valid encodings (x sign and y preserved).
    for _ in range(20):
        point = _mul(int.from_bytes(os.urandom(32), "little") % L, _B)
        encoded = _encode(point)
        decoded = _decode(encoded)
        assert decoded is not None and _encode(decoded) == encoded


@pytest.mark.parametrize("size", [0, 1, 1024 * 1024, 2 * 1024 * 1024 + 12345])
def test_verify_file_signature_streams_ed25519(tmp_path, size):
    path = tmp_path / "package.mpk"
    path.write_bytes(os.urandom(size))
    private, pem = generate_signing_key("ed25519")
    signature = sign_file(path, private)
    assert verify_file_signature(path, signature, pem)
    with open(path, "rb") as fh:
        fh.seek(size // 2)  # the verifier reads from the start whatever the position
        assert verify_file_signature(fh, signature, pem)
    tampered = bytearray(base64.b64decode(signature))
    tampered[40] ^= 0x04
    assert not verify_file_signature(path, base64.b64encode(bytes(tampered)).decode(), pem)
    if size:
        with open(path, "r+b") as fh:
            fh.seek(size - 1)
            last = fh.read(1)
            fh.seek(size - 1)
            fh.write(bytes([last[0] ^ 0x01]))
        assert not verify_file_signature(path, signature, pem)
