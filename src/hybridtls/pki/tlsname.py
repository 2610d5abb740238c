"""TlsCertificateName: ``<I>issuer<S>subject``, the string by which Exchange connectors name a certificate.

Produced from a certificate's Windows-rendered names; parsed from configuration as admins leave it (lower-case
tags, surrounding quotes, the ``\\<S>`` and ``<\\S>`` artefacts of pasting through a shell); compared saying
precisely what differs.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from hybridtls.powershell import ps_literal

# One way to match: the quotes and white space around the value are taken off before, not by, the pattern (a lazy
# subject before optional spaces and quote was cubic on a long run of spaces).
_TAGS = re.compile(r"<\\?I\\?>(?P<issuer>.*?)\\?<\\?S\\?>(?P<subject>.*)", re.I | re.S)
_QUOTES = "\"'\u2018\u2019\u201c\u201d"


class TlsNameError(ValueError):
    """A TlsCertificateName that does not have the <I>...<S>... shape."""


@dataclass(frozen=True, slots=True)
class TlsCertificateName:
    issuer: str
    subject: str

    def __str__(self) -> str:
        return f"<I>{self.issuer}<S>{self.subject}"

    @property
    def powershell(self) -> str:
        """The value as a PowerShell single-quoted literal (no $ expansion, quotes doubled)."""
        return ps_literal(str(self))


def _unquoted(text: str) -> str:
    value = text.strip()
    if value[:1] and value[0] in _QUOTES:
        value = value[1:].lstrip()
    if value[-1:] and value[-1] in _QUOTES:
        value = value[:-1].rstrip()
    return value


def parse_tls_certificate_name(text: str) -> TlsCertificateName:
    match = _TAGS.match(_unquoted(text))
    if not match:
        raise TlsNameError(f"{text.strip()[:80]!r} is not of the form <I>issuer<S>subject")
    issuer, subject = match["issuer"].strip(), match["subject"].strip()
    if not issuer or not subject:
        raise TlsNameError("the issuer or the subject part is empty")
    return TlsCertificateName(issuer, subject)


class Difference(str, enum.Enum):
    SAME = "same"
    CASE_OR_SPACING = "case_or_spacing"
    ISSUER = "issuer"
    SUBJECT = "subject"
    BOTH = "both"


@dataclass(frozen=True, slots=True)
class Comparison:
    difference: Difference
    explanation: str


def _loose(text: str) -> str:
    return " ".join(re.sub(r"\s*([,+=])\s*", r"\1", text).split()).casefold()


def _organisation(name: str) -> str | None:
    match = re.search(r"(?:^|, )O=(\"[^\"]*(?:\"\"[^\"]*)*\"|[^,]*)", name)  # unrolled: no per-character state
    return match.group(1).strip('"').casefold() if match else None


def names_same_certificate(a: TlsCertificateName, b: TlsCertificateName) -> bool:
    """Equal but for case and spacing: how Exchange (and HealthChecker's -eq) match the strings."""
    return _loose(a.issuer) == _loose(b.issuer) and _loose(a.subject) == _loose(b.subject)


def compare(expected: TlsCertificateName, actual: TlsCertificateName) -> Comparison:
    """How ``actual`` (e.g. a certificate) differs from ``expected`` (e.g. a connector's TlsCertificateName)."""
    if str(expected) == str(actual):
        return Comparison(Difference.SAME, "identical")
    issuer_same = _loose(expected.issuer) == _loose(actual.issuer)
    subject_same = _loose(expected.subject) == _loose(actual.subject)
    if issuer_same and subject_same:
        return Comparison(Difference.CASE_OR_SPACING,
                          "only letter case or spacing differs; Exchange compares the strings as they are, so "
                          "set the exact value")
    if not issuer_same and not subject_same:
        return Comparison(Difference.BOTH, f"a different certificate: issuer {actual.issuer!r} instead of "
                                           f"{expected.issuer!r}, subject {actual.subject!r} instead of {expected.subject!r}")
    if not issuer_same:
        old, new = _organisation(expected.issuer), _organisation(actual.issuer)
        vendor = (f"a new CA vendor ({new or '?'} instead of {old or '?'})" if old != new
                  else "another issuing CA of the same vendor")
        return Comparison(Difference.ISSUER, f"the issuer changed: {vendor}; the subject is the same, but every "
                                             "TlsCertificateName naming the old issuer no longer matches")
    return Comparison(Difference.SUBJECT, f"the subject changed: {actual.subject!r} instead of {expected.subject!r}")
