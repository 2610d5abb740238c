from __future__ import annotations

from conftest import CASES, certificate, format_list, judge, triples

from hybridtls.model import CheckStatus


def trace(status: str, received: str, recipient: str = "onpremuser@contoso.com") -> dict[str, str]:
    return {
        "Received": received,
        "SenderAddress": "clouduser@contoso.com",
        "RecipientAddress": recipient,
        "Subject": "test",
        "Status": status,
        "MessageId": "<ABC123@SIXPR01MB0542.apcprd01.prod.exchangelabs.com>",
        "MessageTraceId": "d33e3c2f-5473-4b32-32ee-08d33855e852",
        "Size": "1024",
    }


def test_founding_trace_is_pending_office365_to_onprem_and_points_at_the_cause() -> None:
    _, findings = judge(CASES / "founding-incident", now="2016-02-20T00:00:00")
    assert triples(findings, "HT-TRACE") == {("HT-TRACE-001", None, "warning"), ("HT-TRACE-002", None, "warning")}
    pending = next(f for f in findings if f.check_id == "HT-TRACE-001")
    assert "Office 365 -> on-premises" in pending.message
    assert "first 2016-02-18 11:23" in pending.message
    assert "RootCAType Registry on excas1" in pending.message
    assert "Get-MessageTraceDetail" in pending.remediation
    correlation = next(f for f in findings if f.check_id == "HT-TRACE-002")
    assert "5 day(s) after" in correlation.message


def test_counts_per_status_and_domains(tmp_path) -> None:
    (tmp_path / "trace.txt").write_text(format_list(
        trace("Pending", "2/18/2030 11:23:21 AM"), trace("Pending", "2/19/2030 9:00:00 AM", "b@fabrikam.com"),
        trace("Failed", "2/20/2030 9:00:00 AM"), trace("Delivered", "2/20/2030 10:00:00 AM"),
    ))
    _, findings = judge(tmp_path)
    assert triples(findings, "HT-TRACE-001") == {("HT-TRACE-001", None, "warning"), ("HT-TRACE-001", None, "error")}
    pending = next(f for f in findings if f.subject == "message trace: Pending")
    assert pending.message.startswith("2 message(s) in Exchange Online's trace are Pending, first 2030-02-18 11:23, "
                                      "last 2030-02-19 09:00, to 2 recipient(s) in contoso.com, fabrikam.com.")
    assert [c.source.line for c in pending.evidence] == [7, 17]  # the Status line of each record


def test_delivered_mail_is_quiet_and_no_trace_is_not_applicable(tmp_path, estate) -> None:
    (tmp_path / "trace.txt").write_text(format_list(trace("Delivered", "2/18/2030 11:23:21 AM")))
    outcomes, findings = judge(tmp_path)
    assert outcomes["HT-TRACE-001"].status is CheckStatus.PASSED and not findings
    outcomes, _ = judge(estate({"ex1": [certificate()]}))
    assert outcomes["HT-TRACE-001"].status is CheckStatus.NOT_APPLICABLE


def test_correlation_only_within_the_window_after_not_before(estate, tmp_path) -> None:
    folder = estate({"ex1": [certificate(NotBefore="3/15/2029 12:00:00 AM")]})
    (folder / "trace.txt").write_text(format_list(trace("Pending", "3/20/2029 11:23:21 AM")))
    _, findings = judge(folder)
    assert triples(findings, "HT-TRACE-002") == {("HT-TRACE-002", None, "warning")}
    (folder / "trace.txt").write_text(format_list(trace("Pending", "3/10/2029 11:23:21 AM")))  # before the change
    _, findings = judge(folder)
    assert triples(findings, "HT-TRACE-002") == set()
    (folder / "trace.txt").write_text(format_list(trace("Pending", "8/20/2029 11:23:21 AM")))  # months later
    _, findings = judge(folder)
    assert triples(findings, "HT-TRACE-002") == set()


# A NotBefore like 8/9/2026 with nothing to settle the order is 2026-08-09 or 2026-09-08. The trace's own dates are
# written year first here, so that they prove no order either.

def _correlated(estate, tmp_path, not_before: str, first_pending: str):  # type: ignore[no-untyped-def]
    folder = estate({"ex1": [certificate(NotBefore=not_before, NotAfter="1/1/2031 1:00:00 PM")]})
    (folder / "trace.txt").write_text(format_list(trace("Pending", first_pending)))
    return judge(folder, now="2026-10-01T00:00:00")


def test_a_not_before_within_the_window_under_both_readings_is_correlated_and_says_so(estate, tmp_path) -> None:
    outcomes, findings = _correlated(estate, tmp_path, "8/9/2026 1:00:00 PM", "2026-09-20 10:00:00")
    [correlation] = [f for f in findings if f.check_id == "HT-TRACE-002"]
    assert ("Undelivered mail begins 2026-09-20 10:00, 11 or 41 day(s) after CN=mail.contoso.com" in correlation.message
            and "became valid, within 60 days under either reading of its NotBefore (NotBefore 8/9/2026 1:00:00 PM is "
                "2026-08-09 or 2026-09-08 (day and month could be either way round))" in correlation.message)
    assert correlation.evidence[0].text == "ex1: NotBefore 8/9/2026 1:00:00 PM (2026-08-09 or 2026-09-08)"
    assert outcomes["HT-TRACE-002"].reason == ""


def test_a_not_before_whose_readings_straddle_the_window_is_not_judged_and_said(estate, tmp_path) -> None:
    outcomes, findings = _correlated(estate, tmp_path, "7/1/2026 1:00:00 PM", "2026-08-01 10:00:00")
    assert not [f for f in findings if f.check_id == "HT-TRACE-002"]
    outcome = outcomes["HT-TRACE-002"]
    assert outcome.status is CheckStatus.NOT_APPLICABLE
    assert outcome.reason.endswith(
        "NotBefore 7/1/2026 1:00:00 PM is 2026-01-07 or 2026-07-01 (day and month could be either way round): the "
        "first undelivered message was received 2026-08-01 10:00: more than 60 days before it if 2026-01-07, within "
        "60 days before it if 2026-07-01; --date-order dmy or --date-order mdy settles it")


def test_a_not_before_outside_the_window_under_both_readings_is_quiet(estate, tmp_path) -> None:
    outcomes, findings = _correlated(estate, tmp_path, "3/4/2026 1:00:00 PM", "2026-09-20 10:00:00")
    assert not [f for f in findings if f.check_id == "HT-TRACE-002"]
    assert (outcomes["HT-TRACE-002"].status, outcomes["HT-TRACE-002"].reason) == (CheckStatus.PASSED, "")
