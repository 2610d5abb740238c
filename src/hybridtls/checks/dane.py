"""DANE for SMTP (RFC 7672): do the TLSA records of each probed host match what each of its addresses serves?

Exchange Online sends with outbound SMTP DANE: where an on-premises MX or smart host publishes DNSSEC-signed TLSA
records, a certificate they do not match makes Exchange Online refuse to deliver. Facts come from the probe
(``ProbeResult.dane``); DNSSEC status is the AD bit of the resolver that answered, never validated here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from hybridtls import references as refs
from hybridtls.checks import fixes
from hybridtls.checks.base import Check, CheckContext, Command, Family, Need, needs
from hybridtls.model import (
    CertificateFile,
    Citation,
    DaneObservation,
    DaneResult,
    EvidenceSet,
    Finding,
    FindingSubject,
    ProbeResult,
    Severity,
    Source,
    TlsaLookup,
    TlsaUsage,
)
from hybridtls.pki.hostnames import covering_name
from hybridtls.pki.lifetime import comparable
from hybridtls.powershell import Script, comment_text

ZONE_TTL = 3600  # the TTL the zone lines we suggest carry; keep it short around a rotation


def _looked_up(evidence: EvidenceSet) -> list[tuple[ProbeResult, DaneObservation]]:
    return [(p, p.dane) for p in evidence.probes
            if p.dane is not None and p.dane.lookup not in (TlsaLookup.NOT_LOOKED_UP, TlsaLookup.NONE)]


TLSA_ANSWERS = Need(
    what="TLSA records of a probed host (hybridtls probe of a host name)",
    reason=("no probe found TLSA records (DANE is not in use where none are published): run hybridtls probe HOST, or "
            "give its saved JSON; probe host names, not addresses; with --resolve, also give --nameserver"),
    present=lambda e, c: bool(_looked_up(e)))


def dnssec_said(dane: DaneObservation) -> str:
    """Whose word the DNSSEC status is, said every time it is used."""
    return f"DNSSEC status as reported by {dane.resolver} (AD bit); hybridtls does not validate signatures itself"


def _cite(probe: ProbeResult, dane: DaneObservation) -> list[Citation]:
    listed = [Citation(source=m.record.source, text=f"{m.record.presentation[:80]}: {m.reason}") for m in dane.matches]
    return [Citation(source=Source(path=f"probe {probe.label}"), text=f"{dane.tlsa_name}: {dane.detail}"), *listed]


def zone_line(owner: str, presentation: str, ttl: int = ZONE_TTL) -> str:
    """A zone-file line: ``_25._tcp.mx.contoso.com. 3600 IN TLSA 3 1 1 ab12...``."""
    return f"{owner.rstrip('.')}. {ttl} IN TLSA {presentation}"


def publish_fix(owner: str, leaf: CertificateFile, *lead: str) -> str:
    """Publish the 3 1 1 record of a certificate's key, and compute the same record on Windows to compare."""
    from hybridtls.pki.dane import tlsa_for  # cryptography loads only when a DANE finding is made

    record = tlsa_for(leaf)
    script = Script(*lead)
    script.comment("Publish in the DNSSEC-signed zone, beside the records already there:")
    script.comment(zone_line(owner, record.presentation))
    script.comment("The same value from the certificate on the server (PowerShell 7.2 or later: Windows PowerShell 5.1")
    script.comment("lacks ExportSubjectPublicKeyInfo, so run it in pwsh, or let hybridtls plan --new-cert compute it):")
    script.add(f"$c = {script.certificate_item(thumbprint_text=leaf.thumbprint, serial=leaf.serial_number)}",
               "'3 1 1 ' + [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData("
               "$c.PublicKey.ExportSubjectPublicKeyInfo())).ToLower()")
    return str(script)


def _resolve_fix(tlsa_name: str, *lead: str) -> str:
    script = Script(*lead)
    return str(script.add(_resolve_line(script, tlsa_name)))


def _resolve_line(script: Script, tlsa_name: str) -> str:
    return f"Resolve-DnsName -Name {script.value(tlsa_name, '<TlsaName>', 'TLSA name')} -Type TLSA -DnssecOk"


_REFUSED = {DaneResult.TLSA_INVALID, DaneResult.CERTIFICATE_HOST_MISMATCH, DaneResult.DNSSEC_INVALID,
            DaneResult.STARTTLS_NOT_SUPPORTED, DaneResult.VALIDATION_FAILURE, DaneResult.CERTIFICATE_EXPIRED}


