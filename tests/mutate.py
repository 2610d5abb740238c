"""Real-shaped evidence and the ways it gets damaged, for the fuzz test and ``bench/fuzz.py``.

Seeds are the repo's fixtures plus evidence generated here in every format the readers take (Format-List text,
tables, CSV, ConvertTo-Json, UTF-16, certificates, a saved probe). Mutations are what forum pastes, bad copies
and hostile files do: flipped bytes, cut files, repeated blocks, huge numbers, deep nesting, control and bidi
characters, endless lines and continuations, impossible dates.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED_SUFFIXES = {".txt", ".json", ".csv", ".xml", ".pem", ".cer", ".log", ""}


def _format_list(*records: dict[str, str]) -> str:
    blocks = []
    for record in records:
        width = max(len(label) for label in record)
        blocks.append("\n".join(f"{label.ljust(width)} : {value}".rstrip() for label, value in record.items()))
    return "\n\n" + "\n\n\n".join(blocks) + "\n\n"


_CERT = {"AccessRules": "{System.Security.AccessControl.CryptoKeyAccessRule}",
         "CertificateDomains": "{mail.contoso.com, autodiscover.contoso.com}", "HasPrivateKey": "True",
         "IsSelfSigned": "False", "Issuer": "CN=Test CA, O=Test Trust, C=US", "NotAfter": "3/14/2027 11:59:59 PM",
         "NotBefore": "3/14/2026 12:00:00 AM", "PublicKeySize": "2048", "RootCAType": "Registry",
         "SerialNumber": "0A1B2C3D4E5F", "Services": "IMAP, POP, IIS, SMTP", "Status": "Valid",
         "Subject": "CN=mail.contoso.com, O=Contoso, C=US", "Thumbprint": "AB" * 20,
         "PSComputerName": "EXCAS1"}
_TRACE = {"Received": "3/20/2026 9:14:02 AM", "SenderAddress": "user@contoso.onmicrosoft.com",
          "RecipientAddress": "onprem@contoso.com", "Subject": "hello", "Status": "Pending",
          "MessageId": "<abc@EXMB.namprd01.prod.outlook.com>", "MessageTraceId": "0c5e4a8f-8d9e-4b1a-9b7e-0a1b2c3d4e5f"}
_SEND = {"Name": "Outbound to Office 365", "Enabled": "True", "CloudServicesMailEnabled": "True",
         "TlsCertificateName": "<I>CN=Test CA, O=Test Trust, C=US<S>CN=mail.contoso.com, O=Contoso, C=US",
         "SmartHosts": "{contoso-com.mail.protection.outlook.com}", "RequireTLS": "True", "TlsAuthLevel": "DomainValidation",
         "TlsDomain": "mail.protection.outlook.com", "SourceTransportServers": "{EXCAS1, EXMBX1}"}


def generated_seeds() -> list[tuple[str, bytes]]:
    listing = _format_list(_CERT, {**_CERT, "PSComputerName": "EXMBX1", "RootCAType": "ThirdParty"})
    csv_lines = ['#TYPE Deserialized.Microsoft.Exchange.Management.SystemConfigurationTasks.ExchangeCertificate',
                 ",".join(f'"{k}"' for k in _CERT), ",".join(f'"{v}"' for v in _CERT.values())]
    table = ("\nThumbprint                                Services   Subject\n"
             "----------                                --------   -------\n"
             f"{'AB' * 20}  IP.WS..    CN=mail.contoso.com, O=Contoso, C=US\n"
             f"{'CD' * 20}  ....S..    CN=EXCAS1\n")
    as_json = json.dumps([{**_CERT, "RootCAType": 3, "Services": 16, "NotAfter": "/Date(1805000000000)/"}], indent=2)
    seeds = [("certificates.txt", listing.encode()), ("certificates-utf16.txt", b"\xff\xfe" + listing.encode("utf-16-le")),
             ("certificates.csv", "\r\n".join(csv_lines).encode()), ("table.txt", table.encode()),
             ("certificates.json", as_json.encode()), ("trace.txt", _format_list(_TRACE, _TRACE).encode()),
             ("send.txt", _format_list(_SEND).encode()),
             ("prompt.txt", ("[PS] C:\\>Get-ExchangeCertificate -Server excas1 | fl\n" + listing).encode())]
    return seeds


def seeds() -> list[tuple[str, bytes]]:
    """Every fixture of the repo that a reader takes, and the generated ones."""
    found = generated_seeds()
    for folder in (ROOT / "tests" / "fixtures", ROOT / "examples"):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix.casefold() in SEED_SUFFIXES and path.stat().st_size < 2_000_000:
                found.append((path.name, path.read_bytes()))
    return found


def _flip(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    buffer = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        buffer[rng.randrange(len(buffer))] = rng.randrange(256)
    return bytes(buffer)


def _cut(data: bytes, rng: random.Random) -> bytes:
    return data[:rng.randrange(len(data) + 1)]


def _repeat(data: bytes, rng: random.Random) -> bytes:
    if len(data) < 2:
        return data * 3
    start = rng.randrange(len(data) - 1)
    end = rng.randrange(start + 1, min(len(data), start + 400) + 1)
    return data[:end] + data[start:end] * rng.randint(2, 200) + data[end:]


_TOKENS = [b"9" * 5000, b"-" + b"9" * 400, b"1e999999", b"[" * 5000 + b"]" * 5000, b"{\"a\":" * 3000 + b"1" + b"}" * 3000,
           "\u202e\u2028\u0085\x1b[2J\x00\x07".encode(), b"9999-12-31 23:59:59 -14:00", b"31/31/9999 25:61:61 PM",
           b"/Date(99999999999999999999)/", b"/Date(-62135596800001)/", b" " * 70000 + b"x", b"A" * 300000,
           b"\r\r\r\n\n", b"'\"`$()|;", b"<Objs Version=\"1.1.0.1\">", b"#Software: Microsoft Exchange Server\n",
           "\ufeff\ufffe".encode(), b"\xff\xfe", b"\xfe\xff", b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
           b"RootCAType : 99999999999999999999999", b"PublicKeySize : " + b"7" * 5000, b"Services : 4294967296"]


def _insert(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + rng.choice(_TOKENS) + data[at:]


def _continuations(data: bytes, rng: random.Random) -> bytes:
    at = data.find(b" : ")
    at = at if at >= 0 else len(data)
    line_end = data.find(b"\n", at)
    line_end = line_end if line_end >= 0 else len(data)
    return data[:line_end] + (b"\n" + b" " * 24 + b"continued") * rng.randint(1000, 30000) + data[line_end:]


MUTATIONS: tuple[Callable[[bytes, random.Random], bytes], ...] = (_flip, _cut, _repeat, _insert, _continuations)


def mutated(data: bytes, rng: random.Random, rounds: int | None = None) -> bytes:
    for _ in range(rounds if rounds is not None else rng.randint(1, 3)):
        data = rng.choice(MUTATIONS)(data, rng)
    return data
