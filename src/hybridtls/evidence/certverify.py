"""``certutil -verify [-urlfetch] <file>`` chain dumps, and the AuthRoot trust list's state: ``certutil -verifyctl
AuthRoot`` (``LastSyncTime``, ``SequenceNumber``) and ``reg query`` of the AuthRoot keys (``LastSyncTime`` REG_BINARY
under ``...\\SystemCertificates\\AuthRoot\\AutoUpdate``, ``DisableRootAutoUpdate`` REG_DWORD under
``...\\Policies\\Microsoft\\SystemCertificates\\AuthRoot``).

A chain dump, as certutil prints it (one per ``-verify`` run; a file may hold several)::

    -------- CERT_CHAIN_CONTEXT --------
    ChainContext.dwErrorStatus = CERT_TRUST_IS_UNTRUSTED_ROOT (0x20)
    CertContext[0][0]: dwInfoStatus=102 dwErrorStatus=0
      Issuer: CN=..., O=..., C=US
      Subject: CN=mail.contoso.com, ...
      Serial: 0a1b...
      Cert: 3f1e...                                  (SHA-1)
      Element.dwInfoStatus = CERT_TRUST_HAS_KEY_MATCH_ISSUER (0x2)
    ...
    Leaf certificate revocation check passed
    CertUtil: -verify command FAILED: 0x800b0109 (-2146762487 CERT_E_UNTRUSTEDROOT)

Only the first simple chain (``CertContext[0][n]``) is kept: the chain Windows chose. The bits are read from the
named lines, and from the hexadecimal masks of the ``CertContext`` line (named by ``CERT_TRUST_STATUS``) so that a
dump without ``Element.`` lines still says them. One pass, line by line; every field is bounded in length.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hybridtls.errors import EvidenceError
from hybridtls.evidence.blocks import console_rest
from hybridtls.evidence.console import PROMPT
from hybridtls.evidence.dates import AmbiguousDate, DateOrder, parse_datetime
from hybridtls.evidence.interface import EvidenceFile, EvidenceReader, Record, pieces
from hybridtls.model import ChainElement, ChainVerification, Notice, RootUpdateState, ServerRef, Source

# CERT_TRUST_STATUS (wincrypt.h), the bits a chain dump shows as masks
ERROR_BITS = {0x1: "CERT_TRUST_IS_NOT_TIME_VALID", 0x2: "CERT_TRUST_IS_NOT_TIME_NESTED", 0x4: "CERT_TRUST_IS_REVOKED",
              0x8: "CERT_TRUST_IS_NOT_SIGNATURE_VALID", 0x10: "CERT_TRUST_IS_NOT_VALID_FOR_USAGE",
              0x20: "CERT_TRUST_IS_UNTRUSTED_ROOT", 0x40: "CERT_TRUST_REVOCATION_STATUS_UNKNOWN",
              0x80: "CERT_TRUST_IS_CYCLIC", 0x100: "CERT_TRUST_INVALID_EXTENSION",
              0x200: "CERT_TRUST_INVALID_POLICY_CONSTRAINTS", 0x400: "CERT_TRUST_INVALID_BASIC_CONSTRAINTS",
              0x800: "CERT_TRUST_INVALID_NAME_CONSTRAINTS", 0x1000000: "CERT_TRUST_IS_OFFLINE_REVOCATION",
              0x2000000: "CERT_TRUST_NO_ISSUANCE_CHAIN_POLICY", 0x4000000: "CERT_TRUST_IS_EXPLICIT_DISTRUST",
              0x10000: "CERT_TRUST_IS_PARTIAL_CHAIN"}
INFO_BITS = {0x1: "CERT_TRUST_HAS_EXACT_MATCH_ISSUER", 0x2: "CERT_TRUST_HAS_KEY_MATCH_ISSUER",
             0x4: "CERT_TRUST_HAS_NAME_MATCH_ISSUER", 0x8: "CERT_TRUST_IS_SELF_SIGNED",
             0x100: "CERT_TRUST_HAS_PREFERRED_ISSUER", 0x200: "CERT_TRUST_HAS_ISSUANCE_CHAIN_POLICY",
             0x400: "CERT_TRUST_HAS_VALID_NAME_CONSTRAINTS", 0x10000: "CERT_TRUST_IS_COMPLEX_CHAIN"}

_MAX_FIELD = 1024
_MAX_ELEMENTS = 16  # no real chain is longer; more is not a chain dump
_CHAIN_MARKER = "CERT_CHAIN_CONTEXT"
_CONTEXT = re.compile(r"^\s*CertContext\[(?P<chain>\d{1,3})\]\[(?P<index>\d{1,3})\]:\s*dwInfoStatus=(?P<info>[0-9a-fA-F]{1,8})"
                      r"\s+dwErrorStatus=(?P<error>[0-9a-fA-F]{1,8})\s*$")
_STATUS = re.compile(r"^\s*(?P<scope>ChainContext|SimpleChain|Element)\.dw(?P<kind>Error|Info)Status\s*=\s*"
                     r"(?P<name>CERT_TRUST_[A-Z_]{1,60})\b")
_ELEMENT_FIELD = re.compile(r"^\s+(?P<label>Issuer|Subject|Serial|Cert|NotAfter):[ \t]*(?P<value>\S.*)$")
_REVOCATION = re.compile(r"^\s*Leaf certificate revocation check (?P<result>passed|failed)", re.IGNORECASE)
_VERDICT = re.compile(r"^\s*CertUtil: -verify command (?:(?P<ok>completed successfully)|FAILED: (?P<code>0x[0-9a-fA-F]{8})"
                      r"(?: \((?:-?\d{1,11} )?(?P<name>[A-Z][A-Z0-9_]{0,60})\))?)", re.IGNORECASE)
_THUMBPRINT = re.compile(r"^[0-9a-fA-F]{40}$")

# AuthRoot state
_LAST_SYNC_TEXT = re.compile(r"^\s*LastSyncTime\s*[:=]\s*(?P<value>\S.{0,60}?)\s*$", re.IGNORECASE)
_LAST_SYNC_REG = re.compile(r"^\s*LastSyncTime\s+REG_BINARY\s+(?P<hex>[0-9a-fA-F]{16})\s*$", re.IGNORECASE)
_DISABLE_REG = re.compile(r"^\s*DisableRootAutoUpdate\s+REG_DWORD\s+(?P<value>0x[0-9a-fA-F]{1,8})\s*$", re.IGNORECASE)
_DISABLE_REGEDIT = re.compile(r'^\s*"DisableRootAutoUpdate"=dword:(?P<value>[0-9a-fA-F]{8})\s*$', re.IGNORECASE)
_DISABLE_PS = re.compile(r"^\s*DisableRootAutoUpdate\s*:\s*(?P<value>\d{1,10})\s*$", re.IGNORECASE)  # Get-ItemProperty
_SEQUENCE = re.compile(r"^\s*SequenceNumber\s*[:=]\s*(?P<value>[0-9a-fA-F ]{1,80}?)\s*$", re.IGNORECASE)
_STATE_WORDS = ("lastsynctime", "disablerootautoupdate")
_VALUE_LINES = (_LAST_SYNC_REG, _LAST_SYNC_TEXT, _DISABLE_REG, _DISABLE_REGEDIT, _DISABLE_PS)
_FILETIME_EPOCH = datetime(1601, 1, 1)


def _bits(mask: str, table: dict[int, str]) -> tuple[str, ...]:
    value = int(mask, 16)
    return tuple(name for bit, name in sorted(table.items()) if value & bit)


def _cut(text: str) -> str:
    text = text.strip()
    return text[:_MAX_FIELD] + ("..." if len(text) > _MAX_FIELD else "")


@dataclass(slots=True)
class _Element:
    index: int
    line: int
    fields: dict[str, str] = field(default_factory=dict)
    errors: dict[str, None] = field(default_factory=dict)
    infos: dict[str, None] = field(default_factory=dict)

    def done(self) -> ChainElement:
        thumbprint = self.fields.get("Cert", "").replace(" ", "")
        return ChainElement(index=self.index, line=self.line, subject=self.fields.get("Subject"),
                            issuer=self.fields.get("Issuer"), serial_number=self.fields.get("Serial"),
                            thumbprint=thumbprint.upper() if _THUMBPRINT.match(thumbprint) else None,
                            not_after=self.fields.get("NotAfter"), errors=tuple(self.errors), infos=tuple(self.infos))


@dataclass(slots=True)
class _Dump:
    line: int
    command: str | None
    elements: list[_Element] = field(default_factory=list)
    errors: dict[str, None] = field(default_factory=dict)
    infos: dict[str, None] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    revocation: bool | None = None
    verdict: str | None = None
    failed: bool | None = None
    code: str | None = None
    name: str | None = None
    in_first_chain: bool = False  # inside a CertContext[0][n] block

    def done(self, path: str, server: ServerRef | None) -> ChainVerification:
        return ChainVerification(source=Source(path=path, line=self.line), field_lines=dict(self.lines), server=server,
                                 command=self.command, elements=tuple(e.done() for e in self.elements),
                                 chain_errors=tuple(self.errors), chain_infos=tuple(self.infos),
                                 revocation_passed=self.revocation, verdict=self.verdict, failed=self.failed,
                                 error_code=self.code, error_name=self.name)


def holds_chain_dump(text: str) -> bool:
    return _CHAIN_MARKER in text and "CertContext[" in text


def holds_root_update_state(text: str) -> bool:
    """A LastSyncTime or DisableRootAutoUpdate value line in the first 64 KiB (a mention in prose is not one)."""
    head = text[:1 << 16]
    folded = head.casefold()
    if not any(word in folded for word in _STATE_WORDS) or "\\certificates\\" in folded:
        return False
    return any(pattern.match(line) for line in head.splitlines() if "sync" in line.casefold() or "update" in
               line.casefold() for pattern in _VALUE_LINES)


class ChainDumpReader(EvidenceReader):
    """``certutil -verify`` chain dumps."""

    name = "certutil -verify chain dump"

    def recognises(self, file: EvidenceFile) -> bool:
        return holds_chain_dump(file.text)

    def read(self, file: EvidenceFile) -> Iterator[Record]:
        return read_chain_dumps(file.text, file.display, file.server)


class RootUpdateReader(EvidenceReader):
    """``certutil -verifyctl AuthRoot`` and ``reg query`` of the AuthRoot keys: the trust list's sync state."""

    name = "AuthRoot trust list state"

    def recognises(self, file: EvidenceFile) -> bool:
        return holds_root_update_state(file.text)

    def read(self, file: EvidenceFile) -> Iterator[Record]:
        return read_root_update_state(file.text, file.display, file.server)


