"""Certificates as Windows shows them, and the chains built from them."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from hybridtls.model.source import Source, certificate_identity_keys


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateFile:
    """One certificate read from a file (PEM, DER, PKCS#7, PKCS#12, a base64 RawData blob), as Windows shows it.

    ``subject`` and ``issuer`` are rendered exactly as X509Certificate2.Subject / .Issuer on Windows, so they
    compare with Get-ExchangeCertificate output and build TlsCertificateName.
    """

    source: Source
    label: str  # where in the file: "leaf.pem, certificate 2"
    der: bytes
    thumbprint: str
    serial_number: str
    subject: str
    issuer: str
    subject_der: bytes
    issuer_der: bytes
    not_before: datetime
    not_after: datetime
    public_key_algorithm: str
    public_key_size: int
    signature_algorithm: str
    signature_hash: str | None
    certificate_domains: tuple[str, ...] = ()
    dns_names: tuple[str, ...] = ()
    is_self_signed: bool = False
    is_ca: bool | None = None
    key_usage: tuple[str, ...] = ()
    extended_key_usage: tuple[tuple[str, str], ...] = ()  # (friendly name, OID)
    ca_issuers: tuple[str, ...] = ()
    subject_key_id: str | None = None
    authority_key_id: str | None = None
    has_private_key: bool | None = None
    # How the encoding departs from DER / RFC 5280 in ways Windows accepts, and what was read leniently (the
    # first note says so when the strict parser refused the certificate). Empty for a well-formed certificate.
    lenient: tuple[str, ...] = ()

    @property
    def identity_keys(self) -> tuple[str, ...]:
        return certificate_identity_keys(self.thumbprint, self.issuer, self.serial_number)

    @property
    def tls_certificate_name(self) -> str | None:
        """``<I>issuer<S>subject``; None when the issuer or the subject is empty, as no connector can name the
        certificate by such a value (Exchange falls back to the FQDN for an empty TlsCertificateName)."""
        if not self.issuer or not self.subject:
            return None
        return f"<I>{self.issuer}<S>{self.subject}"


class ChainEnd(str, enum.Enum):
    """Where building the chain from the leaf upwards stopped."""

    TRUSTED = "trusted"  # reached a trust anchor
    MISSING_ISSUER = "missing_issuer"  # the next issuer was not supplied and is not an anchor
    UNTRUSTED_ROOT = "untrusted_root"  # reached a self-signed certificate that is not an anchor


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainAnalysis:
    """The chain built for one leaf from the certificates given and the trust anchors, without fetching."""

    leaf: CertificateFile
    path: tuple[CertificateFile, ...]  # leaf first; the anchor last when TRUSTED
    end: ChainEnd
    anchor_origin: str | None = None  # "Mozilla root store", "--trust FILE", or None
    missing_issuer: str | None = None  # the Windows name of the issuer that could not be found
    missing_issuer_urls: tuple[str, ...] = ()  # caIssuers URLs of the last certificate in the path
    served_extra: tuple[CertificateFile, ...] = ()  # supplied certificates that are not on the path
    fetched: tuple[str, ...] = ()  # thumbprints of path certificates downloaded with --fetch-aia
    # links made by name and key identifier because the signature could not be checked, each saying why
    unchecked_signatures: tuple[str, ...] = ()

    @property
    def fetched_links(self) -> tuple[CertificateFile, ...]:
        return tuple(c for c in self.path if c.thumbprint in self.fetched)


@dataclass(frozen=True, slots=True, kw_only=True)
class AnchorRecord:
    """A trust anchor a run judged chains with, besides the Mozilla root store: kept whole (DER) so that a saved
    report judged again reaches the same verdict, and named by SHA-256 fingerprint so a person can tell which."""

    origin: str  # "--trust ca.pem", "recorded in probe.json (--trust ca.pem)"
    sha256: str  # upper-case hex of the DER
    subject: str  # as Windows renders it
    der: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustBasis:
    """What chains were judged against: the Mozilla root store (and which edition), and the other anchors."""

    mozilla: str | None  # e.g. "certifi 2025.8.3"; None when the Mozilla roots were not used
    anchors: tuple[AnchorRecord, ...] = ()
