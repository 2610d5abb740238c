"""Telling certificate files from PowerShell output without importing the certificate machinery."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from hybridtls.evidence.interface import EvidenceFile, EvidenceReader, Record

CERTIFICATE_SUFFIXES = frozenset({".pem", ".crt", ".cer", ".der", ".p7b", ".p7c", ".pfx", ".p12", ".b64"})


def looks_like_certificate_file(path: str, data: bytes) -> bool:
    """A PEM block, a certificate file ending, or DER that opens with a long SEQUENCE."""
    if data[:64].lstrip().startswith(b"-----BEGIN"):
        return True
    der_sequence = len(data) > 4 and data[0] == 0x30 and data[1] in (0x81, 0x82, 0x83)
    return Path(path).suffix.casefold() in CERTIFICATE_SUFFIXES or der_sequence


class CertificateFileReader(EvidenceReader):
    """PEM, DER, PKCS#7, PKCS#12 and RawData files (the certificate machinery is imported only to read one)."""

    name = "certificate file"

    def recognises(self, file: EvidenceFile) -> bool:
        # asked first, from the bytes: a file already decoded as text was read before and was not one
        return not file.decoded and looks_like_certificate_file(file.display, file.data)

    def read(self, file: EvidenceFile) -> Iterator[Record]:
        from hybridtls.evidence.certificates import read_certificate_file

        yield from read_certificate_file(file.data, file.display, file.passwords or environment_password)


def environment_password(path: str) -> bytes | None:
    """The PFX password in the HYBRIDTLS_PFX_PASSWORD environment variable, if set."""
    password = os.environ.get("HYBRIDTLS_PFX_PASSWORD")
    return password.encode() if password is not None else None
