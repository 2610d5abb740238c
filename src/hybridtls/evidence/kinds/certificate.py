"""``Get-ExchangeCertificate``: Format-List, the default table (``IP.WS..`` service flags), CSV and JSON."""

from __future__ import annotations

import re

from hybridtls.evidence.kinds.base import (
    BuildContext,
    RecordKind,
    _bool,
    _date_readings,
    _enum_value,
    _int,
    _keys,
    _server,
    _text,
)
from hybridtls.evidence.raw import RawRecord
from hybridtls.evidence.structured import shallow_hint
from hybridtls.model import (
    CertificateStatus,
    ExchangeCertificate,
    RootCAType,
)

# CertificateAuthorityType's order as documented; only 0 (None) and 3 (Registry) are confirmed by real data.
ROOT_CA_NUMBERS = {0: RootCAType.NONE, 1: RootCAType.THIRD_PARTY, 2: RootCAType.ENTERPRISE,
                    3: RootCAType.REGISTRY, 4: RootCAType.GROUP_POLICY, 5: RootCAType.UNKNOWN}
_ROOT_CA_CONFIRMED = {0, 3}
# CertificateStatus by number: only 1 (Valid) is confirmed by real data; the rest follow the documented order.
STATUS_NUMBERS = {0: CertificateStatus.UNKNOWN, 1: CertificateStatus.VALID, 2: CertificateStatus.REVOKED,
                   3: CertificateStatus.DATE_INVALID, 4: CertificateStatus.UNTRUSTED, 5: CertificateStatus.INVALID,
                   6: CertificateStatus.REVOCATION_CHECK_FAILURE, 7: CertificateStatus.PENDING_REQUEST}
_SERVICE_FLAGS = {1: "IMAP", 2: "POP", 4: "UM", 8: "IIS", 16: "SMTP", 32: "Federation", 64: "UMCallRouter"}
# The default table's Services column: a letter or a dot for each service, in this order: I P U W S, then two rarely
# used flags. Exchange 2007 prints five positions ("IP.WS"), 2010 six ("IP.WS."), 2013 and later seven ("IP.WS..").
_SERVICE_LETTERS = {"I": "IMAP", "P": "POP", "U": "UM", "W": "IIS", "S": "SMTP", "F": "Federation", "C": "UMCallRouter"}
_SERVICE_POSITIONS = re.compile(r"[I.][P.][U.][W.][S.][A-Z.]{0,2}")
_SERVICE_NAMES = {name.casefold(): name for name in _SERVICE_FLAGS.values()}
_THUMBPRINT = re.compile(r"^[0-9A-Fa-f]{40}$")


def _services(record: RawRecord, ctx: BuildContext) -> tuple[frozenset[str] | None, bool]:
    raw = record.get("Services", "ServicesStringForm")
    if raw is None:
        return None, False
    value = raw.value
    if value.number is not None:
        return frozenset(name for bit, name in _SERVICE_FLAGS.items() if value.number & bit), False
    text = value.text.strip().strip("{}")
    if not text or text.casefold() == "none":
        return frozenset(), False
    if value.shallow:
        ctx.note(raw.line, f"Services reads {value.text!r}, a type name, not a value", shallow_hint())
        return None, False
    if _SERVICE_POSITIONS.fullmatch(text):
        unknown = [ch for ch in text if ch != "." and ch not in _SERVICE_LETTERS]
        if unknown:
            ctx.note(raw.line, f"Services {text!r}: the flag {unknown[0]!r} is not one hybridtls knows; the others are "
                               "read", "Get-ExchangeCertificate | Format-List shows the services by name")
        return frozenset(_SERVICE_LETTERS[ch] for ch in text if ch in _SERVICE_LETTERS), False
    names = set()
    for part in re.split(r"[,;]\s*|\s+", text.rstrip(".\u2026")):
        if part:
            names.add(_SERVICE_NAMES.get(part.casefold(), part))
    return frozenset(names), value.truncated


