"""What each address presented on the wire, judged the way Exchange Online judges an on-premises smart host."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime

from hybridtls import references as refs
from hybridtls.checks import fixes
from hybridtls.checks.base import Check, CheckContext, Command, Family, needs
from hybridtls.checks.fixes import CONNECT_FIX, SAME_CERTIFICATE_FIX, tls_domain_fix
from hybridtls.checks.needs import NAME_WITH_SEVERAL_ADDRESSES, PROBED_NAME_WITH_CERTIFICATE, PROBES
from hybridtls.model import (
    ChainEnd,
    Citation,
    EvidenceSet,
    Finding,
    FindingSubject,
    ProbeOutcome,
    ProbeResult,
    ProbeStep,
    Severity,
    Source,
)
from hybridtls.pki.hostnames import covering_name, is_address

_MODERN = ("TLSv1.2", "TLSv1.3")


def _step(probe: ProbeResult, step: ProbeStep | None = None) -> Citation:
    lines = [t for t in probe.transcript if step is None or t.step == step] or list(probe.transcript[-1:])
    text = " | ".join(f"{t.direction.value} {t.text}" for t in lines[-4:]) or probe.detail
    return Citation(source=Source(path=f"probe {probe.label}", line=None), text=f"{probe.stage.value}: {text}")


_CONNECT_WORDS = {
    ProbeOutcome.REFUSED: ("the connection was refused", "450 4.4.316 Connection refused [Message=Socket error code 10061]"),
    ProbeOutcome.TIMEOUT: ("no answer within the timeout", "450 4.4.315 Connection timed out"),
    ProbeOutcome.UNREACHABLE: ("the address is unreachable", "450 4.4.315 Connection timed out"),
    ProbeOutcome.DNS_FAILED: ("the name does not resolve", "450 4.4.312 DNS query failed"),
    ProbeOutcome.DEADLINE: ("the run's deadline passed before this address answered", "(not judged)"),
    ProbeOutcome.INTERRUPTED: ("the run was interrupted before this address answered", "(not judged)"),
}


def _connect(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    for probe in evidence.probes:
        if probe.outcome not in _CONNECT_WORDS:
            continue
        what, exo = _CONNECT_WORDS[probe.outcome]
        timeout_in_conversation = probe.outcome is ProbeOutcome.TIMEOUT and probe.stage is not ProbeStep.CONNECT
        if timeout_in_conversation:
            what = f"the server stopped answering during {probe.stage.value}"
        yield CONNECT_FAILED.finding(
            subject=probe.label, about=FindingSubject(address=probe.label),
            message=f"{probe.label}: {what} ({probe.detail}). Exchange Online would defer with {exo}.",
            evidence=[_step(probe)],
            remediation=CONNECT_FIX,
        )


CONNECT_FAILED = Check(
    id="HT-WIRE-001", title="Cannot connect to the SMTP address", severity=Severity.ERROR, needs=needs(PROBES),
    explanation=("Exchange Online must reach TCP 25 on every address of the outbound connector's smart hosts (or MX). "
                 "Refused, timed-out or unresolvable addresses defer mail with 4.4.316, 4.4.315 or 4.4.312."),
    remediation="Open TCP 25 from the Microsoft 365 ranges; fix DNS for the smart host name.",
    command='Test-NetConnection -ComputerName <SmartHost> -Port 25',
    references=(refs.MAIL_FLOW_INTELLIGENCE,), run=_connect,
)


def _starttls(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    for probe in evidence.probes:
        if probe.outcome not in (ProbeOutcome.NO_STARTTLS, ProbeOutcome.STARTTLS_REJECTED):
            continue
        anonymous = any(e.upper().startswith("X-ANONYMOUSTLS") for e in probe.extensions)
        cause = ("It advertises X-ANONYMOUSTLS but not STARTTLS: Exchange found no certificate for the receive "
                 "connector's TlsCertificateName or FQDN (event 12014)." if anonymous else
                 "Exchange stops offering STARTTLS when no certificate matches the receive connector's "
                 "TlsCertificateName or FQDN (event 12014); a firewall's SMTP inspection can also strip it.")
        verb = "does not offer STARTTLS" if probe.outcome is ProbeOutcome.NO_STARTTLS else "refused STARTTLS"
        yield NO_STARTTLS.finding(
            subject=probe.label, about=FindingSubject(address=probe.label),
            message=(f"{probe.label} {verb} ({probe.detail}). Exchange Online requires TLS on hybrid connectors and "
                     f"defers with '450 4.4.317 Cannot connect to remote server [Message=451 5.7.3 STARTTLS is "
                     f"required to send mail]'. {cause}"),
            evidence=[_step(probe, ProbeStep.EHLO if probe.outcome is ProbeOutcome.NO_STARTTLS else ProbeStep.STARTTLS)],
            remediation=("# On the server behind this address (Exchange Management Shell):\n"
                         "Get-ReceiveConnector -Server <ServerName> | Format-List Identity, Bindings, AuthMechanism, "
                         "TlsCertificateName, Fqdn\n"
                         "$c = Get-ExchangeCertificate -Server <ServerName> -Thumbprint <Thumbprint>\n"
                         "Set-ReceiveConnector '<ServerName>\\Default Frontend <ServerName>' "
                         "-TlsCertificateName \"<I>$($c.Issuer)<S>$($c.Subject)\""),
        )


NO_STARTTLS = Check(
    id="HT-WIRE-002", title="STARTTLS not offered or refused", severity=Severity.ERROR, needs=needs(PROBES),
    explanation=("Hybrid connectors require TLS. Exchange offers STARTTLS only when it finds a certificate for the "
                 "receive connector's TlsCertificateName (or FQDN); after a certificate change that left the "
                 "connector naming a removed certificate, STARTTLS disappears (event 12014)."),
    remediation="Point the receive connector's TlsCertificateName at the installed certificate, or re-run the HCW.",
    command=fixes.tls_name_command("Set-ReceiveConnector -Identity '<ServerName>\\Default Frontend <ServerName>'"),
    references=(refs.NEW_CERTIFICATE_NO_MAIL, refs.HYBRID_TLS_BLOG), run=_starttls,
)


def _handshake(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    for probe in evidence.probes:
        if probe.outcome not in (ProbeOutcome.TLS_FAILED, ProbeOutcome.PROTOCOL_ERROR, ProbeOutcome.BUSY):
            continue
        if probe.outcome is ProbeOutcome.BUSY:
            yield HANDSHAKE_FAILED.finding(
                subject=probe.label, about=FindingSubject(address=probe.label), severity=Severity.WARNING,
                message=(f"{probe.label} answered 421 ({probe.detail}), also on the retry: it is refusing "
                         "sessions (load, rate limits, or a back-pressure state). Exchange Online defers and retries."),
                evidence=[_step(probe, ProbeStep.BANNER)],
                remediation="Get-ExchangeDiagnosticInfo -Server <ServerName> -Process EdgeTransport -Component "
                            "ResourceThrottling",
            )
            continue
        during = "the TLS handshake" if probe.stage is ProbeStep.HANDSHAKE else probe.stage.value
        yield HANDSHAKE_FAILED.finding(
            subject=probe.label, about=FindingSubject(address=probe.label),
            message=(f"{probe.label} failed during {during}: {probe.detail}. Exchange Online reports such failures as "
                     "'451 4.4.0 TLS negotiation failed' or 'Security status IllegalMessage' and defers."),
            evidence=[_step(probe)],
            remediation=("# Check Schannel on the server: TLS 1.2 enabled for server and client, .NET strong crypto:\n"
                         "Get-ItemProperty 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\"
                         "Protocols\\TLS 1.2\\Server'\n"
                         "# Or run Microsoft's HealthChecker: .\\HealthChecker.ps1 -Server <ServerName>"),
        )


HANDSHAKE_FAILED = Check(
    id="HT-WIRE-003", title="SMTP or TLS conversation failed", severity=Severity.ERROR, needs=needs(PROBES),
    explanation=("The server answered but the conversation broke: a TLS handshake failure (no common protocol or "
                 "cipher, a bad certificate key), garbage instead of SMTP or TLS, a dropped connection, or a 421 "
                 "refusal. Exchange Online defers and retries for up to 48 hours."),
    remediation="Read the transcript step that failed; fix Schannel (TLS 1.2, ciphers) or the device in front.",
    command=fixes.TLS12_SERVER,
    references=(refs.EXO_ENCRYPTION, refs.MAIL_FLOW_INTELLIGENCE), run=_handshake,
)


def _versions(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    for probe in evidence.probes:
        if probe.outcome is not ProbeOutcome.OK:
            continue
        accepted = [v for v, ok in probe.versions_accepted if ok]
        modern = probe.tls_version in _MODERN or any(v in _MODERN for v in accepted)
        sweep = ", ".join(f"{v} {'accepted' if ok else 'refused' if ok is False else 'not tested'}"
                          for v, ok in probe.versions_accepted) or "no sweep"
        if not modern:
            yield OLD_TLS.finding(
                subject=probe.label, about=FindingSubject(address=probe.label),
                message=(f"{probe.label} negotiated {probe.tls_version} and accepts no TLS 1.2 or later ({sweep}). "
                         "Exchange Online never sends with TLS 1.0/1.1: hybrid mail to this address fails."),
                evidence=[_step(probe, ProbeStep.HANDSHAKE)],
                remediation=("# Enable TLS 1.2 (Exchange 2013 needs CU20+, 2016 CU9+), then restart the server:\n"
                             "New-Item 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols"
                             "\\TLS 1.2\\Server' -Force | New-ItemProperty -Name Enabled -Value 1 -PropertyType DWord -Force"),
            )
        elif probe.accepted("TLSv1.2") is False:
            yield OLD_TLS.finding(
                subject=probe.label, about=FindingSubject(address=probe.label), severity=Severity.INFO,
                message=(f"{probe.label} accepts only TLS 1.3 ({sweep}). Exchange Online can use TLS 1.3, but senders "
                         "limited to TLS 1.2 (Exchange Server 2016/2019 among them) cannot reach it."),
                evidence=[_step(probe, ProbeStep.HANDSHAKE)],
                remediation="# If on-premises servers must send here too, enable TLS 1.2 as well.",
            )


OLD_TLS = Check(
    id="HT-WIRE-004", title="TLS 1.2 or later not accepted", severity=Severity.ERROR, needs=needs(PROBES),
    explanation="Exchange Online sends only with TLS 1.2 or later; a server limited to TLS 1.0/1.1 cannot receive.",
    remediation="Enable TLS 1.2 in Schannel and for .NET (SchUseStrongCrypto, SystemDefaultTlsVersions).",
    command=fixes.TLS12_SERVER,
    references=(refs.EXO_ENCRYPTION,), run=_versions,
)


def _name(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    presented = [p for p in evidence.probes if p.chain and not is_address(p.expected_name)]
    for probe in presented:
        leaf = probe.chain[0]
        if covering_name(leaf.certificate_domains, probe.expected_name):
            continue
        yield NAME_MISMATCH.finding(
            subject=probe.label, about=FindingSubject(address=probe.label),
            message=(f"{probe.label} presents {leaf.subject!r}, which does not cover {probe.expected_name!r} (its "
                     f"names: {', '.join(leaf.certificate_domains) or 'none'}). With TlsSettings DomainValidation, "
                     f"Exchange Online defers with '450 4.4.317 ... [Message=SubjectMismatch Expected Subject: "
                     f"{probe.expected_name}. Presented Subject: {leaf.subject} Thumbprint: {leaf.thumbprint}]'."),
            evidence=[Citation(source=leaf.source, text=f"CertificateDomains {', '.join(leaf.certificate_domains)}")],
            remediation=tls_domain_fix(
                leaf.certificate_domains,
                "# Present the certificate that covers the name on this server's receive connector, or make",
                "# the outbound connector expect a name the certificate covers (Exchange Online PowerShell):"),
        )


NAME_MISMATCH = Check(
    id="HT-WIRE-005", title="Presented certificate does not cover the expected name", severity=Severity.ERROR,
    needs=needs(PROBED_NAME_WITH_CERTIFICATE, also="--expect-name (the outbound connector's TlsDomain); else the "
                "host name probed"),
    explanation=("With DomainValidation, Exchange Online compares the outbound connector's TlsDomain with the "
                 "presented certificate's names (a wildcard covers one left-most label)."),
    remediation="Present a certificate that covers the TlsDomain, or set TlsDomain to a name it covers.",
    command=fixes.TLS_DOMAIN,
    references=(refs.HYBRID_TLS_BLOG,), run=_name,
)


def _signature(probe: ProbeResult) -> tuple[str, ...]:
    if probe.outcome is not ProbeOutcome.OK:
        return ("outcome", probe.outcome.value)
    return ("chain", *(c.thumbprint for c in probe.chain))


def _describe(probe: ProbeResult, majority: ProbeResult | None) -> str:
    if probe.outcome is not ProbeOutcome.OK:
        return f"{probe.outcome.value.replace('_', ' ')} ({probe.detail})"
    leaf = probe.chain[0] if probe.chain else None
    if leaf is None:
        return "no certificate"
    words = [f"presents {leaf.subject!r} (thumbprint {leaf.thumbprint})"]
    if leaf.is_self_signed:
        words.append("self-signed")
    other = majority.chain[0] if majority and majority.chain else None
    if other and other.thumbprint != leaf.thumbprint and leaf.not_before < other.not_before:
        words.append("older than the one the other nodes present")
    if other and other.thumbprint == leaf.thumbprint and majority and len(probe.chain) != len(majority.chain):
        words.append(f"a different chain ({len(probe.chain)} certificate(s) sent instead of {len(majority.chain)})")
    return ", ".join(words)


def _health(probe: ProbeResult, trusted_leaves: set[str]) -> tuple[bool, bool, bool, datetime]:
    """Which of two equally common answers is the healthy one: TLS worked, trusted, not self-signed, newer."""
    leaf = probe.chain[0] if probe.chain else None
    return (probe.outcome is ProbeOutcome.OK, bool(leaf and leaf.thumbprint in trusted_leaves),
            bool(leaf and not leaf.is_self_signed), leaf.not_before if leaf else datetime.min)


def _nodes(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    groups: dict[tuple[str, int], list[ProbeResult]] = {}
    for probe in evidence.probes:
        if probe.address and probe.host != probe.address:
            groups.setdefault((probe.host, probe.port), []).append(probe)
    pools = {key: probes for key, probes in groups.items() if len(probes) > 1}
    for (host, port), probes in pools.items():
        counts = Counter(_signature(p) for p in probes)
        if len(counts) == 1:
            continue
        trusted = {c.leaf.thumbprint for c in evidence.chains if c.end is ChainEnd.TRUSTED}
        # the most common answer wins; between equally common ones, the healthiest
        majority = max(probes, key=lambda p: (counts[_signature(p)], _health(p, trusted)))
        top, top_count = _signature(majority), counts[_signature(majority)]
        odd = [p for p in probes if _signature(p) != top]
        lines = [f"{p.label} {_describe(p, majority)}" for p in odd]
        if majority:
            lines.append(f"the other {top_count} node(s), e.g. {majority.label}, {_describe(majority, None)}")
        yield NODES_DIFFER.finding(
            subject=f"{host}:{port}", about=FindingSubject(name=f"{host}:{port}"),
            message=(f"The {len(probes)} addresses of {host} do not present the same thing: " + "; ".join(lines) +
                     ". Exchange Online delivers to every address behind the smart host, so a share of the mail "
                     "fails (intermittent 4.4.317 / 4.7.320 deferrals)."),
            evidence=[_step(p, ProbeStep.HANDSHAKE) for p in probes],
            remediation=SAME_CERTIFICATE_FIX,
        )


NODES_DIFFER = Check(
    id="HT-WIRE-006", title="Addresses of one name present different certificates", severity=Severity.ERROR,
    needs=needs(NAME_WITH_SEVERAL_ADDRESSES),
    explanation=("Every address behind a smart host or MX must present the same certificate and chain. One node "
                 "with a self-signed, older or different certificate, or without STARTTLS, fails its share of mail."),
    remediation="Make every server behind the name present the same certificate.",
    command=fixes.IMPORT_AND_ENABLE,
    references=(refs.HYBRID_TLS_BLOG,), run=_nodes,
)


FAMILY = Family(name="wire", commands=frozenset({Command.CHECK, Command.PROBE}),
                checks=(CONNECT_FAILED, NO_STARTTLS, HANDSHAKE_FAILED, OLD_TLS, NAME_MISMATCH, NODES_DIFFER))
CHECKS = FAMILY.checks
