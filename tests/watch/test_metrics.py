"""/metrics: blackbox_exporter's names with its label formats, hybridtls' own series, values that stay when a
certificate is expired or untrusted, and hostile label values that parse back exactly."""

from __future__ import annotations

import urllib.request
from datetime import timedelta

from cryptography import x509
from cryptography.x509.oid import NameOID
from factory import issue, name, rsa_key
from hypothesis import given, settings
from hypothesis import strategies as st
from metrics_rounds import STARTED, epoch, estate, observation
from prometheus_client.parser import text_string_to_metric_families

from hybridtls.pki.der import DerError
from hybridtls.pki.names import render_name_go
from hybridtls.watch.metrics import chain_info, exposition, start_metrics_server, tls_version_label
from hybridtls.watch.model import Round

Samples = dict[str, list[tuple[dict[str, str], float]]]


def samples(text: str) -> Samples:
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return found


def by_address(found: Samples, metric: str) -> dict[str, float]:
    return {labels["address"]: value for labels, value in found.get(metric, [])}


def test_blackbox_names_and_values_per_address() -> None:
    round_, changed = estate()
    found = samples(exposition(round_, changed))
    assert by_address(found, "probe_success") == {"127.0.0.1": 1, "127.0.0.2": 1, "127.0.0.3": 0}
    assert by_address(found, "probe_duration_seconds")["127.0.0.1"] == 0.42
    good, bad, _ = round_.observations
    assert good.leaf and bad.leaf and good.chain_expiry
    expiry = by_address(found, "probe_ssl_earliest_cert_expiry")
    # the expired, untrusted node keeps its expiry (blackbox_exporter's would vanish); the refused one has none
    assert expiry == {"127.0.0.1": epoch(good.chain_expiry), "127.0.0.2": epoch(bad.leaf.not_after)}
    assert by_address(found, "probe_ssl_last_chain_expiry_timestamp_seconds") == expiry
    [(labels, value)] = [s for s in found["probe_tls_version_info"] if s[0]["address"] == "127.0.0.1"]
    assert labels["version"] == "TLS 1.3" and value == 1
    assert {s[0]["instance"] for s in found["probe_success"]} == {o.label for o in round_.observations}


def _go_hex(serial: str) -> str:
    """The serial as blackbox_exporter writes it: %x of the big-endian bytes, so always whole bytes ("06...", never
    "6..."), whatever the hex digits Windows shows."""
    value = int(serial, 16)
    return value.to_bytes((value.bit_length() + 7) // 8, "big").hex()


def test_chain_info_labels_as_blackbox_renders_them() -> None:
    round_, changed = estate()
    info = {labels["address"]: labels for labels, value in samples(exposition(round_, changed))
            ["probe_ssl_last_chain_info"] if value == 1}
    good = round_.observations[0].leaf
    assert good is not None
    assert info["127.0.0.1"] == {
        "instance": "mail.contoso.com[127.0.0.1]:25", "address": "127.0.0.1", "host": "mail.contoso.com",
        "fingerprint_sha256": good.sha256, "subject": "CN=mail.contoso.com,O=Contoso Ltd,C=US",
        "issuer": "CN=Test TLS Issuing CA 2026,O=Test Trust Services,C=US",
        "subjectalternative": "mail.contoso.com,autodiscover.contoso.com", "serialnumber": _go_hex(good.serial_number)}
    assert "127.0.0.2" in info and "127.0.0.3" not in info


def test_hybridtls_series() -> None:
    round_, changed = estate()
    found = samples(exposition(round_, changed))
    good, bad, _ = round_.observations
    assert by_address(found, "hybridtls_chain_trusted") == {"127.0.0.1": 1, "127.0.0.2": 0}
    assert by_address(found, "hybridtls_name_covered") == {"127.0.0.1": 1, "127.0.0.2": 1}
    assert "hybridtls_expected_cert_match" not in found  # nothing expected: absent, not a silent 1
    assert bad.leaf is not None
    assert by_address(found, "hybridtls_cert_not_before_timestamp_seconds")["127.0.0.2"] == epoch(bad.leaf.not_before)
    accepted = {(s[0]["address"], s[0]["version"]): s[1] for s in found["hybridtls_tls_version_accepted"]}
    assert accepted == {("127.0.0.1", "TLS 1.2"): 1, ("127.0.0.1", "TLS 1.3"): 1, ("127.0.0.2", "TLS 1.0"): 0,
                        ("127.0.0.2", "TLS 1.2"): 1}  # TLS 1.3 on .2 was not tested: absent
    findings = {(s[0]["address"], s[0]["severity"], s[0]["check_id"]): s[1] for s in found["hybridtls_findings"]}
    assert findings == {("127.0.0.2", "error", "HT-WIRE-001"): 2, ("127.0.0.2", "warning", "HT-CERT-001"): 1,
                        ("", "warning", "HT-WATCH-ODD"): 1}
    assert by_address(found, "hybridtls_cert_last_change_timestamp_seconds") == {
        "127.0.0.1": epoch(changed[good.label]), "127.0.0.2": epoch(changed[bad.label])}
    assert found["hybridtls_round_number"][0][1] == 7 and found["hybridtls_round_duration_seconds"][0][1] == 2.5
    assert found["hybridtls_round_complete"][0][1] == 1


def test_expected_certificate_match_is_shown_either_way() -> None:
    leaf = issue(name("mail.contoso.com"), dns=("mail.contoso.com",))
    round_ = Round(number=1, started_at=STARTED, finished_at=STARTED, observations=(
        observation("a", "127.0.0.1", leaf, expected=True), observation("a", "127.0.0.2", leaf, expected=False,
                                                                        name_covered=False)))
    found = samples(exposition(round_, {}))
    assert by_address(found, "hybridtls_expected_cert_match") == {"127.0.0.1": 1, "127.0.0.2": 0}
    assert by_address(found, "hybridtls_name_covered") == {"127.0.0.1": 1, "127.0.0.2": 0}


def test_an_address_observed_twice_is_one_set_of_series() -> None:
    round_, changed = estate()
    twice = Round(number=1, started_at=STARTED, finished_at=STARTED,
                  observations=(*round_.observations, *round_.observations))
    text = exposition(twice, changed)
    assert by_address(samples(text), "probe_success") == {"127.0.0.1": 1, "127.0.0.2": 1, "127.0.0.3": 0}
    assert sum(line.startswith("probe_success{") for line in text.splitlines()) == 3


def _name(*pairs: tuple[x509.ObjectIdentifier, str]) -> bytes:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in pairs]).public_bytes()


