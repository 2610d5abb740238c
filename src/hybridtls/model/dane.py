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
