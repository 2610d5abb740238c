"""The JSON report: one document per run, ``schema_version`` 4, described by ``schema/report-v4.json``.

The document carries the model itself. ``records`` holds every field of the run's ``EvidenceSet`` under the
field's own name, and each record is written by walking its dataclass fields, so a field added to the model
appears in the JSON without code here (and the schema test fails until the schema describes it). The few
departures from "field name: value" are listed in ``_OMIT``, ``_FIELD`` and ``_EXTRA`` below; value forms are:
datetime -> ISO 8601 text, Enum -> its value, bytes -> base64 under ``<name>_base64``, tuple -> array,
frozenset -> sorted array, nested record -> object.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import json
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from hybridtls._version import __version__
from hybridtls.model import CertificateFile, ChainAnalysis, Finding, MtaStsPolicy, ProbeResult, TxtLookup
from hybridtls.report.summary import Cause, summary

if TYPE_CHECKING:
    from hybridtls.report import Report

SCHEMA_VERSION = 4

Converter = Callable[[Any], Any]

# Fields left out: the line of each property within a record (the record's own ``source`` locates it; a finding's
# evidence cites the property lines that matter).
_OMIT = frozenset({"field_lines"})
_AS_IS = frozenset({str, int, bool, float, type(None)})
# Converters by Python type and plans by record type, each worked out the first time it is met.
_BY_TYPE: dict[type, Converter] = {}


def _plain(value: Any) -> Any:
    """Any model value as JSON data."""
    kind = type(value)
    convert = _BY_TYPE.get(kind)
    if convert is None:
        convert = _BY_TYPE[kind] = _learn(kind)
    return convert(value)


def _same(value: Any) -> Any:
    return value


def _learn(kind: type) -> Converter:
    """The converter for one Python type (_plain keeps it)."""
    if kind in _AS_IS:
        return _same
    if issubclass(kind, enum.Enum):
        return _enum_value
    if issubclass(kind, tuple | list):
        return _array
    if dataclasses.is_dataclass(kind):
        return _record
    if issubclass(kind, datetime):
        return datetime.isoformat
    if issubclass(kind, frozenset | set):
        return _sorted_array
    if issubclass(kind, bytes):
        return _base64
    if issubclass(kind, Mapping):
        return _object
    raise TypeError(f"no JSON form for a {kind.__name__} in the model")


def _enum_value(value: enum.Enum) -> Any:
    return value.value


def _array(values: tuple[Any, ...] | list[Any]) -> list[Any]:
    return [_plain(item) for item in values]


def _sorted_array(values: frozenset[Any] | set[Any]) -> list[Any]:
    return sorted(_plain(item) for item in values)


def _object(values: Mapping[Any, Any]) -> dict[str, Any]:
    return {str(key): _plain(item) for key, item in values.items()}


def _base64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _certificate_reference(cert: CertificateFile) -> dict[str, Any]:
    """A certificate named where it is whole elsewhere (certificate_files, a probe's chain) or a known root."""
    return {"thumbprint": cert.thumbprint, "subject": cert.subject, "issuer": cert.issuer, "label": cert.label,
            "source": _plain(cert.source)}


def _references(certs: tuple[CertificateFile, ...]) -> list[dict[str, Any]]:
    return [_certificate_reference(cert) for cert in certs]


# Fields written in another form than the generic one: (record type, field) -> converter.
_FIELD: dict[tuple[type, str], Converter] = {
    (ChainAnalysis, "leaf"): _certificate_reference,
    (ChainAnalysis, "path"): _references,
    (ChainAnalysis, "served_extra"): _references,
    (CertificateFile, "extended_key_usage"): lambda pairs: [{"name": n, "oid": oid} for n, oid in pairs],
    (ProbeResult, "versions_accepted"): lambda pairs: {version: accepted for version, accepted in pairs},
}

# Properties written beside the fields: what scripts would otherwise recompute.
_EXTRA: dict[type, tuple[str, ...]] = {
    Finding: ("key",),
    CertificateFile: ("tls_certificate_name",),
    ProbeResult: ("label", "source"),
    TxtLookup: ("usable",),
    MtaStsPolicy: ("valid",),
}

_Plan = tuple[tuple[str, str, Converter | None], ...]  # (JSON key, attribute, converter; None: as it is)
_PLANS: dict[type, _Plan] = {}


def _converter(kind: type, name: str, hint: Any) -> Converter | None:
    special = _FIELD.get((kind, name))
    if special is not None:
        return special
    union = typing.get_origin(hint) in (types.UnionType, typing.Union)
    if set(typing.get_args(hint)) <= _AS_IS if union else hint in _AS_IS:
        return None  # text, numbers, flags (or None): the common case, kept cheap for 10,000 trace rows
    return _plain


def _plan(kind: type) -> _Plan:
    """How to write one record type (_record keeps it)."""
    hints = typing.get_type_hints(kind)
    steps: list[tuple[str, str, Converter | None]] = []
    for field in dataclasses.fields(kind):
        if field.name in _OMIT:
            continue
        key = field.name + ("_base64" if hints[field.name] in (bytes, bytes | None) else "")
        steps.append((key, field.name, _converter(kind, field.name, hints[field.name])))
    steps.extend((name, name, _plain) for name in _EXTRA.get(kind, ()))
    return tuple(steps)


def _record(record: Any) -> dict[str, Any]:
    kind = type(record)
    plan = _PLANS.get(kind)
    if plan is None:
        plan = _PLANS[kind] = _plan(kind)
    return {key: getattr(record, name) if convert is None else convert(getattr(record, name))
            for key, name, convert in plan}


def _finding(report: Report, finding: Finding) -> dict[str, Any]:
    check = report.check(finding.check_id)
    return {**_record(finding), "title": check.title, "explanation": check.explanation,
            "references": list(check.references)}


def _checks(report: Report) -> list[dict[str, Any]]:
    outcomes = {outcome.check_id: outcome for outcome in report.outcomes}
    rows = []
    for check in report.checks:
        outcome = outcomes.get(check.id)
        rows.append({"id": check.id, "title": check.title, "severity": check.severity.value,
                     "status": outcome.status.value if outcome else None,
                     "reason": (outcome.reason or None) if outcome else None,
                     "findings": len(outcome.findings) if outcome else 0})
    return rows


def _cause(cause: Cause) -> dict[str, Any]:
    finding = cause.finding
    return {"key": finding.key, "check_id": finding.check_id, "severity": finding.severity.value,
            "what": cause.what, "where": finding.subject, "command": cause.command or None,
            "context": finding.context or None, "explains": [f.key for f in cause.explained]}


def _summary(report: Report) -> dict[str, Any]:
    """The first screen: the verdict, the root causes ranked (report/summary.py), what is only context."""
    first = summary(report)
    return {"verdict": first.verdict,
            "evidence_date": first.evidence_date.isoformat(timespec="seconds") if first.evidence_date else None,
            "root_causes": [_cause(c) for c in first.causes], "context": [_cause(c) for c in first.context]}


def report_document(report: Report, *, records: bool = True) -> dict[str, Any]:
    document = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "hybridtls", "version": __version__},
        "command": report.command,
        "now": report.now.isoformat(timespec="seconds"),
        "fail_on": report.fail_on.value if report.fail_on else None,
        "verdict": "fail" if report.failed else "pass",
        **({"partial": _record(report.partial)} if report.partial else {}),
        "counts": report.counts,
        "summary": _summary(report),
        "findings": [_finding(report, f) for f in report.findings],
        "checks": _checks(report),
        "servers": report.servers,
    }
    if records:
        document["records"] = _record(report.evidence)
    return document


