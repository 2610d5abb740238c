"""Certificates for the rotation era (2026 and after): lifetimes a public CA may no longer issue (CA/B Forum ballot
SC-081) and the Client Authentication EKU public CAs stop issuing (Chrome Root Program, 2026-06-15). The tenant
side of the same era (names and tenants, MC1226222) is the ``tenants`` family."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from hybridtls import references as refs
from hybridtls.checks import fixes
from hybridtls.checks.base import Check, CheckContext, Command, Family, Need, needs
from hybridtls.checks.estate import about, cite, group_certificates
from hybridtls.checks.selection import parse_name
from hybridtls.model import (
    ChainAnalysis,
    ChainEnd,
    Citation,
    EvidenceSet,
    ExchangeCertificate,
    Finding,
    FindingSubject,
    NotJudged,
    RootCAType,
    Severity,
    Source,
)
from hybridtls.pki.lifetime import ONE_HOUR, limit_since, max_public_lifetime, over_public_limit
from hybridtls.pki.tlsname import TlsCertificateName, names_same_certificate
from hybridtls.powershell import Script

MOZILLA = "Mozilla root store"
_BEFORE_LIMITS = (f"issued before {refs.PUBLIC_TLS_LIFETIMES[0][0]}, when the Baseline Requirements counted the limit "
                  "in months; not judged")


# ---------------------------------------------------------------- HT-ROT-001: lifetime above the public limit


def _swapped(moment: datetime) -> datetime | None:
    """The same date with day and month the other way round, where that is a date."""
    if moment.day > 12 or moment.day == moment.month:
        return None
    return moment.replace(month=moment.day, day=moment.month)


def _misread_fits(not_before: datetime, not_after: datetime) -> bool:
    """Whether reading either date with day and month swapped brings the lifetime within the limit (dates read
    from text: an hour of daylight-saving slack)."""
    for before, after in ((_swapped(not_before), not_after), (not_before, _swapped(not_after)),
                          (_swapped(not_before), _swapped(not_after))):
        if (before is not None and after is not None and after > before
                and over_public_limit(before, after, ONE_HOUR) is None):
            return True
    return False


def _chain_likelier(chain: ChainAnalysis) -> str:
    if chain.end is ChainEnd.TRUSTED and chain.anchor_origin == MOZILLA:
        return ("its chain ends at a root of the Mozilla store, and dates read from the certificate itself cannot be "
                "mis-read: a public CA issued it outside the Baseline Requirements; ask the CA to revoke and reissue it")
    where = {ChainEnd.TRUSTED: f"at an anchor given to hybridtls ({chain.anchor_origin}), not a public root",
             ChainEnd.UNTRUSTED_ROOT: "at a root no public store holds",
             ChainEnd.MISSING_ISSUER: f"at {chain.missing_issuer!r}, an issuer that is neither given nor a public root"}
    return (f"its chain ends {where[chain.end]}: a private CA is likelier; Exchange Online needs a certificate from a "
            "public CA for the hybrid connectors")


def _exchange_likelier(cert: ExchangeCertificate, not_before: datetime, not_after: datetime) -> str:
    if _misread_fits(not_before, not_after):  # a date the check and Exchange read differently: a warning
        return ("read with day and month the other way round its lifetime is within the limit: a mis-read date is "
                "likelier (give --date-order dmy or mdy, as the server's culture writes dates)")
    if cert.root_ca_type in (RootCAType.ENTERPRISE, RootCAType.GROUP_POLICY, RootCAType.REGISTRY):
        return (f"RootCAType {cert.root_ca_type.value} says its root came from Active Directory, a policy or by hand: "
                "a private CA is likelier")
    return ("no reading of its dates fits the limit: a private CA whose root was put in Third-Party Root "
            "Certification Authorities by hand is likelier than a public CA")


def _lifetime_message(name: str, not_before: datetime, over: tuple[float, int], likelier: str) -> str:
    days, allowed = over
    return (f"{name} is valid for {days:,.0f} days from NotBefore {not_before:%Y-%m-%d}; a public CA may issue at most "
            f"{allowed} days from {limit_since(not_before)} (CA/B Forum BR 6.3.2, ballot SC-081; counted NotAfter - "
            f"NotBefore + 1 second). {likelier[0].upper()}{likelier[1:]}.")


def _lifetime(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding | NotJudged]:
    for chain in evidence.chains:
        leaf = chain.leaf
        if not leaf.is_self_signed and max_public_lifetime(leaf.not_before) is None:
            yield NotJudged(subject=leaf.label, source=leaf.source, reason=_BEFORE_LIMITS)
            continue
        over = None if leaf.is_self_signed else over_public_limit(leaf.not_before, leaf.not_after)
        if over:
            public = chain.end is ChainEnd.TRUSTED and chain.anchor_origin == MOZILLA
            yield LIFETIME.finding(
                subject=leaf.subject or leaf.thumbprint, about=FindingSubject(certificate=leaf.thumbprint),
                severity=Severity.WARNING if public else Severity.INFO,
                message=_lifetime_message(leaf.label, leaf.not_before, over, _chain_likelier(chain)),
                evidence=[Citation(source=leaf.source, text=f"NotBefore {leaf.not_before:%Y-%m-%d %H:%M:%S}, NotAfter "
                                                            f"{leaf.not_after:%Y-%m-%d %H:%M:%S} UTC")])
    for group in group_certificates(evidence.certificates):
        if group.is_ca_issued is not True:
            continue
        dated = [c for c in group.observations if c.not_before and c.not_after]
        if not dated:
            unsettled = next((c for c in group.observations if c.not_before_readings or c.not_after_readings), None)
            if unsettled:
                yield NotJudged(subject=group.name, source=unsettled.source,
                                reason="NotBefore or NotAfter reads two ways (day and month); give --date-order")
            continue
        cert = dated[0]
        assert cert.not_before and cert.not_after
        if max_public_lifetime(cert.not_before) is None:
            yield NotJudged(subject=group.name, source=cert.cite("notbefore"), reason=_BEFORE_LIMITS)
            continue
        # Get-ExchangeCertificate's dates are text, local time as the console wrote them, no offset kept: allow the
        # hour a daylight-saving change between NotBefore and NotAfter adds (a certificate file's dates are exact)
        over = over_public_limit(cert.not_before, cert.not_after, ONE_HOUR)
        if over:
            misread = _misread_fits(cert.not_before, cert.not_after)
            yield LIFETIME.finding(
                subject=group.name, about=about(cert, server=False), server=None,
                severity=Severity.WARNING if misread else Severity.INFO,
                message=_lifetime_message(group.name, cert.not_before, over,
                                          _exchange_likelier(cert, cert.not_before, cert.not_after)),
                evidence=[cite(cert, "notbefore", "NotBefore", f"{cert.not_before:%Y-%m-%d %H:%M:%S}"),
                          cite(cert, "notafter", "NotAfter", f"{cert.not_after:%Y-%m-%d %H:%M:%S}")])


DATED = Need(what="NotBefore and NotAfter of a CA-issued certificate (Get-ExchangeCertificate, or a certificate file)",
             reason="no CA-issued certificate with both dates in the evidence: save 'Get-ExchangeCertificate | "
                    "Format-List' or give the certificate file",
             present=lambda e, c: bool(e.chains) or any(
                 (cert.not_before or cert.not_before_readings) and cert.is_ca_issued for cert in e.certificates))

LIFETIME = Check(
    id="HT-ROT-001", title="Lifetime longer than a public CA may issue", severity=Severity.WARNING,
    needs=needs(DATED),
    explanation=("Public TLS certificates may be valid for at most 398 days (from 2020-09-01), 200 days from "
                 "2026-03-15, 100 from 2027-03-15 and 47 from 2029-03-15 (CA/B Forum ballot SC-081). A certificate that "
                 "lives longer than its NotBefore allows did not come from a public CA under the rules, or its dates "
                 "were mis-read (a console that writes day before month). Exchange Online needs a public CA's "
                 "certificate on the hybrid path; a private CA's certificate fails its validation. A warning where "
                 "the chain ends at a public root (the Mozilla store) or where reading the dates the other way round "
                 "fits the limit (a mis-read); otherwise a notice, as a private CA's certificate may be meant."),
    remediation=("Check the dates in the certificate itself ((Get-ChildItem Cert:\\LocalMachine\\My\\<Thumbprint>)."
                 "NotBefore on the server). If they are right, replace the certificate with one from a public CA, "
                 "and plan renewals at the new cadence: hybridtls plan --new-cert <File> gives the date the next "
                 "rotation is due."),
    command=fixes.CERTIFICATES_ON_SERVER,
    references=(refs.SC_081, refs.CAB_BASELINE, refs.CERT_REQUIREMENTS),
    run=_lifetime,
)


# ---------------------------------------------------------------- HT-ROT-002: no Client Authentication EKU


def hybrid_names(evidence: EvidenceSet) -> list[tuple[TlsCertificateName, Source, str]]:
    found = []
    for send in evidence.send_connectors:
        name = parse_name(send.tls_certificate_name) if send.is_hybrid else None
        if name is not None:
            found.append((name, send.cite("tlscertificatename"), f"Send connector {send.name!r}"))
    return found


def _client_auth_fix() -> str:
    script = Script("# Before binding a renewal for SMTP, see whether it still holds Client Authentication:")
    return str(script.add(
        "(Get-ChildItem Cert:\\LocalMachine\\My\\<Thumbprint>).EnhancedKeyUsageList",
        "# Keep a certificate that has it (Server and Client Authentication) on the hybrid send connector while",
        "# Microsoft has not said whether Exchange Online needs it; ask the CA which of its products still include it.",
    ))


def _client_auth(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    hybrid = hybrid_names(evidence)
    for chain in evidence.chains:
        leaf = chain.leaf
        oids = {oid for _, oid in leaf.extended_key_usage}
        if not oids or refs.CLIENT_AUTH in oids or refs.ANY_PURPOSE in oids or refs.SERVER_AUTH not in oids:
            continue  # no EKU extension means any use; a certificate not for servers is not a hybrid candidate
        listed = ", ".join(n for n, _ in leaf.extended_key_usage)
        own = TlsCertificateName(leaf.issuer, leaf.subject)
        users = [(source, what) for name, source, what in hybrid if names_same_certificate(name, own)]
        said = (f"{leaf.label} has Extended Key Usage {listed}, without Client Authentication ({refs.CLIENT_AUTH}). "
                "Exchange on-premises presents the hybrid certificate as a TLS client certificate when it sends to "
                "Exchange Online. Microsoft has published no statement yet on whether Exchange Online requires "
                f"Client Authentication there; public CAs stop issuing it in TLS certificates from "
                f"{refs.CLIENT_AUTH_SUNSET} (Chrome Root Program), so every renewal from then on lacks it.")
        if users:
            yield CLIENT_AUTH.finding(
                subject=leaf.subject or leaf.thumbprint, about=FindingSubject(certificate=leaf.thumbprint),
                message=said + " " + "; ".join(what for _, what in users) + " uses it.",
                evidence=[Citation(source=leaf.source, text=f"Extended Key Usage: {listed}"),
                          *(Citation(source=source, text=f"{what}: TlsCertificateName names it") for source, what in users)],
                remediation=_client_auth_fix())
        elif not hybrid:  # `cert` on a candidate: said as a notice, as nothing shows it on the send connector
            yield CLIENT_AUTH.finding(
                subject=leaf.subject or leaf.thumbprint, about=FindingSubject(certificate=leaf.thumbprint),
                severity=Severity.INFO, message=said + " No hybrid send connector in the evidence names it: this "
                "matters if it becomes the hybrid certificate.",
                evidence=[Citation(source=leaf.source, text=f"Extended Key Usage: {listed}")],
                remediation=_client_auth_fix())


EKU_LISTED = Need(what="the certificate itself (a certificate file: its Extended Key Usage)",
                  reason="Get-ExchangeCertificate does not show Extended Key Usage: give the certificate file "
                         "(Export-Certificate, or the .pfx/.cer the CA issued)",
                  present=lambda e, c: bool(e.chains))

CLIENT_AUTH = Check(
    id="HT-ROT-002", title="Hybrid certificate without the Client Authentication EKU", severity=Severity.WARNING,
    needs=needs(EKU_LISTED, also="hybrid send connectors (Get-SendConnector), to tell which certificate they use"),
    explanation=("On-premises to Exchange Online mail is sent with the hybrid certificate presented as a TLS client "
                 "certificate. Public CAs stop issuing TLS certificates with the Client Authentication EKU from "
                 "2026-06-15 (Chrome Root Program; the major CAs remove it by early 2027). Microsoft has published no "
                 "statement yet on whether Exchange Online needs that EKU from on-premises servers: this is a risk "
                 "to watch at each renewal, said with the evidence, not a known failure."),
    remediation=("Check each renewal's Extended Key Usage before binding it; keep a certificate with Client "
                 "Authentication on the hybrid send connector until Microsoft says whether it is needed."),
    command=fixes.CLIENT_AUTH_REQUEST,
    references=(refs.CHROME_ROOT_POLICY, refs.HYBRID_TLS_BLOG),
    run=_client_auth,
)


FAMILY = Family(name="rotation", commands=frozenset({Command.CHECK, Command.CERT}), checks=(LIFETIME, CLIENT_AUTH))
CHECKS = FAMILY.checks
