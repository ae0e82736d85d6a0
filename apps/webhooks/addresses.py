"""The SSRF guard of webhook deliveries: which URLs and addresses the store may send a request to.

A webhook URL must be ``https`` with a host name or a public address. Before each delivery the host is
resolved once; if **any** address it resolves to is not public (loopback, private, link-local, multicast,
reserved, unspecified, shared/CGNAT, cloud metadata, or an IPv6 form embedding one of those), nothing is
sent. The request then goes to an address from that same answer (``transport`` connects to it directly, no
second lookup), so a name that answers a public address first and a private one next (DNS rebinding) cannot
slip through. ``WEBHOOK_ALLOW_PRIVATE`` (development only) allows every address and plain ``http``.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Instance metadata services: most are link-local or private anyway; named so the refusal says why.
CLOUD_METADATA = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, ...
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS IPv6 metadata
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
    )
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")
MAX_URL_LENGTH = 2000


class AddressRefused(Exception):
    """The URL or one of the addresses its host resolves to may not be sent to; the message says why."""


def address_class(address: IPAddress) -> str | None:
    """Why ``address`` is not a public destination ("loopback", "private", ...), or None if it is."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address_class(address.ipv4_mapped)
        if address in NAT64:
            return address_class(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    if address in CLOUD_METADATA:
        return "cloud metadata"
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "not globally routable"
    return None


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (``host`` as the certificate must name it) and what to request."""

    scheme: str
    host: str  # ASCII (IDNA) host name or address literal, without brackets
    port: int
    path: str  # path and query, at least "/"

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def url_target(url: str, *, allow_private: bool | None = None) -> Target:
    """Parse and check a webhook URL without resolving it (at creation and before each delivery).

    Raises ``AddressRefused``: not https (http only with ``WEBHOOK_ALLOW_PRIVATE``), no host, credentials in
    the URL, or a literal address or ``localhost`` name that is not public.
    """
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE if allow_private is None else allow_private
    if len(url) > MAX_URL_LENGTH:
        raise AddressRefused(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise AddressRefused(f"Not a valid URL: {error}.")
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes:
        raise AddressRefused("The URL must use https." if not allow_private else "The URL must use http(s).")
    if not parts.hostname:
        raise AddressRefused("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise AddressRefused("The URL must not carry credentials; verify the signature instead.")
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise AddressRefused("The URL's host is not a valid host name.")
    host = host.rstrip(".") or host
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None and not allow_private:
        refusal = address_class(literal)
        if refusal:
            raise AddressRefused(
                f"{literal} is not a public address ({refusal}); webhooks go to public addresses only."
            )
    if literal is None and not allow_private and (host == "localhost" or host.endswith(".localhost")):
        raise AddressRefused(f"{host} is a loopback name; webhooks go to public addresses only.")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    default_port = 443 if parts.scheme == "https" else 80
    return Target(scheme=parts.scheme, host=host, port=port or default_port, path=path)


def resolve(target: Target, *, allow_private: bool | None = None) -> list[IPAddress]:
    """Every address ``target.host`` resolves to, in the resolver's order, after checking each one.

    One lookup (``socket.getaddrinfo``); raises ``AddressRefused`` if the name does not resolve or if any
    answer is not public (unless ``WEBHOOK_ALLOW_PRIVATE``). The caller connects only to these addresses.
    """
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE if allow_private is None else allow_private
    try:
        answers = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise AddressRefused(f"{target.host} does not resolve: {error}.")
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in answers:
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])  # drop an IPv6 zone id
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise AddressRefused(f"{target.host} does not resolve.")
    if not allow_private:
        for address in addresses:
            refusal = address_class(address)
            if refusal:
                raise AddressRefused(
                    f"{target.host} resolves to {address}, not a public address ({refusal}); "
                    "webhooks go to public addresses only."
                )
    return addresses
