"""``certutil -store [-enterprise|-grouppolicy|-user] <Store>`` and ``certutil -verifystore`` output: one block per
certificate, under a header line naming the store (``AuthRoot "Third-Party Root Certification Authorities"``).

    ================ Certificate 0 ================
    Serial Number: 4caaf9cadb636fe01ff74ed85b03869d
    Issuer: CN=..., O=..., C=GB
     NotBefore: 1/19/2010 12:00 AM
     NotAfter: 1/18/2038 11:59 PM
    Subject: CN=..., O=..., C=GB
    Cert Hash(sha1): afe5d244a8d1194230ff479fe2f897bbcd7a8cb4
    CertUtil: -store command completed successfully.

Each block becomes a RawRecord of the fields hybridtls uses (the other lines certutil prints, key provider and
verbose dumps, are passed over), with the store header as its ``Store`` field and the certutil command line, where
the file holds it, as its command: the kind (``kinds.stores``) tells the physical store from it. Text outside
certutil's output (a transcript that also holds cmdlet output) is read as console text. One pass, line by line;
only the block being read is held.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from hybridtls.errors import EvidenceError
from hybridtls.evidence.blocks import console_rest
from hybridtls.evidence.console import PROMPT
from hybridtls.evidence.interface import EvidenceFile, EvidenceReader, Record, pieces
from hybridtls.evidence.raw import RawField, RawRecord, raw_field, text_value
from hybridtls.model import Notice, Source

TYPE_HINT = "CertutilStoreEntry"
_MARKER_TEXT = "= Certificate "
_MARKER = re.compile(r"^\s*=+ Certificate (?P<index>\d{1,9}) =+\s*$")
# Root "Trusted Root Certification Authorities", CA "Intermediate Certification Authorities", My "Personal"
_HEADER = re.compile(r'^\s*(?P<store>[A-Za-z][\w ]{0,60}?) "(?P<title>[^"\r\n]{1,200})"\s*$')
_FIELD = re.compile(r"^\s*(?P<label>Serial Number|Issuer|NotBefore|NotAfter|Subject|Cert Hash\(sha1\)|"
                    r"Cert Hash\(sha256\)|Friendly Name):[ \t]?(?P<value>.*)", re.IGNORECASE)  # value stripped after
_FOOTER = re.compile(r"^\s*CertUtil: ", re.IGNORECASE)
_MAX_FIELD = 4096  # a name or a hash is never longer; what is, is cut (and the kind will not trust it whole)


def holds_certutil_blocks(text: str) -> bool:
    """Cheap first (a substring search), then the marker line itself."""
    position = text.find(_MARKER_TEXT)
    while position >= 0:
        start = text.rfind("\n", 0, position) + 1
        end = text.find("\n", position)
        end = len(text) if end < 0 else end
        if _MARKER.match(text[start:end]):
            return True
        position = text.find(_MARKER_TEXT, end)  # each line looked at once
    return False


class CertutilReader(EvidenceReader):
    """``certutil -store`` / ``-verifystore`` blocks, wherever they are in the file."""

    name = "certutil store listing"

    def recognises(self, file: EvidenceFile) -> bool:
        return _MARKER_TEXT in file.text and holds_certutil_blocks(file.text)

    def read(self, file: EvidenceFile) -> Iterator[Record]:
        return read_certutil(file.text, file.display)


def read_certutil(text: str, path: str) -> Iterator[Record]:
    """The blocks as records, then the rest of the file as console text (its line numbers kept)."""
    rest: list[str] = []  # the lines that are not certutil's, blanked where they were (line numbers stay)
    command: str | None = None
    header: RawField | None = None
    block: list[RawField] | None = None
    block_line = 0
    any_block = False
    number = 0
    for piece in pieces(text):
        for line in piece.splitlines():
            number += 1
            marker = _MARKER.match(line) if _MARKER_TEXT in line else None
            if marker:
                if block is not None:
                    yield from _block(block, block_line, header, command, path)
                block, block_line, any_block = [], number, True
                rest.append("")
                continue
            prompt = PROMPT.match(line.strip()) if ">" in line else None
            if prompt or _FOOTER.match(line):
                if block is not None:
                    yield from _block(block, block_line, header, command, path)
                    block = None
                if prompt:
                    said = prompt["command"].strip()
                    command = said if "certutil" in said.casefold() else None
                    header = None
                    rest.append(line)  # the console reader reads what the next command printed
                else:
                    rest.append("")
                continue
            heading = _HEADER.match(line) if '"' in line else None
            if heading:  # the next store's listing
                if block is not None:
                    yield from _block(block, block_line, header, command, path)
                    block = None
                header = raw_field("Store", text_value(line.strip()), number)
                rest.append("")
                continue
            if block is None:
                rest.append(line)
                continue
            rest.append("")
            found = _FIELD.match(line)
            if found:
                value = found["value"].strip()
                value = value[:_MAX_FIELD] + ("..." if len(value) > _MAX_FIELD else "")
                block.append(raw_field(found["label"], text_value(value), number))
    if block is not None:
        yield from _block(block, block_line, header, command, path)
    if not any_block:
        raise EvidenceError("no certutil certificate block found", path=path,
                            hint="save the whole output of certutil -store <Store>")
    yield from console_rest(rest, path)


def _block(block: list[RawField], line: int, header: RawField | None, command: str | None,
           path: str) -> Iterator[Record]:
    if not block:
        yield Notice(source=Source(path=path, line=line), message="a certutil certificate block with none of Serial "
                     "Number, Issuer, Subject or Cert Hash(sha1) under it; passed over")
        return
    fields = (*block, header) if header is not None else tuple(block)
    yield RawRecord(Source(path=path, line=line), fields, type_hint=TYPE_HINT, command=command)
