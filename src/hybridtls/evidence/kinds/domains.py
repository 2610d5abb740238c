"""Mail domains and DANE records as PowerShell shows them: ``Get-AcceptedDomain`` (on-premises or Exchange Online),
``Get-DnssecStatusForVerifiedDomain`` (Exchange Online), and TLSA records as the Windows DNS server module shows them
(``CertificateUsage``, ``Selector``, ``MatchingType``, ``CertificateAssociationData``: the properties of its
DnsServerResourceRecordTLSA class, by name or number), whatever printed them (Format-List, a table, CSV, JSON)."""

from __future__ import annotations

import re

from hybridtls.evidence.kinds.base import BuildContext, _bool, _items, _kind, _text
from hybridtls.evidence.raw import RawRecord
from hybridtls.evidence.structured import shallow_hint
from hybridtls.model import (
    AcceptedDomain,
    DnssecDomainStatus,
    DomainType,
    OrganizationSide,
    TlsaRecord,
    tenant_named,
)

# Properties only Exchange Online's accepted domains have (its cmdlet reference), and what an on-premises one's
# distinguished name holds (the configuration partition) against a hosted organisation's.
_ONLINE_ONLY = ("AuthenticationType", "LiveIdInstanceType", "InitialDomain", "SendingFromDomainDisabled",
                "OutboundOnly", "PendingRemoval")
_TENANT_FIELDS = ("TenantId", "OrganizationalUnitRoot", "OrganizationId")
_DOMAIN_ARG = re.compile(r"(?:-DomainName\s+|Get-DnssecStatusForVerifiedDomain\s+(?!-))(['\"]?)(?P<domain>[\w.-]{1,253})\1",
                         re.IGNORECASE)
_EXPECTED_MX = re.compile(r"\b[a-z0-9][a-z0-9.-]{0,200}\.mx\.microsoft\b", re.IGNORECASE)
_ZONE_ARG = re.compile(r"-ZoneName\s+(['\"]?)(?P<zone>[\w.-]{1,253})\1", re.IGNORECASE)
_TIMESPAN = re.compile(r"(?:(?P<d>\d{1,5})\.)?(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})")
_HEX = re.compile(r"[0-9A-Fa-f]+")
MAX_ASSOCIATION_HEX = 16384  # a full certificate (matching type 0) of 8 KiB; hashes are 64 or 128


def record_tenant(record: RawRecord, ctx: BuildContext) -> str | None:
    """The tenant an Exchange Online object names (TenantId, OrganizationalUnitRoot, OrganizationId)."""
    for key in _TENANT_FIELDS:
        tenant = tenant_named(_text(record, ctx, key, trusted=False))
        if tenant:
            return tenant
    return None


def _side(record: RawRecord, ctx: BuildContext) -> OrganizationSide | None:
    if any(record.get(key) is not None for key in _ONLINE_ONLY) or record_tenant(record, ctx):
        return OrganizationSide.ONLINE
    dn = (_text(record, ctx, "DistinguishedName", trusted=False) or "").casefold()
    if "hosted organizations" in dn or "prod.outlook.com" in dn:
        return OrganizationSide.ONLINE
    if "cn=configuration," in dn:
        return OrganizationSide.ON_PREMISES
    return None


def _domain_type(record: RawRecord, ctx: BuildContext) -> DomainType | None:
    text = _text(record, ctx, "DomainType")
    if text is None:
        return None
    for member in DomainType:
        if member.value.casefold() == text.casefold():
            return member
    if text.isdecimal() and int(text) < len(DomainType):  # ConvertTo-Json writes the enum's number
        return list(DomainType)[int(text)]
    raw = record.get("DomainType")
    ctx.note(raw.line if raw else None, f"DomainType {text!r} is none of Authoritative, InternalRelay, ExternalRelay; "
                                        "ignored")
    return None


def build_accepted_domain(record: RawRecord, ctx: BuildContext) -> AcceptedDomain | None:
    domain = _text(record, ctx, "DomainName")
    if not domain:
        return None
    dn = _text(record, ctx, "DistinguishedName", trusted=False)
    return AcceptedDomain(source=record.source, field_lines=record.lines, domain_name=domain.casefold(),
                          name=_text(record, ctx, "Name", trusted=False), domain_type=_domain_type(record, ctx),
                          default=_bool(record, ctx, "Default"), side=_side(record, ctx),
                          tenant=record_tenant(record, ctx) or (tenant_named(dn) if dn else None))


