"""Certificate files: PEM (one or many), DER (.cer), PKCS#7 (.p7b/.p7c, PEM or DER), PKCS#12 (.pfx/.p12), and
base64 or byte-list RawData as PowerShell exports it. Private keys are noted, never kept or shown."""

from __future__ import annotations

import base64
import binascii
import json
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import replace

from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

from hybridtls.errors import EvidenceError
from hybridtls.model import CertificateFile, Source
from hybridtls.pki.der import DerError, read_tlv
from hybridtls.pki.facts import certificate_facts, lenient_facts, strict_reason
from hybridtls.pki.lenient import pkcs7_certificates

PasswordSource = Callable[[str], bytes | None]  # asked with the file's name; None when no password is available

_PEM_BEGIN = re.compile(rb"-----BEGIN ([A-Z0-9 #]+)-----\r?\n")


def _pem_blocks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(kind, start, end) of each BEGIN ... END block of one kind. Linear: a kind whose END is not found after one
    BEGIN is not looked for again (a lazy ``(.*?)-----END`` pattern rescanned the rest of the file per BEGIN)."""
    position = 0
    unended: set[bytes] = set()
    while (begin := _PEM_BEGIN.search(data, position)) is not None:
        kind = begin.group(1)
        position = begin.end()
        if kind in unended:
            continue
        marker = b"-----END " + kind + b"-----"
        end = data.find(marker, begin.end())
        if end < 0:
            unended.add(kind)
            continue
        position = end + len(marker)
        yield kind, begin.start(), position
# {48, 130, ...} or one byte per line, as `$cert.RawData` prints
_BYTE_LIST = re.compile(rb"^\s*\{?\s*(?:\d{1,3}(?:\s*,\s*|\s+))+\d{1,3}\s*\}?\s*$")  # one way to match each run
_EXPECTED = "expected a certificate: PEM, DER (.cer), PKCS#7 (.p7b), PKCS#12 (.pfx) or base64 RawData"


def read_certificate_file(data: bytes, path: str, passwords: PasswordSource | None = None) -> list[CertificateFile]:
    # cryptography warns about odd but readable encodings (negative serials, NULL parameters); what matters to
    # an admin is reported by the checks, so its warnings are kept off the console.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _read(data, path, passwords)


def _read(data: bytes, path: str, passwords: PasswordSource | None) -> list[CertificateFile]:
    if not data.strip():
        raise EvidenceError("the file is empty; " + _EXPECTED, path=path)
    stripped = data.lstrip()
    if b"-----BEGIN " in data[:1_000_000]:
        return _read_pem(data, path)
    if stripped[:1] in (b"{", b"[") and b"RawData" in data[:100_000]:
        return _read_raw_data_json(data, path)
    if _BYTE_LIST.match(data[:1_000_000]):
        numbers = re.findall(rb"\d+", data)
        wrong = next((n for n in numbers if len(n) > 3 or int(n) > 255), None)
        if wrong is not None:
            raise EvidenceError(f"a RawData byte list holds {wrong[:20].decode()}, not a byte (0-255)", path=path)
        return _read_der(bytes(int(n) for n in numbers), path, passwords, what="a RawData byte list")
    if data[:1] != b"\x30":
        compact = re.sub(rb"\s+", b"", data)
        try:
            der = base64.b64decode(compact, validate=True)
        except (binascii.Error, ValueError):
            raise EvidenceError(_EXPECTED, path=path) from None
        return _read_der(der, path, passwords, what="base64 data")
    return _read_der(data, path, passwords, what="DER data")


def _read_pem(data: bytes, path: str) -> list[CertificateFile]:
    found: list[CertificateFile] = []
    keys = 0
    line, counted = 1, 0  # line numbers counted on from the previous block, not from the top each time
    for raw_kind, start, end in _pem_blocks(data):
        kind = raw_kind.decode()
        line += data.count(b"\n", counted, start)
        counted = start
        block = data[start:end]
        if kind in ("CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"):
            try:
                cert = x509.load_pem_x509_certificate(block.replace(b"TRUSTED CERTIFICATE", b"CERTIFICATE"))
            except x509.InvalidVersion as exc:
                raise EvidenceError(f"a PEM certificate with {_reason(exc)}", path=path, line=line) from None
            except ValueError as exc:
                found.append(_lenient(_pem_body(block, path, line), exc, path, line, len(found), "a PEM certificate"))
                continue
            found.append(_facts(cert, path, line, len(found)))
        elif kind in ("PKCS7", "CERTIFICATE CHAIN"):
            try:
                certs = pkcs7.load_pem_pkcs7_certificates(block)
            except Exception as exc:  # noqa: BLE001 - any parse failure is the file's, unless read leniently
                found += _lenient_bundle(_pem_body(block, path, line), exc, path, line, len(found))
                continue
            found.extend(_facts(cert, path, line, len(found) + i) for i, cert in enumerate(certs))
        elif "PRIVATE KEY" in kind:
            keys += 1
    if not found:
        raise EvidenceError("PEM without a certificate (" + ("only a private key" if keys else "no usable block")
                            + "); " + _EXPECTED, path=path)
    if keys:
        found = [_with_key(c, True) for c in found[:1]] + found[1:]
    return found


def _read_der(der: bytes, path: str, passwords: PasswordSource | None, *, what: str) -> list[CertificateFile]:
    try:
        return [_facts(x509.load_der_x509_certificate(der), path, None, 0)]
    except x509.InvalidVersion as exc:
        raise EvidenceError(f"{what}: a certificate with {_reason(exc)}", path=path) from None
    except ValueError as exc:
        if _shaped_like_certificate(der):
            return [_lenient(der, exc, path, None, 0, what)]
    try:
        certs = pkcs7.load_der_pkcs7_certificates(der)
        return [_facts(cert, path, None, i) for i, cert in enumerate(certs)]
    except Exception as exc:  # noqa: BLE001 - not PKCS#7 either (unless read leniently): try PFX below
        bundle = _lenient_bundle(der, exc, path, None, 0)
        if bundle:
            return bundle
    if not _looks_like_pfx(der):
        raise EvidenceError(f"{what} that is not a certificate, PKCS#7 bundle or PFX; " + _EXPECTED, path=path)
    return _read_pfx(der, path, passwords)


# The most key-derivation iterations a PFX may ask for before any derivation runs. Real exporters write far
# fewer: Windows 2,000, OpenSSL 2,048, cryptography 20,000 (and 2,048 for its MAC), Java's keytool 10,000;
# 1,000,000 PBKDF2-SHA256 rounds take about a second. A crafted file asking for 10^8 would hold a run for minutes.
MAX_PFX_ITERATIONS = 1_000_000
_ITERATIONS_VARIABLE = "HYBRIDTLS_MAX_PFX_ITERATIONS"


def _refuse_costly_pfx(der: bytes, path: str) -> None:
    import os

    from hybridtls.pki.der import salted_iteration_counts

    limit = MAX_PFX_ITERATIONS
    if os.environ.get(_ITERATIONS_VARIABLE, "").isdigit():
        limit = int(os.environ[_ITERATIONS_VARIABLE][:12])
    try:
        worst = max(salted_iteration_counts(der), default=0)
    except DerError:
        return  # not DER throughout (BER from some exporters): left to cryptography's parser
    if worst > limit:
        shown = f"{worst:,}" if worst < 1 << 64 else "more than 2^64"
        raise EvidenceError(f"the PFX asks for {shown} key-derivation iterations, over the limit of {limit:,}; "
                            "not opened", path=path,
                            hint=f"if you trust the file, allow more with {_ITERATIONS_VARIABLE}={worst}")


def _read_pfx(der: bytes, path: str, passwords: PasswordSource | None) -> list[CertificateFile]:
    _refuse_costly_pfx(der, path)
    for attempt in (None, b"", "ask"):
        password = attempt
        if attempt == "ask":
            password = passwords(path) if passwords else None
            if password is None:
                raise EvidenceError(
                    "the PFX is protected by a password", path=path,
                    hint="give it with --password-file FILE or the HYBRIDTLS_PFX_PASSWORD environment variable")
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(der, password)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - wrong password and damaged PFX look alike here; try the next password
            continue
        certs = ([cert] if cert else []) + list(extra)
        if not certs:
            raise EvidenceError("the PFX holds no certificate", path=path)
        facts = [_facts(c, path, None, i) for i, c in enumerate(certs)]
        return [_with_key(facts[0], key is not None)] + facts[1:]
    raise EvidenceError("wrong password for the PFX (or the PFX is damaged)", path=path,
                        hint="check the password file; it is read as one line without its line ending")


def _read_raw_data_json(data: bytes, path: str) -> list[CertificateFile]:
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EvidenceError(f"not valid JSON ({exc})", path=path) from None
    objects = document if isinstance(document, list) else [document]
    found: list[CertificateFile] = []
    for item in objects:
        raw = item.get("RawData") if isinstance(item, dict) else None
        if isinstance(raw, list) and all(isinstance(n, int) and 0 <= n < 256 for n in raw):
            der = bytes(raw)
        elif isinstance(raw, str):
            try:
                der = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError):
                raise EvidenceError("RawData is not base64", path=path) from None
        else:
            continue
        try:
            found.append(_facts(x509.load_der_x509_certificate(der), path, None, len(found)))
        except x509.InvalidVersion as exc:
            raise EvidenceError(f"RawData is not a certificate ({_reason(exc)})", path=path) from None
        except ValueError as exc:
            found.append(_lenient(der, exc, path, None, len(found), "RawData"))
    if not found:
        raise EvidenceError("JSON without RawData; " + _EXPECTED, path=path,
                            hint="export with: Get-ExchangeCertificate | Select-Object Thumbprint, RawData | ConvertTo-Json")
    return found


def _looks_like_pfx(der: bytes) -> bool:
    # PFX ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo, ... }
    return len(der) > 8 and der[0] == 0x30 and b"\x02\x01\x03" in der[:8]


def _shaped_like_certificate(der: bytes) -> bool:
    """SEQUENCE { SEQUENCE (TBSCertificate) ...: a certificate, not a PKCS#7 ContentInfo (OID first) or a PFX
    (INTEGER first)."""
    try:
        outer = read_tlv(der, 0)
        return outer.tag == 0x30 and read_tlv(der, outer.content, outer.end).tag == 0x30
    except DerError:
        return False


def _pem_body(block: bytes, path: str, line: int) -> bytes:
    lines = (x.strip() for x in block.splitlines())
    body = b"".join(x for x in lines if x and not x.startswith(b"-----") and b":" not in x)
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise EvidenceError("a PEM certificate whose base64 does not decode", path=path, line=line) from None


def _lenient(der: bytes, refused: ValueError, path: str, line: int | None, index: int, what: str) -> CertificateFile:
    """A certificate the strict parser refused, read from its DER as Windows would load it."""
    try:
        return lenient_facts(der, source=Source(path=path, line=line), label=f"{path}, certificate {index + 1}",
                             refused=strict_reason(refused))
    except DerError as exc:
        raise EvidenceError(f"{what} that does not parse ({_reason(refused)}; read leniently: {exc})", path=path,
                            line=line) from None


def _lenient_bundle(der: bytes, refused: Exception, path: str, line: int | None, first: int) -> list[CertificateFile]:
    """The certificates of a PKCS#7 bundle the strict parser refused, read leniently; [] when the bytes are not
    a SignedData at all."""
    try:
        certs = pkcs7_certificates(der)
    except DerError as exc:
        raise EvidenceError(f"a PKCS#7 bundle that does not parse ({_reason(refused)}; read leniently: {exc})",
                            path=path, line=line) from None
    if certs is None:
        if line is not None:
            raise EvidenceError(f"a PKCS#7 block that does not parse ({_reason(refused)})", path=path, line=line)
        return []
    found = []
    for index, cert in enumerate(certs, first):
        try:
            found.append(_facts(x509.load_der_x509_certificate(cert), path, line, index))
        except x509.InvalidVersion as exc:
            raise EvidenceError(f"a certificate in the PKCS#7 bundle with {_reason(exc)}", path=path,
                                line=line) from None
        except ValueError as exc:
            found.append(_lenient(cert, exc, path, line, index, "a certificate in the PKCS#7 bundle"))
    if not found:
        raise EvidenceError("a PKCS#7 bundle without a certificate", path=path, line=line)
    return found


def _facts(cert: x509.Certificate, path: str, line: int | None, index: int) -> CertificateFile:
    try:
        return certificate_facts(cert, source=Source(path=path, line=line), label=f"{path}, certificate {index + 1}")
    except ValueError as exc:  # refused on reading a field, and not readable leniently either
        raise EvidenceError(f"a certificate that does not parse ({exc})", path=path, line=line) from None


def _with_key(facts: CertificateFile, has_key: bool) -> CertificateFile:
    return replace(facts, has_private_key=has_key)


def _reason(exc: Exception) -> str:
    return str(exc).split("\n", 1)[0][:120] or type(exc).__name__
