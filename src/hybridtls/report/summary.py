"""The first screen of every format: the verdict, then each root cause, ranked, with the one command that fixes it.

Which finding explains which is data in ``hybridtls.checks.causes`` (one table); this module only ranks:

1. a finding that is context (``Finding.context``: valid as of the evidence's own date) or was seen and fixed
   (``Finding.fixed_at``) is never a root cause: it is listed after them, as context;
2. a finding another explains (directly or through a chain of explanations) is listed under its cause, never as
   a root cause of its own; when two causes explain it, under the first-ranked one;
3. root causes are ranked by the highest severity among themselves and what they explain (errors first: a
   warning that explains an error ranks as an error), then by how many findings they explain, then in the report's
   own order (severity, then catalogue order).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from hybridtls.checks.causes import explains
from hybridtls.model import Finding
from hybridtls.report.views import idle_checks

if TYPE_CHECKING:
    from hybridtls.report import Report


@dataclass(frozen=True, slots=True, kw_only=True)
class Cause:
    """One line of the summary: a finding, what it is (its check's title) and the findings listed under it."""

    finding: Finding
    what: str  # the check's title
    explained: tuple[Finding, ...] = ()
    explained_titles: tuple[str, ...] = ()  # the title of each explained finding's check, in the same order

    @property
    def command(self) -> str:
        """The one line to paste; none for context (nothing to fix as of the evidence's date) or what was fixed."""
        finding = self.finding
        return "" if finding.context or finding.fixed_at is not None else finding.command

    @property
    def rank(self) -> int:
        """The highest severity among the cause and what it explains."""
        return max((f.severity.rank for f in (self.finding, *self.explained)), default=0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    verdict: str  # "fail" or "pass"
    evidence_date: datetime | None  # the evidence's own date when long before the judging date
    causes: tuple[Cause, ...]  # ranked
    context: tuple[Cause, ...]  # findings that are context, not causes


def _reach(start: int, edges: dict[int, list[int]]) -> list[int]:
    """Every finding reachable from ``start`` through explanations, in breadth-first order."""
    seen: list[int] = []
    queue = list(edges.get(start, ()))
    while queue:
        index = queue.pop(0)
        if index == start or index in seen:
            continue
        seen.append(index)
        queue.extend(edges.get(index, ()))
    return seen


def rank_causes(findings: list[Finding]) -> tuple[list[tuple[Finding, list[Finding]]], list[Finding]]:
    """The root causes, ranked, each with what it explains; and the findings that are context."""
    context = [f for f in findings if f.context or f.fixed_at is not None]
    active = [f for f in findings if not (f.context or f.fixed_at is not None)]
    edges = {i: [j for j, effect in enumerate(active) if explains(cause, effect)] for i, cause in enumerate(active)}
    explained = {j for targets in edges.values() for j in targets}
    roots = [i for i in range(len(active)) if i not in explained]
    reach = {i: _reach(i, edges) for i in roots}

    def key(index: int) -> tuple[int, int, int]:
        top = max(active[j].severity.rank for j in (index, *reach[index]))
        return (-top, -len(reach[index]), index)

    ranked: list[tuple[Finding, list[Finding]]] = []
    placed: set[int] = set()
    for index in sorted(roots, key=key):
        under = [j for j in reach[index] if j not in placed]
        placed.update(under)
        ranked.append((active[index], [active[j] for j in under]))
    return ranked, context


def summary(report: Report) -> Summary:
    ranked, context = rank_causes(report.findings)

    def cause(finding: Finding, explained: list[Finding]) -> Cause:
        return Cause(finding=finding, what=report.check(finding.check_id).title, explained=tuple(explained),
                     explained_titles=tuple(report.check(f.check_id).title for f in explained))

    return Summary(verdict=report.verdict, evidence_date=report.evidence_date,
                   causes=tuple(cause(f, e) for f, e in ranked), context=tuple(cause(f, []) for f in context))


Idle = list[tuple[str, str, list[str]]]  # (word, reason, check ids), as views.idle_checks gives them


def idle_shown(report: Report, verbose: bool) -> tuple[str, Idle, int]:
    """The checks that could not run, as shown: ``verbose`` lists them all; otherwise the ones that are simply not
    applicable (no evidence for them) are only counted, while those that crashed or judged in part stay listed
    (what was not understood is always said). Returns the title, the entries listed and the count not listed."""
    title, idle = idle_checks(report)
    if verbose:
        return title, idle, 0
    listed = [entry for entry in idle if entry[0] != "not applicable"]
    return title, listed, sum(len(ids) for word, _, ids in idle if word == "not applicable")


def idle_count_words(count: int) -> str:
    return (f"{count} check{'' if count == 1 else 's'} could not run for lack of evidence; --verbose lists them"
            if count else "")


def dated_words(report: Report) -> str:
    """The line said at the top when the evidence is from long before the judging date; empty otherwise."""
    if report.evidence_date is None:
        return ""
    return (f"This evidence is from {report.evidence_date:%Y-%m-%d}; judged as of today ({report.now:%Y-%m-%d}). "
            f"To judge it as it stood then, pass --now {report.evidence_date:%Y-%m-%d}.")


def explained_words(cause: Cause) -> str:
    """``explains: HT-TRACE-001 Mail not delivered (...); HT-TRACE-002 ...``; empty when it explains nothing."""
    if not cause.explained:
        return ""
    return "explains: " + "; ".join(f"{f.check_id} {title}" for f, title in zip(cause.explained,
                                                                                 cause.explained_titles, strict=True))


__all__ = ["Cause", "Summary", "dated_words", "explained_words", "idle_count_words", "idle_shown", "rank_causes", "summary"]
