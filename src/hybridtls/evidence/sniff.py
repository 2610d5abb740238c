"""Telling certificate files from PowerShell output without importing the certificate machinery."""

from __future__ import annotations

from pathlib import Path

CERTIFICATE_SUFFIXES = frozenset({".pem", ".crt", ".cer", ".der", ".p7b", ".p7c", ".pfx", ".p12", ".b64"})


def looks_like_certificate_file(path: str, data: bytes) -> bool:
    """A PEM block, a certificate file ending, or DER that opens with a long SEQUENCE."""
    if data[:64].lstrip().startswith(b"-----BEGIN"):
        return True
    der_sequence = len(data) > 4 and data[0] == 0x30 and data[1] in (0x81, 0x82, 0x83)
    return Path(path).suffix.casefold() in CERTIFICATE_SUFFIXES or der_sequence
