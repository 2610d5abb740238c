"""hybridtls: find, explain and prevent certificate and TLS faults in Exchange hybrid mail flow.

The Python API, the same pipeline the command line runs::

    import hybridtls

    report = hybridtls.check(["evidence/"])
    for finding in report.findings:
        print(finding.severity.value, finding.check_id, finding.subject)
    for cert in report.evidence.certificates:
        print(cert.server.name if cert.server else "?", cert.thumbprint, cert.root_ca_type)
    print(report.verdict, report.to_json()[:80])

``probe`` (or ``await probe_async`` inside a running event loop) and ``plan`` return the same kind of objects.
Importing this package is cheap: cryptography, rich and the readers load on the first call.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from hybridtls._version import __version__

if TYPE_CHECKING:
    from datetime import datetime

    from hybridtls.model import Severity
    from hybridtls.report import Plan, Report

    PathsLike = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]  # one path or many

__all__ = [
    "EvidenceError",
    "HybridTlsError",
    "Plan",
    "Report",
    "UsageError",
    "__version__",
    "cert",
    "check",
    "plan",
    "probe",
    "probe_async",
]

def check(paths: PathsLike, *, now: datetime | None = None,
          trust: PathsLike | None = None,
          intermediates: PathsLike | None = None,
          date_order: str | None = None, use_recorded_trust: bool = True,
          fail_on: Severity | str | None = "warning", servers: Iterable[str] = ()) -> Report:
    """Judge saved evidence (files and folders of PowerShell output, certificate files, saved probes).

    ``date_order`` is ``"dmy"`` or ``"mdy"`` for dates the evidence does not settle; ``trust`` and
    ``intermediates`` are certificate files, as ``--trust`` and ``--intermediates``; ``fail_on=None`` never fails;
    ``servers`` are ``--server`` values (``"NAME"`` or ``"PATH=NAME"``) for records that do not name their server.
    """
    from hybridtls.evidence.dates import DateOrder
    from hybridtls.pipeline import judge_evidence

    return judge_evidence(_paths(paths), now=now, trust=_trust(trust, intermediates, use_recorded_trust),
                          date_order=DateOrder(date_order) if date_order else None, fail_on=_severity(fail_on),
                          servers=tuple(servers))


def cert(files: PathsLike, *, now: datetime | None = None,
         trust: PathsLike | None = None,
         intermediates: PathsLike | None = None,
         names: Iterable[str] = (), tls_certificate_names: Iterable[str] = (), password: str | bytes | None = None,
         fail_on: Severity | str | None = "warning") -> Report:
    """Certificate files as Windows and Exchange see them, and the chain Exchange Online would build."""
    from hybridtls.pipeline import judge_certificates

    return judge_certificates(_paths(files), now=now, trust=_trust(trust, intermediates, True, password),
                              names=tuple(names), tls_certificate_names=tuple(tls_certificate_names),
                              fail_on=_severity(fail_on))


async def probe_async(targets: str | Iterable[str], *, now: datetime | None = None,
                      trust: PathsLike | None = None,
                      fail_on: Severity | str | None = "warning", **options: Any) -> Report:
    """Probe every address behind the targets (``host[:port]``, ``[IPv6]:port``) over SMTP and STARTTLS and
    judge them as Exchange Online would. ``options`` are ``pipeline.ProbeOptions`` fields: ``mx``, ``resolve``,
    ``nameserver``, ``expect_name``, ``expect_cert``, ``timeout``, ``deadline``, ``concurrency``, ..."""
    from hybridtls.pipeline import ProbeOptions, probe_and_judge_async

    return await probe_and_judge_async([targets] if isinstance(targets, str) else list(targets),
                                       options=ProbeOptions(**options), now=now,
                                       trust=_trust(trust, None, True), fail_on=_severity(fail_on))


def probe(targets: str | Iterable[str], *, now: datetime | None = None,
          trust: PathsLike | None = None,
          fail_on: Severity | str | None = "warning", **options: Any) -> Report:
    """``probe_async`` for code without a running event loop."""
    import asyncio

    return asyncio.run(probe_async(targets, now=now, trust=trust, fail_on=fail_on, **options))


def plan(new_cert: str | os.PathLike[str], evidence: PathsLike = (),
         *, now: datetime | None = None,
         trust: PathsLike | None = None,
         intermediates: PathsLike | None = None,
         password: str | bytes | None = None, fail_on: Severity | str | None = "error") -> Plan:
    """Check a certificate change before it is made: what refers to the current certificate, the ordered steps,
    and what would fail."""
    from hybridtls.pipeline import plan_change

    return plan_change(os.fspath(new_cert), _paths(evidence), now=now,
                       trust=_trust(trust, intermediates, True, password), fail_on=_severity(fail_on))


def __getattr__(name: str) -> Any:
    """The result types and errors, imported on first use so that ``import hybridtls`` stays cheap."""
    if name in ("Report", "Plan"):
        from hybridtls import report

        return getattr(report, name)
    if name in ("EvidenceError", "HybridTlsError", "UsageError"):
        from hybridtls import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'hybridtls' has no attribute {name!r}")


def _paths(given: PathsLike | None) -> list[str]:
    if given is None:
        return []
    if isinstance(given, (str, os.PathLike)):
        return [os.fspath(given)]
    return [os.fspath(p) for p in given]


def _trust(trust: Any, intermediates: Any, use_recorded: bool, password: str | bytes | None = None) -> Any:
    from hybridtls.pipeline import TrustOptions

    secret = password.encode() if isinstance(password, str) else password
    return TrustOptions(trust=tuple(_paths(trust)), intermediates=tuple(_paths(intermediates)),
                        use_recorded=use_recorded,  # without a password, the pipeline asks the environment
                        passwords=None if secret is None else lambda _: secret)


def _severity(value: Severity | str | None) -> Severity | None:
    from hybridtls.model import Severity

    if value is None or value == "never":
        return None
    return Severity(value)
