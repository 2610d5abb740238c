"""Walk the paths given to ``check``, read every evidence file, and build one EvidenceSet.

A file that cannot be read becomes an InputProblem and the run goes on with the rest.
"""

from __future__ import annotations

import gc
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from hybridtls.errors import EvidenceError
from hybridtls.evidence.console import read_console_text
from hybridtls.evidence.dates import DateOrder, is_ambiguous, order_evidence
from hybridtls.evidence.decoding import decode_evidence
from hybridtls.evidence.kinds import BuildContext, RecordKind, classify
from hybridtls.evidence.raw import RawRecord
from hybridtls.evidence.saved_probes import is_hybridtls_report, read_saved_probes
from hybridtls.evidence.sniff import CERTIFICATE_SUFFIXES, looks_like_certificate_file
from hybridtls.evidence.structured import read_csv, read_json
from hybridtls.model import (
    CertificateFile,
    DeliveryError,
    EvidenceSet,
    ExchangeCertificate,
    HybridConfiguration,
    InputProblem,
    Notice,
    OnlineConnector,
    ProbeResult,
    ReceiveConnector,
    SendConnector,
    SkippedRecord,
    Source,
    TraceEntry,
    TransportService,
)

# Files in folders are read when they carry one of these endings; files named explicitly are always read.
EVIDENCE_SUFFIXES = frozenset({".txt", ".log", ".csv", ".json", ".out", ".xml", ".clixml", ""}) | CERTIFICATE_SUFFIXES
MAX_FILE_BYTES = 256 * 1024 * 1024
_EXPECTED = "expected PowerShell output: Format-List text, a table, CSV (Export-Csv) or JSON (ConvertTo-Json)"
T = TypeVar("T")
_CSV_HEADER = re.compile(r'^"?[A-Za-z_][\w ]*"?(?:,"?[A-Za-z_][\w ]*"?)+$')


@dataclass(frozen=True)
class _FileToRead:
    display: str
    real: Path
    folder_server: str | None


@dataclass
class _ParsedFile:
    file: _FileToRead
    classified: list[tuple[RawRecord, RecordKind]]
    skipped: list[SkippedRecord]
    proven_orders: set[DateOrder]
    certificates: list[CertificateFile]
    probes: list[ProbeResult] = field(default_factory=list)


def find_files(paths: list[str]) -> tuple[list[_FileToRead], list[InputProblem]]:
    found: list[_FileToRead] = []
    problems: list[InputProblem] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            root_name = path.resolve().name or None
            for dirpath, dirnames, filenames in os.walk(path):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for name in sorted(filenames):
                    if name.startswith(".") or Path(name).suffix.casefold() not in EVIDENCE_SUFFIXES:
                        continue
                    full = Path(dirpath) / name
                    relative = full.relative_to(path)
                    folder = relative.parts[-2] if len(relative.parts) >= 2 else root_name
                    found.append(_FileToRead(str(full), full, folder))
        elif path.is_file():
            parent = path.parent.resolve().name if path.parent != Path(".") else None
            found.append(_FileToRead(given, path, parent or None))
        else:
            problems.append(InputProblem(source=Source(path=given), message="no such file or folder"))
    return found, problems


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Readers allocate hundreds of thousands of small acyclic objects; pausing the cyclic collector while
    they do so saves ~40% of the time on large evidence (reference counting still frees everything)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_evidence(paths: list[str], date_order: DateOrder | None = None) -> EvidenceSet:
    with _no_cyclic_gc():
        return _load(paths, date_order)


def _load(paths: list[str], date_order: DateOrder | None) -> EvidenceSet:
    files, problems = find_files(paths)
    notices: list[Notice] = []
    parsed: list[_ParsedFile] = []
    for item in files:
        try:
            parsed.append(_parse_file(item, notices))
        except EvidenceError as exc:
            problems.append(InputProblem(source=Source(path=exc.path, line=exc.line), message=exc.message,
                                         hint=exc.hint))

    run_orders = set().union(*(p.proven_orders for p in parsed)) if parsed else set()
    built: list[object] = []
    skipped: list[SkippedRecord] = []
    for done in parsed:
        order, order_note = _file_date_order(done, date_order, run_orders)
        ctx = BuildContext(path=done.file.display, date_order=order, folder_server=done.file.folder_server)
        for record, kind in done.classified:
            result = kind.build(record, ctx)
            if result is not None:
                built.append(result)
        if order_note and ctx.date_order is not None and _has_ambiguous(done):
            ctx.note(None, order_note, "pass --date-order dmy or --date-order mdy to say which")
        if ctx.ambiguous_dates:
            lines = ", ".join(str(s.line) for s in ctx.ambiguous_dates[:5])
            ctx.note(ctx.ambiguous_dates[0].line,
                     f"dates on lines {lines} could be day-first or month-first and nothing in the evidence "
                     "settles it; they are not used (expiry and timing checks skip them)",
                     "pass --date-order dmy (e.g. 18/02/2016) or --date-order mdy (e.g. 2/18/2016)")
        notices.extend(ctx.notices)
        skipped.extend(done.skipped)
    def of(kind: type[T]) -> list[T]:
        return [b for b in built if isinstance(b, kind)]

    certificate_files = [c for done in parsed for c in done.certificates]
    certificates = _join_certificate_files(of(ExchangeCertificate), certificate_files, notices)
    probes = [p for done in parsed for p in done.probes]
    return EvidenceSet(
        files=tuple(f.display for f in files),
        certificates=tuple(certificates),
        trace_entries=tuple(of(TraceEntry)),
        send_connectors=tuple(of(SendConnector)),
        receive_connectors=tuple(of(ReceiveConnector)),
        hybrid_configurations=tuple(of(HybridConfiguration)),
        online_connectors=tuple(of(OnlineConnector)),
        transport_services=tuple(of(TransportService)),
        delivery_errors=tuple(of(DeliveryError)),
        certificate_files=tuple(certificate_files),
        probes=tuple(probes),
        skipped=tuple(skipped),
        notices=tuple(notices),
        problems=tuple(problems),
    )


