"""``dig`` output for TLSA records, wherever it stands in a file: full answers and ``+short`` lines.

    ; <<>> DiG 9.18.28 <<>> +dnssec TLSA _25._tcp.mail.contoso.com
    ;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 48213
    ;; flags: qr rd ra ad; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1
    ;; ANSWER SECTION:
    _25._tcp.mail.contoso.com. 3600 IN TLSA 3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B566 64C5D3D6

Each TLSA line becomes a ``TlsaRecord`` (dig cuts long data into words of 56 digits, and ``+multiline`` wraps it in
parentheses: both are joined); each answer a ``DnsAnswerStatus`` saying whether the resolver set ``ad`` (authenticated
data: the answer was DNSSEC-validated, if the resolver validates). ``+short`` prints ``3 1 1 <hex>`` lines with no
owner name and no flags: read only under a dig command line that asks for TLSA, whose name they take, and their
DNSSEC state is unknown. The rest of the file is read as console text. One pass; only the open answer is held.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from hybridtls.errors import EvidenceError
from hybridtls.evidence.blocks import console_rest
from hybridtls.evidence.interface import EvidenceFile, EvidenceReader, Record, pieces
from hybridtls.model import DnsAnswerStatus, Notice, Source, TlsaRecord

_BANNER = re.compile(r"^;\s*<<>>\s*DiG\b(?P<args>.*?)(?:<<>>(?P<query>.*))?$", re.IGNORECASE)
_COMMAND = re.compile(r"^(?:.{0,200}?[$#%>]\s*)?dig\s+(?P<args>.+)$")
_FLAGS = re.compile(r"^;;\s*flags:\s*(?P<flags>[a-z ]*);", re.IGNORECASE)
_RECORD = re.compile(r"^(?P<name>\S+)\s+(?:(?P<ttl>\d{1,10})\s+)?(?:IN\s+)?TLSA\s+(?P<rdata>.*)$", re.IGNORECASE)
_SHORT = re.compile(r"^\s*(?P<rdata>\d{1,3}\s+\d{1,3}\s+\d{1,3}\s+[0-9A-Fa-f][0-9A-Fa-f ]*)$")
_RDATA = re.compile(r"^(?P<u>\d{1,3})\s+(?P<s>\d{1,3})\s+(?P<m>\d{1,3})\s+(?P<hex>[0-9A-Fa-f ]+)$")
_TLSA_NAME = re.compile(r"(?<![\w.-])(_\d{1,5}\._tcp\.[A-Za-z0-9.-]{1,253})", re.IGNORECASE)
MAX_DATA_HEX = 16384  # as kinds.domains: a full certificate of 8 KiB
MAX_CONTINUED = 400  # lines a +multiline record may take before it is called cut


def holds_dig_tlsa(text: str) -> bool:
    """A dig banner or command line, and a TLSA record line or a TLSA query."""
    if "dig" not in text.casefold() and "DiG" not in text:
        return False
    return bool(re.search(r"(?im)^(?:;\s*<<>>\s*DiG\b|(?:.{0,200}?[$#%>]\s*)?dig\s).*\bTLSA\b", text)
                or re.search(r"(?im)^\S+\s+\d+\s+IN\s+TLSA\s+\d", text))


@dataclass
class _Answer:
    name: str  # the name asked, from the banner or the command line
    line: int
    authenticated: bool | None = None  # None until the flags line is seen
    records: int = 0
    short: bool = False  # under a command line with +short
    continued: list[str] = field(default_factory=list)  # an open +multiline record: its text so far
    continued_line: int = 0
    continued_ttl: int | None = None


class DigReader(EvidenceReader):
    """dig's TLSA answers, wherever they are in the file."""

    name = "dig TLSA output"

    def recognises(self, file: EvidenceFile) -> bool:
        return holds_dig_tlsa(file.text)

    def read(self, file: EvidenceFile) -> Iterator[Record]:
        return read_dig(file.text, file.display)


def _asked(args: str) -> tuple[str, bool, bool]:
    """The TLSA name a dig command asks, whether it asks TLSA, and whether it asks +short."""
    found = _TLSA_NAME.search(args)
    words = args.split()
    return ((found[1].rstrip(".").casefold() if found else ""), any(w.upper() == "TLSA" for w in words),
            any(w.casefold().startswith("+short") for w in words))


