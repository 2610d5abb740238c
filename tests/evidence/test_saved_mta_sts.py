"""A saved probe --mx report's MTA-STS lookups read back: anything malformed is one EvidenceError naming the
lookup and the key, never another exception."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hybridtls.errors import EvidenceError
from hybridtls.evidence.saved_probes import read_saved_mta_sts

ITEM: dict[str, Any] = {
    "domain": "contoso.com", "sts_record": {"records": ["v=STSv1; id=1"], "error": ""},
    "policy_url": "https://mta-sts.contoso.com/.well-known/mta-sts.txt", "policy_address": "192.0.2.1",
    "fetch": "ok", "fetch_detail": "", "http_status": 200, "content_type": "text/plain",
    "policy": {"text": "version: STSv1\nmode: enforce\nmx: mail.contoso.com\nmax_age: 86400\n"},
    "host_chain": [], "mx_hosts": ["mail.contoso.com", "mx2.contoso.com"],
    "tlsrpt_record": {"records": [], "error": ""}, "observed_at": "2026-11-27T12:00:00+00:00",
}


def document(*items: Any, version: int = 4) -> dict[str, Any]:
    return {"tool": {"name": "hybridtls"}, "schema_version": version, "records": {"mta_sts": list(items)}}


def test_a_lookup_is_read_and_its_verdicts_worked_out_again() -> None:
    [result] = read_saved_mta_sts(document(ITEM), "probe.json")
    assert result.policy_id == "1" and result.policy is not None and result.policy.valid
    assert [(m.host, m.pattern) for m in result.mx_matches] == [("mail.contoso.com", "mail.contoso.com"),
                                                                ("mx2.contoso.com", None)]
    assert result.tlsrpt_record is not None and result.tlsrpt_record.record is None


def test_older_reports_have_none() -> None:
    assert read_saved_mta_sts(document(ITEM, version=3), "probe.json") == []
    assert read_saved_mta_sts({"schema_version": 4, "records": {}}, "probe.json") == []


@pytest.mark.parametrize(("key", "value", "said"), [
    ("fetch", "fetched", "fetch: not a policy fetch outcome"),
    ("http_status", 99999, "http_status: expected a whole number from 100 to 999"),
    ("sts_record", [], "sts_record: expected an object"),
    ("host_chain", [{"der_base64": "AAAA"}], "host_chain[0].der_base64: not a certificate"),
    ("domain", None, "domain: expected text"),
])
def test_a_malformed_lookup_names_the_key(key: str, value: Any, said: str) -> None:
    with pytest.raises(EvidenceError) as caught:
        read_saved_mta_sts(document({**ITEM, key: value}), "probe.json")
    assert "MTA-STS lookup 1" in caught.value.message and said in caught.value.message


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                     max_leaves=10)


@given(st.sampled_from(sorted(ITEM)), _json)
def test_any_value_in_any_key_reads_or_is_an_evidence_error(key: str, value: Any) -> None:
    try:
        read_saved_mta_sts(document({**ITEM, key: value}), "probe.json")
    except EvidenceError as exc:
        assert exc.path == "probe.json"


@given(_json)
def test_any_list_of_lookups_reads_or_is_an_evidence_error(items: Any) -> None:
    try:
        read_saved_mta_sts({"schema_version": 4, "records": {"mta_sts": items}}, "probe.json")
    except EvidenceError:
        pass
