"""Name resolution with dnspython: MX, then A and AAAA of each exchanger, and TLSA for DANE. Bounded by a timeout
per query. Queries ask for DNSSEC (the DO and AD flags) so that the AD bit of a validating resolver's answer says
whether it validated them; hybridtls does not validate signatures itself."""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property

from hybridtls.model import TlsaLookup
from hybridtls.smtp.targets import DEFAULT_PORT, Target

DNS_TIMEOUT = 5.0


class Resolution:
    def __init__(self, nameserver: str | None = None, pinned: dict[str, tuple[str, ...]] | None = None,
                 timeout: float = DNS_TIMEOUT) -> None:
        self.pinned = pinned or {}
        self.nameserver = nameserver
        self.timeout = timeout

    @cached_property
    def resolver(self):  # type: ignore[no-untyped-def]
        """dnspython is imported only when a name has to be looked up (not for literals or --resolve)."""
        import dns.asyncresolver
        import dns.flags

        if self.nameserver:
            resolver = dns.asyncresolver.Resolver(configure=False)
            host, _, port = self.nameserver.rpartition(":") if self.nameserver.count(":") == 1 else (self.nameserver, "", "")
            resolver.nameservers = [host or self.nameserver]
            if port:
                resolver.port = int(port)
        else:
            resolver = dns.asyncresolver.Resolver()
        resolver.lifetime = self.timeout
        resolver.use_edns(0, dns.flags.DO, 1232)
        resolver.flags = dns.flags.RD | dns.flags.AD
        return resolver

    @property
    def described(self) -> str:
        """Who answers, in words: ``127.0.0.1:5353`` or ``the system resolver``."""
        return self.nameserver or "the system resolver"

    async def addresses(self, host: str) -> tuple[tuple[str, ...], str]:
        """(addresses, error). A and AAAA; an empty tuple and the reason when nothing resolves."""
        import dns.exception
        import dns.resolver

        if host in self.pinned:
            return self.pinned[host], ""
        found: list[str] = []
        errors = []
        for record_type in ("A", "AAAA"):
            try:
                answer = await self.resolver.resolve(host, record_type)
                found.extend(r.to_text() for r in answer)
            except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN) as exc:
                errors.append(type(exc).__name__)
            except dns.exception.DNSException as exc:
                errors.append(str(exc) or type(exc).__name__)
        return tuple(found), ("; ".join(errors) if not found else "")

    async def txt(self, name: str) -> tuple[tuple[str, ...], str]:
        """(records, error): each TXT record with its strings joined; no records (and no error) for NXDOMAIN or
        no answer, an error for a failed lookup (timeout, SERVFAIL)."""
        import dns.exception
        import dns.resolver

        try:
            answer = await self.resolver.resolve(name, "TXT")
        except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
            return (), ""
        except dns.exception.DNSException as exc:
            return (), f"TXT lookup for {name} failed: {str(exc) or type(exc).__name__}"
        return tuple(b"".join(r.strings).decode("utf-8", errors="replace") for r in answer), ""

    async def mx(self, domain: str) -> tuple[list[Target], str]:
        import dns.exception
        import dns.resolver

        try:
            answer = await self.resolver.resolve(domain, "MX")
        except dns.exception.DNSException as exc:
            return [], f"MX lookup for {domain} failed: {str(exc) or type(exc).__name__}"
        import dns.flags

        secure = bool(answer.response.flags & dns.flags.AD)
        records = sorted(answer, key=lambda r: (r.preference, r.exchange.to_text()))
        return [Target(host=r.exchange.to_text().rstrip(".").lower(), port=DEFAULT_PORT,
                       source=f"MX {r.preference} of {domain}", mx_secure=secure) for r in records], ""

    async def tlsa(self, name: str) -> tuple[TlsaLookup, bool | None, list[tuple[str, int]], str]:
        """(how it ended, the AD bit, each record's RDATA in presentation form with its TTL, the error in words)."""
        import dns.exception
        import dns.flags
        import dns.resolver

        try:
            answer = await self.resolver.resolve(name, "TLSA")
        except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN) as exc:
            return TlsaLookup.NONE, None, [], type(exc).__name__
        except dns.resolver.NoNameservers as exc:
            return TlsaLookup.SERVFAIL, None, [], str(exc) or "SERVFAIL"
        except dns.exception.DNSException as exc:
            return TlsaLookup.FAILED, None, [], str(exc) or type(exc).__name__
        ttl = answer.rrset.ttl if answer.rrset is not None else 0
        return (TlsaLookup.FOUND, bool(answer.response.flags & dns.flags.AD),
                [(record.to_text(), ttl) for record in answer], "")

    async def fill(self, target: Target) -> tuple[Target, str]:
        if target.addresses:
            return target, ""
        addresses, error = await self.addresses(target.host)
        return replace(target, addresses=addresses), error
