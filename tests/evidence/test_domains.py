"""Accepted domains, DNSSEC status, outbound connector DANE/MTA-STS modes and TLSA records, in every form read."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES, format_list
from hypothesis import given
from hypothesis import strategies as st

from hybridtls.errors import EvidenceError
from hybridtls.evidence.dig import DigReader, read_dig
from hybridtls.evidence.interface import EvidenceFile
from hybridtls.evidence.loader import load_evidence
from hybridtls.evidence.registry import reader_for
from hybridtls.model import DnsAnswerStatus, DomainType, OrganizationSide, TlsaRecord, tenant_named

DOMAINS = FIXTURES / "domains"
SPKI_HASH = "0c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6"


@pytest.mark.parametrize("name", ["Get-AcceptedDomain-fl.txt", "Get-AcceptedDomain.csv", "Get-AcceptedDomain.json",
                                  "Get-AcceptedDomain.xml"])
def test_exchange_online_accepted_domains_in_every_form(name: str) -> None:
    evidence = load_evidence([str(DOMAINS / "online" / name)])
    domains = {d.domain_name: d for d in evidence.accepted_domains}
    assert {"contoso.com", "contoso.onmicrosoft.com"} <= set(domains)
    assert domains["contoso.com"].default is True and domains["contoso.onmicrosoft.com"].default is False
    assert {d.domain_type for d in domains.values()} == {DomainType.AUTHORITATIVE}  # JSON's 0 included
    assert {d.side for d in domains.values()} == {OrganizationSide.ONLINE}  # from InitialDomain/AuthenticationType
    assert domains["contoso.onmicrosoft.com"].tenant_domain == "contoso.onmicrosoft.com"
    if name != "Get-AcceptedDomain.csv":  # the CSV export left OrganizationId out
        assert {d.tenant for d in domains.values()} == {"contoso.onmicrosoft.com"}
    assert not evidence.problems and not evidence.skipped


def test_on_premises_table_says_no_side_but_names_the_tenant_by_its_coexistence_domain() -> None:
    evidence = load_evidence([str(DOMAINS / "onprem")])
    domains = {d.domain_name: d for d in evidence.accepted_domains}
    assert list(domains) == ["contoso.com", "contoso.mail.onmicrosoft.com", "fabrikam.com"]
    assert domains["contoso.mail.onmicrosoft.com"].domain_type is DomainType.INTERNAL_RELAY
    assert {d.side for d in domains.values()} == {None}  # a table of four columns cannot tell
    assert [d.tenant_domain for d in domains.values()] == [None, "contoso.onmicrosoft.com", None]
    assert domains["fabrikam.com"].source.line == 7


def test_dnssec_status_domain_from_the_command_and_expected_mx_from_a_deep_export() -> None:
    evidence = load_evidence([str(DOMAINS / "online" / "Get-DnssecStatusForVerifiedDomain.txt")])
    first, second = evidence.dnssec_statuses
    assert (first.domain_name, first.feature_status, first.expected_mx) == ("contoso.com", "Enabled", None)
    assert (second.domain_name, second.expected_mx) == ("fabrikam.com", "fabrikam-com.o-v1.mx.microsoft")
    assert second.warnings == ("The MX record of fabrikam.com does not point to fabrikam-com.o-v1.mx.microsoft",)
    [notice] = evidence.notices  # the type name where the MX host should be: said, with how to expand it
    assert notice.source.line == 4 and "ExpectedMxRecord" in notice.message and "Format-List" in (notice.hint or "")


def test_outbound_connector_modes_and_tenant() -> None:
    [connector] = load_evidence([str(DOMAINS / "online" / "Get-OutboundConnector.txt")]).online_connectors
    assert (connector.smtp_dane_mode, connector.mta_sts_mode) == ("Mandatory", "Opportunistic")
    assert connector.tenant == "contoso.onmicrosoft.com"


def test_set_outbound_connector_command_line_carries_the_modes(tmp_path: Path) -> None:
    path = tmp_path / "change.ps1"
    path.write_text("Set-OutboundConnector -Identity 'Outbound to Contoso' -SmtpDaneMode Mandatory -MtaStsMode None\n")
    [connector] = load_evidence([str(path)]).online_connectors
    assert (connector.smtp_dane_mode, connector.mta_sts_mode) == ("Mandatory", "None")


def test_dns_server_tlsa_by_name_and_number_relative_to_the_zone() -> None:
    records = load_evidence([str(DOMAINS / "dns" / "Get-DnsServerResourceRecord-TLSA.txt")]).tlsa_records
    assert [(r.usage, r.selector, r.matching_type, r.name, r.ttl) for r in records] == [
        (3, 1, 1, "_25._tcp.mail.contoso.com", 3600), (2, 1, 1, "_25._tcp.mail.contoso.com", 3600)]
    assert records[0].data_hex == SPKI_HASH


def test_dns_server_tlsa_with_bad_data_is_named_not_read(tmp_path: Path) -> None:
    path = tmp_path / "tlsa.txt"
    path.write_text(format_list(
        {"CertificateUsage": "DomainIssuedCertificate", "Selector": "1", "MatchingType": "1",
         "CertificateAssociationData": "0C72ZZ", "HostName": "_25._tcp.mail"},
        {"CertificateUsage": "Sideways", "Selector": "1", "MatchingType": "1",
         "CertificateAssociationData": SPKI_HASH, "HostName": "_25._tcp.mail"}))
    evidence = load_evidence([str(path)])
    assert evidence.tlsa_records == ()
    assert any("hexadecimal" in n.message for n in evidence.notices)
    assert any("'Sideways'" in n.message for n in evidence.notices)


def test_dig_full_short_and_multiline_answers() -> None:
    evidence = load_evidence([str(DOMAINS / "dns" / "dig-tlsa.txt")])
    assert [(r.name, r.usage, r.source.line, r.ttl) for r in evidence.tlsa_records] == [
        ("_25._tcp.mail.contoso.com", 3, 13, 3600), ("_25._tcp.mail.contoso.com", 2, 14, 3600),
        ("_25._tcp.mx2.contoso.com", 3, 21, None), ("_25._tcp.mx3.contoso.com", 3, 27, 3600)]
    assert {r.data_hex for r in evidence.tlsa_records if r.usage == 3} == {SPKI_HASH}  # 56-digit words joined
    assert [(a.name, a.authenticated, a.records) for a in evidence.dns_answers] == [
        ("_25._tcp.mail.contoso.com", True, 2),  # ad: validated
        ("_25._tcp.mx2.contoso.com", None, 1),  # +short prints no flags: unknown, never a pass
        ("_25._tcp.mx3.contoso.com", False, 1)]  # no ad
    assert not evidence.notices and not evidence.problems


def test_dig_without_a_tlsa_answer_and_prose_around() -> None:
    text = ("We ran this on the jump host:\n$ dig +dnssec TLSA _25._tcp.mail.contoso.com\n"
            ";; flags: qr rd ra ad; QUERY: 1, ANSWER: 0\n\n$ dig +short TLSA _25._tcp.mx.contoso.com\n"
            "3 1 1 " + SPKI_HASH.upper() + "\n")
    records = list(read_dig(text, "t.txt"))
    [record] = [r for r in records if isinstance(r, TlsaRecord)]
    assert record.name == "_25._tcp.mx.contoso.com" and record.source.line == 6
    assert [r.name for r in records if isinstance(r, DnsAnswerStatus)] == ["_25._tcp.mx.contoso.com"]
    assert any("shows no TLSA record" in getattr(r, "message", "") for r in records)


def test_a_file_with_no_dig_tlsa_is_not_taken() -> None:
    assert not DigReader().recognises(EvidenceFile("x.txt", b"Name : x\nDigest : dig\n"))


@given(st.lists(st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255),
                          st.binary(min_size=1, max_size=80),
                          st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True)), min_size=1, max_size=5),
       st.booleans())
def test_generated_dig_answers_read_back(rows: list[tuple[int, int, int, bytes, str]], ad: bool) -> None:
    lines = ["; <<>> DiG 9.18.28 <<>> TLSA _25._tcp.mail.contoso.com",
             f";; flags: qr rd ra{' ad' if ad else ''}; QUERY: 1, ANSWER: {len(rows)}", ";; ANSWER SECTION:"]
    for usage, selector, matching, data, host in rows:
        digits = data.hex().upper()
        words = " ".join(digits[i:i + 56] for i in range(0, len(digits), 56))  # as dig cuts long data
        lines.append(f"_25._tcp.{host}.contoso.com. 300\tIN\tTLSA\t{usage} {selector} {matching} {words}")
    read = list(read_dig("\n".join(lines) + "\n", "d.txt"))
    records = [r for r in read if isinstance(r, TlsaRecord)]
    assert [(r.usage, r.selector, r.matching_type, r.data_hex, r.name) for r in records] == [
        (u, s, m, d.hex(), f"_25._tcp.{h}.contoso.com") for u, s, m, d, h in rows]
    assert [a.authenticated for a in read if isinstance(a, DnsAnswerStatus)] == [ad]


@given(st.text(alphabet=st.sampled_from(list("dig TLSA_25._tcp.IN 3 1 1 ABCDEF0()+short;flags: ad\n$<>")) |
               st.characters(), max_size=400))
def test_arbitrary_text_raises_nothing_but_evidence_error(text: str) -> None:
    file = EvidenceFile("x.txt", ("$ dig TLSA _25._tcp.a.example\n" + text).encode("utf-8", "surrogatepass"))
    try:
        reader = reader_for(file)
        list(reader.read(file))
    except EvidenceError as exc:
        assert exc.path == "x.txt" and "\n" not in exc.message


@given(usage=st.sampled_from(["DomainIssuedCertificate", "TrustAnchorAssertion", "3", "2", "0"]),
       selector=st.sampled_from(["SubjectPublicKeyInfo", "FullCertificate", "1", "0"]),
       matching=st.sampled_from(["Sha256Hash", "Sha512Hash", "ExactMatch", "1", "2", "0"]),
       data=st.binary(min_size=1, max_size=64))
def test_generated_tlsa_properties_read_back(tmp_path_factory: pytest.TempPathFactory, usage: str, selector: str,
                                             matching: str, data: bytes) -> None:
    path = tmp_path_factory.mktemp("tlsa") / "tlsa.txt"
    path.write_text(format_list({"CertificateUsage": usage, "Selector": selector, "MatchingType": matching,
                                 "CertificateAssociationData": data.hex().upper(), "Name": "_25._tcp.mx.example.org"}))
    [record] = load_evidence([str(path)]).tlsa_records
    names = {"DomainIssuedCertificate": 3, "TrustAnchorAssertion": 2, "SubjectPublicKeyInfo": 1, "FullCertificate": 0,
             "Sha256Hash": 1, "Sha512Hash": 2, "ExactMatch": 0}
    assert (record.usage, record.selector, record.matching_type) == tuple(
        names.get(v, None) if v in names else int(v) for v in (usage, selector, matching))
    assert record.data_hex == data.hex() and record.name == "_25._tcp.mx.example.org"


@given(st.from_regex(r"[a-z0-9][a-z0-9-]{0,30}", fullmatch=True), st.booleans(), st.text(max_size=40))
def test_tenant_named_finds_the_initial_or_coexistence_domain(tenant: str, mail: bool, around: str) -> None:
    domain = f"{tenant}{'.mail' if mail else ''}.onmicrosoft.com"
    assert tenant_named(f"OU={domain},DC=x") == f"{tenant}.onmicrosoft.com"
    assert tenant_named(domain.upper()) == f"{tenant}.onmicrosoft.com"
    assert tenant_named("contoso.com") is None


_DOMAIN = st.from_regex(r"[a-z][a-z0-9-]{0,15}(\.[a-z][a-z0-9-]{0,15}){1,3}", fullmatch=True)


@given(st.lists(st.tuples(_DOMAIN, st.sampled_from(["Authoritative", "InternalRelay", "ExternalRelay", "0", "1", "2"]),
                          st.booleans()), min_size=1, max_size=6, unique_by=lambda row: row[0]),
       st.sampled_from(["list", "csv", "json"]))
def test_generated_accepted_domains_read_back(tmp_path_factory: pytest.TempPathFactory,
                                              rows: list[tuple[str, str, bool]], form: str) -> None:
    import csv
    import io
    import json

    records = [{"Name": d, "DomainName": d, "DomainType": t, "Default": str(default)} for d, t, default in rows]
    folder = tmp_path_factory.mktemp("domains")
    if form == "list":
        (folder / "d.txt").write_text(format_list(*records))
    elif form == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(records[0]), quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(records)
        (folder / "d.csv").write_text(buffer.getvalue())
    else:
        (folder / "d.json").write_text(json.dumps([{**r, "Default": r["Default"] == "True",
                                                    "DomainType": int(r["DomainType"]) if r["DomainType"].isdigit()
                                                    else r["DomainType"]} for r in records]))
    read = load_evidence([str(folder)]).accepted_domains
    kinds = ["Authoritative", "InternalRelay", "ExternalRelay"]
    assert [(d.domain_name, d.domain_type.value if d.domain_type else None, d.default) for d in read] == [
        (d, kinds[int(t)] if t.isdigit() else t, default) for d, t, default in rows]


@given(st.sampled_from(["Enabled", "Disabled", "Unknown"]), _DOMAIN)
def test_generated_dnssec_status_reads_back(tmp_path_factory: pytest.TempPathFactory, status: str, domain: str) -> None:
    path = tmp_path_factory.mktemp("dnssec") / "s.txt"
    mx = domain.replace(".", "-") + ".o-v1.mx.microsoft"
    path.write_text(f"PS C:\\> Get-DnssecStatusForVerifiedDomain -DomainName {domain}\n" + format_list(
        {"DnssecFeatureStatus": status, "ExpectedMxRecord": f"@{{Record={mx}}}", "Errors": "{}", "Warnings": "{}"}))
    [read] = load_evidence([str(path)]).dnssec_statuses
    assert (read.domain_name, read.feature_status, read.expected_mx) == (domain, status, mx)
