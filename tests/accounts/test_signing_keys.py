"""Signing keys (SPEC §5): PEM public keys, accepted algorithms, fingerprints, duplicates, revocation."""

import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from rest_framework.test import APIClient

from accounts.models import SigningKey
from accounts.services import api_key_create, signing_key_register

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_ratelimits")]


def public_pem(private_key) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def der_fingerprint(private_key) -> str:
    der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def register(client, pem, name="release"):
    return client.post("/v1/signing-keys", {"name": name, "public_key": pem}, format="json")


@pytest.mark.parametrize(
    "make_key,algorithm",
    [
        (ed25519.Ed25519PrivateKey.generate, "ed25519"),
        (lambda: ec.generate_private_key(ec.SECP256R1()), "ecdsa-p256"),
        (lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048), "rsa"),
    ],
)
def test_accepted_algorithms_are_registered_with_their_fingerprint(auth_client, user, make_key, algorithm):
    private = make_key()
    response = register(auth_client, public_pem(private))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["algorithm"] == algorithm
    assert body["fingerprint"] == der_fingerprint(private)
    assert body["active"] is True and body["revoked_at"] is None
    assert SigningKey.objects.get(pk=body["id"]).user == user


@pytest.mark.parametrize(
    "pem_factory,fragment",
    [
        (lambda: public_pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)), "too weak"),
        (lambda: public_pem(ec.generate_private_key(ec.SECP384R1())), "P-256"),
        (lambda: public_pem(ed448.Ed448PrivateKey.generate()), "not supported"),
        (lambda: public_pem(dsa.generate_private_key(key_size=2048)), "not supported"),
        (
            lambda: (
                ed25519.Ed25519PrivateKey.generate()
                .private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
                .decode()
            ),
            "PRIVATE key",
        ),
        (
            lambda: "-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n",
            "Not a PEM public key",
        ),
        (lambda: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA me@host", "Not a PEM public key"),
    ],
)
def test_refused_keys_are_400_with_a_clear_message(auth_client, pem_factory, fragment):
    response = register(auth_client, pem_factory())
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert fragment in error["message"]
    assert "public_key" in error["details"]
    assert not SigningKey.objects.exists()


def test_same_key_twice_is_409_even_after_revocation(auth_client, user):
    pem = public_pem(ed25519.Ed25519PrivateKey.generate())
    first = register(auth_client, pem)
    assert first.status_code == 201
    assert register(auth_client, pem, name="again").status_code == 409
    auth_client.delete(f"/v1/signing-keys/{first.json()['id']}")
    again = register(auth_client, pem, name="again")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "CONFLICT"


def test_two_users_may_register_the_same_public_key(auth_client, other_client):
    pem = public_pem(ed25519.Ed25519PrivateKey.generate())
    assert register(auth_client, pem).status_code == 201
    assert register(other_client, pem).status_code == 201


def test_revoke_keeps_the_record_and_shows_it_revoked(auth_client, user):
    key = signing_key_register(
        user=user, name="old", public_key=public_pem(ed25519.Ed25519PrivateKey.generate())
    )
    response = auth_client.delete(f"/v1/signing-keys/{key.pk}")
    assert response.status_code == 200
    assert response.json() == {"success": True}
    key.refresh_from_db()
    assert key.revoked_at is not None
    listed = auth_client.get("/v1/signing-keys").json()["keys"]
    assert [(k["id"], k["active"]) for k in listed] == [(str(key.pk), False)]
    assert listed[0]["revoked_at"] is not None


def test_another_users_signing_key_is_404(auth_client, other_user):
    theirs = signing_key_register(
        user=other_user, name="theirs", public_key=public_pem(ed25519.Ed25519PrivateKey.generate())
    )
    assert auth_client.delete(f"/v1/signing-keys/{theirs.pk}").status_code == 404
    assert auth_client.get("/v1/signing-keys").json()["keys"] == []
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_api_key_reads_without_keys_manage_but_needs_it_to_write(user):
    signing_key_register(user=user, name="k", public_key=public_pem(ed25519.Ed25519PrivateKey.generate()))
    _, secret = api_key_create(user=user, name="ci", scopes=["versions:upload"])
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=secret)
    assert client.get("/v1/signing-keys").json()["total"] == 1
    refused = register(client, public_pem(ed25519.Ed25519PrivateKey.generate()))
    assert refused.status_code == 403
    assert "keys:manage" in refused.json()["error"]["message"]
    key_id = SigningKey.objects.get().pk
    assert client.delete(f"/v1/signing-keys/{key_id}").status_code == 403


def test_missing_fields_are_400(auth_client):
    response = auth_client.post("/v1/signing-keys", {}, format="json")
    assert response.status_code == 400
    assert {"name", "public_key"} <= set(response.json()["error"]["details"])


@pytest.mark.parametrize("count", [1, 50])
def test_list_query_count_does_not_grow_with_keys(auth_client, user, django_assert_num_queries, count):
    SigningKey.objects.bulk_create(
        SigningKey(user=user, name=f"k{n}", algorithm="ed25519", public_key="pem", fingerprint=f"{n:064x}")
        for n in range(count)
    )
    with django_assert_num_queries(3):  # JWT user, count, page
        response = auth_client.get("/v1/signing-keys", {"limit": 100})
    assert response.json()["total"] == count


@pytest.mark.parametrize("body,field", [({"name": 1}, "name"), ({"public_key": 123}, "public_key")])
def test_signing_key_input_is_strict(auth_client, body, field):
    pem = public_pem(ed25519.Ed25519PrivateKey.generate())
    response = auth_client.post(
        "/v1/signing-keys", {"name": "release", "public_key": pem} | body, format="json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["details"]
    assert not SigningKey.objects.exists()
