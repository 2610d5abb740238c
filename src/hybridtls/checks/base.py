"""What a check is: its declaration (id, title, severity, needs, explanation, remediation, references) beside its
code, and what a family of checks is: the checks of one module and the commands that run them."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from hybridtls.checks.fixes import filled, one_line
from hybridtls.model import Citation, EvidenceSet, Finding, FindingSubject, NotJudged, Severity
from hybridtls.powershell import check_pasteable
from hybridtls.references import MAX_CITATIONS


class NotApplicable(Exception):
    """The evidence given cannot support this check; the reason says what to collect.

    The runner decides this from each check's declared :class:`Needs`; a check raises it itself only when the
    data it needs is there but unusable in a way the declaration cannot see.
    """


class Command(str, enum.Enum):
    """The commands that run checks; each family declares which of them it serves."""

    CHECK = "check"
    CERT = "cert"
    PROBE = "probe"
    PLAN = "plan"
    WATCH = "watch"


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckContext:
    now: datetime
    expected_names: tuple[str, ...] = ()  # host names certificates must cover (--name)
    expected_tls_names: tuple[str, ...] = ()  # TlsCertificateName values certificates must match
    evidence_date: datetime | None = None  # the evidence's own date, when long before ``now`` (and --now not given)

    def valid_then(self, *not_after: datetime) -> str:
        """For what is expired as of ``now``: words saying it was valid as of the evidence's own date, when it was
        (the finding is then context, not a cause: ``Finding.context``); empty otherwise."""
        if self.evidence_date is None or not not_after or any(d < self.evidence_date for d in not_after):
            return ""
        return (f"expired as of today ({self.now:%Y-%m-%d}); as of the evidence's own date "
                f"({self.evidence_date:%Y-%m-%d}) it was valid")


@dataclass(frozen=True, slots=True, kw_only=True)
class Need:
    """One thing a check cannot run without: a test over the evidence (and the run's settings), in words."""

    what: str  # "RootCAType (Get-ExchangeCertificate | Format-List)"
    reason: str  # said when it is missing, naming what to collect or pass: "no RootCAType in the evidence: save ..."
    present: Callable[[EvidenceSet, CheckContext], bool]


@dataclass(frozen=True, slots=True)
class Needs:
    """What a check needs: every requirement must be present for it to run; ``also`` says, in words, what else
    it uses when given (and does without)."""

    requirements: tuple[Need, ...]
    also: str = ""

    def missing(self, evidence: EvidenceSet, ctx: CheckContext) -> tuple[Need, ...]:
        return tuple(need for need in self.requirements if not need.present(evidence, ctx))

    def __str__(self) -> str:
        text = "; ".join(need.what for need in self.requirements)
        return f"{text}; also {self.also}" if self.also else text


def needs(*requirements: Need, also: str = "") -> Needs:
    return Needs(requirements, also)


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    id: str
    title: str
    severity: Severity  # the highest severity its findings take
    needs: Needs | str  # a bare sentence declares nothing the runner can test
    explanation: str
    remediation: str
    references: tuple[str, ...]
    command: str = ""  # the one line that fixes it, ready to paste (fixes.py); a finding may give its own
    run: Callable[[EvidenceSet, CheckContext], Iterable[Finding | NotJudged]]  # findings, and what it could not judge

    def missing(self, evidence: EvidenceSet, ctx: CheckContext) -> tuple[Need, ...]:
        """The declared requirements the evidence does not meet."""
        return self.needs.missing(evidence, ctx) if isinstance(self.needs, Needs) else ()

    def finding(
        self,
        *,
        subject: str,
        message: str,
        evidence: Iterable[Citation] = (),
        remediation: str = "",
        command: str = "",
        one_line_fix: bool = False,
        server: str | None = None,
        severity: Severity | None = None,
        about: FindingSubject | None = None,
        evidence_omitted: int = 0,
        evidence_omitted_where: str = "",
        context: str = "",
    ) -> Finding:
        """A finding of this check. Its citations are cut to MAX_CITATIONS (the first ones: put the most telling
        first); the count of the rest, and where they are, are kept instead. The summary's one line is ``command``,
        else (``one_line_fix``) the finding's own short remediation joined on one line, else the check's declared
        command; in each, ``-Server <ServerName>`` and ``-Thumbprint <Thumbprint>`` are filled from the finding."""
        cited = tuple(evidence)
        if len(cited) > MAX_CITATIONS:
            evidence_omitted += len(cited) - MAX_CITATIONS
            cited = cited[:MAX_CITATIONS]
        return Finding(
            check_id=self.id,
            severity=severity or self.severity,
            subject=subject,
            message=message,
            evidence=cited,
            evidence_omitted=evidence_omitted,
            evidence_omitted_where=evidence_omitted_where if evidence_omitted else "",
            remediation=check_pasteable(remediation or self.remediation),  # a fix never carries a raw control character
            command=check_pasteable(filled(command or (one_line(remediation) if one_line_fix else "") or self.command,
                                           server=server, certificate=(about or FindingSubject()).certificate)),
            context=context,
            server=server,
            about=about or FindingSubject(server=server),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Family:
    """The checks of one module, and the commands that run them."""

    name: str
    commands: frozenset[Command]
    checks: tuple[Check, ...]
