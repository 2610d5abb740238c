"""A tenant's and an organisation's mail domains: accepted domains (Get-AcceptedDomain), the inbound DNSSEC state of
a verified domain in Exchange Online (Get-DnssecStatusForVerifiedDomain), whether a TLSA answer was authenticated
(dig's ``ad`` flag), and how tenants are told apart in the evidence."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from hybridtls.model.source import Cited, Source


class DomainType(str, enum.Enum):
    """Get-AcceptedDomain's DomainType."""

    AUTHORITATIVE = "Authoritative"
    INTERNAL_RELAY = "InternalRelay"
    EXTERNAL_RELAY = "ExternalRelay"


class OrganizationSide(str, enum.Enum):
    """Which side of the hybrid a record was read from, where the evidence says."""

    ONLINE = "Exchange Online"
    ON_PREMISES = "on-premises"


_TENANT = re.compile(r"(?<![a-z0-9-])([a-z0-9][a-z0-9-]{0,62})(?:\.mail)?\.onmicrosoft\.com\b", re.IGNORECASE)
_GUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE)


def tenant_named(text: str | None) -> str | None:
    """The tenant a text names: ``contoso`` for ``contoso.onmicrosoft.com`` or ``contoso.mail.onmicrosoft.com``
    (the tenant's initial domain and its hybrid coexistence domain), anywhere in the text (an OrganizationId, a
    distinguished name); else a tenant GUID (TenantId). None when the text names no tenant."""
    if not text:
        return None
    match = _TENANT.search(text)
    if match:
        return match[1].casefold() + ".onmicrosoft.com"
    guid = _GUID.search(text)
    return guid[0].casefold() if guid else None


@dataclass(frozen=True, slots=True, kw_only=True)
class AcceptedDomain(Cited):
    """One accepted domain, as Get-AcceptedDomain listed it, on-premises or in Exchange Online."""

    source: Source
    field_lines: Mapping[str, int] = field(default_factory=dict)
    domain_name: str
    name: str | None = None
    domain_type: DomainType | None = None
    default: bool | None = None
    side: OrganizationSide | None = None  # None: the output does not say which side it came from
    tenant: str | None = None  # the tenant its record names (OrganizationId, DistinguishedName), if any

    @property
    def tenant_domain(self) -> str | None:
        """The tenant this domain itself names: the onmicrosoft.com domains do."""
        return tenant_named(self.domain_name)


@dataclass(frozen=True, slots=True, kw_only=True)
class DnssecDomainStatus(Cited):
    """Get-DnssecStatusForVerifiedDomain: inbound SMTP DANE with DNSSEC for one accepted domain of the tenant."""

    source: Source
    field_lines: Mapping[str, int] = field(default_factory=dict)
    domain_name: str | None = None  # from -DomainName on the command line, when the file shows it
    feature_status: str | None = None  # DnssecFeatureStatus: Enabled, Disabled, Unknown
    expected_mx: str | None = None  # the MX host Exchange Online expects (…mx.microsoft) once DNSSEC is enabled
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DnsAnswerStatus:
    """What a resolver said of one TLSA answer: whether it was authenticated (the ``ad`` flag of a validating
    resolver's answer, as dig prints it); None when the output does not show the flags (``+short``)."""

    source: Source
    name: str  # the owner name queried, _25._tcp.mail.contoso.com
    authenticated: bool | None
    records: int  # TLSA records in the answer
