"""A saved ``hybridtls probe --format json`` report read back as evidence, so the wire and the configuration
are judged together by ``check``.

Reads ``schema_version`` 1 (probes at the top of the document), 2, 3 and 4 (every record under ``records``, with the
trust anchors the run judged chains with). Every value is checked for its type and range, and every certificate is
parsed again from its DER (the facts written beside it are not trusted): anything else raises ``EvidenceError``
naming the file and the probe or anchor, never another exception.
"""

from __future__ import annotations

import base64
import enum
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from hybridtls.errors import EvidenceError
from hybridtls.model import (
    AnchorRecord,
    CertificateFile,
    DaneObservation,
    MtaStsResult,
    PolicyFetch,
    ProbeOutcome,
    ProbeResult,
    ProbeStep,
    Source,
    TlsaLookup,
    TlsaRecord,
    TranscriptDirection,
    TranscriptLine,
    TxtLookup,
)

T = TypeVar("T")
_OUTCOMES = {outcome.value: outcome for outcome in ProbeOutcome}
_STEPS_V1 = {"": ProbeStep.PROBE}  # before steps were an enum, a probe that never ran had none
_E = TypeVar("_E", bound=enum.Enum)
_ABSENT: Any = object()
_MAX_COUNT = 2**53  # larger numbers in a saved report are not times or sizes hybridtls wrote