def test_names_render_as_go_renders_them() -> None:
    # Go's order, not the encoded one; several OUs as one multi-valued RDN; the last CN only; escapes
    assert render_name_go(_name((NameOID.COMMON_NAME, "mail"), (NameOID.ORGANIZATION_NAME, "Contoso"),
                                (NameOID.COUNTRY_NAME, "US"))) == "CN=mail,O=Contoso,C=US"
    assert render_name_go(_name((NameOID.COUNTRY_NAME, "US"), (NameOID.ORGANIZATIONAL_UNIT_NAME, "IT"),
                                (NameOID.ORGANIZATIONAL_UNIT_NAME, "Mail"), (NameOID.COMMON_NAME, "old"),
                                (NameOID.COMMON_NAME, "new"))) == "CN=new,OU=IT+OU=Mail,C=US"
    assert render_name_go(_name((NameOID.ORGANIZATION_NAME, 'Contoso, "Ltd" <x>;+\\'),
                                (NameOID.COMMON_NAME, " #a b "))) == 'CN=\\ #a b\\ ,O=Contoso\\, \\"Ltd\\" \\<x\\>\\;\\+\\\\'
    assert render_name_go(_name((NameOID.COMMON_NAME, "#x#"))) == "CN=\\#x#"
    # attributes Go has no field for come last, as the hex of their value re-encoded (UTF8String here: '@')
    assert render_name_go(_name((NameOID.EMAIL_ADDRESS, "a@b.c"), (NameOID.COMMON_NAME, "m"))) == \
        "CN=m,1.2.840.113549.1.9.1=#0c056140622e63"
    assert render_name_go(_name((NameOID.DOMAIN_COMPONENT, "com"), (NameOID.STATE_OR_PROVINCE_NAME, "WA"),
                                (NameOID.LOCALITY_NAME, "Redmond"))) == \
        "L=Redmond,ST=WA,0.9.2342.19200300.100.1.25=#1303636f6d"


def test_serial_numbers_keep_whole_octets_without_leading_zero_octets() -> None:
    low = issue(name("low"), serial=0x0BFFBC511F1907D02AF719AFCD64FB25)
    high = issue(name("high"), serial=0x8A0102)  # DER adds a 00 octet before a high bit: Go's Bytes() does not
    leaf_low = observation("h", "127.0.0.1", low).leaf
    leaf_high = observation("h", "127.0.0.1", high).leaf
    assert leaf_low and leaf_high
    assert chain_info(leaf_low, low.der).serialnumber == "0bffbc511f1907d02af719afcd64fb25"
    assert chain_info(leaf_high, high.der).serialnumber == "8a0102"
    assert chain_info(leaf_high).serialnumber == "8a0102"  # from the recorded serial, the same