def build_dnssec_status(record: RawRecord, ctx: BuildContext) -> DnssecDomainStatus:
    domain = _DOMAIN_ARG.search(record.command or "")
    expected = None
    for key in ("ExpectedMxRecord", "MxValidation"):
        raw = record.get(key)
        if raw is None or raw.value.empty:
            continue
        found = _EXPECTED_MX.search(raw.value.text)
        if found:
            expected = found[0].casefold()
            break
        if key == "ExpectedMxRecord" and (raw.value.shallow or raw.value.text.strip().startswith("Microsoft.")):
            ctx.note(raw.line, f"{raw.label} reads {raw.value.text.strip()[:80]!r}, a type name: the MX host "
                               "Exchange Online expects is inside it", "$s = Get-DnssecStatusForVerifiedDomain "
                               "-DomainName <Domain>; $s.ExpectedMxRecord | Format-List; or " + shallow_hint())
    return DnssecDomainStatus(source=record.source, field_lines=record.lines,
                              domain_name=domain["domain"].casefold() if domain else None,
                              feature_status=_text(record, ctx, "DnssecFeatureStatus"), expected_mx=expected,
                              errors=_items(record, ctx, "Errors"), warnings=_items(record, ctx, "Warnings"))


# The DNS server module's names for each field's values (DnsServerResourceRecordTLSA), and RFC 7218's acronyms.
_USAGES = {"caconstraint": 0, "pkix-ta": 0, "serviceCertificateConstraint".casefold(): 1, "pkix-ee": 1,
           "trustanchorassertion": 2, "dane-ta": 2, "domainissuedcertificate": 3, "dane-ee": 3}
_SELECTORS = {"fullcertificate": 0, "cert": 0, "subjectpublickeyinfo": 1, "spki": 1}
_MATCHING = {"exactmatch": 0, "full": 0, "sha256hash": 1, "sha2-256": 1, "sha512hash": 2, "sha2-512": 2}


def _field_number(record: RawRecord, ctx: BuildContext, key: str, names: dict[str, int]) -> int | None:
    text = _text(record, ctx, key)
    if text is None:
        return None
    if text.isdecimal() and len(text) <= 3 and int(text) <= 255:
        return int(text)
    number = names.get(text.casefold())
    if number is None:
        raw = record.get(key)
        ctx.note(raw.line if raw else None, f"{key} {text[:40]!r} is neither a number (0-255) nor a name the DNS "
                                            "server module uses; the record is not read")
    return number


def build_tlsa(record: RawRecord, ctx: BuildContext) -> TlsaRecord | None:
    usage = _field_number(record, ctx, "CertificateUsage", _USAGES)
    selector = _field_number(record, ctx, "Selector", _SELECTORS)
    matching = _field_number(record, ctx, "MatchingType", _MATCHING)
    data = "".join((_text(record, ctx, "CertificateAssociationData") or "").split())
    if usage is None or selector is None or matching is None or not data:
        return None
    raw = record.get("CertificateAssociationData")
    if not _HEX.fullmatch(data) or len(data) % 2 or len(data) > MAX_ASSOCIATION_HEX:
        ctx.note(raw.line if raw else None, "CertificateAssociationData is not whole bytes of hexadecimal (at most "
                                            f"{MAX_ASSOCIATION_HEX:,} digits); the record is not read")
        return None
    name = (_text(record, ctx, "Name", "HostName", trusted=False) or "").rstrip(".").casefold()
    zone = _ZONE_ARG.search(record.command or "")
    if name and zone and record.get("Name") is None and not name.endswith(zone["zone"].casefold()):
        name = f"{name}.{zone['zone'].casefold()}"  # the DNS server names records relative to the zone
    return TlsaRecord(usage=usage, selector=selector, matching_type=matching, data_hex=data.casefold(),
                      source=record.source, name=name, ttl=_ttl(_text(record, ctx, "TTL", "TimeToLive")))


def _ttl(text: str | None) -> int | None:
    """Seconds: a number (Resolve-DnsName) or a TimeSpan, [d.]hh:mm:ss (the DNS server module)."""
    if text and text.isdecimal() and len(text) <= 10:
        return int(text)
    span = _TIMESPAN.fullmatch(text or "")
    if span is None:
        return None
    return int(span["d"] or 0) * 86400 + int(span["h"]) * 3600 + int(span["m"]) * 60 + int(span["s"])


ACCEPTED_DOMAIN = _kind(
    "AcceptedDomain", (("DomainName",), ("DomainType",)),
    ("Default", "AddressBookEnabled", "MatchSubDomains", "AuthenticationType", "InitialDomain", "Name"),
    build_accepted_domain)


DNSSEC_STATUS = _kind(
    "DnssecStatusForVerifiedDomain", (("DnssecFeatureStatus",),),
    ("ExpectedMxRecord", "DnsValidation", "MxValidation", "MtaStsValidation", "Errors", "Warnings"),
    build_dnssec_status, ("DnssecStatusForVerifiedDomain", "DnssecStatus"), decisive=("DnssecFeatureStatus",))


TLSA_RECORD = _kind(
    "TlsaRecord", (("CertificateUsage",), ("Selector",), ("MatchingType",), ("CertificateAssociationData",)),
    ("Name", "HostName", "TTL", "TimeToLive", "Type", "RecordType"), build_tlsa,
    ("DnsServerResourceRecordTLSA", "DnsRecord_TLSA"), decisive=("CertificateAssociationData",))
