"""``reg query HKLM\\SOFTWARE\\Microsoft\\SystemCertificates\\AuthRoot\\Certificates`` output (and the same keys in a
``regedit /e`` export): each certificate is a key named after its thumbprint, under the physical store it is in.

    HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\SystemCertificates\\AuthRoot\\Certificates\\0563B8630D62D75ABBC8AB1E4BDFB5A899B24D43
        Blob    REG_BINARY    5C0000000100000004000000...

Where the key is says which physical store: ``SOFTWARE\\Microsoft\\SystemCertificates`` the machine's own,
``SOFTWARE\\Policies\\Microsoft\\SystemCertificates`` Group Policy's, ``SOFTWARE\\Microsoft\\EnterpriseCertificates``
the enterprise (Active Directory) one. Each certificate key becomes a RawRecord with the key as its ``Key`` field;
values (the Blob) are passed over; other text is read as console text. One pass, line by line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from hybridtls.errors import EvidenceError
from hybridtls.evidence.blocks import console_rest
from hybridtls.evidence.interface import EvidenceFile, EvidenceReader, Record, pieces
from hybridtls.evidence.raw import RawRecord, raw_field, text_value
from hybridtls.model import Source

TYPE_HINT = "RegistryCertificateKey"
_ROOT = r"(?:HKEY_LOCAL_MACHINE|HKLM)\\SOFTWARE\\(?:Policies\\)?Microsoft\\(?:SystemCertificates|EnterpriseCertificates)\\"
_KEY = re.compile(r"^\s*\[?(?P<key>" + _ROOT + r"[^\]\r\n]{1,400}?)\]?\s*$", re.IGNORECASE)
_CERTIFICATE_KEY = re.compile(r"\\Certificates\\[0-9A-Fa-f]{40}$")
_VALUE = re.compile(r"^\s+\S+\s+REG_\w+|^\s*\"?\w*\"?=|^\s*(?:[0-9a-f]{2},)+[0-9a-f]{0,2}\\?\s*$|^End of search:",
                    re.IGNORECASE)
_RECOGNISED = re.compile(r"^\s*\[?" + _ROOT, re.IGNORECASE | re.MULTILINE)


class RegistryStoreReader(EvidenceReader):
    """The certificate keys of ``reg query`` output or a ``.reg`` export."""

    name = "registry certificate keys"

    def recognises(self, file: EvidenceFile) -> bool:
        return _RECOGNISED.search(file.head(16384)) is not None

    def read(self, file: EvidenceFile) -> Iterator[Record]:
        return read_registry(file.text, file.display)


def read_registry(text: str, path: str) -> Iterator[Record]:
    rest: list[str] = []
    found = False
    number = 0
    for piece in pieces(text):
        for line in piece.splitlines():
            number += 1
            key = _KEY.match(line) if "\\" in line else None
            if key:
                rest.append("")
                if _CERTIFICATE_KEY.search(key["key"]):
                    found = True
                    yield RawRecord(Source(path=path, line=number), (raw_field("Key", text_value(key["key"]), number),),
                                    type_hint=TYPE_HINT)
                continue
            rest.append("" if _VALUE.match(line) else line)
    if not found:
        raise EvidenceError("no certificate keys (...\\Certificates\\<thumbprint>) in this registry listing", path=path,
                            hint="reg query HKLM\\SOFTWARE\\Microsoft\\SystemCertificates\\AuthRoot\\Certificates")
    yield from console_rest(rest, path)
