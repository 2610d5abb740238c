"""A saved ``hybridtls probe --format json`` report read back as evidence, so the wire and the configuration
are judged together by ``check``."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from hybridtls.errors import EvidenceError
from hybridtls.model import ProbeOutcome, ProbeResult, Source, TranscriptLine


def is_hybridtls_report(document: Any) -> bool:
    return isinstance(document, dict) and isinstance(document.get("tool"), dict) \
        and document["tool"].get("name") == "hybridtls"


def read_saved_probes(document: dict[str, Any], path: str) -> list[ProbeResult]:
    # schema_version 1 kept the probes at the top; 2 keeps every record under "records"
    records = document.get("records") if document.get("schema_version") != 1 else document
    probes = records.get("probes") if isinstance(records, dict) else None
    if not isinstance(probes, list) or not probes:
        raise EvidenceError(f"a hybridtls {document.get('command', '')} report holds no probe results; give the "
                            "JSON of 'hybridtls probe', or the evidence files the report was made from", path=path)
    return [_probe(item, path, number) for number, item in enumerate(probes, 1)]


def _probe(item: Any, path: str, number: int) -> ProbeResult:
    from cryptography import x509

    from hybridtls.pki.facts import certificate_facts

    try:
        label = str(item["label"])
        chain = []
        for index, cert in enumerate(item["chain"]):
            der = base64.b64decode(cert["der_base64"], validate=True)
            chain.append(certificate_facts(x509.load_der_x509_certificate(der), source=Source(path=f"probe {label}"),
                                           label=f"{label}, certificate {index + 1} presented (saved in {path})"))
        return ProbeResult(
            host=str(item["host"]), address=str(item["address"]), port=int(item["port"]),
            expected_name=str(item["expected_name"]), outcome=ProbeOutcome(item["outcome"]), stage=str(item["stage"]),
            detail=str(item.get("detail") or ""),
            transcript=tuple(TranscriptLine(step=str(t["step"]), direction=str(t["direction"]), text=str(t["text"]))
                             for t in item.get("transcript", [])),
            banner=item.get("banner"), extensions=tuple(str(e) for e in item.get("extensions", [])),
            starttls_offered=item.get("starttls_offered"), tls_version=item.get("tls_version"),
            cipher=item.get("cipher"), chain=tuple(chain),
            versions_accepted=tuple((str(v), a) for v, a in (item.get("versions_accepted") or {}).items()),
            elapsed_ms=int(item.get("elapsed_ms") or 0),
        )
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise EvidenceError(f"probe {number} of this hybridtls report is malformed ({type(exc).__name__}: {exc})",
                            path=path) from None
