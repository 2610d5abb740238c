"""A probe Report into a Round: one Observation per address probed, with the judged chain and the findings.

Nothing is judged here that the pipeline has not judged already: the chain's end comes from the report's chains
(built by the run's one trust store from what was served), the name from ``pki.hostnames``, the expected
certificate from the HT-NAME-001 outcome, the findings from the checks, each put on the address it is about.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING

from hybridtls.model import ChainAnalysis, CheckStatus, Finding, ProbeResult
from hybridtls.pki.hostnames import covering_name, is_address
from hybridtls.watch.model import FindingMark, Observation, Round, ServedCertificate

if TYPE_CHECKING:
    from hybridtls.model import CertificateFile
    from hybridtls.report import Report

CLIENT_AUTH_OID = "1.3.6.1.5.5.7.3.2"
TLS_NAME_CHECK = "HT-NAME-001"  # the TlsCertificateName the connectors expect (probe --expect-cert)
_PROBE_PREFIX = "probe "


def observe_round(report: Report, *, number: int, started_at: datetime, finished_at: datetime,
                  complete: bool = True) -> Round:
    """The round ``number``: what each address of ``report`` (a probe run) served and what the checks made of it."""
    probes = report.evidence.probes
    labels = {probe.label for probe in probes}
    marks: dict[str, list[FindingMark]] = defaultdict(list)
    for finding in report.findings:
        marks[address_of(finding, labels) or ""].append(finding_mark(finding))
    expected = _expected_certificate_judged(report)
    observations = tuple(
        _observation(probe, _served_chain(probe, report.evidence.chains), expected, marks.get(probe.label, []),
                     started_at)
        for probe in probes)
    return Round(number=number, started_at=started_at, finished_at=finished_at, observations=observations,
                 findings=tuple(marks.get("", [])), complete=complete)


def finding_mark(finding: Finding) -> FindingMark:
    return FindingMark(key=finding.key, check_id=finding.check_id, severity=finding.severity,
                       message=finding.message, remediation=finding.remediation)


def address_of(finding: Finding, labels: set[str]) -> str | None:
    """The probed address a finding is about: its subject's address, else the one probe all its evidence cites."""
    if finding.about.address in labels:
        return finding.about.address
    paths = {c.source.path for c in finding.evidence}
    if len(paths) == 1:
        (path,) = paths
        if path.startswith(_PROBE_PREFIX) and path[len(_PROBE_PREFIX):] in labels:
            return path[len(_PROBE_PREFIX):]
    return None


def served_certificate(cert: CertificateFile) -> ServedCertificate:
    ekus = {oid for _, oid in cert.extended_key_usage}
    return ServedCertificate(
        sha256=hashlib.sha256(cert.der).hexdigest(), thumbprint=cert.thumbprint, serial_number=cert.serial_number,
        subject=cert.subject, issuer=cert.issuer, names=cert.certificate_domains, not_before=cert.not_before,
        not_after=cert.not_after, client_auth=(CLIENT_AUTH_OID in ekus) if ekus else None)


def _served_chain(probe: ProbeResult, chains: tuple[ChainAnalysis, ...]) -> ChainAnalysis | None:
    """The chain the pipeline built for this probe's chain as served: the one whose leaf this probe presented."""
    if not probe.chain:
        return None
    leaf = probe.chain[0]
    source = _PROBE_PREFIX + probe.label
    served = {c.der for c in probe.chain}
    for chain in chains:
        if chain.leaf.der == leaf.der and chain.leaf.source.path == source:
            on_path = {c.der for c in (*chain.path, *chain.served_extra)}
            if served <= on_path:
                return chain
    return None


def _expected_certificate_judged(report: Report) -> set[str] | None:
    """The thumbprints HT-NAME-001 found not named by an expected TlsCertificateName; None when none was given.

    A malformed expected value names no certificate at all: every leaf then fails to match (the "*" entry)."""
    outcome = next((o for o in report.outcomes if o.check_id == TLS_NAME_CHECK), None)
    if outcome is None or outcome.status not in (CheckStatus.FIRED, CheckStatus.PASSED):
        return None
    return {(f.about.certificate or "*").upper() for f in outcome.findings}


def _observation(probe: ProbeResult, chain: ChainAnalysis | None, unmatched: set[str] | None,
                 marks: list[FindingMark], started_at: datetime) -> Observation:
    leaf = probe.chain[0] if probe.chain else None
    served = {c.der for c in probe.chain}
    return Observation(
        host=probe.host, address=probe.address, port=probe.port, outcome=probe.outcome.value, detail=probe.detail,
        observed_at=probe.observed_at or started_at, elapsed_ms=probe.elapsed_ms,
        starttls_offered=probe.starttls_offered, tls_version=probe.tls_version,
        versions_accepted=probe.versions_accepted,
        leaf=served_certificate(leaf) if leaf else None,
        chain_sha256=tuple(hashlib.sha256(c.der).hexdigest() for c in probe.chain),
        chain_der=tuple(c.der for c in probe.chain),
        chain_end=chain.end.value if chain else None,
        chain_expiry=min(c.not_after for c in chain.path if c.der in served) if chain else None,
        name_covered=(None if leaf is None or is_address(probe.expected_name)
                      else covering_name(leaf.certificate_domains, probe.expected_name) is not None),
        expected_cert_matches=(None if leaf is None or unmatched is None
                               else not ({"*", leaf.thumbprint.upper()} & unmatched)),
        findings=tuple(marks),
    )
