"""A saved ``hybridtls`` report (``hybridtls probe --format json``) given to ``check`` beside the PowerShell output:
its probes (and MTA-STS lookups) are read back as evidence, and the trust anchors it was judged with as recorded anchors
(``saved_probes``)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from hybridtls.evidence.interface import EvidenceFile, EvidenceReader, Record
from hybridtls.evidence.saved_probes import is_hybridtls_report, read_saved_mta_sts, read_saved_report


class SavedReportReader(EvidenceReader):
    name = "saved hybridtls report"

    def recognises(self, file: EvidenceFile) -> bool:
        head = file.head(400)
        if not head.startswith("{") or '"hybridtls"' not in head:
            return False
        try:
            return is_hybridtls_report(json.loads(file.text))
        except json.JSONDecodeError:
            return False  # the JSON reader reports it with its line

    def read(self, file: EvidenceFile) -> Iterator[Record]:
        document = json.loads(file.text)
        probes, anchors = read_saved_report(document, file.display)
        yield from probes
        yield from anchors
        yield from read_saved_mta_sts(document, file.display)
