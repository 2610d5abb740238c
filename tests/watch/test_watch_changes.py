"""changes(): every change of issue 11 between two real rounds raises one alert naming the address and giving the
fix; the first round raises only the faults it finds; a round compared with itself raises nothing."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from factory import NOW
from hypothesis import given, settings
from hypothesis import strategies as st
from watch_factory import expiring, label, observed, pki, probe, renewed, self_signed

from hybridtls.model import ProbeOutcome, Severity
from hybridtls.powershell import check_pasteable
from hybridtls.watch.changes import changes, odd_nodes, subject_of, threshold
from hybridtls.watch.model import Alert, AlertKind, FindingMark, Observation, Round, ServedCertificate

A, B, C, D = (label("mail.contoso.com", f"192.0.2.{i}") for i in range(1, 5))
LATER = NOW + timedelta(minutes=5)


def kinds(alerts: list[Alert]) -> list[tuple[AlertKind, str]]:
    return [(a.kind, a.label) for a in alerts]


def only(alerts: list[Alert], kind: AlertKind) -> list[Alert]:
    return [a for a in alerts if a.kind is kind]


def test_the_first_round_raises_only_the_faults_it_finds() -> None:
    first = observed(probe("192.0.2.1"), probe("192.0.2.2"), probe("192.0.2.3", self_signed()),
                     probe("192.0.2.4", outcome=ProbeOutcome.REFUSED), expect_cert=("<I>CN=Other CA<S>CN=mail",))
    alerts = changes(None, first, now=NOW)
    assert {a.kind for a in alerts} == {AlertKind.ODD_NODE, AlertKind.EXPECTED_CERT_NOT_SERVED, AlertKind.FINDING_NEW}
    assert [a.label for a in only(alerts, AlertKind.ODD_NODE)] == [C]  # the third, not its two siblings
    assert [a.label for a in only(alerts, AlertKind.EXPECTED_CERT_NOT_SERVED)] == [A, B, C]
    # the findings the specific alerts tell of are not told twice; the refused address is a finding
    assert {(a.label, (a.finding_key or "").split("|")[0]) for a in only(alerts, AlertKind.FINDING_NEW)} == {
        (C, "HT-CHAIN-002"), (D, "HT-WIRE-001")}
    for alert in alerts:
        assert alert.round_number == 1 and alert.raised_at == NOW and alert.fix
        assert check_pasteable(alert.fix) == alert.fix


@pytest.mark.parametrize("expect", [(), ("<I>CN=Other CA<S>CN=mail",)])
def test_a_round_compared_with_itself_raises_nothing(expect: tuple[str, ...]) -> None:
    same = observed(probe("192.0.2.1"), probe("192.0.2.2", pki().leaf), probe("192.0.2.3", self_signed()),
                    probe("192.0.2.4", outcome=ProbeOutcome.TIMEOUT), probe("192.0.2.5", expiring(3)),
                    expect_cert=expect)
    assert changes(same, same, now=LATER) == []
    assert changes(same, replace(same, number=2), now=LATER) == []


def test_a_certificate_change_gives_before_and_after() -> None:
    before = observed(probe("192.0.2.1"))
    after = observed(probe("192.0.2.1", renewed(), pki().intermediate), number=2, at=LATER)
    (alert,) = changes(before, after, now=LATER)
    assert alert.kind is AlertKind.CERTIFICATE_CHANGED and alert.label == A
    assert (alert.host, alert.address, alert.port, alert.round_number) == ("mail.contoso.com", "192.0.2.1", 25, 2)
    old, new = dict(alert.before), dict(alert.after)
    assert old["thumbprint"] != new["thumbprint"] and new["thumbprint"] in alert.summary
    assert set(old) == {"thumbprint", "sha256", "subject", "issuer", "names", "not_before", "not_after"}
    assert new["not_after"] > old["not_after"] and new["issuer"] == old["issuer"]
    assert f"-Thumbprint {new['thumbprint']}" in alert.fix


@pytest.mark.parametrize("odd", [0, 1, 2])
def test_two_of_three_agree_the_third_is_odd_whichever_it_is(odd: int) -> None:
    chains = [(pki().leaf, pki().intermediate)] * 3
    chains[odd] = (renewed(), pki().intermediate)
    current = observed(*(probe(f"192.0.2.{i + 1}", *chain) for i, chain in enumerate(chains)))
    alerts = only(changes(None, current, now=NOW), AlertKind.ODD_NODE)
    assert [a.label for a in alerts] == [(A, B, C)[odd]]
    assert dict(alerts[0].after)["sha256"] == current.observations[odd].leaf.sha256  # type: ignore[union-attr]
    assert "2 of the 3 addresses" in alerts[0].summary and "Get-ExchangeCertificate" in alerts[0].fix
    # still odd in the next round: not said again; another address turning odd is
    assert only(changes(current, current, now=LATER), AlertKind.ODD_NODE) == []


def test_an_even_split_is_said_of_the_name_not_of_an_address() -> None:
    current = observed(probe("192.0.2.1"), probe("192.0.2.2"), probe("192.0.2.3", renewed(), pki().intermediate),
                       probe("192.0.2.4", renewed(), pki().intermediate))
    (alert,) = only(changes(None, current, now=NOW), AlertKind.ODD_NODE)
    assert alert.label == "mail.contoso.com:25" and alert.address == "" and "split evenly" in alert.summary
    assert all(a in alert.summary for a in (A, B, C, D))
    (split,) = odd_nodes(current)
    assert split.majority is None and split.odd == ()


def test_an_intermediate_no_longer_sent_and_a_chain_no_longer_trusted() -> None:
    before = observed(probe("192.0.2.1"), probe("192.0.2.2"))
    after = observed(probe("192.0.2.1", pki().leaf), probe("192.0.2.2", self_signed()), number=2, at=LATER)
    alerts = changes(before, after, now=LATER)
    # two addresses, two leaves: the name is split evenly as well
    assert kinds(alerts) == [(AlertKind.ODD_NODE, "mail.contoso.com:25"), (AlertKind.INTERMEDIATE_DROPPED, A),
                             (AlertKind.CERTIFICATE_CHANGED, B), (AlertKind.CHAIN_DEGRADED, B)]
    dropped = alerts[1]
    assert dropped.severity is Severity.ERROR and dict(dropped.after)["dropped"] == \
        before.observations[0].chain_sha256[1]
    assert "Cert:\\LocalMachine\\CA" in dropped.fix and dropped.finding_key and \
        dropped.finding_key.startswith("HT-CHAIN-001")
    degraded = only(alerts, AlertKind.CHAIN_DEGRADED)[0]
    assert dict(degraded.after) == {"chain_end": "untrusted_root"} and degraded.fix


def test_a_name_no_longer_covered() -> None:
    before = observed(probe("192.0.2.1", expected_name="mail.contoso.com"))
    after = observed(probe("192.0.2.1", expected_name="smtp.fabrikam.com"), number=2, at=LATER)
    (alert,) = changes(before, after, now=LATER)
    assert alert.kind is AlertKind.NAME_NOT_COVERED and alert.severity is Severity.ERROR
    assert "Set-OutboundConnector" in alert.fix and alert.finding_key and alert.finding_key.startswith("HT-WIRE-005")


@pytest.mark.parametrize(("versions", "severity", "words"), [
    ((("TLSv1.2", True), ("TLSv1.3", False)), Severity.WARNING, "no longer accepts TLSv1.3"),
    ((("TLSv1", True), ("TLSv1.2", True), ("TLSv1.3", True)), Severity.INFO, "now accepts TLSv1"),
    ((("TLSv1", True), ("TLSv1.2", False), ("TLSv1.3", False)), Severity.ERROR, "no longer accepts TLSv1.2, TLSv1.3"),
])
def test_the_tls_version_set_changed(versions: tuple[tuple[str, bool], ...], severity: Severity, words: str) -> None:
    before = observed(probe("192.0.2.1"))
    after = observed(probe("192.0.2.1", versions=versions), number=2, at=LATER)
    (alert,) = only(changes(before, after, now=LATER), AlertKind.TLS_VERSIONS_CHANGED)
    assert alert.severity is severity and words in alert.summary
    assert dict(alert.before) == {"accepted": "TLSv1.2, TLSv1.3"}


def test_starttls_gone_unreachable_and_recovered() -> None:
    other = label("smtp.contoso.com", "192.0.2.2")
    up = observed(probe("192.0.2.1"), probe("192.0.2.2", host="smtp.contoso.com"))
    down = observed(probe("192.0.2.1", outcome=ProbeOutcome.NO_STARTTLS, starttls=False),
                    probe("192.0.2.2", host="smtp.contoso.com", outcome=ProbeOutcome.TIMEOUT), number=2, at=LATER)
    alerts = changes(up, down, now=LATER)
    # the name smtp.contoso.com its certificate did not cover is not "cleared" by its no longer answering
    assert kinds(alerts) == [(AlertKind.STARTTLS_GONE, A), (AlertKind.UNREACHABLE, other)]
    assert alerts[0].finding_key and alerts[0].finding_key.startswith("HT-WIRE-002")
    assert "Set-ReceiveConnector" in alerts[0].fix and "Test-NetConnection" in alerts[1].fix
    back = changes(down, up, now=LATER)
    # back, and judged again: its certificate does not cover smtp.contoso.com (not known while it was down)
    assert kinds(back) == [(AlertKind.FINDING_CLEARED, A), (AlertKind.NAME_NOT_COVERED, other),
                           (AlertKind.RECOVERED, other)]
    assert back[2].severity is Severity.INFO


def test_a_finding_appears_and_clears_by_key() -> None:
    base = observed(probe("192.0.2.1"))
    mark = FindingMark(key="HT-TEST-1|address=x", check_id="HT-TEST-1", severity=Severity.WARNING, message="m",
                       remediation="Get-Thing")
    seen = replace(base.observations[0], findings=(mark,))
    with_mark = replace(base, number=2, observations=(seen,), findings=(replace(mark, key="HT-TEST-2|name=x:25"),))
    appeared = changes(base, with_mark, now=LATER)
    assert [(a.kind, a.label, a.finding_key, a.fix) for a in appeared] == [
        (AlertKind.FINDING_NEW, A, "HT-TEST-1|address=x", "Get-Thing"),
        (AlertKind.FINDING_NEW, "x:25", "HT-TEST-2|name=x:25", "Get-Thing")]
    assert appeared[1].port == 25 and appeared[1].host == "x"
    said = replace(with_mark, findings=(replace(mark, key="HT-TEST-2|name=x:25", message="x:25: the name fails"),))
    [named_once] = [a for a in changes(base, said, now=LATER) if a.label == "x:25"]
    assert named_once.summary == "x:25: HT-TEST-1: the name fails"  # the address is named once, not twice
    reworded = replace(with_mark, observations=(replace(seen, findings=(replace(mark, message="other"),)),))
    assert changes(with_mark, reworded, now=LATER) == []  # the same key: the same finding
    cleared = changes(with_mark, base, now=LATER)
    assert [(a.kind, a.severity) for a in cleared] == [(AlertKind.FINDING_CLEARED, Severity.INFO)] * 2
    assert subject_of("HT-TEST-3|certificate=ab") == ("ab", "ab", 0) and subject_of("HT-TEST-4")[0] == "HT-TEST-4"


def _expiry_alerts(days_left: list[float]) -> list[str]:
    """The thresholds said as a certificate expiring 40 days after NOW is watched with these days left."""
    leaf = probe("192.0.2.1", expiring(40), pki().intermediate)
    rounds = [observed(leaf, number=i + 1, at=NOW + timedelta(days=40 - left)) for i, left in enumerate(days_left)]
    said = []
    for previous, current in zip([None, *rounds], rounds):
        said += [dict(a.after)["threshold"] for a in only(changes(previous, current, now=current.started_at),
                                                           AlertKind.EXPIRY_THRESHOLD)]
    return said


def test_expiry_thresholds_once_each_and_an_expired_certificate_stays_said() -> None:
    assert _expiry_alerts([35, 29, 25, 13.5, 13, 6.9, 0.5, -1, -30]) == ["30", "14", "7", "1", "0"]
    assert _expiry_alerts([20, 5]) == ["30", "7"]  # a jump over 14 says 7 only
    assert _expiry_alerts([-3, -2]) == ["0"]  # first seen already expired: said once
    assert threshold(replace(observed(probe("192.0.2.1")).observations[0].leaf,  # type: ignore[type-var]
                             not_after=datetime(2026, 12, 1)), datetime(2026, 11, 30, 12)) == 1


def test_expected_certificate_alert_once_and_again_for_another_certificate() -> None:
    wanted = ("<I>CN=Other CA<S>CN=mail.contoso.com",)
    first = observed(probe("192.0.2.1"), expect_cert=wanted)
    assert kinds(only(changes(None, first, now=NOW), AlertKind.EXPECTED_CERT_NOT_SERVED)) == [
        (AlertKind.EXPECTED_CERT_NOT_SERVED, A)]
    again = observed(probe("192.0.2.1"), expect_cert=wanted, number=2, at=LATER)
    assert changes(first, again, now=LATER) == []
    other = observed(probe("192.0.2.1", renewed(), pki().intermediate), expect_cert=wanted, number=3, at=LATER)
    (alert,) = only(changes(again, other, now=LATER), AlertKind.EXPECTED_CERT_NOT_SERVED)
    assert "Set-SendConnector" in alert.fix and "-TlsCertificateName '<I>" in alert.fix


HOSTILE = "CN=evil\n'; Stop-Computer -Force; '\u202e"


def test_fixes_built_here_stay_safe_to_paste_with_hostile_values() -> None:
    seen = observed(probe("192.0.2.1")).observations[0]
    assert seen.leaf is not None
    leaf = replace(seen.leaf, sha256="f" * 64, subject=HOSTILE, issuer="CN=CA'; rm -r /", thumbprint="not-hex\n;")
    hostile = replace(seen, leaf=leaf, expected_cert_matches=False, findings=())
    first = Round(number=1, started_at=NOW, finished_at=NOW, observations=(seen,))
    second = Round(number=2, started_at=LATER, finished_at=LATER, observations=(hostile,))
    alerts = changes(first, second, now=LATER)
    assert {a.kind for a in alerts} >= {AlertKind.CERTIFICATE_CHANGED, AlertKind.EXPECTED_CERT_NOT_SERVED}
    fixes = {a.kind: a.fix for a in alerts}
    assert all(check_pasteable(fix) == fix for fix in fixes.values())
    assert "-Thumbprint <Thumbprint>" in fixes[AlertKind.CERTIFICATE_CHANGED]
    assert "-TlsCertificateName <TlsCertificateName>" in fixes[AlertKind.EXPECTED_CERT_NOT_SERVED]
    assert not any("Stop-Computer" in fix or "rm -r" in fix for fix in fixes.values())


# -- properties over generated rounds

_LEAVES = [ServedCertificate(sha256=f"{i:064x}", thumbprint=f"{i:040X}", serial_number=str(i), subject=f"CN=s{i}",
                             issuer="CN=CA", names=(f"s{i}",), not_before=NOW - timedelta(days=300),
                             not_after=NOW + timedelta(days=d), client_auth=True)
           for i, d in enumerate((400, 20, 3, -2))]
_MARKS = [FindingMark(key=f"HT-T-{i}|address=x", check_id=f"HT-T-{i}", severity=Severity.WARNING, message="m")
          for i in range(3)]


@st.composite
def _observation(draw: st.DrawFn, host: str, address: str) -> Observation:
    outcome = draw(st.sampled_from(["ok", "ok", "timeout", "no_starttls"]))
    leaf = draw(st.sampled_from(_LEAVES)) if outcome == "ok" else None
    return Observation(
        host=host, address=address, port=25, outcome=outcome, observed_at=NOW,
        starttls_offered=outcome == "ok" if outcome != "timeout" else None, leaf=leaf,
        chain_sha256=(leaf.sha256, *draw(st.sampled_from([(), ("ab" * 32,)]))) if leaf else (),
        chain_end=draw(st.sampled_from(["trusted", "missing_issuer"])) if leaf else None,
        versions_accepted=tuple((v, draw(st.booleans())) for v in ("TLSv1.2", "TLSv1.3")) if leaf else (),
        name_covered=draw(st.booleans()) if leaf else None, expected_cert_matches=draw(st.sampled_from([None, True, False])),
        findings=tuple(draw(st.lists(st.sampled_from(_MARKS), unique=True, max_size=2))))


@st.composite
def _round(draw: st.DrawFn, number: int = 1) -> Round:
    addresses = draw(st.integers(1, 4))
    observations = tuple(draw(_observation("mail.contoso.com", f"192.0.2.{i}")) for i in range(addresses))
    at = NOW + timedelta(days=draw(st.integers(0, 30)))
    return Round(number=number, started_at=at, finished_at=at, observations=observations,
                 findings=tuple(draw(st.lists(st.sampled_from(_MARKS), unique=True, max_size=1))))


@given(_round(), _round(number=2))
def test_any_round_compared_with_itself_raises_nothing_and_alerts_are_ordered(first: Round, second: Round) -> None:
    assert changes(first, first, now=NOW) == []
    alerts = changes(first, second, now=NOW)
    assert alerts == changes(first, second, now=NOW)
    assert [a.label for a in alerts] == sorted(a.label for a in alerts)
    assert all(check_pasteable(a.fix) == a.fix for a in alerts)


@settings(max_examples=50)
@given(st.lists(st.sampled_from(_LEAVES[:3]), min_size=2, max_size=5))
def test_which_address_is_odd_follows_the_certificate_not_the_position(leaves: list[ServedCertificate]) -> None:
    def odd_labels(order: list[ServedCertificate]) -> tuple[set[str], int]:
        seen = tuple(Observation(host="m", address=f"192.0.2.{i}", port=25, outcome="ok", observed_at=NOW, leaf=leaf,
                                 chain_sha256=(leaf.sha256,)) for i, leaf in enumerate(order))
        alerts = only(changes(None, Round(number=1, started_at=NOW, finished_at=NOW, observations=seen), now=NOW),
                      AlertKind.ODD_NODE)
        by_label = {s.label: s.leaf.sha256 for s in seen if s.leaf}
        return {by_label.get(a.label, "name") for a in alerts}, len(alerts)

    baseline = odd_labels(leaves)
    for order in itertools.islice(itertools.permutations(leaves), 6):
        assert odd_labels(list(order)) == baseline
