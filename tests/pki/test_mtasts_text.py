"""The MTA-STS and TLS-RPT texts read as RFC 8461 and RFC 8460 say a sender reads them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hybridtls.model import PolicyMode
from hybridtls.pki.mtasts import (
    MAX_AGE_LIMIT,
    match_mx,
    read_policy,
    read_policy_bytes,
    read_sts_record,
    read_tlsrpt_record,
    valid_mx_pattern,
)

NAME = "_mta-sts.contoso.com"
GOOD = "version: STSv1\r\nmode: enforce\r\nmx: mail.contoso.com\r\nmx: *.mail.protection.outlook.com\r\nmax_age: 604800\r\n"


def test_a_well_formed_record_gives_its_id() -> None:
    lookup = read_sts_record(NAME, ["v=spf1 -all", "v=STSv1; id=20260301T1200;"])
    assert lookup.usable and lookup.field("id") == "20260301T1200"
    assert lookup.records == ("v=spf1 -all", "v=STSv1; id=20260301T1200;")


@pytest.mark.parametrize(("records", "said"), [
    (["v=STSv1; id=a;", "v=STSv1; id=b;"], "2 records begin 'v=STSv1'"),
    (["v=STSv1;"], "no id= field"),
    (["v=STSv1; id=2026-03-01;"], "not 1 to 32 letters and digits"),
    (["v=STSv1; id=" + "a" * 33], "not 1 to 32 letters and digits"),
    (["v=STSv1; id=abc; id=def"], "appears more than once"),
    (["v=STSv1; id=abc; junk"], "is not key=value"),
    ([" v=STSv1; id=abc"], "does not begin 'v=STSv1;'"),
])
def test_a_record_a_sender_would_ignore_says_why(records: list[str], said: str) -> None:
    lookup = read_sts_record(NAME, records)
    assert not lookup.usable
    assert any(said in p for p in lookup.problems), lookup.problems


def test_unknown_fields_and_spacing_are_accepted() -> None:
    lookup = read_sts_record(NAME, ["v = STSv1 ;id=abc123 ; ext-name=value"])
    assert lookup.usable and lookup.field("id") == "abc123"


def test_no_record_is_no_problem() -> None:
    lookup = read_sts_record(NAME, ["v=spf1 -all"])
    assert lookup.record is None and lookup.problems == () and not lookup.usable


def test_a_policy_with_crlf_or_lf_reads_the_same() -> None:
    crlf, lf = read_policy(GOOD), read_policy(GOOD.replace("\r\n", "\n"))
    assert crlf.valid and lf.valid
    assert (crlf.mode, crlf.max_age, crlf.mx) == (lf.mode, lf.max_age, lf.mx) == (
        PolicyMode.ENFORCE, 604800, ("mail.contoso.com", "*.mail.protection.outlook.com"))


def test_unknown_keys_are_passed_over_and_duplicates_keep_the_first() -> None:
    policy = read_policy(GOOD + "mode: none\ncolour: blue\n")
    assert policy.valid and policy.mode is PolicyMode.ENFORCE
    assert any("mode appears again" in n and "line 2" in n for n in policy.notes)
    assert any("'colour' is not MTA-STS's" in n for n in policy.notes)


@pytest.mark.parametrize(("text", "said"), [
    (GOOD.replace("STSv1", "STSv2"), "version is 'STSv2'"),
    (GOOD.replace("enforce", "enforcing"), "mode is 'enforcing'"),
    (GOOD.replace("604800", "31557601"), "max_age '31557601'"),
    (GOOD.replace("604800", "-1"), "max_age '-1'"),
    (GOOD.replace("604800", "1w"), "max_age '1w'"),
    ("version: STSv1\nmode: testing\nmax_age: 86400\n", "no mx: line"),
    (GOOD.replace("mx: mail.contoso.com", "mx: mail.*.com"), "is not a host name"),
    (GOOD.replace("max_age: 604800\r\n", ""), "no max_age"),
])
def test_a_policy_a_sender_would_discard_says_why(text: str, said: str) -> None:
    policy = read_policy(text)
    assert not policy.valid
    assert any(said in p for p in policy.problems), policy.problems


def test_mode_none_needs_no_mx_and_max_age_bounds_are_inclusive() -> None:
    assert read_policy("version: STSv1\nmode: none\nmax_age: 0\n").valid
    assert read_policy(GOOD.replace("604800", str(MAX_AGE_LIMIT))).max_age == MAX_AGE_LIMIT


def test_a_body_that_is_not_utf8_is_unusable() -> None:
    policy = read_policy_bytes(b"version: STSv1\nmode: \xff\n")
    assert not policy.valid and "not UTF-8" in policy.problems[0]


def test_mx_patterns_match_one_leftmost_label() -> None:
    matches = match_mx(["mail.contoso.com", "contoso-com.mail.protection.outlook.com", "a.b.protection.outlook.com",
                        "MAIL.CONTOSO.COM", "other.contoso.com"],
                       ["mail.contoso.com", "*.mail.protection.outlook.com"])
    assert [m.pattern for m in matches] == ["mail.contoso.com", "*.mail.protection.outlook.com", None,
                                            "mail.contoso.com", None]
    assert not valid_mx_pattern("*.com") and not valid_mx_pattern("a*.contoso.com") and valid_mx_pattern("*.a.b")


def test_tlsrpt_record_and_its_addresses() -> None:
    lookup, rua = read_tlsrpt_record("_smtp._tls.contoso.com",
                                     ["v=TLSRPTv1; rua=mailto:tls@contoso.com,https://report.contoso.com/tls"])
    assert lookup.usable and rua == ("mailto:tls@contoso.com", "https://report.contoso.com/tls")
    bad, rua = read_tlsrpt_record("_smtp._tls.contoso.com", ["v=TLSRPTv1; rua=tls@contoso.com"])
    assert not bad.usable and "neither mailto" in bad.problems[0] and rua == ("tls@contoso.com",)
    none, _ = read_tlsrpt_record("_smtp._tls.contoso.com", ["v=TLSRPTv1;"])
    assert "no rua= field" in none.problems[0]


_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
_host = st.lists(_label, min_size=2, max_size=4).map(".".join)


@given(st.text(max_size=400))
def test_any_policy_text_reads_without_crashing(text: str) -> None:
    policy = read_policy(text)
    assert policy.valid == (not policy.problems)
    assert policy.valid <= (policy.version == "STSv1" and policy.mode is not None and policy.max_age is not None)


@given(st.lists(st.text(max_size=80), max_size=4))
def test_any_txt_records_read_without_crashing(records: list[str]) -> None:
    lookup = read_sts_record(NAME, records)
    assert lookup.usable <= (lookup.record is not None and lookup.record.startswith("v"))
    rpt, rua = read_tlsrpt_record("_smtp._tls.x.com", records)
    assert rpt.usable <= bool(rua)


@given(st.sampled_from(list(PolicyMode)), st.integers(0, MAX_AGE_LIMIT), st.lists(_host, min_size=1, max_size=4),
       st.sampled_from(["\n", "\r\n"]), st.permutations(range(4)))
def test_any_well_formed_policy_reads_back(mode: PolicyMode, age: int, hosts: list[str], end: str,
                                           order: list[int]) -> None:
    lines = ["version: STSv1", f"mode: {mode.value}", f"max_age: {age}", *(f"mx: {h}" for h in hosts)]
    fixed = [lines[i] for i in order] + lines[4:]  # the three keys and the first mx, in any order
    policy = read_policy(end.join(fixed) + end)
    assert policy.valid, policy.problems
    assert (policy.mode, policy.max_age, set(policy.mx)) == (mode, age, set(hosts))
    assert all(m.pattern == m.host for m in match_mx(hosts, policy.mx))


@given(_label, _host, _label)
def test_a_wildcard_covers_exactly_one_label(label: str, base: str, extra: str) -> None:
    [one, two] = match_mx([f"{label}.{base}", f"{extra}.{label}.{base}"], [f"*.{base}"])
    assert one.pattern == f"*.{base}" and two.pattern is None
