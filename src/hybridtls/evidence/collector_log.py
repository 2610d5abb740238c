"""The log ``Collect-HybridTls.ps1`` (``hybridtls collector``) writes beside the evidence, ``collector-log.txt``.

It holds no cmdlet output; what it tells ``check`` is what the collector could not collect, so that a report on
the folder says which evidence is missing, and why, rather than judging as if it had everything. Each
``NOT-COLLECTED`` line becomes a notice at its line; the other lines (what was collected, what returned nothing)
are passed over.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from hybridtls.evidence.interface import EvidenceFile, EvidenceReader, Record, pieces
from hybridtls.model import Notice, Source

HEADER = "# hybridtls collector log"
_NOT_COLLECTED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d NOT-COLLECTED (?P<what>.+?)\s*$")


class CollectorLogReader(EvidenceReader):
    name = "hybridtls collector log"

    def recognises(self, file: EvidenceFile) -> bool:
        return file.first_line() == HEADER

    def read(self, file: EvidenceFile) -> Iterator[Record]:
        number = 0
        for piece in pieces(file.text):
            for line in piece.splitlines():
                number += 1
                match = _NOT_COLLECTED.match(line)
                if match:
                    yield Notice(source=Source(path=file.display, line=number),
                                 message=f"the collector could not collect {match['what']}",
                                 hint="collect it by hand (README, 'Gathering the evidence') or run the collector "
                                      "again where it can reach it")
