"""Mail held on-premises is never a PASS: a queue in Retry or Suspended is a warning whatever its LastError says,
or when it says nothing; a queue that merely has messages in it (Ready, Active) is not."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from conftest import format_list

import hybridtls

NOW = datetime(2026, 11, 30, 9, 0)


def _queues(tmp_path: Path, *queues: dict[str, str]) -> hybridtls.Report:
    path = tmp_path / "queues.txt"
    path.write_text("[PS] C:\\>Get-Queue -Server excas1 | fl\n" + format_list(*queues))
    return hybridtls.check(path, now=NOW)


def _queue(identity: str, status: str, last_error: str = "", count: str = "12") -> dict[str, str]:
    return {"Identity": identity, "DeliveryType": "SmartHostConnectorDelivery", "Status": status,
            "MessageCount": count, "NextHopDomain": "contoso.mail.onmicrosoft.com", "LastError": last_error}


def _held(report: hybridtls.Report) -> list[tuple[str, str]]:
    return [(f.about.name or "", f.severity.value) for f in report.findings if f.check_id == "HT-QUEUE-001"]


def test_retry_with_an_error_nobody_knows_is_never_a_pass(tmp_path: Path) -> None:
    error = ('451 4.4.0 Primary target IP address responded with: "454 4.7.0 Zorblax rejected." Attempted failover '
             "to alternate host, but that did not succeed.")
    report = _queues(tmp_path, _queue("EXCAS1\\12", "Retry", error, "12,481"))
    assert report.failed
    [finding] = [f for f in report.findings if f.check_id == "HT-QUEUE-001"]
    assert "in Retry, holding 12,481 message(s)" in finding.message and "Zorblax" in finding.message
    assert "Exchange Online" in finding.message
    assert "Retry-Queue -Identity 'EXCAS1\\12'" in finding.remediation


def test_suspended_without_last_error_is_held_and_resumed(tmp_path: Path) -> None:
    report = _queues(tmp_path, _queue("EXCAS1\\9", "Suspended"))
    assert _held(report) == [("queue EXCAS1\\9", "warning")]
    [finding] = [f for f in report.findings if f.check_id == "HT-QUEUE-001"]
    assert "no LastError" in finding.message and "Resume-Queue -Identity 'EXCAS1\\9'" in finding.remediation
    assert not [f for f in report.findings if f.check_id == "HT-ERR-001"]  # nothing to explain


@pytest.mark.parametrize("status", ["Ready", "Active"])
def test_a_queue_moving_mail_is_not_held(tmp_path: Path, status: str) -> None:
    report = _queues(tmp_path, _queue("EXCAS1\\3", status), _queue("EXCAS1\\Submission", "Ready", count="0"))
    assert _held(report) == []
    assert [(q.identity, q.server, q.message_count) for q in report.evidence.queues] == [
        ("EXCAS1\\3", "EXCAS1", 12), ("EXCAS1\\Submission", "EXCAS1", 0)]


def test_a_queue_identity_that_is_not_one_line_becomes_a_placeholder(tmp_path: Path) -> None:
    from hybridtls.checks.queues import HELD_QUEUE, _fix
    from hybridtls.model import MailQueue, Source

    queue = MailQueue(source=Source(path="q"), identity="EX\u202e1\\9", status="Retry")
    assert "<QueueIdentity>" in _fix(queue, "Retry") and "\u202e" not in _fix(queue, "Retry")
    assert HELD_QUEUE.severity.value == "warning"


def test_a_queue_cut_by_a_wrapped_last_error_is_still_a_held_queue(tmp_path: Path) -> None:
    """A paste whose LastError wrapped to column 0 splits the record: the part with Identity, DeliveryType and Status
    is still a queue in Retry (no NextHopDomain, which came after the wrap)."""
    path = tmp_path / "paste.txt"
    path.write_text("Identity: EXCAS1\\Shadow\\3\nDeliveryType: ShadowRedundancy\nStatus: Retry\n"
                    'LastError: 451 4.4.0 Primary target IP address responded with: "421 4.4.2 Connection dropped."\n'
                    "Attempted failover to alternate host, but that did not succeed.\nMessageCount: 8\n")
    report = hybridtls.check(path, now=NOW)
    assert _held(report) == [("queue EXCAS1\\Shadow\\3", "warning")]


@pytest.mark.parametrize(("status", "line"), [("Retry", "Retry-Queue -Identity 'excas1\\7'"),
                                               ("Suspended", "Resume-Queue -Identity 'excas1\\7'")])
def test_the_summary_line_sends_that_very_queue_on(tmp_path: Path, status: str, line: str) -> None:
    report = _queues(tmp_path, _queue("excas1\\7", status))
    [held] = [f for f in report.findings if f.check_id == "HT-QUEUE-001"]
    assert held.command == line and held.remediation.endswith(line)
