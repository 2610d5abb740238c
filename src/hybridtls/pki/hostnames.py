"""Does a certificate cover a host name? The rules Exchange Online applies to TLS domains."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

_PRIVATE_SUFFIXES = (".local", ".lan", ".internal", ".corp", ".intra", ".intranet", ".localdomain", ".home.arpa",
                     ".localhost")


def is_address(text: str) -> bool:
    """An IPv4 or IPv6 literal (an IPv6 zone such as ``%eth0`` allowed)."""
    try:
        ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    return True


EXCHANGE_ONLINE_HOSTS = (".mail.protection.outlook.com", ".mx.microsoft")  # the hosts Exchange Online answers for


def exchange_online_host(host: str) -> bool:
    """Whether a host name is one Exchange Online answers for (its MX and smart hosts, inbound DANE's
    ``*.mx.microsoft``): Microsoft's zone and certificate, not the estate's."""
    return host.rstrip(".").casefold().endswith(EXCHANGE_ONLINE_HOSTS)


def covers(pattern: str, host: str) -> bool:
    """A wildcard stands for exactly one left-most label; partial wildcards (``f*.contoso.com``) match nothing."""
    pattern, host = pattern.rstrip(".").casefold(), host.rstrip(".").casefold()
    if "*" not in pattern:
        return pattern == host
    if not pattern.startswith("*.") or "*" in pattern[2:] or pattern.count(".") < 2:
        return False
    suffix = pattern[1:]
    label = host[: -len(suffix)] if host.endswith(suffix) else ""
    return bool(label) and "." not in label


def domain_covered(domain: str, names: tuple[str, ...]) -> bool:
    """Exchange Online's TlsDomain and TlsSenderCertificateName may be wildcards themselves: ``*.contoso.com``
    accepts any certificate name under contoso.com; a plain name must be covered by one of the names."""
    domain = domain.rstrip(".").casefold()
    if domain.startswith("*."):
        return any(n.rstrip(".").casefold().endswith(domain[1:]) for n in names)
    return covering_name(names, domain) is not None


def covering_name(names: tuple[str, ...], host: str) -> str | None:
    return next((name for name in names if covers(name, host)), None)


def is_private_url(url: str) -> bool:
    """caIssuers URLs of internal CAs: LDAP, file shares, private host names and addresses."""
    parts = urlsplit(url)
    if parts.scheme.casefold() not in ("http", "https"):
        return True
    host = (parts.hostname or "").casefold()
    if not host or "." not in host or host.endswith(_PRIVATE_SUFFIXES):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local
