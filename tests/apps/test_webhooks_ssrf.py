"""The webhook SSRF guard (issue 14, SPEC §5), against real receivers on 127.0.0.1: every refused address class,
DNS that answers a public then a private address, a redirect to a private address, and TLS verified for the
host name while connecting to the address that was checked."""

import ipaddress
import threading

import pytest

from apps.webhooks import transport
from apps.webhooks.addresses import AddressRefused, address_class, url_target
from tests.apps.webhook_receivers import certificate_files

pytestmark = pytest.mark.django_db

PUBLIC = "93.184.215.14"  # a global unicast address; the autouse guard stops any real connection to it

REFUSED = [
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("::1", "loopback"),
    ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped IPv6
    ("10.1.2.3", "private"),
    ("172.16.5.4", "private"),
    ("192.168.1.10", "private"),
    ("fc00::1", "private"),  # unique local
    ("64:ff9b::a01:203", "private"),  # NAT64 form of 10.1.2.3
    ("169.254.10.10", "link-local"),
    ("fe80::1", "link-local"),
    ("169.254.169.254", "cloud metadata"),
    ("fd00:ec2::254", "cloud metadata"),
    ("100.100.100.200", "cloud metadata"),
    ("224.0.0.1", "multicast"),
    ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("100.64.0.1", "not globally routable"),  # shared address space (CGNAT)
    ("192.0.2.10", "private"),  # documentation (TEST-NET-1)
]


def send(url: str, timeout: float = 5.0) -> transport.SendResult:
    return transport.send(
        url=url, body=b'{"event":"ping"}', headers={"Content-Type": "application/json"}, timeout=timeout
    )


@pytest.mark.parametrize("address,kind", REFUSED, ids=[a for a, _ in REFUSED])
def test_a_name_resolving_to_a_refused_address_is_never_contacted(receiver, dns, connects, address, kind):
    dns.set("hook.test", [address])
    result = send(f"https://hook.test:{receiver.port}/hook")
    assert result.outcome == "refused"
    assert f"resolves to {ipaddress.ip_address(address)}, not a public address ({kind})" in result.error
    assert connects == []
    assert receiver.connections == 0 and receiver.requests == []


@pytest.mark.parametrize("address,kind", REFUSED, ids=[a for a, _ in REFUSED])
def test_a_literal_refused_address_is_refused_before_resolving(dns, connects, address, kind):
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(AddressRefused, match=rf"\({kind}\)"):
        url_target(f"https://{host}:8443/hook")
    result = send(f"https://{host}:8443/hook")
    assert result.outcome == "refused"
    assert connects == [] and dns.lookups == []


def test_the_guard_is_what_stops_them(receiver, dns, settings):
    """The control: with WEBHOOK_ALLOW_PRIVATE (development) the same loopback receiver is reached."""
    settings.WEBHOOK_ALLOW_PRIVATE = True
    dns.set("hook.test", ["127.0.0.1"])
    result = send(f"http://hook.test:{receiver.port}/hook")
    assert result.outcome == "success", result.error
    assert receiver.requests[0].headers["Host"] == f"hook.test:{receiver.port}"


def test_one_private_answer_among_public_ones_refuses_the_name(receiver, dns, connects):
    dns.set("mixed.test", [PUBLIC, "127.0.0.1"])
    result = send(f"https://mixed.test:{receiver.port}/hook")
    assert result.outcome == "refused" and "127.0.0.1" in result.error
    assert connects == [] and receiver.connections == 0


def test_dns_rebinding_cannot_reach_a_private_address(receiver, dns, connects):
    """The name answers a public address, then 127.0.0.1: the store looks it up once and connects only to
    the address it checked (which the test network refuses), so the local receiver is never reached."""
    dns.set("rebind.test", [PUBLIC], ["127.0.0.1"])
    result = send(f"https://rebind.test:{receiver.port}/hook")
    assert dns.lookups == ["rebind.test"]
    assert connects == [PUBLIC]
    assert result.outcome == "network_error"
    assert receiver.connections == 0 and receiver.requests == []


