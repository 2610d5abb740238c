"""The JSON report: one document per run, ``schema_version`` 1, described by ``schema/report-v1.json``."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from hybridtls._version import __version__
from hybridtls.model import CertificateFile, ChainAnalysis, Finding, ProbeResult, Source

if TYPE_CHECKING:
    from hybridtls.report import Report

SCHEMA_VERSION = 1


def _where(source: Source) -> dict[str, Any]:
    return {"path": source.path, "line": source.line}


def _finding(report: Report, finding: Finding) -> dict[str, Any]:
    check = report.check(finding.check_id)
    return {
        "check_id": finding.check_id,
        "title": check.title,
        "severity": finding.severity.value,
        "subject": finding.subject,
        "server": finding.server,
        "message": finding.message,
        "evidence": [{**_where(c.source), "text": c.text} for c in finding.evidence],
        "explanation": check.explanation,
        "remediation": finding.remediation,
        "references": list(check.references),
    }


def _certificate(cert: CertificateFile) -> dict[str, Any]:
    return {
        **_where(cert.source),
        "label": cert.label,
        "subject": cert.subject,
        "issuer": cert.issuer,
        "tls_certificate_name": cert.tls_certificate_name,
        "thumbprint": cert.thumbprint,
        "serial_number": cert.serial_number,
        "certificate_domains": list(cert.certificate_domains),
        "not_before": cert.not_before.isoformat(),
        "not_after": cert.not_after.isoformat(),
        "public_key_algorithm": cert.public_key_algorithm,
        "public_key_size": cert.public_key_size,
        "signature_algorithm": cert.signature_algorithm,
        "is_self_signed": cert.is_self_signed,
        "is_ca": cert.is_ca,
        "key_usage": list(cert.key_usage),
        "enhanced_key_usage": [f"{name} ({oid})" for name, oid in cert.extended_key_usage],
        "ca_issuers": list(cert.ca_issuers),
        "has_private_key": cert.has_private_key,
    }


def _chain(chain: ChainAnalysis) -> dict[str, Any]:
    return {
        "leaf": chain.leaf.thumbprint,
        "path": [{"thumbprint": c.thumbprint, "subject": c.subject} for c in chain.path],
        "end": chain.end.value,
        "anchor_origin": chain.anchor_origin,
        "missing_issuer": chain.missing_issuer,
        "missing_issuer_urls": list(chain.missing_issuer_urls),
    }


def _probe(probe: ProbeResult) -> dict[str, Any]:
    return {
        "label": probe.label,
        "host": probe.host,
        "address": probe.address,
        "port": probe.port,
        "expected_name": probe.expected_name,
        "outcome": probe.outcome.value,
        "stage": probe.stage,
        "detail": probe.detail,
        "banner": probe.banner,
        "extensions": list(probe.extensions),
        "starttls_offered": probe.starttls_offered,
        "tls_version": probe.tls_version,
        "cipher": probe.cipher,
        "versions_accepted": {version: accepted for version, accepted in probe.versions_accepted},
        "elapsed_ms": probe.elapsed_ms,
        "transcript": [{"step": t.step, "direction": t.direction, "text": t.text} for t in probe.transcript],
        "chain": [{"subject": c.subject, "issuer": c.issuer, "thumbprint": c.thumbprint,
                   "not_after": c.not_after.isoformat(), "der_base64": base64.b64encode(c.der).decode("ascii")}
                  for c in probe.chain],
    }


def report_document(report: Report) -> dict[str, Any]:
    evidence = report.evidence
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "hybridtls", "version": __version__},
        "command": report.command,
        "now": report.now.isoformat(timespec="seconds"),
        "fail_on": report.fail_on.value if report.fail_on else None,
        "verdict": "fail" if report.failed else "pass",
        "counts": report.counts,
        "findings": [_finding(report, f) for f in report.findings],
        "certificates": [_certificate(c) for c in evidence.certificate_files],
        "chains": [_chain(c) for c in evidence.chains],
        "probes": [_probe(p) for p in evidence.probes],
        "checks": [{"id": o.check_id, "status": o.status.value, "reason": o.reason or None} for o in report.outcomes],
        "evidence": {
            "files": list(evidence.files),
            "servers": report.servers,
            "certificates": len(evidence.certificates),
            "trace_entries": len(evidence.trace_entries),
            "skipped": [{**_where(s.source), "properties": list(s.properties), "type_hint": s.type_hint}
                        for s in evidence.skipped],
            "notices": [{**_where(n.source), "message": n.message, "hint": n.hint} for n in evidence.notices],
            "problems": [{**_where(p.source), "message": p.message, "hint": p.hint} for p in evidence.problems],
        },
    }


def render_json(report: Report) -> str:
    # ensure_ascii: control characters and odd code points from evidence arrive escaped, never raw
    return json.dumps(report_document(report), indent=2, ensure_ascii=True) + "\n"
