"""Walk the paths given to ``check``, read every evidence file, and build one EvidenceSet.

Each file is read by the first reader of ``registry.READERS`` that recognises it; its records are classified and
built one by one as the reader yields them, so only model records are kept. A file that cannot be read becomes an
InputProblem and the run goes on with the rest. A file reached twice (named and inside a folder given, or through
a link) is read once.

Day/month order: a file's own dates settle its order, or else the order the other files of the run prove. Once a
file has proven one order, the records after are built with it (should the file go on to prove the other order
too, it is read again without). A record whose dates need an order not known yet (``12/02/2016``) is built again
once the run knows it; it alone is kept as read until then. Where nothing settles the order, a certificate's
NotBefore and NotAfter keep both readings (``DateReadings``), for the checks to judge where the readings agree;
other such dates are not used. A note says which, either way.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from hybridtls.errors import EvidenceError
from hybridtls.evidence.attribution import ServerAssignments, transcript_machine
from hybridtls.evidence.dates import DateOrder, is_ambiguous, order_evidence
from hybridtls.evidence.files import DEFAULT_MAX_FILE_BYTES, not_regular, read_limited
from hybridtls.evidence.interface import EvidenceFile
from hybridtls.evidence.kinds import BuildContext, RecordKind, classify
from hybridtls.evidence.raw import RawRecord
from hybridtls.evidence.registry import FIELDS, read_records
from hybridtls.evidence.sniff import CERTIFICATE_SUFFIXES
from hybridtls.model import (
    CertificateFile,
    Coverage,
    EvidenceSet,
    ExchangeCertificate,
    InputProblem,
    Notice,
    ProbeResult,
    ServerBasis,
    ServerRef,
    SkippedRecord,
    Source,
)
from hybridtls.model.progress import Progress, ProgressKind, report_item, report_total
from hybridtls.references import MAX_NAMES_IN_MESSAGE

if TYPE_CHECKING:
    from hybridtls.evidence.certificates import PasswordSource

# Files in folders are read when they carry one of these endings; files named explicitly are always read.
EVIDENCE_SUFFIXES = frozenset({".txt", ".log", ".csv", ".json", ".out", ".xml", ".clixml", ".md", ".ps1", ""}) | CERTIFICATE_SUFFIXES
UNIT = "files"
MAX_SKIPPED_LISTED = 200  # records of unread kinds listed per file; the rest are counted (memory stays linear)
# Read from folders too, but a change ticket or a script with nothing hybridtls reads in it is passed over with a
# note, not reported as a file that could not be read.
OPTIONAL_SUFFIXES = frozenset({".md", ".ps1"})
_KNOWN_KINDS = {
    **dict.fromkeys((".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".heic", ".svg"), "an image"),
    **dict.fromkeys((".pdf", ".doc", ".docx", ".rtf", ".odt", ".xls", ".xlsx", ".ppt", ".pptx", ".msg", ".eml"),
                    "a document"),
    **dict.fromkeys((".zip", ".7z", ".rar", ".gz", ".tgz", ".cab", ".tar"), "an archive (unpack it first)"),
    **dict.fromkeys((".evtx", ".etl"), "a binary Windows log (save it as text: Get-WinEvent ... | Format-List)"),
    **dict.fromkeys((".exe", ".dll", ".msi"), "a program"),
}


@dataclass(frozen=True)
class _FileToRead:
    display: str
    real: Path
    server: ServerRef | None  # of records that do not name theirs
    optional: bool = False  # found in a folder, of a kind that often holds nothing to read (a ticket, a script)


@dataclass
class _Deferred:
    """A record whose dates need the day/month order, and where its first build (without an order) went."""

    record: RawRecord
    kind: RecordKind
    entry: int  # its place in _FileRead.entries
    notices: tuple[int, int]  # its notices in ctx.notices
    ambiguous: tuple[int, int]  # its dates in ctx.ambiguous_dates


@dataclass
class _FileRead:
    file: _FileToRead
    ctx: BuildContext  # the notices and ambiguous dates of the builds
    entries: list[object] = field(default_factory=list)  # model records in file order (None: built to nothing;
    # a tuple: one record read as several)
    skipped: list[SkippedRecord] = field(default_factory=list)  # the first MAX_SKIPPED_LISTED
    skipped_more: int = 0  # records of unread kinds past those, counted
    proven_orders: set[DateOrder] = field(default_factory=set)
    has_ambiguous: bool = False  # a date that needs the order to be read
    deferred: list[_Deferred] = field(default_factory=list)


def find_files(paths: list[str], servers: ServerAssignments | None = None,
               ) -> tuple[list[_FileToRead], list[InputProblem], list[Notice], int]:
    """The files to read, each once; what was passed over in folders (FIFOs, devices, sockets, files of kinds
    that are not evidence) as notices, and how many files that was."""
    found: list[_FileToRead] = []
    problems: list[InputProblem] = []
    notices: list[Notice] = []
    seen: set[object] = set()
    passed_over: list[tuple[str, str]] = []
    assigned = servers or ServerAssignments()

    def add(item: _FileToRead, *, in_folder: bool) -> None:
        try:
            status = item.real.stat()
            identity: object = (status.st_dev, status.st_ino)
        except OSError:
            identity = os.path.abspath(item.real)  # reading it names the problem, once
        else:
            kind = not_regular(status.st_mode)
            if kind and in_folder:
                passed_over.append((item.display, f"{kind}, not a regular file"))
                return
        if identity not in seen:  # the same file through a folder, a second mention or a link: read once
            seen.add(identity)
            found.append(item)

    for given in paths:
        path = Path(given)
        if path.is_dir():
            for dirpath, dirnames, filenames in os.walk(path):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for name in sorted(filenames):
                    full = Path(dirpath) / name
                    if name.startswith("."):
                        continue
                    if full.suffix.casefold() not in EVIDENCE_SUFFIXES:
                        passed_over.append((str(full), _not_evidence(full)))
                        continue
                    add(_FileToRead(str(full), full, assigned.server_of(given, full),
                                    full.suffix.casefold() in OPTIONAL_SUFFIXES), in_folder=True)
        elif path.exists():  # a regular file, or something reading it will name (a FIFO, a device)
            add(_FileToRead(given, path, assigned.server_of(given, path)), in_folder=False)
        else:
            problems.append(InputProblem(source=Source(path=given), message="no such file or folder"))
    found = _without_text_twins(found, passed_over)
    notices.extend(Notice(source=Source(path=display), message=f"skipped: {why}")
                   for display, why in passed_over[:MAX_SKIPPED_LISTED])
    if len(passed_over) > MAX_SKIPPED_LISTED:
        notices.append(Notice(source=Source(path=" ".join(paths)),
                              message=f"{len(passed_over) - MAX_SKIPPED_LISTED:,} more files of kinds that are not "
                                      "evidence were skipped"))
    return found, problems, notices, len(passed_over)


def _without_text_twins(found: list[_FileToRead], passed_over: list[tuple[str, str]]) -> list[_FileToRead]:
    """The collector saves each output twice, as text and as CliXML (``X.txt`` and ``X.clixml``, side by side):
    read once, from the CliXML, which keeps every property exactly; reading both would count every record twice."""
    clixml = {(item.real.parent, item.real.stem.casefold()) for item in found if item.real.suffix.casefold() == ".clixml"}
    if not clixml:
        return found
    kept = []
    for item in found:
        if item.real.suffix.casefold() == ".txt" and (item.real.parent, item.real.stem.casefold()) in clixml:
            passed_over.append((item.display, f"the same output as {item.real.stem}.clixml beside it, read from there"))
        else:
            kept.append(item)
    return kept


def _not_evidence(path: Path) -> str:
    """Why a file in a folder is passed over: what its ending says it is."""
    suffix = path.suffix.casefold()
    kind = _KNOWN_KINDS.get(suffix)
    if kind:
        return f"{kind} ({suffix}), not evidence hybridtls reads"
    return (f"files ending {suffix} are not read from folders" if suffix else "not read from folders") + \
        " (name the file itself to have it read)"



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


def load_evidence(paths: list[str], date_order: DateOrder | None = None, *,
                  max_file_size: int = DEFAULT_MAX_FILE_BYTES, passwords: PasswordSource | None = None,
                  servers: ServerAssignments | None = None, progress: Progress | None = None) -> EvidenceSet:
    """Every record in the files and folders given. ``passwords`` opens a PFX among them (else the
    HYBRIDTLS_PFX_PASSWORD environment variable); ``servers`` says whose records do not name their server;
    ``progress`` hears of each file as it is read.

    Ctrl-C (KeyboardInterrupt) while the files are read raises ``FilesInterrupted``, a KeyboardInterrupt that
    carries the evidence of the files finished."""
    with _no_cyclic_gc():
        return _load(paths, date_order, max_file_size, passwords, servers, progress)


class FilesInterrupted(KeyboardInterrupt):
    """Reading was interrupted after ``done`` of ``total`` files; ``evidence`` holds what those gave."""

    def __init__(self, evidence: EvidenceSet, done: int, total: int) -> None:
        super().__init__("interrupted")
        self.evidence = evidence
        self.done = done
        self.total = total


def _load(paths: list[str], date_order: DateOrder | None, max_file_size: int, passwords: PasswordSource | None,
          servers: ServerAssignments | None, progress: Progress | None) -> EvidenceSet:
    files, problems, notices, skipped_files = find_files(paths, servers)  # then what reading found, then building
    passed_over = 0  # files with nothing to read that often have none (a ticket, a script)
    done: list[_FileRead] = []
    report_total(progress, UNIT, len(files))
    finished = 0
    try:
        for item in files:
            report_item(progress, ProgressKind.STARTED, UNIT, item.display)
            passed_over += _read_one(item, date_order, notices, max_file_size, passwords, done, problems)
            finished += 1
            report_item(progress, ProgressKind.FINISHED, UNIT, item.display)
    except KeyboardInterrupt:
        evidence = _gathered(files, done, problems, notices, skipped_files, passed_over, date_order)
        raise FilesInterrupted(evidence, finished, len(files)) from None
    return _gathered(files, done, problems, notices, skipped_files, passed_over, date_order)


def _read_one(item: _FileToRead, date_order: DateOrder | None, notices: list[Notice], max_file_size: int,
              passwords: PasswordSource | None, done: list[_FileRead], problems: list[InputProblem]) -> int:
    """Read one file into ``done``, or say in ``problems`` why not; 1 when it was passed over (nothing in it)."""
    try:
        done.append(_read_file(item, date_order, notices, max_file_size, passwords))
    except EvidenceError as exc:
        if item.optional and exc.line is None:
            notices.append(Notice(source=Source(path=exc.path), message="skipped: nothing hybridtls reads in it "
                                  "(no cmdlet output, connector command lines or error text)"))
            return 1
        problems.append(InputProblem(source=Source(path=exc.path, line=exc.line), message=exc.message,
                                     hint=exc.hint))
    except (ValueError, OverflowError, RecursionError, MemoryError, UnicodeError, LookupError) as exc:
        # a reader's bug must not lose every other file's results: said, with the file, never silent
        problems.append(InputProblem(
            source=Source(path=item.display),
            message=f"not read: hybridtls failed on it ({type(exc).__name__}: {str(exc)[:200]})",
            hint="this is a hybridtls bug; please report it with the file if you can share it"))
    return 0


def _gathered(files: list[_FileToRead], done: list[_FileRead], problems: list[InputProblem], notices: list[Notice],
              skipped_files: int, passed_over: int, date_order: DateOrder | None) -> EvidenceSet:
    """The evidence set of the files read (``files``: those set out to read)."""
    coverage = Coverage(files=len(files) - passed_over, files_read=len(done), files_skipped=skipped_files + passed_over,
                        records=sum(1 for read in done for entry in read.entries if entry is not None),
                        records_not_understood=sum(len(read.skipped) + read.skipped_more for read in done))
    run_orders = set().union(*(read.proven_orders for read in done)) if done else set()
    gathered: dict[str, list[object]] = {name: [] for name in FIELDS.values()}
    skipped: list[SkippedRecord] = []
    for read in done:
        _settle_dates(read, date_order, run_orders)
        notices.extend(read.ctx.notices)
        skipped.extend(read.skipped)
        if read.skipped_more:
            notices.append(Notice(source=Source(path=read.file.display),
                                  message=f"{read.skipped_more:,} more records of kinds hybridtls does not read were "
                                          f"skipped here, beyond the {MAX_SKIPPED_LISTED} listed"))
        for entry in read.entries:
            if type(entry) is tuple:  # one record read as two (a queue, and its LastError)
                for part in entry:
                    gathered[FIELDS[type(part)]].append(part)
            elif entry is not None:
                gathered[FIELDS[type(entry)]].append(entry)

    notices.extend(_servers_from_folders(gathered))
    certificate_files: list[CertificateFile] = gathered.pop("certificate_files")  # type: ignore[assignment]
    probes: list[ProbeResult] = gathered.pop("probes")  # type: ignore[assignment]
    records: list[ExchangeCertificate] = gathered.pop("certificates")  # type: ignore[assignment]
    certificates = _join_certificate_files(records, certificate_files, notices)
    return EvidenceSet(
        files=tuple(f.display for f in files),
        certificates=tuple(certificates),
        certificate_files=tuple(certificate_files),
        probes=tuple(probes),
        skipped=tuple(skipped),
        notices=tuple(notices),
        problems=tuple(problems),
        coverage=coverage,
        **{name: tuple(items) for name, items in gathered.items()},  # type: ignore[arg-type]
    )


def _servers_from_folders(gathered: dict[str, list[object]]) -> list[Notice]:
    """The servers known only from the names of the folders their records were saved in, said once."""
    first_seen: dict[str, Source] = {}
    for records in gathered.values():
        for record in records:
            server = getattr(record, "server", None)
            if isinstance(server, ServerRef) and server.basis is ServerBasis.FOLDER:
                first_seen.setdefault(server.name, record.source)  # type: ignore[attr-defined]
    if not first_seen:
        return []
    names = list(first_seen)
    shown = ", ".join(repr(n) for n in names[:MAX_NAMES_IN_MESSAGE])
    if len(names) > MAX_NAMES_IN_MESSAGE:
        shown += f" and {len(names) - MAX_NAMES_IN_MESSAGE:,} more"
    return [Notice(source=next(iter(first_seen.values())),
                   message=f"server name{'s' if len(names) > 1 else ''} {shown} taken from the folders the files are "
                           "in: the records do not name their server (no Identity, PSComputerName or -Server)",
                   hint="if a folder is not named after its server, pass --server NAME (or --server PATH=NAME)")]


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


def _read_file(item: _FileToRead, override: DateOrder | None, notices: list[Notice], max_file_size: int,
               passwords: PasswordSource | None) -> _FileRead:
    """Read one file through its reader, classifying and building each record as it comes."""
    data = read_limited(item.real, item.display, max_file_size)
    evidence = EvidenceFile(item.display, data, passwords, item.server)
    del data  # the file holds the bytes until its text is decoded, and no longer
    try:
        read, held = _read_through(item, evidence, override, assume=override is None)
        if not held:  # an order was assumed and the file turned out to mix orders: read it again without
            read, _ = _read_through(item, evidence, override, assume=False)
    finally:
        if evidence.warning:
            notices.append(Notice(source=Source(path=item.display), message=evidence.warning))
    if len(read.proven_orders) > 1:
        notices.append(Notice(source=Source(path=item.display),
                              message="the file mixes day-first and month-first dates; it cannot settle ambiguous ones",
                              hint="pass --date-order dmy or --date-order mdy"))
    return read


def _read_through(item: _FileToRead, evidence: EvidenceFile, override: DateOrder | None, *,
                  assume: bool) -> tuple[_FileRead, bool]:
    """Build each record as the file's reader yields it. With ``assume``, once the file's dates have proven one
    order, later records are built with it: the file's order, unless the file proves the other one too (then
    the assumption did not hold, and the file is read again without it)."""
    read = _FileRead(item, BuildContext(path=item.display, date_order=override, server=item.server))
    ctx, entries, orders = read.ctx, read.entries, read.proven_orders
    defer = override is None
    header_read = item.server is not None and item.server.basis is ServerBasis.GIVEN
    for record in read_records(evidence):
        if isinstance(record, Notice):
            ctx.notices.append(record)  # what the reader said about the file
            continue
        if not isinstance(record, RawRecord):
            entries.append(record)  # already a model record (a certificate file, a saved probe)
            continue
        if not header_read:  # the text is decoded by now
            header_read = True
            machine = transcript_machine(evidence.head(4096))
            if machine:
                ctx.server = ServerRef(name=machine, basis=ServerBasis.TRANSCRIPT)
        kind = classify(record)
        if kind is None:
            if len(read.skipped) < MAX_SKIPPED_LISTED:
                read.skipped.append(SkippedRecord(source=record.source, properties=tuple(f.label for f in record.fields),
                                                  type_hint=record.type_hint))
            else:
                read.skipped_more += 1
            continue
        fields = record.fields
        for position in record.positions_of(kind.date_fields):
            text = fields[position].value.text
            proven = order_evidence(text)
            if proven:
                orders.add(proven)
            elif not read.has_ambiguous and is_ambiguous(text):
                read.has_ambiguous = True
        if assume and ctx.date_order is None and len(orders) == 1:
            ctx.date_order = next(iter(orders))
        notices_before, dates_before = len(ctx.notices), len(ctx.ambiguous_dates)
        built = kind.build(record, ctx)
        if defer and len(ctx.ambiguous_dates) > dates_before:
            read.deferred.append(_Deferred(record, kind, len(entries), (notices_before, len(ctx.notices)),
                                           (dates_before, len(ctx.ambiguous_dates))))
            entries.append(built)
        elif built is not None:
            entries.append(built)
    return read, not (assume and len(orders) > 1 and ctx.ordered_dates)


def _settle_dates(read: _FileRead, override: DateOrder | None, run_orders: set[DateOrder]) -> None:
    """Build again, with the order now known, the records whose dates needed it; then say what was assumed."""
    order, order_note = _file_date_order(read, override, run_orders)
    ctx = read.ctx
    if order is not None and read.deferred:
        notices, dates = [], []
        notices_at = dates_at = 0
        for deferred in read.deferred:
            again = BuildContext(path=ctx.path, date_order=order, server=ctx.server)
            read.entries[deferred.entry] = deferred.kind.build(deferred.record, again)
            notices += ctx.notices[notices_at:deferred.notices[0]] + again.notices
            dates += ctx.ambiguous_dates[dates_at:deferred.ambiguous[0]] + again.ambiguous_dates
            notices_at, dates_at = deferred.notices[1], deferred.ambiguous[1]
        ctx.notices[:] = notices + ctx.notices[notices_at:]
        ctx.ambiguous_dates[:] = dates + ctx.ambiguous_dates[dates_at:]
    read.deferred.clear()
    ctx.date_order = order
    if order_note and ctx.date_order is not None and read.has_ambiguous:
        ctx.note(None, order_note, "pass --date-order dmy or --date-order mdy to say which")
    kept = [d.source for d in ctx.ambiguous_dates if d.kept]
    dropped = [d.source for d in ctx.ambiguous_dates if not d.kept]
    for sources, what in ((kept, _KEPT), (dropped, _DROPPED)):
        if sources:
            lines = ", ".join(str(s.line) for s in sources[:5]) + (", ..." if len(sources) > 5 else "")
            ctx.note(sources[0].line, f"dates on lines {lines} could be day-first or month-first and nothing in the "
                     f"evidence settles it; {what}", _ORDER_HINT)


_ORDER_HINT = "pass --date-order dmy (e.g. 18/02/2016) or --date-order mdy (e.g. 2/18/2016)"
# Certificate dates are kept both ways round; the other dates (message trace, events, queues) are not used.
_KEPT = ("both readings of each are kept: the expiry and timing checks judge such a date only where both readings "
         "give the same verdict, and list the dates they cannot judge")
_DROPPED = "they are not used (timing checks skip them)"


def _file_date_order(
    item: _FileRead, override: DateOrder | None, run_orders: set[DateOrder]
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