def _join_certificate_files(records: list[ExchangeCertificate], files: list[CertificateFile],
                            notices: list[Notice]) -> list[ExchangeCertificate]:
    """A certificate file and a Get-ExchangeCertificate record of the same certificate are one certificate:
    fill what the record lacks (Subject, Thumbprint, Issuer, domains) from the file, and say so."""
    by_key = {key: cert for cert in files for key in cert.identity_keys}
    joined = []
    for record in records:
        match = next((by_key[key] for key in record.identity_keys if key in by_key), None)
        if match is None or (record.subject and record.thumbprint and record.issuer):
            joined.append(record)
            continue
        filled = replace(record, subject=record.subject or match.subject, thumbprint=record.thumbprint or match.thumbprint,
                         issuer=record.issuer or match.issuer,
                         certificate_domains=record.certificate_domains or match.certificate_domains)
        notices.append(Notice(source=record.source, message=f"the same certificate as {match.label}: Subject, "
                              "Thumbprint and Issuer filled in from the file"))
        joined.append(filled)
    return joined


def _parse_file(item: _FileToRead, notices: list[Notice]) -> _ParsedFile:
    try:
        size = item.real.stat().st_size
        if size > MAX_FILE_BYTES:
            raise EvidenceError(f"the file is {size} bytes, over the {MAX_FILE_BYTES}-byte limit", path=item.display)
        data = item.real.read_bytes()
    except OSError as exc:
        raise EvidenceError(f"cannot read the file ({exc.strerror or exc})", path=item.display) from None
    if looks_like_certificate_file(item.display, data):
        from hybridtls.evidence.certificates import read_certificate_file  # cryptography: only when needed

        return _ParsedFile(item, [], [], set(), read_certificate_file(data, item.display, _environment_password))
    decoded = decode_evidence(data, item.display)
    if decoded.warning:
        notices.append(Notice(source=Source(path=item.display), message=decoded.warning))
    saved = _saved_report(decoded.text, item.display)
    if saved is not None:
        return _ParsedFile(item, [], [], set(), [], saved)
    records = _read_records(decoded.text, item.display)
    classified: list[tuple[RawRecord, RecordKind]] = []
    skipped: list[SkippedRecord] = []
    orders: set[DateOrder] = set()
    for record in records:
        kind = classify(record)
        if kind is None:
            skipped.append(SkippedRecord(source=record.source, properties=tuple(f.label for f in record.fields),
                                         type_hint=record.type_hint))
            continue
        classified.append((record, kind))
        for raw in record.fields:
            if raw.key in kind.date_fields:
                proven = order_evidence(raw.value.text)
                if proven:
                    orders.add(proven)
    if len(orders) > 1:
        notices.append(Notice(source=Source(path=item.display),
                              message="the file mixes day-first and month-first dates; ambiguous ones are not used",
                              hint="pass --date-order dmy or --date-order mdy"))
    return _ParsedFile(item, classified, skipped, orders, [])


def _environment_password(path: str) -> bytes | None:
    password = os.environ.get("HYBRIDTLS_PFX_PASSWORD")
    return password.encode() if password is not None else None


def _saved_report(text: str, path: str) -> list[ProbeResult] | None:
    """The probes of a saved hybridtls report, or None when the text is not one."""
    head = text.lstrip()[:400]
    if not head.startswith("{") or '"hybridtls"' not in head:
        return None
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return None  # read_json reports it with its line
    if not is_hybridtls_report(document):
        return None
    return read_saved_probes(document, path)


def _read_records(text: str, path: str) -> list[RawRecord]:
    stripped = text.lstrip()
    first_line = stripped.split("\n", 1)[0].strip()
    if stripped.startswith(("{", "[")):
        records = read_json(text, path)
    elif stripped.startswith(("<Objs", "<?xml")):
        raise EvidenceError("CliXML (Export-Clixml) is not read yet; " + _EXPECTED, path=path,
                            hint="export with: ... | ConvertTo-Json -Depth 4 | Out-File file.json")
    elif first_line.startswith("#Software: Microsoft Exchange"):
        raise EvidenceError("an Exchange log file; check does not read logs yet; " + _EXPECTED, path=path)
    elif first_line.startswith("#TYPE") or _CSV_HEADER.match(first_line):
        records = read_csv(text, path)
    else:
        records = read_console_text(text, path)
    if not records:
        raise EvidenceError("no PowerShell output found; " + _EXPECTED, path=path)
    return records


def _file_date_order(
    item: _ParsedFile, override: DateOrder | None, run_orders: set[DateOrder]
) -> tuple[DateOrder | None, str | None]:
    if override is not None:
        return override, None
    if len(item.proven_orders) == 1:
        return next(iter(item.proven_orders)), None
    if not item.proven_orders and len(run_orders) == 1:
        order = next(iter(run_orders))
        word = "day-first" if order is DateOrder.DMY else "month-first"
        return order, (f"dates here could be read either way; read as {word}, the order the other evidence "
                       "files of this run prove")
    return None, None


def _has_ambiguous(item: _ParsedFile) -> bool:
    return any(
        is_ambiguous(raw.value.text)
        for record, kind in item.classified
        for raw in record.fields
        if raw.key in kind.date_fields
    )
