"""What the checks conclude: findings, their citations and each check's outcome."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hybridtls.model.source import Source


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


class CheckStatus(str, enum.Enum):
    FIRED = "fired"
    PASSED = "passed"
    NOT_APPLICABLE = "not_applicable"
    CRASHED = "crashed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Citation:
    """One piece of evidence behind a finding: where, and what it says there."""

    source: Source
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FindingSubject:
    """What a finding is about, field by field, so that two runs can be compared finding by finding.

    ``certificate`` is a thumbprint (upper-case hex) or ``issuer+serial:<issuer>|<serial>``; ``address`` a
    probed endpoint such as ``mail.contoso.com[192.0.2.1]:25``. Empty fields do not apply.
    """

    server: str | None = None
    certificate: str | None = None
    connector: str | None = None
    address: str | None = None
    name: str | None = None  # anything else that tells two findings of one check apart (a domain, an error text)

    def parts(self) -> tuple[tuple[str, str], ...]:
        values = (("server", self.server), ("certificate", self.certificate), ("connector", self.connector),
                  ("address", self.address), ("name", self.name))
        return tuple((label, value) for label, value in values if value)


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    check_id: str
    severity: Severity
    subject: str  # what a person reads: "EXCAS1: CN=mail.contoso.com (thumbprint ...)"
    message: str
    evidence: tuple[Citation, ...] = ()  # at most MAX_CITATIONS, the most telling first
    evidence_omitted: int = 0  # citations of the same kind not listed (a finding's size never grows with the estate)
    evidence_omitted_where: str = ""  # where the ones not listed are, in words
    remediation: str = ""
    command: str = ""  # the one line of the remediation that fixes it, ready to paste (the summary shows it)
    server: str | None = None
    about: FindingSubject = FindingSubject()
    fixed_at: Source | None = None  # seen on an earlier state of the evidence, no longer on the later one read here
    context: str = ""  # why this is context rather than a cause: "as of the evidence's own date (...) it was valid"

    @property
    def key(self) -> str:
        """Stable across runs for the same fault on the same thing: the check id and what it is about.

        Servers, certificates and connectors compare case-insensitively; without a structured subject the
        displayed subject stands in.
        """
        parts = self.about.parts()
        if not parts and self.server:
            parts = (("server", self.server),)
        if not parts:
            parts = (("subject", " ".join(self.subject.split())),)
        return self.check_id + "|" + "|".join(f"{label}={value.casefold()}" for label, value in parts)


@dataclass(frozen=True, slots=True, kw_only=True)
class NotJudged:
    """Something a check had evidence for but could not decide, and why: a certificate whose NotAfter reads
    2026-02-11 or 2026-11-02, expired under one reading and not under the other. A check yields it beside its
    findings, so that what it could not judge is said, never passed over."""

    subject: str
    reason: str
    source: Source | None = None

    def __str__(self) -> str:
        return f"{self.subject} ({self.source}): {self.reason}" if self.source else f"{self.subject}: {self.reason}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckOutcome:
    """What one check concluded over the whole evidence set. ``reason`` says why it could not run or crashed, or,
    for a check that ran, what it could not judge."""

    check_id: str
    status: CheckStatus
    findings: tuple[Finding, ...] = ()
    reason: str = ""
