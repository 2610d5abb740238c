"""DANE for SMTP: TLSA records read, computed and matched against a chain as served (RFC 6698, 7671, 7672).

Pure: no DNS here. What a DANE sender does with the records is RFC 7672's:

- DANE-EE(3) matches the server's own certificate or key; names and dates are not checked.
- DANE-TA(2) matches a CA certificate (or its key) in the chain as served, or one the TLSA record carries whole
  (``2 0 0``); the server certificate must then chain to it, cover the TLSA base domain (the MX host name), and it
  and every certificate below the anchor must be within their dates (RFC 7671 section 5.2.2 relaxes dates for
  DANE-EE only): an expired one is RFC 8460's ``certificate-expired``.
- PKIX-TA(0) and PKIX-EE(1) are unusable for SMTP (RFC 7672 section 3.1.3); so are unknown selectors and matching
  types, and digests of the wrong length (RFC 7671 section 5).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime

from cryptography import x509

from hybridtls.model import (
    CertificateFile,
    DaneObservation,
    DaneResult,
    ProbeOutcome,
    ProbeResult,
    Source,
    TlsaLookup,
    TlsaMatch,
    TlsaRecord,
)
from hybridtls.model.dane import TlsaMatchingType, TlsaSelector, TlsaUsage
from hybridtls.pki.der import DerError
from hybridtls.pki.facts import facts_from_der, signature_check, spki_of
from hybridtls.pki.hostnames import covering_name, is_address
from hybridtls.pki.lifetime import comparable

MAX_TLSA_DATA_BYTES = 8192  # a full certificate (0 0 / 2 0 0) fits many times over; more is not a TLSA record
_DIGEST_BYTES = {TlsaMatchingType.SHA2_256: 32, TlsaMatchingType.SHA2_512: 64}
_FIELD = r"(25[0-5]|2[0-4]\d|1?\d{1,2})"
_PRESENTATION = re.compile(rf"^\s*{_FIELD}\s+{_FIELD}\s+{_FIELD}\s+([0-9A-Fa-f\s]+?)\s*$")


class TlsaSyntaxError(ValueError):
    """The text is not a TLSA record in presentation form; the message says what was expected."""


def parse_tlsa(text: str, *, source: Source, name: str = "", ttl: int | None = None) -> TlsaRecord:
    """``3 1 1 ab12...`` (the RDATA only; the data may be split by spaces, as zone files and dig print it)."""
    match = _PRESENTATION.match(text)
    if not match:
        raise TlsaSyntaxError(f"{text.strip()[:80]!r} is not a TLSA record: expected 'USAGE SELECTOR MATCHING-TYPE "
                              "HEX', each field 0-255, e.g. '3 1 1 9f86d0...'")
    data = "".join(match[4].split()).lower()
    if len(data) % 2:
        raise TlsaSyntaxError(f"the TLSA data has an odd number of hex digits ({len(data)})")
    if len(data) // 2 > MAX_TLSA_DATA_BYTES:
        raise TlsaSyntaxError(f"the TLSA data is {len(data) // 2} bytes, more than {MAX_TLSA_DATA_BYTES}")
    return TlsaRecord(usage=int(match[1]), selector=int(match[2]), matching_type=int(match[3]), data_hex=data,
                      source=source, name=name, ttl=ttl)


def tlsa_name(host: str, port: int = 25) -> str:
    """The owner name of a host's TLSA records: ``_25._tcp.mail.contoso.com``."""
    return f"_{port}._tcp.{host.rstrip('.').lower()}"


def selected(der: bytes, selector: int) -> bytes:
    """The content a selector names: the certificate itself (0) or its SubjectPublicKeyInfo (1)."""
    if selector == TlsaSelector.CERT:
        return der
    if selector == TlsaSelector.SPKI:
        return spki_of(der)
    raise ValueError(f"selector {selector} is not assigned")


