"""TlsCertificateName against the certificate it should name: the string must match character for character."""

from __future__ import annotations

from collections.abc import Iterator

from hybridtls import references as refs
from hybridtls.checks import fixes
from hybridtls.checks.base import Check, CheckContext, Command, Family, needs
from hybridtls.checks.fixes import set_tls_certificate_name_fix
from hybridtls.checks.needs import CHAINS, EXPECTED_TLS_NAMES
from hybridtls.model import Citation, EvidenceSet, Finding, FindingSubject, Severity
from hybridtls.pki.tlsname import Difference, TlsCertificateName, TlsNameError, compare, parse_tls_certificate_name


def _mismatch(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    leaves = [chain.leaf for chain in evidence.chains]
    for text in ctx.expected_tls_names:
        try:
            expected = parse_tls_certificate_name(text)
        except TlsNameError as exc:
            yield TLS_NAME_MISMATCH.finding(
                subject=text[:80], about=FindingSubject(name=text), message=f"The TlsCertificateName {text!r} is malformed: {exc}. Exchange cannot "
                                           "match it to any certificate (HealthChecker: TlsCertificateNameSyntaxInvalid).",
                remediation="# Build it from the certificate instead of typing it:\n"
                            "$c = Get-ExchangeCertificate -Thumbprint <Thumbprint>\n"
                            "\"<I>$($c.Issuer)<S>$($c.Subject)\"")
            continue
        for leaf in leaves:
            actual = TlsCertificateName(leaf.issuer, leaf.subject)
            result = compare(expected, actual)
            if result.difference is Difference.SAME:
                continue
            yield TLS_NAME_MISMATCH.finding(
                subject=leaf.subject or leaf.thumbprint, about=FindingSubject(certificate=leaf.thumbprint, name=text),
                severity=Severity.ERROR,
                message=(f"The TlsCertificateName {str(expected)!r} does not name {leaf.label}: {result.explanation}. "
                         "Exchange looks the string up in the certificate store; with no match it offers no "
                         "STARTTLS on a receive connector (event 12014) and fails sending with 454 4.7.5."),
                evidence=[Citation(source=leaf.source, text=f"this certificate: {actual}")],
                remediation=set_tls_certificate_name_fix(actual),
            )


TLS_NAME_MISMATCH = Check(
    id="HT-NAME-001", title="TlsCertificateName does not name the certificate", severity=Severity.ERROR,
    needs=needs(CHAINS, EXPECTED_TLS_NAMES),
    explanation=("TlsCertificateName is '<I>' + Issuer + '<S>' + Subject exactly as Windows renders them. One character "
                 "of difference (ST= for S=, a missing quote, a new issuing CA after a renewal with another vendor) "
                 "makes Exchange look for a certificate that does not exist."),
    remediation="Set TlsCertificateName from the certificate itself: \"<I>$($c.Issuer)<S>$($c.Subject)\".",
    command=fixes.tls_name_command("Set-SendConnector -Identity '<ConnectorName>'"),
    references=(refs.SET_SEND_CONNECTOR, refs.NEW_CERTIFICATE_NO_MAIL),
    run=_mismatch,
)


FAMILY = Family(name="tlsnames", commands=frozenset({Command.CHECK, Command.CERT, Command.PROBE}),
                checks=(TLS_NAME_MISMATCH,))
CHECKS = FAMILY.checks