def render_json(report: Report) -> str:
    import io

    buffer = io.StringIO()
    write_json(report, buffer)
    return buffer.getvalue()


ERROR_SCHEMA_VERSION = 1  # schema/error-v1.json


def error_document(command: str | None, message: str, hint: str | None,
                   problems: Sequence[tuple[str, str | None]] = ()) -> dict[str, Any]:
    """What ``--format json`` writes when a run ends in an error instead of a report: the error line, its hint,
    and each input problem behind it."""
    return {
        "schema_version": ERROR_SCHEMA_VERSION,
        "tool": {"name": "hybridtls", "version": __version__},
        "command": command,
        "verdict": "error",
        "error": {"message": message, "hint": hint},
        "problems": [{"where": where, "hint": problem_hint} for where, problem_hint in problems],
    }


_BATCH = 2000  # records turned into JSON data at a time: memory holds one batch, not the whole estate


def write_json(report: Report, stream: TextIO) -> None:
    """The report as ``dump_json(report_document(report))`` writes it, record lists written a batch at a time, so
    100,000 trace rows never exist as JSON data all at once (the document was four times the input in memory)."""
    text = dump_json({**report_document(report, records=False), "records": {}})
    opening = text.rindex('"records": {}')
    stream.write(text[:opening] + '"records": {')
    evidence = report.evidence
    first = True
    for key, name, convert in _plan(type(evidence)):
        value = getattr(evidence, name)
        stream.write(("" if first else ",") + "\n    " + json.dumps(key) + ": ")
        first = False
        if isinstance(value, tuple) and len(value) > _BATCH and convert is _plain:
            _write_array(value, stream)
        else:
            stream.write(_indented(dump_json(value if convert is None else convert(value))[:-1], 4))
    stream.write("\n  }\n}\n")


def _write_array(items: tuple[Any, ...], stream: TextIO) -> None:
    stream.write("[")
    for start in range(0, len(items), _BATCH):
        batch = dump_json(_array(items[start:start + _BATCH]))[:-1]  # "[\n  {...},\n  {...}\n]"
        stream.write(("," if start else "") + _indented(batch[1:-2], 4))
    stream.write("\n    ]")


def _indented(text: str, spaces: int) -> str:
    return text.replace("\n", "\n" + " " * spaces)


# Everything past printable ASCII: DEL, C1 controls, bidi and other odd code points from evidence arrive escaped.
_NOT_ASCII = re.compile("[\x7f-\U0010ffff]")


def dump_json(document: Any) -> str:
    """Indented, ASCII-only JSON. orjson writes it ~10x faster than the json module's pure-Python indenting
    encoder (10,000 trace rows: 11 ms against 190 ms); numbers it cannot hold fall back to the json module."""
    import orjson

    try:
        text = orjson.dumps(document, option=orjson.OPT_INDENT_2).decode("utf-8")
    except orjson.JSONEncodeError:
        return json.dumps(document, indent=2, ensure_ascii=True) + "\n"
    return _NOT_ASCII.sub(lambda m: json.dumps(m.group()).strip('"'), text) + "\n"