def association(content: bytes, matching_type: int) -> bytes:
    """The certificate association data of selected content: itself (0), SHA-256 (1) or SHA-512 (2)."""
    if matching_type == TlsaMatchingType.FULL:
        return content
    if matching_type == TlsaMatchingType.SHA2_256:
        return hashlib.sha256(content).digest()
    if matching_type == TlsaMatchingType.SHA2_512:
        return hashlib.sha512(content).digest()
    raise ValueError(f"matching type {matching_type} is not assigned")


def tlsa_for(certificate: CertificateFile | bytes, usage: int = TlsaUsage.DANE_EE, selector: int = TlsaSelector.SPKI,
             mtype: int = TlsaMatchingType.SHA2_256, *, source: Source | None = None, name: str = "",
             ttl: int | None = None) -> TlsaRecord:
    """The TLSA record that matches a certificate (by default ``3 1 1``: the SHA-256 of its key)."""
    der = certificate.der if isinstance(certificate, CertificateFile) else certificate
    where = source or (certificate.source if isinstance(certificate, CertificateFile) else Source(path="computed"))
    return TlsaRecord(usage=int(usage), selector=int(selector), matching_type=int(mtype),
                      data_hex=association(selected(der, selector), mtype).hex(), source=where, name=name, ttl=ttl)


def unusable(record: TlsaRecord) -> str:
    """Why a DANE SMTP sender ignores this record; empty when it is usable."""
    if record.usage in (TlsaUsage.PKIX_TA, TlsaUsage.PKIX_EE):
        return f"{record.usage_name} is unusable for SMTP (RFC 7672 section 3.1.3): senders ignore it"
    if record.usage not in (TlsaUsage.DANE_TA, TlsaUsage.DANE_EE):
        return f"certificate usage {record.usage} is not assigned"
    if record.selector not in (TlsaSelector.CERT, TlsaSelector.SPKI):
        return f"selector {record.selector} is not assigned"
    if record.matching_type not in (TlsaMatchingType.FULL, TlsaMatchingType.SHA2_256, TlsaMatchingType.SHA2_512):
        return f"matching type {record.matching_type} is not assigned"
    size = _DIGEST_BYTES.get(TlsaMatchingType(record.matching_type))
    if size is not None and len(record.data_hex) != 2 * size:
        return f"a {8 * size}-bit digest must be {2 * size} hex digits, not {len(record.data_hex)}"
    if not record.data_hex:
        return "the record has no data"
    return ""


def match(record: TlsaRecord, chain: Sequence[CertificateFile], names: Sequence[str] = (),
          now: datetime | None = None) -> TlsaMatch:
    """Match one record against a chain as served (leaf first), as a DANE SMTP sender does. ``names`` are the
    reference identifiers a DANE-TA match must cover (the TLSA base domain); empty: the name is not checked.
    ``now`` is when the chain is judged (a DANE-TA match needs the certificates below the anchor valid then);
    None: the dates are not checked, and the reason says so."""
    why = unusable(record)
    if why:
        return TlsaMatch(record=record, matched=False, reason=why)
    if not chain:
        return TlsaMatch(record=record, matched=False, reason="no certificate was served")
    try:
        if record.usage == TlsaUsage.DANE_EE:
            if _associated(record, chain[0].der):
                return TlsaMatch(record=record, matched=True, reason="matches the server certificate (DANE-EE: "
                                 "names and dates are not checked)")
            return TlsaMatch(record=record, matched=False, reason="does not match the server certificate")
        return _trust_anchor(record, chain, names, now)
    except (DerError, ValueError) as exc:
        return TlsaMatch(record=record, matched=False, reason=f"a served certificate could not be read ({exc})")


def matches(record: TlsaRecord, chain: Sequence[CertificateFile], names: Sequence[str] = (),
            now: datetime | None = None) -> bool:
    return match(record, chain, names, now).matched


def _associated(record: TlsaRecord, der: bytes) -> bool:
    return association(selected(der, record.selector), record.matching_type).hex() == record.data_hex