class _Malformed(Exception):
    """A value of the wrong kind; ``where`` says where it sits in the record (``chain[0].der_base64``)."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}" if where else problem)


def is_hybridtls_report(document: Any) -> bool:
    return isinstance(document, dict) and isinstance(document.get("tool"), dict) \
        and document["tool"].get("name") == "hybridtls"


def read_saved_report(document: Mapping[str, Any], path: str) -> tuple[list[ProbeResult], list[AnchorRecord]]:
    """The probes of a saved report, and the trust anchors (besides the Mozilla roots) it says its chains were
    judged with, each with origin ``recorded in PATH (ORIGINAL ORIGIN)``: for ``EvidenceSet.recorded_anchors``."""
    version = document.get("schema_version")
    if type(version) is int and version == 1:
        records: Any = document
    elif type(version) is int and version in (2, 3, 4):  # 3 and 4 added records; probes and anchors read as in 2
        records = document.get("records")
        if not isinstance(records, dict):
            raise EvidenceError(f"this hybridtls report (schema_version {version}) has no 'records' object", path=path)
    else:
        raise EvidenceError(f"a hybridtls report with schema_version {_shown(version)}; this version of hybridtls "
                            "reads schema_version 1 to 4", path=path,
                            hint="save the probe again with this version: hybridtls probe ... --format json")
    probes = records.get("probes")
    if not isinstance(probes, list) or not probes:
        command = document.get("command")
        raise EvidenceError(f"a hybridtls {command if isinstance(command, str) else ''} report holds no probe "
                            "results; give the JSON of 'hybridtls probe', or the evidence files the report was made "
                            "from", path=path)
    results = [_probe(item, path, number) for number, item in enumerate(probes, 1)]
    return results, _anchors(records, path) if version >= 2 else []


def read_saved_probes(document: Mapping[str, Any], path: str) -> list[ProbeResult]:
    """The probes of a saved report (see ``read_saved_report`` for its trust anchors too)."""
    return read_saved_report(document, path)[0]


def read_saved_mta_sts(document: Mapping[str, Any], path: str) -> list[MtaStsResult]:
    """The MTA-STS lookups of a saved probe --mx report (schema_version 4). The texts are read again as a sender
    reads them (the TXT records, the policy body) and the MX hosts matched again: the verdicts written beside them
    are not trusted. The policy host's chain is judged again by the run's trust store."""
    records = document.get("records")
    if document.get("schema_version") != 4 or not isinstance(records, dict) or "mta_sts" not in records:
        return []
    try:
        items = _list(records["mta_sts"], "records.mta_sts")
    except _Malformed as exc:
        raise EvidenceError(f"this hybridtls report is malformed: {exc}", path=path) from None
    return [_mta_sts(item, path, number) for number, item in enumerate(items, 1)]


def _mta_sts(item: Any, path: str, number: int) -> MtaStsResult:
    from hybridtls.pki.hostnames import covering_name
    from hybridtls.pki.mtasts import match_mx, read_policy, read_sts_record, read_tlsrpt_record

    try:
        fields = _object(item, "")
        domain = _field(fields, "domain", _text)
        sts = _object(_field(fields, "sts_record", _object), "sts_record")
        record = read_sts_record(f"_mta-sts.{domain}", _field(sts, "records", _texts, where="sts_record"))
        record = _with_error(record, _field(sts, "error", _text, "", where="sts_record"))
        rpt = _field(fields, "tlsrpt_record", _optional(_object), None)
        tlsrpt: TxtLookup | None = None
        rua: tuple[str, ...] = ()
        if rpt is not None:
            tlsrpt, rua = read_tlsrpt_record(f"_smtp._tls.{domain}", _field(rpt, "records", _texts, where="tlsrpt_record"))
            tlsrpt = _with_error(tlsrpt, _field(rpt, "error", _text, "", where="tlsrpt_record"))
        saved_policy = _field(fields, "policy", _optional(_object), None)
        policy = None if saved_policy is None else read_policy(_field(saved_policy, "text", _text, where="policy"))
        chain = tuple(_certificate(cert, f"host_chain[{index}]", source=Source(path=f"mta-sts {domain}"),
                                   label=f"mta-sts.{domain}, certificate {index + 1} presented (saved in {path})")
                      for index, cert in enumerate(_field(fields, "host_chain", _list, [])))
        mx_hosts = _field(fields, "mx_hosts", _texts, ())
        return MtaStsResult(
            domain=domain, sts_record=record, policy_id=record.field("id") if record.usable else None,
            policy_url=_field(fields, "policy_url", _text, ""), policy_address=_field(fields, "policy_address", _text, ""),
            fetch=_field(fields, "fetch", _fetch), fetch_detail=_field(fields, "fetch_detail", _text, ""),
            http_status=_field(fields, "http_status", _optional(_http_status), None),
            content_type=_field(fields, "content_type", _optional(_text), None), policy=policy, host_chain=chain,
            host_name_covered=bool(covering_name(chain[0].certificate_domains, f"mta-sts.{domain}")) if chain else None,
            mx_hosts=mx_hosts, mx_matches=match_mx(mx_hosts, policy.mx) if policy and policy.mx else (),
            tlsrpt_record=tlsrpt, tlsrpt_rua=rua, observed_at=_field(fields, "observed_at", _optional(_time), None))
    except _Malformed as exc:
        raise EvidenceError(f"MTA-STS lookup {number} of this hybridtls report is malformed: {exc}",
                            path=path) from None


def _with_error(lookup: TxtLookup, error: str) -> TxtLookup:
    from dataclasses import replace

    return replace(lookup, error=error) if error else lookup


def _fetch(value: Any, where: str) -> PolicyFetch:
    return _member(PolicyFetch, _text(value, where), where, "a policy fetch outcome")


def _http_status(value: Any, where: str) -> int:
    return _integer(value, where, 100, 999)


def _probe(item: Any, path: str, number: int) -> ProbeResult:
    try:
        fields = _object(item, "")
        host, address = _field(fields, "host", _text), _field(fields, "address", _text)
        port = _field(fields, "port", _port)
    except _Malformed as exc:
        raise EvidenceError(f"probe {number} of this hybridtls report is malformed: {exc}", path=path) from None
    # the model says how a probe is named (HOST[ADDRESS]:PORT); the other values are not needed for that
    label = ProbeResult(host=host, address=address, port=port, expected_name="", outcome=ProbeOutcome.OK,
                        stage=ProbeStep.PROBE).label
    try:
        chain = _field(fields, "chain", _list)
        probe = ProbeResult(
            host=host, address=address, port=port, expected_name=_field(fields, "expected_name", _text),
            outcome=_field(fields, "outcome", _outcome), stage=_field(fields, "stage", _stage),
            detail=_field(fields, "detail", _text, ""),
            transcript=tuple(_transcript_line(line, f"transcript[{index}]")
                             for index, line in enumerate(_field(fields, "transcript", _list, []))),
            banner=_field(fields, "banner", _optional(_text), None),
            extensions=_field(fields, "extensions", _texts, ()),
            starttls_offered=_field(fields, "starttls_offered", _optional(_flag), None),
            tls_version=_field(fields, "tls_version", _optional(_text), None),
            cipher=_field(fields, "cipher", _optional(_text), None),
            chain=tuple(_certificate(cert, f"chain[{index}]", source=Source(path=f"probe {label}"),
                                     label=f"{label}, certificate {index + 1} presented (saved in {path})")
                        for index, cert in enumerate(chain)),
            versions_accepted=_field(fields, "versions_accepted", _versions, ()),
            elapsed_ms=_field(fields, "elapsed_ms", _count, 0),
            observed_at=_field(fields, "observed_at", _optional(_time), None),
        )
        dane = _field(fields, "dane", _optional(_object), None)
        return replace(probe, dane=_dane(dane, probe, label)) if dane is not None else probe
    except _Malformed as exc:
        raise EvidenceError(f"probe {number} ({label}) of this hybridtls report is malformed: {exc}",
                            path=path) from None


def _dane(fields: dict[str, Any], probe: ProbeResult, label: str) -> DaneObservation:
    """The DANE observation of a saved probe: the lookup's facts are read; which records match is worked out again
    from the records and the chain (as the chain's facts are, from its DER)."""
    from hybridtls.pki.dane import observe

    records = []
    for index, item in enumerate(_field(fields, "matches", _list, [], where="dane")):
        where = f"dane.matches[{index}].record"
        record = _field(_object(item, f"dane.matches[{index}]"), "record", _object, where=f"dane.matches[{index}]")
        try:
            records.append(TlsaRecord(
                usage=_field(record, "usage", _byte, where=where), selector=_field(record, "selector", _byte, where=where),
                matching_type=_field(record, "matching_type", _byte, where=where),
                data_hex=_hex(_field(record, "data_hex", _text, where=where), f"{where}.data_hex"),
                source=Source(path=f"TLSA {_field(record, 'name', _text, '', where=where)} (saved with probe {label})"),
                name=_field(record, "name", _text, "", where=where),
                ttl=_field(record, "ttl", _optional(_count), None, where=where)))
        except ValueError as exc:
            raise _Malformed(where, str(exc)) from None
    lookup = _field(fields, "lookup", _lookup, where="dane")
    observed = observe(probe, lookup=lookup, records=records,
                       secure=_field(fields, "secure", _optional(_flag), None, where="dane"),
                       mx_secure=_field(fields, "mx_secure", _optional(_flag), None, where="dane"),
                       resolver=_field(fields, "resolver", _text, "", where="dane"))
    saved = _field(fields, "detail", _text, "", where="dane")
    # a lookup that found records is matched again; one that did not keeps what the probe said of it
    return observed if lookup is TlsaLookup.FOUND or not saved else replace(observed, detail=saved)


def _anchors(records: dict[str, Any], path: str) -> list[AnchorRecord]:
    trust = records.get("trust")
    if trust is not None and not isinstance(trust, dict):
        raise EvidenceError(f"records.trust of this hybridtls report is malformed: expected an object or null, "
                            f"found {_shown(trust)}", path=path)
    lists = (("records.trust.anchors", (trust or {}).get("anchors", [])),
             ("records.recorded_anchors", records.get("recorded_anchors", [])))
    found: dict[str, AnchorRecord] = {}
    for where, items in lists:
        try:
            for index, item in enumerate(_list(items, where)):
                anchor = _anchor(item, f"{where}[{index}]", path)
                found.setdefault(anchor.sha256, anchor)
        except _Malformed as exc:
            raise EvidenceError(f"a trust anchor of this hybridtls report is malformed: {exc}", path=path) from None
    return list(found.values())


def _anchor(item: Any, where: str, path: str) -> AnchorRecord:
    fields = _object(item, where)
    origin = _field(fields, "origin", _text, where=where)
    sha256 = _field(fields, "sha256", _text, where=where)
    cert = _certificate(fields, where, source=Source(path=path), label=f"trust anchor recorded in {path}")
    if hashlib.sha256(cert.der).hexdigest().upper() != sha256.upper():
        raise _Malformed(f"{where}.sha256", "does not match the certificate in der_base64")
    return AnchorRecord(origin=f"recorded in {path} ({origin})", sha256=sha256.upper(), subject=cert.subject,
                        der=cert.der)


def _certificate(item: Any, where: str, *, source: Source, label: str) -> CertificateFile:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm

    from hybridtls.pki.facts import facts_from_der

    text = _field(_object(item, where), "der_base64", _text, where=where)
    try:
        der = base64.b64decode(text, validate=True)
    except ValueError:  # binascii.Error, or text that is not ASCII
        raise _Malformed(f"{where}.der_base64", "not base64") from None
    try:
        return facts_from_der(der, source=source, label=label)
    except (ValueError, TypeError, x509.InvalidVersion, UnsupportedAlgorithm) as exc:
        raise _Malformed(f"{where}.der_base64", f"not a certificate hybridtls can read ({_reason(exc)})") from None


def _transcript_line(item: Any, where: str) -> TranscriptLine:
    fields = _object(item, where)
    return TranscriptLine(step=_field(fields, "step", _stage, where=where),
                          direction=_field(fields, "direction", _direction, where=where),
                          text=_field(fields, "text", _text, where=where))


# --- one value each: the right kind, or _Malformed -----------------------------------------------------------------

def _field(fields: dict[str, Any], key: str, read: Callable[[Any, str], T], default: Any = _ABSENT, *,
           where: str = "") -> T:
    at = f"{where}.{key}" if where else key
    if key not in fields:
        if default is _ABSENT:
            raise _Malformed(at, "missing")
        return default  # type: ignore[no-any-return]
    return read(fields[key], at)


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Malformed(where, f"expected an object, found {_shown(value)}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Malformed(where, f"expected an array, found {_shown(value)}")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _Malformed(where, f"expected text, found {_shown(value)}")
    return value


def _texts(value: Any, where: str) -> tuple[str, ...]:
    return tuple(_text(item, f"{where}[{index}]") for index, item in enumerate(_list(value, where)))


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise _Malformed(where, f"expected true or false, found {_shown(value)}")
    return value


def _integer(value: Any, where: str, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise _Malformed(where, f"expected a whole number from {low} to {high}, found {_shown(value)}")
    return value


def _byte(value: Any, where: str) -> int:
    return _integer(value, where, 0, 255)


def _hex(value: str, where: str) -> str:
    from hybridtls.pki.dane import MAX_TLSA_DATA_BYTES

    if len(value) % 2 or len(value) > 2 * MAX_TLSA_DATA_BYTES or value.strip("0123456789abcdef"):
        raise _Malformed(where, f"expected lower-case hex digits in pairs, found {_shown(value)}")
    return value


def _lookup(value: Any, where: str) -> TlsaLookup:
    return _member(TlsaLookup, _text(value, where), where, "a TLSA lookup state")


def _port(value: Any, where: str) -> int:
    return _integer(value, where, 0, 65535)


def _count(value: Any, where: str) -> int:
    return _integer(value, where, 0, _MAX_COUNT)


def _outcome(value: Any, where: str) -> ProbeOutcome:
    outcome = _OUTCOMES.get(_text(value, where))
    if outcome is None:
        raise _Malformed(where, f"not a probe outcome: {_shown(value)}")
    return outcome


def _stage(value: Any, where: str) -> ProbeStep:
    text = _text(value, where)
    return _STEPS_V1.get(text) or _member(ProbeStep, text, where, "a probe step")


def _direction(value: Any, where: str) -> TranscriptDirection:
    return _member(TranscriptDirection, _text(value, where), where, "a transcript direction")


def _member(kind: type[_E], text: str, where: str, what: str) -> _E:
    try:
        return kind(text)
    except ValueError:
        raise _Malformed(where, f"not {what}: {_shown(text)}") from None


def _time(value: Any, where: str) -> datetime:
    try:
        return datetime.fromisoformat(_text(value, where))
    except ValueError:
        raise _Malformed(where, f"not an ISO 8601 time: {_shown(value)}") from None


def _versions(value: Any, where: str) -> tuple[tuple[str, bool | None], ...]:
    if not isinstance(value, dict):
        raise _Malformed(where, f"expected an object of TLS version: true, false or null, found {_shown(value)}")
    versions = []
    for version, accepted in value.items():
        name = _text(version, where)
        versions.append((name, None if accepted is None else _flag(accepted, f"{where}.{name}")))
    return tuple(versions)


def _optional(read: Callable[[Any, str], T]) -> Callable[[Any, str], T | None]:
    def optional(value: Any, where: str) -> T | None:
        return None if value is None else read(value, where)
    return optional


def _shown(value: Any) -> str:
    """A value from the file, said briefly and safely (no 5,000-digit number is turned into text)."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int):
        return str(value) if value.bit_length() <= 64 else f"a {value.bit_length()}-bit number"
    if isinstance(value, float):
        return "a number with a fraction"
    if isinstance(value, str):
        return repr(value[:40] + ("..." if len(value) > 40 else ""))
    if isinstance(value, list | dict):
        return "an array" if isinstance(value, list) else "an object"
    return type(value).__name__


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__
