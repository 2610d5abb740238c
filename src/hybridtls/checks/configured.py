"""TlsCertificateName as configured: the value a command line sets (or a connector reports), read strictly.

``pki.tlsname`` reads a TlsCertificateName leniently, to say which certificate it means. Exchange does not: it
compares the string as stored. So a ``\\<S>`` left by pasting through a shell, a missing ``<I>``, a value set
from a variable nobody recorded, or a name no certificate of the evidence has, are said here, with the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from hybridtls import references as refs
from hybridtls.checks import fixes
from hybridtls.checks.base import Check, CheckContext, Command, Family, Need, needs
from hybridtls.checks.selection import parse_name
from hybridtls.model import (
    Citation,
    EvidenceSet,
    Finding,
    FindingSubject,
    HybridConfiguration,
    ReceiveConnector,
    SendConnector,
    Severity,
)
from hybridtls.pki.tlsname import TlsCertificateName, compare, names_same_certificate
from hybridtls.powershell import Script

_Record = SendConnector | ReceiveConnector | HybridConfiguration
_KEY = "tlscertificatename"
_STRAY_BACKSLASH = re.compile(r"\\<[IS]>|<\\[IS]>|<[IS]\\>|\\\\", re.I)
_QUOTED = re.compile("\\s*[\"'\u2018\u2019\u201a\u201b\u201c\u201d\u201e]\\s*<I>", re.I)  # '"<I>...' kept whole


@dataclass(frozen=True, slots=True)
class _Named:
    """One record's TlsCertificateName, and what to call the record and how to set it."""

    record: _Record
    label: str
    setter: str  # "Set-SendConnector -Identity 'X'" (built through Script by _fix)
    identity: str | None  # None: Set-HybridConfiguration takes no identity


def _named(evidence: EvidenceSet) -> list[_Named]:
    found = [_Named(c, f"send connector '{c.name}'", "Set-SendConnector", c.name) for c in evidence.send_connectors]
    found += [_Named(c, f"receive connector '{c.identity}'", "Set-ReceiveConnector", c.identity)
              for c in evidence.receive_connectors]
    found += [_Named(c, "the hybrid configuration", "Set-HybridConfiguration", None)
              for c in evidence.hybrid_configurations]
    return found


def _where(named: _Named) -> str:
    configured = named.record.configured_by
    return f"as set by {configured.command} at {named.record.cite(_KEY)}" if configured else \
        f"as reported at {named.record.cite(_KEY)}"


def _fix(named: _Named, name: TlsCertificateName | None, *comments: str) -> str:
    """Set the name on the record's connector: the certificate's own when known, else built from it."""
    script = Script(*comments)
    target = named.setter
    if named.identity is not None:
        target += f" -Identity {script.value(named.identity, '<ConnectorName>', 'connector name')}"
    if name is None:
        script.add("$c = Get-ExchangeCertificate -Server <ServerName> -Thumbprint <Thumbprint>")
        return str(script.add(f"{target} -TlsCertificateName \"<I>$($c.Issuer)<S>$($c.Subject)\""))
    value = script.value(str(name), "<TlsCertificateName>", "certificate's issuer or subject")
    return str(script.add(f"{target} -TlsCertificateName {value}"))


def syntax_problem(text: str) -> str | None:
    """What makes the string one Exchange cannot match, read as stored; None when it has the right shape."""
    if _QUOTED.match(text):
        return "it keeps the quotes around it as part of the value"
    if _STRAY_BACKSLASH.search(text):
        return ("it holds a stray backslash by a tag (\\<S> or <\\S>), left by pasting through a shell; PowerShell "
                "keeps the backslash, so the issuer or subject no longer reads as the certificate's")
    upper = text.upper()
    if "<I>" not in upper or "<S>" not in upper:
        missing = " and ".join(tag for tag in ("<I>", "<S>") if tag not in upper)
        return f"it lacks {missing}: it must read <I>issuer<S>subject (HealthChecker: TlsCertificateNameSyntaxInvalid)"
    if not upper.startswith("<I>") or upper.index("<S>") < upper.index("<I>"):
        return "it does not start with <I> followed by <S>: it must read <I>issuer<S>subject"
    if upper.count("<I>") > 1 or upper.count("<S>") > 1:
        return "it holds <I> or <S> more than once (two names pasted together)"
    if parse_name(text) is None:
        return "its issuer or subject part is empty"
    return None