def _trust_anchor(record: TlsaRecord, chain: Sequence[CertificateFile], names: Sequence[str],
                  now: datetime | None) -> TlsaMatch:
    leaf = chain[0]
    anchor = next((cert for cert in chain[1:] if _associated(record, cert.der)), None)
    where = "a CA certificate in the served chain"
    if anchor is None and record.selector == TlsaSelector.CERT and record.matching_type == TlsaMatchingType.FULL:
        try:  # 2 0 0: the trust anchor is in the record itself, and need not be served
            anchor = facts_from_der(bytes.fromhex(record.data_hex), source=record.source, label="TLSA 2 0 0")
            where = "the CA certificate carried in the TLSA record"
        except (DerError, ValueError, x509.InvalidVersion) as exc:
            return TlsaMatch(record=record, matched=False, reason=f"the certificate in the record is unreadable ({exc})")
    if anchor is None:
        return TlsaMatch(record=record, matched=False, reason="matches no CA certificate in the served chain")
    below = _path_to(leaf, anchor, chain[1:])
    if below is None:
        return TlsaMatch(record=record, matched=False,
                         reason=f"matches {anchor.subject or 'a CA'} ({where}), but the server certificate does not "
                                "chain to it")
    if names:
        covered = next((n for n in names if covering_name(leaf.dns_names or leaf.certificate_domains, n)), None)
        if covered is None:
            return TlsaMatch(record=record, matched=False,
                             reason=f"the server certificate chains to {anchor.subject or 'the anchor'} but covers none "
                                    f"of {', '.join(names)} (DANE-TA checks the name: certificate-host-mismatch)")
    if now is not None:
        stale = next((c for c in below if not _within(c, now)), None)
        if stale is not None:
            which = "the server certificate" if stale is leaf else f"{stale.subject or 'a CA'} (below the anchor)"
            return TlsaMatch(record=record, matched=False,
                             reason=f"matches {anchor.subject or 'a CA'} ({where}), but {which} is valid "
                                    f"{stale.not_before:%Y-%m-%d} to {stale.not_after:%Y-%m-%d}, not at "
                                    f"{now:%Y-%m-%d %H:%M} (DANE-TA checks the dates: certificate-expired)")
    checked = "" if names else "; the name was not checked (no host name)"
    checked += "" if now is not None else "; the dates were not checked (no time of observation)"
    return TlsaMatch(record=record, matched=True, reason=f"matches {anchor.subject or 'a CA'} ({where}){checked}")


def _within(cert: CertificateFile, now: datetime) -> bool:
    return cert.not_before <= comparable(now, cert.not_after) <= cert.not_after


def _path_to(leaf: CertificateFile, anchor: CertificateFile,
             served: Sequence[CertificateFile]) -> list[CertificateFile] | None:
    """The certificates from the leaf up to (not including) the anchor, each signed by the next, through served
    certificates (at most one pass each); None when signatures lead nowhere near the anchor."""
    path = [leaf]
    for _ in range(len(served) + 1):
        current = path[-1]
        if current.issuer_der == anchor.subject_der and signature_check(current, anchor).ok:
            return path
        parent = next((c for c in served if c.der != current.der and c.subject_der == current.issuer_der
                       and signature_check(current, c).ok), None)
        if parent is None:
            return None
        path.append(parent)
    return None


