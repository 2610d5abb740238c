"""DANE: TLSA records (RFC 6698, RFC 7671, RFC 7672 for SMTP), however they were seen: DNS, Resolve-DnsName, dig."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hybridtls.model.source import Source


class TlsaUsage(enum.IntEnum):
    """Certificate usage field (RFC 6698 2.1.1, acronyms of RFC 7218)."""

    PKIX_TA = 0
    PKIX_EE = 1
    DANE_TA = 2
    DANE_EE = 3


class TlsaSelector(enum.IntEnum):
    """Selector field (RFC 6698 2.1.2): what part of the certificate is matched."""

    CERT = 0  # the full certificate, DER
    SPKI = 1  # the SubjectPublicKeyInfo, DER


class TlsaMatchingType(enum.IntEnum):
    """Matching type field (RFC 6698 2.1.3): how the selected content is compared."""

    FULL = 0  # exact match of the selected content
    SHA2_256 = 1
    SHA2_512 = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsaRecord:
    """One TLSA record. The fields are plain ints (0-255) so that unassigned values are kept as seen.

    ``data_hex`` is the certificate association data, lower-case hexadecimal without spaces; ``name`` the owner
    name (``_25._tcp.mail.contoso.com``) when it was known, ``ttl`` its TTL in seconds when it was known.
    """

    usage: int
    selector: int
    matching_type: int
    data_hex: str
    source: Source
    name: str = ""
    ttl: int | None = None

    @property
    def presentation(self) -> str:
        """The RDATA in presentation form: ``3 1 1 ab12...``."""
        return f"{self.usage} {self.selector} {self.matching_type} {self.data_hex}"

    @property
    def usage_name(self) -> str:
        try:
            return TlsaUsage(self.usage).name.replace("_", "-")
        except ValueError:
            return f"usage {self.usage}"


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsaMatch:
    """How one TLSA record fared against one address's served chain: ``matched``, and in words which certificate
    it matched or why not."""

    record: TlsaRecord
    matched: bool
    reason: str


class TlsaLookup(str, enum.Enum):
    """How the TLSA lookup of ``_PORT._tcp.HOST`` ended."""

    FOUND = "found"  # TLSA records were returned
    NONE = "none"  # NXDOMAIN, or the name has no TLSA records: DANE is not in use
    SERVFAIL = "servfail"  # the resolver failed (a DNSSEC validation failure looks like this)
    FAILED = "failed"  # no answer: a timeout, a refusal
    NOT_LOOKED_UP = "not_looked_up"  # an address literal, or a name pinned with --resolve and no --nameserver


class DaneResult(str, enum.Enum):
    """The RFC 8460 (TLS-RPT) result type a DANE sender would log for this address; none when delivery is valid."""

    TLSA_INVALID = "tlsa-invalid"
    DNSSEC_INVALID = "dnssec-invalid"
    DANE_REQUIRED = "dane-required"
    STARTTLS_NOT_SUPPORTED = "starttls-not-supported"
    CERTIFICATE_HOST_MISMATCH = "certificate-host-mismatch"
    CERTIFICATE_EXPIRED = "certificate-expired"
    VALIDATION_FAILURE = "validation-failure"


@dataclass(frozen=True, slots=True, kw_only=True)
class DaneObservation:
    """DANE as a sender would see it for one probed address: the TLSA records of its host and port, whether the
    resolver called them DNSSEC-secure (its AD bit: hybridtls does not validate signatures itself), and which of
    them match the chain this address served."""

    tlsa_name: str  # _25._tcp.mx.contoso.com
    lookup: TlsaLookup
    resolver: str  # who answered: "127.0.0.1:53", "the system resolver"
    secure: bool | None = None  # the AD bit of the TLSA answer; None: no answer
    mx_secure: bool | None = None  # for an MX host: the AD bit of the MX answer; None: not found by MX
    matches: tuple[TlsaMatch, ...] = ()  # every record, matched against this address's chain
    result: DaneResult | None = None  # what a DANE sender would log; None: valid, or DANE not applied
    detail: str = ""  # in words: why this result, or why DANE does not apply

    @property
    def records(self) -> tuple[TlsaRecord, ...]:
        return tuple(m.record for m in self.matches)

    @property
    def matched(self) -> tuple[TlsaRecord, ...]:
        return tuple(m.record for m in self.matches if m.matched)

    @property
    def applies(self) -> bool:
        """Whether a DANE sender uses these records: found, and DNSSEC-secure (the MX too, for an MX host)."""
        return self.lookup is TlsaLookup.FOUND and self.secure is True and self.mx_secure is not False