def read_chain_dumps(text: str, path: str, server: ServerRef | None = None) -> Iterator[Record]:
    """Each chain dump of the file as a ChainVerification, in file order."""
    command: str | None = None
    dump: _Dump | None = None
    element: _Element | None = None
    found = False
    number = 0
    rest: list[str] = []  # what is not certutil's (after another command's prompt), for the console reader
    certutil = True  # until a prompt says another command printed what follows
    for piece in pieces(text):
        for line in piece.splitlines():
            number += 1
            if ">" in line and (prompt := PROMPT.match(line.strip())):
                said = prompt["command"].strip()
                certutil = "certutil" in said.casefold()
                command = _cut(said) if certutil else None
                rest.append(line)
                continue
            rest.append("" if certutil else line)
            if not certutil:
                continue
            if _CHAIN_MARKER in line and line.strip().strip("-").strip() == _CHAIN_MARKER:
                if dump is not None and dump.elements:
                    found = True
                    yield dump.done(path, server)
                dump, element = _Dump(line=number, command=command), None
                continue
            if dump is None:
                continue
            if context := _CONTEXT.match(line) if "CertContext[" in line else None:
                dump.in_first_chain = context["chain"] == "0"
                if not dump.in_first_chain:
                    element = None
                    continue
                if len(dump.elements) >= _MAX_ELEMENTS:
                    raise EvidenceError(f"a chain of more than {_MAX_ELEMENTS} certificates is not a certutil chain "
                                        "dump", path=path, line=number)
                element = _Element(index=int(context["index"]), line=number)
                element.errors.update(dict.fromkeys(_bits(context["error"], ERROR_BITS)))
                element.infos.update(dict.fromkeys(_bits(context["info"], INFO_BITS)))
                dump.elements.append(element)
                continue
            if status := _STATUS.match(line) if "Status" in line else None:
                target = (element if status["scope"] == "Element" else dump) if dump.in_first_chain or \
                    status["scope"] != "Element" else None
                if target is not None:
                    (target.errors if status["kind"] == "Error" else target.infos)[status["name"]] = None
                continue
            if element is not None and (found_field := _ELEMENT_FIELD.match(line)):
                element.fields.setdefault(found_field["label"], _cut(found_field["value"]))
                continue
            if revocation := _REVOCATION.match(line):
                dump.revocation = revocation["result"].casefold() == "passed"
                dump.lines["revocation"] = number
                continue
            if verdict := _VERDICT.match(line) if "CertUtil:" in line else None:
                dump.verdict, dump.failed = _cut(line), verdict["ok"] is None
                dump.code = verdict["code"].lower() if verdict["code"] else None
                dump.name = verdict["name"]
                dump.lines["verdict"] = number
                if dump.elements:
                    found = True
                    yield dump.done(path, server)
                dump, element = None, None
    if dump is not None and dump.elements:
        found = True
        yield dump.done(path, server)
    if not found:
        raise EvidenceError("no certificate chain in this certutil -verify output (no CertContext[0][0] line after "
                            "CERT_CHAIN_CONTEXT)", path=path,
                            hint="save the whole output of certutil -verify -urlfetch <file.cer>")
    yield from console_rest(rest, path)


