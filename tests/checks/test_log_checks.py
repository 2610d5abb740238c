"""The log checks on the fixture logs beside certificate and connector evidence: what the notes of HT-LOG-001 say
about the certificate Exchange tried to use, exactly."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from test_catalogue import NOW, SEND, T1, _session, _summary, healthy, public

from hybridtls.checks import CHECKS_BY_ID, CheckContext, run_checks
from hybridtls.model import CheckStatus, DateReadings, LoggedCertificate, TlsOutcome


def _run(check_id: str, **changes: object) -> tuple[CheckStatus, list[tuple[str, str, str]]]:
    evidence = replace(healthy(), **changes)  # type: ignore[arg-type]
    [outcome] = run_checks(evidence, CheckContext(now=NOW), (CHECKS_BY_ID[check_id],))
    return outcome.status, [(f.key, f.severity.value, f.message) for f in outcome.findings]


OTHER = "B" * 40


def test_unknown_credentials_names_the_certificate_the_connector_selects() -> None:
    failed = _session(tls=TlsOutcome.FAILED, tls_error="UnknownCredentials", certificate_received=None,
                      certificate_sent=LoggedCertificate(thumbprint=OTHER),
                      failure="TLS negotiation failed with error UnknownCredentials")
    certificates = (public("EXMBX1", services=frozenset({"IIS"})),)
    status, [(key, severity, message)] = _run("HT-LOG-001", smtp_sessions=(failed,), certificates=certificates,
                                             smtp_summaries=(_summary(tls_failed=(("UnknownCredentials", 3),)),))
    assert (status, key, severity) == (CheckStatus.FIRED, "HT-LOG-001|server=exmbx1|connector=outbound to office 365"
                                       "|name=unknowncredentials", "error")
    assert message.startswith("3 session(s) failed TLS with UnknownCredentials, ")
    assert (f"Other evidence: the log shows Exchange sending {OTHER}; the connector's TlsCertificateName selects "
            f"CN=mail.contoso.com, O=Contoso Ltd, C=US (thumbprint {T1}); not the certificate the log shows sent: the "
            "connector or the certificate changed; confirmed: CN=mail.contoso.com, O=Contoso Ltd, C=US is not enabled "
            "for SMTP on EXMBX1; certificates with SMTP on EXMBX1: none.") in message


def test_a_series_after_a_certificate_change_says_when_it_began() -> None:
    failed = _session(tls=TlsOutcome.FAILED, tls_error="NoCredentials", certificate_received=None,
                      first_seen=NOW - timedelta(days=9))
    summaries = (_summary(tls_failed=(("NoCredentials", 1),)),
                 _summary(tls_succeeded=5, first_seen=datetime(2026, 11, 1)))
    status, [(key, severity, message)] = _run(
        "HT-LOG-003", smtp_sessions=(failed,), smtp_summaries=summaries,
        certificates=(public("EXMBX1", not_before=NOW - timedelta(days=10)),))
    assert (status, severity) == (CheckStatus.FIRED, "warning")
    assert message == (f"TLS failures with NoCredentials began 2026-11-18 12:00 UTC, 24 hour(s) after CN=mail.contoso.com, "
                       f"O=Contoso Ltd, C=US (thumbprint {T1}) became valid on 2026-11-17: sessions succeeded before it. "
                       "The certificate change is the likely start of the fault.")


def test_a_not_before_read_two_ways_either_side_of_the_window_is_not_linked_and_said() -> None:
    failed = _session(tls=TlsOutcome.FAILED, tls_error="NoCredentials", certificate_received=None,
                      first_seen=NOW - timedelta(days=9))  # 2026-11-18 12:00
    # 11/10/2026: 2026-10-11 (more than 14 days before the failures) or 2026-11-10 (within 14 days)
    readings = DateReadings(text="11/10/2026 9:00:00 AM", day_first=datetime(2026, 10, 11, 9),
                            month_first=datetime(2026, 11, 10, 9))
    evidence = replace(healthy(), smtp_sessions=(failed,), smtp_summaries=(_summary(tls_failed=(("NoCredentials", 1),)),),
                       certificates=(public("EXMBX1", not_before=None, not_before_readings=readings),))
    [outcome] = run_checks(evidence, CheckContext(now=NOW), (CHECKS_BY_ID["HT-LOG-003"],))
    assert (outcome.status, outcome.findings) == (CheckStatus.NOT_APPLICABLE, ())
    assert outcome.reason.endswith(
        "NotBefore 11/10/2026 9:00:00 AM is 2026-10-11 or 2026-11-10 (day and month could be either way round): the "
        "TLS failures began 2026-11-18 12:00 UTC: more than 14 days before if 2026-10-11, within 14 days before if "
        "2026-11-10; --date-order dmy or --date-order mdy settles it")
    far = replace(readings, text="1/2/2026 9:00:00 AM", day_first=datetime(2026, 2, 1, 9), month_first=datetime(2026, 1, 2, 9))
    evidence = replace(evidence, certificates=(public("EXMBX1", not_before=None, not_before_readings=far),))
    [outcome] = run_checks(evidence, CheckContext(now=NOW), (CHECKS_BY_ID["HT-LOG-003"],))
    assert (outcome.status, outcome.reason) == (CheckStatus.PASSED, "")  # long before, either way: judged


def test_send_connector_name_is_matched_case_insensitively() -> None:
    failed = _session(connector=SEND.upper(), tls=TlsOutcome.FAILED, tls_error="NoCredentials",
                      certificate_received=None)
    _, [(_, _, message)] = _run("HT-LOG-001", smtp_sessions=(failed,),
                                smtp_summaries=(_summary(connector=SEND.upper(), tls_failed=(("NoCredentials", 1),)),))
    assert "the connector's TlsCertificateName selects CN=mail.contoso.com" in message
