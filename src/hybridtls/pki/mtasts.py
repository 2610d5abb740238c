"""MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) texts read as a sending MTA reads them: the TXT records, the policy
file, an MX host against the policy's patterns. Pure: no network.

Why not a library: postfix-mta-sts-resolver (the one kept on PyPI) parses leniently and answers only "valid" or
"fetch error", without the reason a person must fix; it does not check the id's form, and it brings aiohttp and
aiodns. These rules are short, and the reasons are the point here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from hybridtls.model import MtaStsPolicy, MxMatch, PolicyMode, TxtLookup
from hybridtls.pki.hostnames import covers

STS_VERSION = "STSv1"
TLSRPT_VERSION = "TLSRPTv1"
MAX_AGE_LIMIT = 31557600  # about one year (RFC 8461 §3.2)
MAX_POLICY_LINES = 1000  # a 64 KiB body of one-character lines is still read whole, but problems are bounded
MAX_LISTED = 20  # problems and notes kept per text

_ID = re.compile(r"[A-Za-z0-9]{1,32}")
_EXT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
_EXT_VALUE = re.compile(r"[\x21-\x3a\x3c\x3e-\x7e]+")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_WSP = " \t"
_MODES = {mode.value: mode for mode in PolicyMode}


def _fields(record: str) -> tuple[list[tuple[str, str]], list[str]]:
    """``key=value`` fields separated by ``;`` (whitespace around both allowed), a trailing ``;`` allowed."""
    fields: list[tuple[str, str]] = []
    problems: list[str] = []
    parts = record.split(";")
    if parts and not parts[-1].strip(_WSP):
        parts.pop()  # the optional trailing delimiter
    for number, part in enumerate(parts, 1):
        key, equals, value = part.partition("=")
        key, value = key.strip(_WSP), value.strip(_WSP)
        if not equals or not key:
            problems.append(f"field {number} {part.strip(_WSP)!r} is not key=value")
        else:
            fields.append((key, value))
    return fields, problems


def read_txt(name: str, records: Sequence[str], version: str) -> TxtLookup:
    """The TXT records at ``name``: those not beginning ``v=<version>`` are discarded; exactly one must remain
    and be well formed, else a sender acts as if there were none (RFC 8461 §3.1, RFC 8460 §3)."""
    ours = [r for r in records if re.match(rf"v[{_WSP}]*=[{_WSP}]*{re.escape(version)}[{_WSP}]*(;|$)", r)]
    if not ours:
        near = [r for r in records if r.strip(_WSP).casefold().startswith(("v=sts", "v=tlsrpt"))]
        problems = [f"a record looks meant for this but does not begin 'v={version};': {near[0]!r}"] if near else []
        return TxtLookup(name=name, records=tuple(records), problems=tuple(problems))
    if len(ours) > 1:
        return TxtLookup(name=name, records=tuple(records), problems=(
            f"{len(ours)} records begin 'v={version}': with more than one, senders act as if there were none",))
    record = ours[0]
    fields, problems = _fields(record)
    seen: set[str] = set()
    for key, value in fields[1:]:
        if key in seen or key == "v":
            problems.append(f"the field {key!r} appears more than once")
        seen.add(key)
        if not _EXT_NAME.fullmatch(key) or not _EXT_VALUE.fullmatch(value):
            problems.append(f"the field {key}={value!r} is not a well-formed name=value")
    return TxtLookup(name=name, records=tuple(records), record=record, fields=tuple(fields),
                     problems=tuple(problems[:MAX_LISTED]))


def read_sts_record(name: str, records: Sequence[str]) -> TxtLookup:
    """``_mta-sts.DOMAIN``: ``v=STSv1; id=...;`` with an id of 1 to 32 letters and digits."""
    lookup = read_txt(name, records, STS_VERSION)
    if lookup.record is None:
        return lookup
    policy_id = lookup.field("id")
    extra = []
    if policy_id is None:
        extra.append("no id= field: senders need it to tell a changed policy")
    elif not _ID.fullmatch(policy_id):
        extra.append(f"the id {policy_id!r} is not 1 to 32 letters and digits")
    return _with_problems(lookup, extra)


def read_tlsrpt_record(name: str, records: Sequence[str]) -> tuple[TxtLookup, tuple[str, ...]]:
    """``_smtp._tls.DOMAIN``: ``v=TLSRPTv1; rua=mailto:...,https://...``. The lookup and the rua URIs."""
    lookup = read_txt(name, records, TLSRPT_VERSION)
    if lookup.record is None:
        return lookup, ()
    rua = lookup.field("rua")
    if rua is None:
        return _with_problems(lookup, ["no rua= field: nobody is named to receive the reports"]), ()
    uris = tuple(u.strip(_WSP) for u in rua.split(","))
    extra = [f"the rua address {u!r} is neither mailto:user@domain nor an https:// URL" for u in uris
             if not _report_uri(u)]
    return _with_problems(lookup, extra), uris