def _filetime(hex_text: str) -> datetime:
    ticks = int.from_bytes(bytes.fromhex(hex_text), "little")
    return _FILETIME_EPOCH + timedelta(microseconds=ticks // 10)


def _console_date(text: str) -> tuple[datetime, bool]:
    """The date; the later of its two readings when the day/month order is not known (so that a sync is never
    called older than it may be), and whether it was ambiguous."""
    try:
        return parse_datetime(text), False
    except AmbiguousDate:
        return max(parse_datetime(text, DateOrder.MDY), parse_datetime(text, DateOrder.DMY)), True


def read_root_update_state(text: str, path: str, server: ServerRef | None = None) -> Iterator[Record]:
    """One RootUpdateState for the file: what it says of LastSyncTime, SequenceNumber and DisableRootAutoUpdate."""
    lines: dict[str, int] = {}
    last_sync: datetime | None = None
    sequence: str | None = None
    disabled: bool | None = None
    number = 0
    rest: list[str] = []
    for piece in pieces(text):
        for line in piece.splitlines():
            number += 1
            rest.append("" if any(p.match(line) for p in (*_VALUE_LINES, _SEQUENCE)) else line)
            if "LastSyncTime" in line or "lastsynctime" in line.casefold():
                if binary := _LAST_SYNC_REG.match(line):
                    try:
                        last_sync = _filetime(binary["hex"])
                    except OverflowError:
                        raise EvidenceError("LastSyncTime is not a date", path=path, line=number) from None
                    lines["last_sync"] = number
                elif printed := _LAST_SYNC_TEXT.match(line):
                    try:
                        last_sync, ambiguous = _console_date(printed["value"])
                    except ValueError:  # a byte array (Get-ItemProperty), or text that is no date: said, not read
                        yield Notice(source=Source(path=path, line=number),
                                     message=f"LastSyncTime {_cut(printed['value'])[:60]!r} is not a date; passed over")
                        continue
                    lines["last_sync"] = number
                    if ambiguous:
                        yield Notice(source=Source(path=path, line=number),
                                     message=f"LastSyncTime {printed['value']!r} reads either way (day or month "
                                             "first); the later reading is used")
            elif "DisableRootAutoUpdate" in line or "disablerootautoupdate" in line.casefold():
                if value := _DISABLE_REG.match(line) or _DISABLE_REGEDIT.match(line):
                    disabled = int(value["value"], 16) != 0
                    lines["auto_update_disabled"] = number
                elif value := _DISABLE_PS.match(line):
                    disabled = int(value["value"]) != 0
                    lines["auto_update_disabled"] = number
            elif "SequenceNumber" in line and (seq := _SEQUENCE.match(line)):
                sequence = seq["value"].replace(" ", "").upper()
                lines["sequence_number"] = number
    if last_sync is None and disabled is None and sequence is None:
        raise EvidenceError("neither LastSyncTime nor DisableRootAutoUpdate is in this output", path=path,
                            hint="certutil -verifyctl AuthRoot, or reg query "
                                 "HKLM\\SOFTWARE\\Policies\\Microsoft\\SystemCertificates\\AuthRoot")
    yield RootUpdateState(source=Source(path=path, line=min(lines.values())), field_lines=lines, server=server,
                          last_sync=last_sync, sequence_number=sequence, auto_update_disabled=disabled)
    yield from console_rest(rest, path)