def _malformed(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    for named in _named(evidence):
        text = named.record.tls_certificate_name
        problem = syntax_problem(text) if text else None
        if problem is None or (named.record.configured_by is None and parse_name(text) is None):
            continue  # cmdlet output no reading can make sense of: the connector checks say it (HT-CONN-001, 002, 004)
        assert text is not None
        yield MALFORMED.finding(
            subject=named.label, about=FindingSubject(connector=named.identity or "HybridConfiguration",
                                                      name="TlsCertificateName"),
            message=(f"The TlsCertificateName of {named.label} ({_where(named)}) is malformed: {problem}. Exchange "
                     "looks for a certificate with that exact issuer and subject and finds none: no STARTTLS on a "
                     "receive connector (event 12014), '454 4.7.5' on a send connector."),
            evidence=[Citation(source=named.record.cite(_KEY), text=f"TlsCertificateName {text}")],
            one_line_fix=True, remediation=_fix(named, _certificate_name_near(evidence, text),
                             "# Set the exact name, built from the certificate:"))


def _certificate_names(evidence: EvidenceSet) -> list[tuple[TlsCertificateName, Citation]]:
    """The TlsCertificateName of every certificate in the evidence (Exchange's listing, files, probed chains)."""
    names = [(TlsCertificateName(c.issuer, c.subject), Citation(source=c.cite("subject"), text=f"certificate {c.subject}"))
             for c in evidence.certificates if c.issuer and c.subject]
    names += [(TlsCertificateName(f.issuer, f.subject), Citation(source=f.source, text=f"certificate {f.subject}"))
              for f in evidence.certificate_files if f.issuer and f.subject]
    names += [(TlsCertificateName(c.leaf.issuer, c.leaf.subject), Citation(source=c.leaf.source,
                                                                           text=f"certificate {c.leaf.subject}"))
              for c in evidence.chains if c.leaf.issuer and c.leaf.subject]
    return names


def _certificate_name_near(evidence: EvidenceSet, text: str) -> TlsCertificateName | None:
    """The certificate a (possibly malformed) name most likely meant: same subject, else none."""
    parsed = parse_name(text)
    if parsed is None:
        return None
    for name, _ in _certificate_names(evidence):
        if names_same_certificate(name, parsed) or " ".join(name.subject.split()).casefold() == \
                " ".join(parsed.subject.split()).casefold():
            return name
    return None


def _from_variable(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    for named in _named(evidence):
        configured = named.record.configured_by
        if configured is None or _KEY not in configured.unknown:
            continue
        source = configured.unknown[_KEY]
        script = Script("# Read back what the command set:")
        getter = named.setter.replace("Set-", "Get-", 1)
        if named.identity is not None:
            getter += f" -Identity {script.value(named.identity, '<ConnectorName>', 'connector name')}"
        yield FROM_VARIABLE.finding(
            subject=named.label, about=FindingSubject(connector=named.identity or "HybridConfiguration",
                                                      name="TlsCertificateName"),
            message=(f"{configured.command} at {named.record.cite(_KEY)} sets the TlsCertificateName of "
                     f"{named.label} from {source}, whose value is not in the evidence: it cannot be checked. "
                     "Save what the connector holds now, or the value the variable had."),
            evidence=[Citation(source=named.record.cite(_KEY), text=f"-TlsCertificateName {source}")],
            remediation=str(script.add(f"{getter} | Format-List TlsCertificateName")))


def _unmatched(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    certificates = _certificate_names(evidence)
    for named in _named(evidence):
        configured = named.record.configured_by
        text = named.record.tls_certificate_name
        if configured is None or not configured.sets(_KEY) or not text or syntax_problem(text):
            continue
        name = parse_name(text)
        assert name is not None
        if any(names_same_certificate(cert, name) for cert, _ in certificates):
            continue
        nearest = min(certificates, key=lambda pair: _distance(name, pair[0]))
        result = compare(name, nearest[0])
        yield UNMATCHED.finding(
            subject=named.label, about=FindingSubject(connector=named.identity or "HybridConfiguration",
                                                      name="TlsCertificateName"),
            message=(f"{configured.command} at {named.record.cite(_KEY)} names {str(name)!r}, which no certificate "
                     f"in the evidence has ({len(certificates)} read); the nearest, {nearest[0].subject!r}: "
                     f"{result.explanation}. Run as written, Exchange finds no such certificate."),
            evidence=[Citation(source=named.record.cite(_KEY), text=f"TlsCertificateName {text}"), nearest[1]],
            one_line_fix=True, remediation=_fix(named, nearest[0], "# If the certificate in the evidence is the one meant, name it exactly:"))


def _distance(a: TlsCertificateName, b: TlsCertificateName) -> int:
    """Fewer is nearer: the subject counts before the issuer."""
    return (0 if _loose(a.subject) == _loose(b.subject) else 2) + (0 if _loose(a.issuer) == _loose(b.issuer) else 1)


def _loose(text: str) -> str:
    return " ".join(text.split()).casefold()


TLS_NAMES = Need(
    what="a TlsCertificateName (connectors, hybrid configuration, or the command lines that set them)",
    reason=("no TlsCertificateName in the evidence: save Get-SendConnector, Get-ReceiveConnector and "
            "Get-HybridConfiguration | Format-List, or give the script or change ticket that sets them"),
    present=lambda e, c: any(n.record.tls_certificate_name for n in _named(e)))
COMMAND_FROM_VARIABLE = Need(
    what="a command line that sets TlsCertificateName (a script, a change ticket, an HCW log)",
    reason=("no command line setting TlsCertificateName in the evidence: give the script, change ticket or Hybrid "
            "Configuration Wizard log"),
    present=lambda e, c: any(n.record.configured_by and _KEY in n.record.configured_by.parameters for n in _named(e)))
CERTIFICATE_NAMES = Need(
    what="the certificates themselves (Get-ExchangeCertificate, certificate files or a probe)",
    reason="no certificate with issuer and subject in the evidence: save Get-ExchangeCertificate | Format-List",
    present=lambda e, c: bool(_certificate_names(e)))


MALFORMED = Check(
    id="HT-CMD-001", title="TlsCertificateName is malformed as stored", severity=Severity.ERROR,
    needs=needs(TLS_NAMES, also="the certificates, to name the one meant in the fix"),
    explanation=("Exchange stores TlsCertificateName as given and compares it character for character with "
                 "'<I>' + Issuer + '<S>' + Subject. A stray backslash by a tag (\\<S>, <\\S>: PowerShell has no "
                 "backslash escapes, so pasting one from another shell keeps it), a missing <I> or <S>, or quotes "
                 "kept inside the value name no certificate at all."),
    remediation="Set TlsCertificateName from the certificate itself: \"<I>$($c.Issuer)<S>$($c.Subject)\".",
    command=fixes.tls_name_command("Set-SendConnector -Identity '<ConnectorName>'"),
    references=(refs.SET_SEND_CONNECTOR, refs.NEW_CERTIFICATE_NO_MAIL),
    run=_malformed,
)

FROM_VARIABLE = Check(
    id="HT-CMD-002", title="TlsCertificateName set from a variable: cannot be checked", severity=Severity.WARNING,
    needs=needs(COMMAND_FROM_VARIABLE),
    explanation=("A script or ticket that sets -TlsCertificateName $TLSCertName says nothing of the value: it was "
                 "whatever the variable held when it ran. hybridtls does not guess it; save the connector as it "
                 "is now (Get-SendConnector | Format-List) to have it checked."),
    remediation="Get-SendConnector | Format-List Name, TlsCertificateName (and the receive connectors) after the change.",
    command='Get-SendConnector | Format-List Name, TlsCertificateName',
    references=(refs.SET_SEND_CONNECTOR,),
    run=_from_variable,
)

UNMATCHED = Check(
    id="HT-CMD-003", title="A command sets a TlsCertificateName no certificate in the evidence has",
    severity=Severity.ERROR,
    needs=needs(COMMAND_FROM_VARIABLE, CERTIFICATE_NAMES),
    explanation=("The issuer and subject a command line sets must be those of a certificate installed on the "
                 "servers. When the evidence holds the certificates and none has that pair, the command, run as "
                 "written, leaves the connector naming a certificate that does not exist (a new CA after a "
                 "renewal, a typo in the subject)."),
    remediation="Set the name from the installed certificate: \"<I>$($c.Issuer)<S>$($c.Subject)\".",
    command=fixes.tls_name_command("Set-SendConnector -Identity '<ConnectorName>'"),
    references=(refs.SET_SEND_CONNECTOR, refs.NEW_CERTIFICATE_NO_MAIL),
    run=_unmatched,
)


FAMILY = Family(name="configured", commands=frozenset({Command.CHECK}), checks=(MALFORMED, FROM_VARIABLE, UNMATCHED))
CHECKS = FAMILY.checks
