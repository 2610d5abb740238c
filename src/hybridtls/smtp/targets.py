"""What to probe: host[:port], IPv4/IPv6 literals, --mx DOMAIN, --resolve NAME=ADDR; every address on its own."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hybridtls.errors import UsageError
from hybridtls.pki.hostnames import is_address

DEFAULT_PORT = 25
_HOST_PORT = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.%\w]+)\]|(?P<host>[^:\[\]\s]+))(?::(?P<port>\d{1,5}))?$")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)*"
                       r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.?$")


@dataclass(frozen=True)
class Target:
    host: str  # a name, or the literal address
    port: int
    addresses: tuple[str, ...] = ()  # filled by resolution (or a literal / --resolve)
    source: str = ""  # where the target came from: "argument", "MX of contoso.com", ...
    expected_name: str | None = None  # the name its certificate must cover (a connector's TlsDomain); None: host
    mx_secure: bool | None = None  # found by MX: whether the MX answer was DNSSEC-validated (its AD bit)


def parse_target(text: str, source: str = "argument") -> Target:
    text = text.strip()
    if is_address(text):  # a bare IPv6 literal has colons but no port
        return Target(host=text, port=DEFAULT_PORT, addresses=(text,), source=source)
    match = _HOST_PORT.match(text)
    if not match:
        raise UsageError(f"{text!r} is not host[:port] or [IPv6]:port")
    port = int(match["port"]) if match["port"] else DEFAULT_PORT
    if not 0 < port < 65536:
        raise UsageError(f"port {port} out of range in {text!r}")
    if match["v6"]:
        if not is_address(match["v6"]):
            raise UsageError(f"{match['v6']!r} is not an IPv6 address")
        return Target(host=match["v6"], port=port, addresses=(match["v6"],), source=source)
    host = match["host"]
    if is_address(host):
        return Target(host=host, port=port, addresses=(host,), source=source)
    if not _HOSTNAME.match(host):
        raise UsageError(f"{host!r} is not a host name")
    return Target(host=host.rstrip(".").lower(), port=port, source=source)


def parse_resolve(values: list[str]) -> dict[str, tuple[str, ...]]:
    pinned: dict[str, tuple[str, ...]] = {}
    for value in values:
        name, sep, addresses = value.partition("=")
        parts = tuple(a.strip().strip("[]") for a in addresses.split(",") if a.strip())
        if not sep or not name.strip() or not parts or not all(is_address(a) for a in parts):
            raise UsageError(f"--resolve {value!r} is not NAME=ADDR[,ADDR]")
        pinned[name.strip().rstrip(".").lower()] = parts
    return pinned