def _no_match(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    for probe, dane in _looked_up(evidence):
        if dane.lookup is TlsaLookup.FAILED and dane.mx_secure is not False:
            yield NO_MATCH.finding(
                subject=probe.label, about=FindingSubject(address=probe.label), severity=Severity.INFO,
                message=(f"{probe.label}: the TLSA lookup of {dane.tlsa_name} got no answer from {dane.resolver} "
                         f"({dane.detail}). Whether a DANE sender (Exchange Online) would deliver was not "
                         "determined: look the name up again."),
                evidence=_cite(probe, dane), command=_resolve_line(Script(), dane.tlsa_name),
                remediation=_resolve_fix(dane.tlsa_name, "# Look the TLSA records up again, through a validating "
                                                         "resolver:"))
            continue
        if dane.result is None or dane.result not in _REFUSED:
            continue
        command = ""
        if dane.result is DaneResult.DNSSEC_INVALID:
            message = (f"{probe.label}: the TLSA lookup of {dane.tlsa_name} failed ({dane.detail}). A DANE sender "
                       f"(Exchange Online) defers the mail and retries, and reports '{dane.result.value}'.")
            fix = _resolve_fix(dane.tlsa_name, "# Check the DNSSEC chain of the zone (a broken DS or expired "
                                               "signatures give SERVFAIL):")
            command = _resolve_line(Script(), dane.tlsa_name)
        elif dane.result is DaneResult.CERTIFICATE_EXPIRED:
            records = "; ".join(f"{m.record.presentation[:40]}...: {m.reason}" for m in dane.matches)
            message = (f"{probe.label}: a DANE-TA record of {dane.tlsa_name} names the issuer, but the chain this "
                       f"address serves is outside its dates ({records}). DANE-TA checks dates as usual (only "
                       f"DANE-EE relaxes them): Exchange Online will not deliver, and reports '{dane.result.value}' "
                       "(RFC 8460).")
            fix = ("# Renew the certificate (and any expired intermediate), serve the new chain on every node,\n"
                   "# then probe again: hybridtls probe " + comment_text(probe.host))
            command = fixes.CERTIFICATE_REQUEST
        else:
            records = "; ".join(f"{m.record.presentation[:40]}...: {m.reason}" for m in dane.matches) or "none"
            what = (f"no TLSA record of {dane.tlsa_name} matches the chain this address serves ({records})"
                    if probe.chain else f"{dane.tlsa_name} publishes TLSA records, but {dane.detail}")
            message = (f"{probe.label}: {what}. The records are DNSSEC-secure ({dnssec_said(dane)}). Exchange "
                       f"Online sends with DANE and will not deliver to this address; it reports "
                       f"'{dane.result.value}' (RFC 8460).")
            fix = (publish_fix(dane.tlsa_name, probe.chain[0], "# The record that matches the key this address serves:")
                   if probe.chain else "# Restore STARTTLS with the certificate the TLSA records name.")
        yield NO_MATCH.finding(subject=probe.label, about=FindingSubject(address=probe.label), message=message,
                               evidence=_cite(probe, dane), remediation=fix, command=command)


NO_MATCH = Check(
    id="HT-DANE-001", title="No TLSA record matches the certificate served: a DANE sender will not deliver",
    severity=Severity.ERROR, needs=needs(TLSA_ANSWERS),
    explanation=("Exchange Online sends with outbound SMTP DANE. When the host's TLSA records are DNSSEC-signed, it "
                 "delivers only to an address whose chain one of them matches (DANE-EE: the server's certificate or "
                 "key; DANE-TA: an issuing CA, the host name and the certificate dates). A new certificate with a "
                 "new key that the records do not name, an expired one under a DANE-TA record, or a failed TLSA "
                 "lookup (SERVFAIL) stops delivery to that address."),
    remediation=("Publish the TLSA record of the key the address serves (3 1 1: SHA-256 of its SubjectPublicKeyInfo) "
                 "beside the current records, or serve the certificate the records name."),
    command=fixes.TLSA_ADD,
    references=(refs.EXO_DANE, refs.RFC_7672, refs.RFC_8460), run=_no_match,
)


def _insecure(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    said: set[str] = set()
    for probe, dane in _looked_up(evidence):
        if dane.lookup is not TlsaLookup.FOUND or dane.tlsa_name in said:
            continue
        if dane.secure is not True:
            why = "the TLSA answer is not DNSSEC-validated"
        elif dane.mx_secure is False:
            why = "the MX answer that named this host is not DNSSEC-validated (RFC 7672 section 2.2.1)"
        else:
            continue
        said.add(dane.tlsa_name)
        yield INSECURE.finding(
            subject=dane.tlsa_name, about=FindingSubject(name=dane.tlsa_name),
            message=(f"{dane.tlsa_name} publishes {len(dane.matches)} TLSA record(s), but {why} ({dnssec_said(dane)}). "
                     "DANE senders ignore such records: they protect nothing, and give a false sense that they do."
                     + ("" if dane.secure is True else f" If {dane.resolver} does not validate DNSSEC itself, this "
                        "says nothing about the zone: probe again with --nameserver set to a validating resolver.")),
            evidence=_cite(probe, dane),
            remediation=_resolve_fix(dane.tlsa_name,
                                     "# Sign the zone and publish its DS record at the parent (or remove the TLSA "
                                     "records), then",
                                     "# check through a validating resolver that the answer carries the AD flag:"),
        )


INSECURE = Check(
    id="HT-DANE-002", title="TLSA records published without DNSSEC", severity=Severity.WARNING,
    needs=needs(TLSA_ANSWERS, also="the AD bit of the resolver given with --nameserver (a validating resolver)"),
    explanation=("TLSA records count only when DNSSEC proves them (RFC 7672): without a signed zone, or when the MX "
                 "lookup that led to the host is not signed, senders skip DANE. The records look like protection "
                 "and are not."),
    remediation="Sign the zone (and the MX zone) with DNSSEC, or remove the TLSA records.",
    command=fixes.ZONE_SIGN,
    references=(refs.RFC_7672, refs.RFC_6698), run=_insecure,
)


def _newer_certificates(evidence: EvidenceSet, served: CertificateFile, host: str) -> list[CertificateFile]:
    """Certificates in the evidence that will replace the served one for this host: they cover it, issued later."""
    return [c for c in evidence.certificate_files
            if not c.is_ca and c.der != served.der and c.not_before > served.not_before
            and covering_name(c.dns_names or c.certificate_domains, host)]


def _chain_of(evidence: EvidenceSet, leaf: CertificateFile) -> tuple[CertificateFile, ...]:
    return next((c.path for c in evidence.chains if c.leaf.der == leaf.der), (leaf,))


def _expiring(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    from hybridtls.pki.dane import matches

    for probe, dane in _looked_up(evidence):
        matched = [m.record for m in dane.matches if m.matched]
        if not dane.applies or not matched or not probe.chain:
            continue
        leaf = probe.chain[0]
        newer = _newer_certificates(evidence, leaf, probe.host)
        pinned_to_leaf = all(r.usage == TlsaUsage.DANE_EE for r in matched)
        left = leaf.not_after - comparable(ctx.now, leaf.not_after)
        if newer:
            unmatched = [c for c in newer if not any(matches(r, _chain_of(evidence, c), (probe.host,))
                                                     for r in dane.records)]
            if not unmatched:
                continue
            new = unmatched[0]
            message = (f"{probe.label}: the TLSA records of {dane.tlsa_name} match only the certificate served now "
                       f"(thumbprint {leaf.thumbprint}), not its replacement in the evidence ({new.subject}, thumbprint "
                       f"{new.thumbprint}, from {new.source}). Swapping the certificate before publishing the new "
                       "record stops DANE senders (Exchange Online) from delivering.")
            fix = publish_fix(dane.tlsa_name, new, "# Before the swap: the record of the new certificate's key.",
                              "# Keep the current record until every node serves the new certificate; remove it one",
                              "# TTL after the swap.")
        elif pinned_to_leaf and left < timedelta(days=refs.EXPIRY_WARNING_DAYS):
            message = (f"{probe.label}: the only TLSA record(s) of {dane.tlsa_name} that match name the certificate "
                       f"served now (DANE-EE), which expires {leaf.not_after:%Y-%m-%d} ({max(left.days, 0)} day(s) "
                       "left). Its replacement will need its own record, published before the swap; with a new "
                       "key, a DANE sender would not deliver.")
            fix = ("# When the new certificate is at hand, plan the change: it prints the record to publish first.\n"
                   "# hybridtls plan --new-cert <NewCertificate.pfx> <evidence folder>")
        else:
            continue
        yield EXPIRING.finding(subject=probe.label, about=FindingSubject(address=probe.label), message=message,
                               evidence=_cite(probe, dane), remediation=fix)


EXPIRING = Check(
    id="HT-DANE-003", title="TLSA records match only a certificate on its way out", severity=Severity.WARNING,
    needs=needs(TLSA_ANSWERS, also="certificate files of the replacement (its rotation), and --now"),
    explanation=("DANE-EE records (3 x x) name one certificate or key. When the only matching record names a "
                 "certificate that expires within 30 days, or the old key while a replacement is at hand, the "
                 "rotation breaks DANE delivery unless the new record is published first (and the old one kept "
                 "until the swap is done)."),
    remediation="Publish the new key's TLSA record (3 1 1) before the swap; remove the old one a TTL after it.",
    command=fixes.TLSA_ADD,
    references=(refs.RFC_7671, refs.RFC_7672), run=_expiring,
)


FAMILY = Family(name="dane", commands=frozenset({Command.CHECK, Command.PROBE}),
                checks=(NO_MATCH, INSECURE, EXPIRING))
CHECKS = FAMILY.checks