def _domains(record: RawRecord, ctx: BuildContext) -> tuple[tuple[str, ...], bool]:
    raw = record.get("CertificateDomains", "DnsNameList")
    if raw is None or raw.value.empty:
        return (), False
    if raw.value.shallow:
        ctx.note(raw.line, f"{raw.label} reads {raw.value.text!r}, a type name, not a value", shallow_hint())
        return (), True
    items = raw.value.items
    if items is None:
        items = tuple(p for p in re.split(r"[,;\s]+", raw.value.text.rstrip(".\u2026")) if p)
    return tuple(item.strip() for item in items if item.strip()), raw.value.truncated


def build_certificate(record: RawRecord, ctx: BuildContext) -> ExchangeCertificate:
    thumbprint = _text(record, ctx, "Thumbprint")
    identity = _text(record, ctx, "Identity")
    if not thumbprint and identity and "\\" in identity:
        thumbprint = identity.rsplit("\\", 1)[1].strip()
    if thumbprint and not _THUMBPRINT.match(thumbprint):  # masked (****, xxxxx) or cut (31 characters): never used
        raw = record.get("Thumbprint", "Identity")
        instead = ("the certificate is identified by Issuer and SerialNumber instead"
                   if record.get("Issuer") and record.get("SerialNumber") else
                   "nothing else here identifies the certificate across servers and files")
        ctx.note(raw.line if raw else record.source.line, f"Thumbprint {thumbprint!r} is masked or malformed; {instead}")
        thumbprint = None
    serial = _text(record, ctx, "SerialNumber")
    services, services_truncated = _services(record, ctx)
    domains, domains_truncated = _domains(record, ctx)
    root_raw = record.get("RootCAType")
    status_raw = record.get("Status")
    not_before, not_before_readings = _date_readings(record, ctx, "NotBefore")
    not_after, not_after_readings = _date_readings(record, ctx, "NotAfter")
    return ExchangeCertificate(
        source=record.source,
        field_lines=record.lines,
        server=_server(record, ctx),
        thumbprint=thumbprint.upper() if thumbprint else None,
        subject=_text(record, ctx, "Subject"),
        issuer=_text(record, ctx, "Issuer"),
        serial_number=re.sub(r"\s", "", serial).upper() if serial else None,
        certificate_domains=domains,
        certificate_domains_truncated=domains_truncated,
        services=services,
        services_truncated=services_truncated,
        root_ca_type=_enum_value(root_raw, ctx, RootCAType, ROOT_CA_NUMBERS, _ROOT_CA_CONFIRMED)
        if root_raw and not root_raw.value.empty else None,
        status=_enum_value(status_raw, ctx, CertificateStatus, STATUS_NUMBERS, {1})
        if status_raw and not status_raw.value.empty else None,
        is_self_signed=_bool(record, ctx, "IsSelfSigned"),
        has_private_key=_bool(record, ctx, "HasPrivateKey"),
        not_before=not_before,
        not_after=not_after,
        not_before_readings=not_before_readings,
        not_after_readings=not_after_readings,
        public_key_size=_int(record, ctx, "PublicKeySize"),
        friendly_name=_text(record, ctx, "FriendlyName", trusted=False),
    )


EXCHANGE_CERTIFICATE = RecordKind(
    name="ExchangeCertificate",
    required=(_keys("Thumbprint", "SerialNumber", "Identity"),
              _keys("RootCAType", "Services", "CertificateDomains", "IsSelfSigned", "HasPrivateKey", "Subject")),
    indicative=_keys("Thumbprint", "Services", "Subject", "Issuer", "RootCAType", "NotAfter", "NotBefore",
                     "CertificateDomains", "IsSelfSigned", "HasPrivateKey", "PublicKeySize", "SerialNumber",
                     "Status", "AccessRules"),
    date_fields=_keys("NotAfter", "NotBefore"),
    type_names=("ExchangeCertificate",),
    build=build_certificate,
    # a certificate store's listing (Get-ChildItem Cert:\LocalMachine\Root) shares Thumbprint, Subject and
    # HasPrivateKey, but a root CA there is no certificate Exchange uses
    foreign_types=("X509Certificate2", "X509Certificate"),
)
