"""What a check is: its declaration (id, title, severity, explanation, remediation, references) beside its code."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from hybridtls.model import Citation, EvidenceSet, Finding, Severity
from hybridtls.powershell import check_pasteable


class NotApplicable(Exception):
    """The evidence given cannot support this check; the reason says what to collect."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckContext:
    now: datetime
    expected_names: tuple[str, ...] = ()  # host names certificates must cover (--name)
    expected_tls_names: tuple[str, ...] = ()  # TlsCertificateName values certificates must match


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    id: str
    title: str
    severity: Severity  # the highest severity its findings take
    needs: str
    explanation: str
    remediation: str
    references: tuple[str, ...]
    run: Callable[[EvidenceSet, CheckContext], Iterable[Finding]]

    def finding(
        self,
        *,
        subject: str,
        message: str,
        evidence: Iterable[Citation] = (),
        remediation: str = "",
        server: str | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        return Finding(
            check_id=self.id,
            severity=severity or self.severity,
            subject=subject,
            message=message,
            evidence=tuple(evidence),
            remediation=check_pasteable(remediation or self.remediation),  # a fix never carries a raw control character
            server=server,
        )
