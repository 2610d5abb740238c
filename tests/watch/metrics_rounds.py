"""Synthetic rounds for the /metrics tests: observations built from real certificates (tests/factory.py)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from factory import Issued, issue, name, public_like_pki

from hybridtls.model import Severity
from hybridtls.watch.model import FindingMark, Observation, Round, ServedCertificate

STARTED = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def naive(moment: datetime) -> datetime:
    """Certificate dates in the model are naive UTC (as pki.facts reads them)."""
    return moment.replace(tzinfo=None)


def epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def served(issued: Issued) -> ServedCertificate:
    cert = issued.cert
    try:
        names = tuple(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                      .get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        names = ()
    return ServedCertificate(
        sha256=hashlib.sha256(issued.der).hexdigest(), thumbprint=cert.fingerprint(hashes.SHA1()).hex().upper(),
        serial_number=f"{cert.serial_number:x}".upper(), subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(), names=names, not_before=naive(cert.not_valid_before_utc),
        not_after=naive(cert.not_valid_after_utc))


def observation(host: str, address: str, leaf: Issued | None, *, chain: tuple[Issued, ...] = (),
                outcome: str = "ok", chain_end: str | None = "trusted", name_covered: bool | None = True,
                expected: bool | None = None, findings: tuple[FindingMark, ...] = (),
                versions: tuple[tuple[str, bool | None], ...] = (("TLSv1.2", True), ("TLSv1.3", True)),
                port: int = 25) -> Observation:
    served_chain = (leaf, *chain) if leaf else ()
    return Observation(
        host=host, address=address, port=port, outcome=outcome, observed_at=STARTED, elapsed_ms=420,
        starttls_offered=leaf is not None, tls_version="TLSv1.3" if leaf else None,
        versions_accepted=versions if leaf else (), leaf=served(leaf) if leaf else None,
        chain_sha256=tuple(hashlib.sha256(c.der).hexdigest() for c in served_chain),
        chain_der=tuple(c.der for c in served_chain),
        chain_end=chain_end if leaf else None,
        chain_expiry=naive(min(c.cert.not_valid_after_utc for c in served_chain)) if served_chain else None,
        name_covered=name_covered if leaf else None, expected_cert_matches=expected if leaf else None,
        findings=findings)


def mark(check_id: str, severity: Severity, key: str = "") -> FindingMark:
    return FindingMark(key=key or f"{check_id}|x", check_id=check_id, severity=severity, message="m")


def estate() -> tuple[Round, dict[str, datetime]]:
    """Two nodes behind mail.contoso.com (one serves an expired certificate from an untrusted root), one that
    refuses connections, a watch-wide odd-node finding."""
    pki = public_like_pki()
    expired = issue(name("mail.contoso.com", "Contoso Ltd", "US"), dns=("mail.contoso.com",),
                    not_before=STARTED - timedelta(days=400), not_after=STARTED - timedelta(days=3))
    good = observation("mail.contoso.com", "127.0.0.1", pki.leaf, chain=(pki.intermediate,))
    bad = observation("mail.contoso.com", "127.0.0.2", expired, chain_end="untrusted_root",
                      versions=(("TLSv1", False), ("TLSv1.2", True), ("TLSv1.3", None)),
                      findings=(mark("HT-WIRE-001", Severity.ERROR, "a"), mark("HT-WIRE-001", Severity.ERROR, "b"),
                                mark("HT-CERT-001", Severity.WARNING)))
    down = observation("mail.contoso.com", "127.0.0.3", None, outcome="refused")
    round_ = Round(number=7, started_at=STARTED, finished_at=STARTED + timedelta(seconds=2.5),
                   observations=(good, bad, down), findings=(mark("HT-WATCH-ODD", Severity.WARNING),))
    return round_, {good.label: STARTED - timedelta(days=1), bad.label: STARTED - timedelta(hours=1)}