def sender_result(matches: Sequence[TlsaMatch], *, lookup: TlsaLookup, secure: bool | None, mx_secure: bool | None,
                  probe: ProbeResult) -> tuple[DaneResult | None, str]:
    """What a DANE sender (Exchange Online, Postfix with dane) would log for this address (an RFC 8460 result
    type, None when it would deliver or not use DANE), and why, in words."""
    if lookup is TlsaLookup.NOT_LOOKED_UP:
        return None, "TLSA not looked up"
    if mx_secure is False:
        return None, ("the MX lookup was not DNSSEC-validated: a DANE sender does not look up the MX host's TLSA "
                      "records (RFC 7672 section 2.2.1)")
    if lookup is TlsaLookup.SERVFAIL:
        return DaneResult.DNSSEC_INVALID, ("the TLSA lookup failed (SERVFAIL): a DANE sender cannot tell whether DANE "
                                           "applies, so it defers the mail and retries (RFC 7672 section 2.2)")
    if lookup is TlsaLookup.FAILED:
        return None, ("the TLSA lookup got no answer here (a timeout or a refusal of the resolver asked): what a DANE "
                      "sender would do was not determined")
    if lookup is TlsaLookup.NONE:
        return None, "no TLSA records: DANE is not in use for this host"
    if not secure:
        return None, ("TLSA records were found, but the answer is not DNSSEC-validated (AD bit not set): DANE senders "
                      "ignore them")
    if probe.outcome in (ProbeOutcome.NO_STARTTLS, ProbeOutcome.STARTTLS_REJECTED):
        return DaneResult.STARTTLS_NOT_SUPPORTED, "DANE requires STARTTLS and this address does not offer it"
    if not probe.chain:
        if probe.outcome is ProbeOutcome.TLS_FAILED:
            return DaneResult.VALIDATION_FAILURE, "the TLS handshake failed: no certificate to match"
        return None, (f"no TLS handshake was made ({probe.outcome.value} at {probe.stage.value}): the TLSA records "
                      "were not matched, and what a DANE sender would do was not determined")
    usable = [m for m in matches if not unusable(m.record)]
    if not usable:
        return None, ("every TLSA record is unusable for SMTP: DANE senders still require TLS but do not authenticate "
                      "the server (RFC 7672 section 2.2)")
    if any(m.matched for m in usable):
        return None, "a TLSA record matches the chain served: a DANE sender delivers"
    if any("certificate-expired" in m.reason for m in usable):
        return DaneResult.CERTIFICATE_EXPIRED, ("a DANE-TA record matches the issuer, but a certificate below it is "
                                                "outside its dates: a DANE sender will not deliver")
    if any("certificate-host-mismatch" in m.reason for m in usable):
        return DaneResult.CERTIFICATE_HOST_MISMATCH, ("a DANE-TA record matches the issuer, but the certificate does "
                                                      "not cover the host name")
    return DaneResult.TLSA_INVALID, "no usable TLSA record matches the chain served: a DANE sender will not deliver"


def observe(probe: ProbeResult, *, lookup: TlsaLookup, secure: bool | None, records: Sequence[TlsaRecord],
            resolver: str, mx_secure: bool | None = None, error: str = "", now: datetime | None = None) -> DaneObservation:
    """A probe's DANE observation: every record matched against its chain (the host name as reference identity,
    the dates at ``now``, else when the probe was made), and what a DANE sender would log. ``error`` says why the
    lookup did not answer, when it did not."""
    names = () if is_address(probe.host) else (probe.host,)
    when = now or probe.observed_at
    matches = tuple(match(record, probe.chain, names, when) for record in records)
    result, why = sender_result(matches, lookup=lookup, secure=secure, mx_secure=mx_secure, probe=probe)
    if lookup is TlsaLookup.NOT_LOOKED_UP:
        why = f"TLSA not looked up: {error}" if error else why
    elif error and lookup is not TlsaLookup.NONE:  # why it failed; or, for records found, what was left out
        why = f"{why} ({error})"
    return DaneObservation(tlsa_name=tlsa_name(probe.host, probe.port), lookup=lookup, resolver=resolver,
                           secure=secure, mx_secure=mx_secure, matches=matches, result=result, detail=why)


__all__ = ["MAX_TLSA_DATA_BYTES", "TlsaSyntaxError", "association", "match", "matches", "observe", "parse_tlsa",
           "selected", "sender_result", "tlsa_for", "tlsa_name", "unusable"]
