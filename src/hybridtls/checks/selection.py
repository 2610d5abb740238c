"""Which certificate Exchange will use for a connector, as its documented selection works.

Inbound STARTTLS: the connector's TlsCertificateName (else its FQDN, else the server's) is looked up in the
server's store; among the matches the newest NotBefore wins, the first valid PKI certificate before any
self-signed one, and Exchange does not check that the winner is enabled for SMTP.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from hybridtls.checks.readings import expired_on
from hybridtls.model import CertificateStatus, EvidenceSet, ExchangeCertificate, ServerRef
from hybridtls.pki.hostnames import covers
from hybridtls.pki.tlsname import (
    TlsCertificateName,
    TlsNameError,
    names_same_certificate,
    parse_tls_certificate_name,
)


def parse_name(text: str | None) -> TlsCertificateName | None:
    if not text:
        return None
    try:
        return parse_tls_certificate_name(text)
    except TlsNameError:
        return None


def named_by(cert: ExchangeCertificate, name: TlsCertificateName) -> bool:
    """Issuer and Subject equal to the TlsCertificateName's (case and spacing aside, as Exchange compares them)."""
    return bool(cert.issuer and cert.subject) and names_same_certificate(
        TlsCertificateName(cert.issuer or "", cert.subject or ""), name)


def server_matches(server: ServerRef | None, name: str) -> bool:
    return server is not None and server.key == name.split(".", 1)[0].strip().casefold()


def certificates_on(evidence: EvidenceSet, server: str) -> list[ExchangeCertificate]:
    return [c for c in evidence.certificates if server_matches(c.server, server)]


def has_certificate_evidence(evidence: EvidenceSet, server: str) -> bool:
    return bool(certificates_on(evidence, server))


def candidates(certs: Iterable[ExchangeCertificate], name: TlsCertificateName | None,
               fqdn: str | None) -> list[ExchangeCertificate]:
    if name is not None:
        return [c for c in certs if named_by(c, name)]
    if fqdn:
        return [c for c in certs if any(covers(d, fqdn) for d in c.certificate_domains)]
    return []


def _usable(cert: ExchangeCertificate, now: datetime) -> bool:
    if cert.has_private_key is False:
        return False
    if cert.status not in (None, CertificateStatus.VALID):
        return False
    return not expired_on(cert.possible_not_after, now)  # unknown, or not expired under some reading: usable


def selected(matches: list[ExchangeCertificate], now: datetime) -> ExchangeCertificate | None:
    """The certificate Exchange presents among the matches: newest NotBefore, valid PKI first, then self-signed."""
    usable = [c for c in matches if c.has_private_key is not False]
    newest_first = sorted(usable, key=lambda c: c.not_before or datetime.min, reverse=True)
    pki = [c for c in newest_first if c.is_ca_issued and _usable(c, now)]
    if pki:
        return pki[0]
    self_signed = [c for c in newest_first if c.is_self_signed]
    return self_signed[0] if self_signed else (newest_first[0] if newest_first else None)