def _report_uri(uri: str) -> bool:
    scheme, colon, rest = uri.partition(":")
    if not colon:
        return False
    if scheme.casefold() == "mailto":
        local, at, domain = rest.partition("@")
        return bool(local and at and "." in domain and not set(rest) & set(" <>\"!"))
    return scheme.casefold() == "https" and rest.startswith("//") and len(rest) > 2 and " " not in rest


def _with_problems(lookup: TxtLookup, extra: list[str]) -> TxtLookup:
    if not extra:
        return lookup
    return TxtLookup(name=lookup.name, records=lookup.records, record=lookup.record, fields=lookup.fields,
                     problems=(*lookup.problems, *extra)[:MAX_LISTED], error=lookup.error)


def valid_mx_pattern(pattern: str) -> bool:
    """A host name, or ``*.`` and a host name (the wildcard stands for one left-most label)."""
    name = pattern[2:] if pattern.startswith("*.") else pattern
    labels = name.rstrip(".").split(".")
    return len(labels) >= 2 and all(_LABEL.fullmatch(label) for label in labels)


def read_policy(text: str) -> MtaStsPolicy:
    """A policy file: ``key: value`` lines ended by LF or CRLF (RFC 8461 §3.2). Unknown keys are passed over;
    of a repeated key other than mx the first value counts, and the repetition is noted."""
    problems: list[str] = []
    notes: list[str] = []
    values: dict[str, tuple[int, str]] = {}
    patterns: list[str] = []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, raw in enumerate(lines[:MAX_POLICY_LINES], 1):
        line = raw[:-1] if raw.endswith("\r") else raw
        if not line.strip(_WSP):
            continue
        key, colon, value = line.partition(":")
        key, value = key.strip(_WSP), value.strip(_WSP)
        if not colon or not key or not re.fullmatch(r"[A-Za-z0-9_.-]{1,32}", key):
            notes.append(f"line {number} is not 'key: value' and was passed over: {line[:80]!r}")
        elif key == "mx":
            if valid_mx_pattern(value):
                patterns.append(value)
            else:
                problems.append(f"line {number}: mx {value!r} is not a host name or *.host name pattern")
        elif key in values:
            notes.append(f"line {number}: {key} appears again ({value!r}); the first value, on line "
                         f"{values[key][0]}, counts")
        else:
            values[key] = (number, value)
            if key not in ("version", "mode", "max_age"):
                notes.append(f"line {number}: the key {key!r} is not MTA-STS's and was passed over")
    if len(lines) > MAX_POLICY_LINES:
        notes.append(f"only the first {MAX_POLICY_LINES} lines were read")
    version = values.get("version", (0, None))[1]
    mode_text = values.get("mode", (0, None))[1]
    age_text = values.get("max_age", (0, None))[1]
    if version != STS_VERSION:
        problems.append("no version: line" if version is None else f"version is {version!r}, not {STS_VERSION}")
    mode = _MODES.get(mode_text or "")
    if mode is None:
        problems.append("no mode: line" if mode_text is None else
                        f"mode is {mode_text!r}, not enforce, testing or none")
    max_age = int(age_text) if age_text is not None and age_text.isascii() and age_text.isdigit() \
        and len(age_text) <= 10 else None
    if max_age is None or max_age > MAX_AGE_LIMIT:
        problems.append("no max_age: line" if age_text is None else
                        f"max_age {age_text!r} is not a whole number of seconds from 0 to {MAX_AGE_LIMIT}")
        max_age = None
    if not patterns and mode is not PolicyMode.NONE:
        problems.append("no mx: line: a policy in enforce or testing mode must list the MX hosts")
    return MtaStsPolicy(version=version, mode=mode, mode_text=None if mode else mode_text, max_age=max_age,
                        mx=tuple(patterns), problems=tuple(problems[:MAX_LISTED]), notes=tuple(notes[:MAX_LISTED]),
                        text=text)


def read_policy_bytes(body: bytes) -> MtaStsPolicy:
    """A policy body as fetched: UTF-8 (US-ASCII is a subset), else unusable."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return MtaStsPolicy(problems=(f"the body is not UTF-8 text (byte {exc.start})",),
                            text=body.decode("utf-8", errors="replace"))
    return read_policy(text)


def match_mx(hosts: Sequence[str], patterns: Sequence[str]) -> tuple[MxMatch, ...]:
    """Each MX host against the patterns: exact (case-insensitive) or ``*.`` for exactly one left-most label."""
    return tuple(MxMatch(host=host, pattern=next((p for p in patterns if covers(p, host)), None)) for host in hosts)