def read_dig(text: str, path: str) -> Iterator[Record]:
    rest: list[str] = []
    answer: _Answer | None = None
    number = 0
    any_record = False
    for piece in pieces(text):
        for line in piece.splitlines():
            number += 1
            stripped = line.strip()
            if answer is not None and answer.continued:
                answer.continued.append(stripped.split(";", 1)[0])
                rest.append("")
                if ")" in stripped or len(answer.continued) > MAX_CONTINUED:
                    record = _record(" ".join(answer.continued).replace("(", " ").replace(")", " "),
                                     answer, answer.continued_line, path, answer.continued_ttl)
                    answer.continued = []
                    if record is not None:
                        any_record = True
                        yield record
                continue
            banner = _BANNER.match(stripped) if stripped.startswith(";") and "DiG" in stripped else None
            command = _COMMAND.match(stripped) if not banner and "dig" in stripped else None
            if banner or command:
                args = (banner["query"] or banner["args"]) if banner else command["args"]  # type: ignore[index]
                name, tlsa, short = _asked(args)
                if banner and answer is not None and answer.name == name and not answer.records:
                    answer.short = False  # the banner dig prints under its own command line: one answer
                    rest.append("")
                    continue
                if answer is not None:
                    yield _status(answer, path)
                answer = _Answer(name=name, line=number, short=short) if tlsa or name else None
                rest.append("" if answer else line)
                continue
            if answer is None:
                rest.append(line)
                continue
            flags = _FLAGS.match(stripped) if stripped.startswith(";; flags") else None
            if flags:
                answer.authenticated = "ad" in flags["flags"].split()
                rest.append("")
                continue
            if stripped.startswith(";") or not stripped:
                rest.append("")
                continue
            found = _RECORD.match(stripped)
            bare = _SHORT.match(stripped) if answer.short and not found else None
            if found or bare:
                rdata = (found or bare)["rdata"].split(";", 1)[0]  # type: ignore[index]
                rest.append("")
                if found:
                    answer.name = found["name"].rstrip(".").casefold()
                ttl = int(found["ttl"]) if found and found["ttl"] else None
                if "(" in rdata and ")" not in rdata:
                    answer.continued, answer.continued_line, answer.continued_ttl = [rdata], number, ttl
                    continue
                record = _record(rdata.replace("(", " ").replace(")", " "), answer, number, path, ttl)
                if record is not None:
                    any_record = True
                    yield record
                continue
            if found is None and re.match(r"^\S+\s+\d+\s+IN\s+\S+", stripped):
                rest.append("")  # another type in the answer (RRSIG, CNAME): dig's, passed over
                continue
            yield _status(answer, path)
            answer = None
            rest.append(line)
    if answer is not None:
        yield _status(answer, path)
    if not any_record:
        raise EvidenceError("no TLSA record found in the dig output", path=path,
                            hint="save the whole output of: dig +dnssec TLSA _25._tcp.<host>")
    yield from console_rest(rest, path)


def _status(answer: _Answer, path: str) -> Record:
    if answer.records == 0:
        return Notice(source=Source(path=path, line=answer.line),
                      message=f"dig asked for TLSA of {answer.name or '?'} and the output shows no TLSA record")
    return DnsAnswerStatus(source=Source(path=path, line=answer.line), name=answer.name,
                           authenticated=None if answer.short else answer.authenticated, records=answer.records)


def _record(rdata: str, answer: _Answer, line: int, path: str, ttl: int | None = None) -> Record | None:
    parsed = _RDATA.match(" ".join(rdata.split()))
    if parsed is None:
        return Notice(source=Source(path=path, line=line), message="a TLSA line whose data is not 'usage selector "
                      "matching-type hexadecimal'; passed over")
    data = "".join(parsed["hex"].split())
    fields = int(parsed["u"]), int(parsed["s"]), int(parsed["m"])
    if max(fields) > 255 or len(data) % 2 or len(data) > MAX_DATA_HEX:
        return Notice(source=Source(path=path, line=line), message="a TLSA record with a field above 255 or data that "
                      f"is not whole bytes (at most {MAX_DATA_HEX:,} digits); passed over")
    answer.records += 1
    return TlsaRecord(usage=fields[0], selector=fields[1], matching_type=fields[2], data_hex=data.casefold(),
                      source=Source(path=path, line=line), name=answer.name, ttl=ttl)