def test_a_redirect_to_a_private_address_is_not_followed(receiver_factory, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True  # the first receiver is on 127.0.0.1 too
    target = receiver_factory()
    redirecting = receiver_factory()
    redirecting.status = 302
    redirecting.headers = {"Location": f"http://127.0.0.1:{target.port}/internal"}
    result = send(redirecting.url)
    assert result.outcome == "http_error"
    assert result.status_code == 302
    assert result.error == "HTTP 302 (redirects are not followed)"
    assert len(redirecting.requests) == 1
    assert target.connections == 0 and target.requests == []


@pytest.mark.parametrize(
    "url,message",
    [
        ("http://example.com/hook", "must use https"),
        ("ftp://example.com/hook", "must use https"),
        ("https://user:pass@example.com/hook", "must not carry credentials"),
        ("https:///hook", "no host"),
        ("https://localhost/hook", "loopback name"),
        ("https://api.localhost:8443/hook", "loopback name"),
        ("https://example.com:99999/hook", "Not a valid URL"),
        ("https://" + "a" * 2000 + ".com/", "longer than 2000"),
    ],
)
def test_urls_refused_as_written(url, message):
    with pytest.raises(AddressRefused, match=message):
        url_target(url)


def test_a_public_url_is_accepted_as_written():
    target = url_target("https://Hooks.Example.com./mosis?x=1")
    assert (target.scheme, target.host, target.port, target.path) == (
        "https",
        "hooks.example.com",
        443,
        "/mosis?x=1",
    )
    assert target.host_header == "hooks.example.com"
    assert url_target("https://[2606:4700::1111]:8443/").host_header == "[2606:4700::1111]:8443"
    assert address_class(ipaddress.ip_address("2606:4700::1111")) is None
    assert address_class(ipaddress.ip_address(PUBLIC)) is None


def test_a_name_that_does_not_resolve_is_refused(dns, connects):
    result = send("https://nowhere.test/hook")
    assert result.outcome == "refused" and "does not resolve" in result.error
    assert connects == []


def test_a_receiver_that_never_answers_is_given_up_on_at_the_deadline(receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    receiver.hold = threading.Event()
    result = send(receiver.url, timeout=1.0)
    receiver.hold.set()
    assert result.outcome == "network_error"
    assert "no answer" in result.error
    assert result.duration_ms < 5000


def test_only_the_start_of_a_large_answer_is_read(receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    receiver.body = b"x" * (10 * 1024 * 1024)
    result = send(receiver.url)
    assert result.outcome == "success"
    assert result.response_excerpt == "x" * transport.RESPONSE_EXCERPT_BYTES


def test_tls_is_verified_for_the_host_name_on_the_checked_address(receiver_factory, dns, settings, tmp_path):
    settings.WEBHOOK_ALLOW_PRIVATE = True  # the receiver is on 127.0.0.1
    ca, cert, key = certificate_files(tmp_path, "hook.test")
    settings.WEBHOOK_CA_BUNDLE = ca
    secure = receiver_factory(tls=(cert, key))
    dns.set("hook.test", ["127.0.0.1"])
    dns.set("other.test", ["127.0.0.1"])

    result = send(f"https://hook.test:{secure.port}/hook")
    assert result.outcome == "success", result.error
    assert secure.requests[0].headers["Host"] == f"hook.test:{secure.port}"

    wrong_name = send(f"https://other.test:{secure.port}/hook")  # the certificate names hook.test only
    assert wrong_name.outcome == "network_error" and "TLS failed" in wrong_name.error
    settings.WEBHOOK_CA_BUNDLE = ""  # certifi's: the throwaway CA is unknown
    untrusted = send(f"https://hook.test:{secure.port}/hook")
    assert untrusted.outcome == "network_error" and "TLS failed" in untrusted.error
    assert len(secure.requests) == 1