def test_without_the_der_the_recorded_strings_are_used() -> None:
    leaf = issue(name("mail.contoso.com", "Contoso Ltd"), dns=("mail.contoso.com", "smtp.contoso.com"), serial=0x00AB)
    seen = observation("h", "127.0.0.1", leaf).leaf
    assert seen is not None
    from dataclasses import replace

    info = chain_info(replace(seen, subject="CN=mail.contoso.com, O=Contoso Ltd"))
    assert (info.subject, info.subjectalternative, info.serialnumber) == \
        ("CN=mail.contoso.com, O=Contoso Ltd", "mail.contoso.com,smtp.contoso.com", "ab")


def test_tls_version_labels() -> None:
    assert [tls_version_label(v) for v in ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", "SSLv3")] == \
        ["TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3", "unknown"]


HOSTILE = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=16)  # X.509 caps a CN at 64 UTF-8 bytes


@settings(max_examples=40, deadline=None)
@given(subject=HOSTILE, organisation=HOSTILE)
def test_hostile_subjects_parse_back_exactly(subject: str, organisation: str) -> None:
    leaf = issue(name(subject, organisation), key=rsa_key(slot=3), dns=("mail.contoso.com",),
                 not_after=STARTED + timedelta(days=9))
    round_ = Round(number=1, started_at=STARTED, finished_at=STARTED, observations=(
        observation(f'mx"{subject}', "127.0.0.1", leaf),))
    text = exposition(round_, {})
    [(labels, _)] = samples(text)["probe_ssl_last_chain_info"]
    seen = round_.observations[0]
    assert seen.leaf is not None
    assert labels["subject"] == chain_info(seen.leaf, leaf.der).subject == render_name_go(leaf.cert.subject.public_bytes())
    assert labels["host"] == f'mx"{subject}' and labels["instance"] == seen.label
    assert len([line for line in text.splitlines() if line.startswith("probe_ssl_last_chain_info{")]) == 1


DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, whatever the environment


def test_the_server_serves_the_latest_round_until_closed() -> None:
    round_, changed = estate()
    with start_metrics_server("127.0.0.1", 0) as server:
        url = f"http://127.0.0.1:{server.port}/metrics"
        with DIRECT.open(url, timeout=10) as response:
            assert "probe_success" not in samples(response.read().decode())  # no round yet: nothing claimed
        server.update(round_, changed)
        with DIRECT.open(url, timeout=10) as response:
            assert by_address(samples(response.read().decode()), "probe_success")["127.0.0.3"] == 0
        later = Round(number=8, started_at=STARTED, finished_at=STARTED, observations=round_.observations[:1])
        server.update(later, {})
        with DIRECT.open(url, timeout=10) as response:
            found = samples(response.read().decode())
        assert found["hybridtls_round_number"][0][1] == 8 and set(by_address(found, "probe_success")) == {"127.0.0.1"}


@given(st.binary(max_size=200))
def test_arbitrary_bytes_as_a_name_raise_only_der_error(data: bytes) -> None:
    try:
        rendered = render_name_go(data)
    except DerError:
        return
    assert isinstance(rendered, str)


@given(st.lists(st.tuples(st.sampled_from([NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME, NameOID.LOCALITY_NAME,
                                           NameOID.ORGANIZATIONAL_UNIT_NAME, NameOID.DOMAIN_COMPONENT]),
                          HOSTILE.filter(str.isascii)), min_size=1, max_size=6))
def test_every_value_of_a_name_is_in_its_go_rendering(pairs: list[tuple[x509.ObjectIdentifier, str]]) -> None:
    rendered = render_name_go(_name(*pairs))
    last_cn = [v for oid, v in pairs if oid == NameOID.COMMON_NAME][-1:]
    for oid, value in pairs:
        if oid == NameOID.COMMON_NAME and [value] != last_cn:
            continue  # Go keeps the last CN only
        if oid == NameOID.DOMAIN_COMPONENT:  # no Go field: the hex of the value re-encoded
            assert value.encode().hex() in rendered
        else:
            assert value.replace("\\", "") in rendered.replace("\\", "")
