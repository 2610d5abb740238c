"""A date whose day and month could be either way round (11/2/2026), with nothing in the evidence to settle it, is
judged exactly when both of its readings would be judged alike: then with their verdict, else with none (and said).
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from conftest import certificate, format_list
from hypothesis import given
from hypothesis import strategies as st
from test_catalogue import NOW as CATALOGUE_NOW
from test_catalogue import T1, _src, healthy, public

from hybridtls.checks import CHECKS_BY_ID, CheckContext, run_checks
from hybridtls.evidence.dates import DateOrder
from hybridtls.evidence.loader import load_evidence
from hybridtls.model import CheckOutcome, CheckStatus, DateReadings, TransportService

JUDGED = tuple(CHECKS_BY_ID[i] for i in ("HT-CERT-001", "HT-CERT-002", "HT-TRACE-002"))
DAY_MONTH = st.tuples(st.integers(1, 12), st.integers(1, 12))


def _outcomes(folder: Path, order: DateOrder | None, now: datetime) -> dict[str, CheckOutcome]:
    evidence = load_evidence([str(folder)], order)
    return {o.check_id: o for o in run_checks(evidence, CheckContext(now=now), JUDGED)}


def _verdict(outcome: CheckOutcome) -> tuple[CheckStatus, list[tuple[str, str]]]:
    return outcome.status, sorted((f.severity.value, f.subject) for f in outcome.findings)


@given(not_after=DAY_MONTH, not_before=DAY_MONTH, year=st.integers(2025, 2026), hour=st.integers(1, 12),
       now=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 3, 1)),
       pending_after=st.integers(0, 400))
def test_an_ambiguous_date_is_judged_as_both_readings_are_when_they_agree_and_not_otherwise(
        not_after: tuple[int, int], not_before: tuple[int, int], year: int, hour: int, now: datetime,
        pending_after: int) -> None:
    after_text = f"{not_after[0]}/{not_after[1]}/{year + 1} {hour}:53:00 PM"
    before_text = f"{not_before[0]}/{not_before[1]}/{year} {hour}:43:23 AM"
    pending = datetime(year, 1, 1, 10) + timedelta(days=pending_after)  # written year first: it proves no order
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp) / "excas1"
        folder.mkdir()
        (folder / "c.txt").write_text(format_list(certificate(NotAfter=after_text, NotBefore=before_text)))
        (folder / "trace.txt").write_text(format_list({
            "Received": f"{pending:%Y-%m-%d %H:%M:%S}", "SenderAddress": "a@contoso.com",
            "RecipientAddress": "b@contoso.com", "Status": "Pending", "MessageTraceId": "d33e3c2f"}))
        read_as = {order: _outcomes(Path(temp), order, now) for order in (None, DateOrder.DMY, DateOrder.MDY)}
    for check in JUDGED:
        ambiguous, day_first, month_first = (read_as[order][check.id] for order in read_as)
        if _verdict(day_first) == _verdict(month_first):
            assert _verdict(ambiguous) == _verdict(day_first), check.id
            assert ambiguous.reason == "", check.id
        else:  # the readings disagree: no verdict, and the date that could not be judged is named
            assert (ambiguous.status, ambiguous.findings) == (CheckStatus.NOT_APPLICABLE, ()), check.id
            assert ambiguous.reason.startswith("could not judge ") and "--date-order" in ambiguous.reason
            assert (after_text if check.id.startswith("HT-CERT") else before_text) in ambiguous.reason


def test_the_other_checks_that_ask_whether_a_certificate_expired_answer_from_both_readings() -> None:
    def internal_transport(readings: DateReadings) -> CheckOutcome:
        # the internal transport certificate of EXMBX1 is the hybrid one, its NotAfter read two ways
        evidence = replace(healthy(), certificates=(public("EXMBX1", not_after=None, not_after_readings=readings),),
                           transport_services=(TransportService(source=_src("transport"), server="EXMBX1",
                                                                internal_transport_certificate_thumbprint=T1),))
        [outcome] = run_checks(evidence, CheckContext(now=CATALOGUE_NOW), (CHECKS_BY_ID["HT-CONN-008"],))
        return outcome

    # 10/11/2026: 2026-11-10 or 2026-10-11, both before 2026-11-27 (the catalogue's now): expired, named both ways
    expired = internal_transport(DateReadings(text="10/11/2026 1:00:00 PM", day_first=datetime(2026, 11, 10, 13),
                                              month_first=datetime(2026, 10, 11, 13)))
    [finding] = expired.findings
    assert "expired on 2026-10-11 or 2026-11-10 (event 12015)" in finding.message
    # 3/4/2027 is ahead either way: not expired; 11/12/2026 (2026-12-11 or 2026-11-12) straddles: not claimed either
    for text, day_first, month_first in (("3/4/2027", datetime(2027, 4, 3), datetime(2027, 3, 4)),
                                         ("11/12/2026", datetime(2026, 12, 11), datetime(2026, 11, 12))):
        outcome = internal_transport(DateReadings(text=text, day_first=day_first, month_first=month_first))
        assert (outcome.status, outcome.findings) == (CheckStatus.PASSED, ()), text


def test_starttls_selection_passes_over_a_certificate_expired_under_both_readings() -> None:
    from hybridtls.checks.selection import selected

    both_past = DateReadings(text="10/11/2026", day_first=datetime(2026, 11, 10), month_first=datetime(2026, 10, 11))
    straddling = DateReadings(text="11/12/2026", day_first=datetime(2026, 12, 11), month_first=datetime(2026, 11, 12))
    older = public("EXMBX1", thumbprint="B" * 40, not_before=datetime(2025, 1, 1))
    newer = public("EXMBX1", not_before=datetime(2026, 1, 1), not_after=None, not_after_readings=both_past)
    assert selected([older, newer], CATALOGUE_NOW) is older  # expired either way: Exchange passes it over
    newer = replace(newer, not_after_readings=straddling)
    assert selected([older, newer], CATALOGUE_NOW) is newer  # not known to be expired: as with no date at all
