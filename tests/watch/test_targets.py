"""What to watch: arguments, a targets file, and the hybrid endpoints derived --from evidence, each with its origin."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import format_list
from hypothesis import given
from hypothesis import strategies as st

from hybridtls.errors import NothingUsable, UsageError
from hybridtls.watch.targets import gather, merged

ESTATE = Path(__file__).parents[1] / "fixtures" / "plan" / "estate"
TLS_NAME = ("<I>CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1, O=DigiCert Inc, C=US<S>CN=mail.contoso.com, "
            "O=Contoso Ltd, L=Redmond, S=Washington, C=US")


def _by_host(found):  # type: ignore[no-untyped-def]
    return {(t.target.host, t.target.port): t for t in found.targets}


def test_the_estate_yields_its_hybrid_endpoints_with_where_each_came_from() -> None:
    found = _by_host(gather([], evidence=[str(ESTATE)]))
    assert set(found) == {("mail.contoso.com", 25), ("excas1.contoso.local", 25)}
    mail = found[("mail.contoso.com", 25)]
    assert mail.target.source.startswith(f"{ESTATE}/onprem/Get-SendConnector.txt:8 (send connector")
    assert "Fqdn" in mail.target.source
    assert mail.expect_cert == (TLS_NAME,)
    assert mail.target.expected_name == "mail.contoso.com"  # the outbound connector's TlsDomain, merged in
    receive = found[("excas1.contoso.local", 25)]
    assert receive.target.source.startswith(f"{ESTATE}/onprem/Get-ReceiveConnector.txt:7 (receive connector")
    assert receive.expect_cert == (TLS_NAME,)


def _write(folder: Path, file: str, *records: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / file).write_text(format_list(*records), encoding="utf-8")


def test_online_connectors_name_where_exchange_online_connects_and_what_it_expects(tmp_path: Path) -> None:
    _write(tmp_path, "Get-OutboundConnector.txt", {
        "Name": "Outbound to contoso", "Enabled": "True", "ConnectorType": "OnPremises",
        "RecipientDomains": "{contoso.com}", "SmartHosts": "{smtp1.contoso.com, [192.0.2.10]}", "TlsDomain": "mail.contoso.com",
        "TlsSettings": "DomainValidation", "CloudServicesMailEnabled": "True"})
    _write(tmp_path, "Get-InboundConnector.txt", {
        "Name": "Inbound from contoso", "Enabled": "True", "ConnectorType": "OnPremises", "SenderDomains": "{smtp:*;1}",
        "TlsSenderCertificateName": "relay.contoso.com", "CloudServicesMailEnabled": "True"})
    _write(tmp_path, "Get-HybridConfiguration.txt", {
        "ReceivingTransportServers": "{EXCAS1}", "TlsCertificateName": TLS_NAME,
        "OnPremisesSmartHost": "hybrid.contoso.com"})
    found = _by_host(gather([], evidence=[str(tmp_path)]))
    assert set(found) == {("smtp1.contoso.com", 25), ("192.0.2.10", 25), ("relay.contoso.com", 25),
                          ("hybrid.contoso.com", 25)}
    assert found[("smtp1.contoso.com", 25)].target.expected_name == "mail.contoso.com"
    assert found[("192.0.2.10", 25)].target.expected_name == "mail.contoso.com"
    assert found[("relay.contoso.com", 25)].target.expected_name == "relay.contoso.com"
    assert all(t.expect_cert == (TLS_NAME,) for t in found.values())
    assert "Get-OutboundConnector.txt:" in found[("smtp1.contoso.com", 25)].target.source
    assert "SmartHosts" in found[("smtp1.contoso.com", 25)].target.source


def test_exchange_online_hosts_are_not_held_to_the_on_premises_certificate(tmp_path: Path) -> None:
    _write(tmp_path, "Get-SendConnector.txt", {
        "Name": "Outbound to Office 365", "Enabled": "True", "CloudServicesMailEnabled": "True",
        "AddressSpaces": "{smtp:contoso.mail.onmicrosoft.com;1}",
        "Fqdn": "mail.contoso.com",
        "SmartHosts": "{contoso-com.mail.protection.outlook.com, contoso-com.o-v1.mx.microsoft}",
        "TlsCertificateName": TLS_NAME})
    found = _by_host(gather([], evidence=[str(tmp_path)]))
    for online in ("contoso-com.mail.protection.outlook.com", "contoso-com.o-v1.mx.microsoft"):  # inbound DANE's too
        assert found[(online, 25)].expect_cert == () and found[(online, 25)].online
    assert found[("mail.contoso.com", 25)].expect_cert == (TLS_NAME,)


def test_a_hybrid_connector_without_a_host_is_named_in_a_notice(tmp_path: Path) -> None:
    _write(tmp_path, "Get-SendConnector.txt", {"Name": "Outbound to Office 365", "CloudServicesMailEnabled": "True",
                                               "AddressSpaces": "{smtp:*;1}", "SmartHosts": "{}",
                                               "Fqdn": "mail.contoso.com"})
    _write(tmp_path, "Get-OutboundConnector.txt", {"Name": "Outbound to contoso", "ConnectorType": "OnPremises",
                                                   "RecipientDomains": "{contoso.com}", "SmartHosts": "{}",
                                                   "TlsDomain": "*.contoso.com"})
    found = gather([], evidence=[str(tmp_path)])
    assert [t.target.host for t in found.targets] == ["mail.contoso.com"]
    [notice] = found.notices
    assert "Get-OutboundConnector.txt:" in notice and "'Outbound to contoso' names no host in SmartHosts" in notice


def test_evidence_without_a_hybrid_endpoint_says_what_was_read(tmp_path: Path) -> None:
    _write(tmp_path, "Get-SendConnector.txt", {"Name": "Internet", "Fqdn": "mail.contoso.com",
                                               "AddressSpaces": "{SMTP:*;1}", "SmartHosts": "{}"})
    with pytest.raises(UsageError, match=r"no hybrid endpoint to watch: read 1 send, 0 receive"):
        gather([], evidence=[str(tmp_path)])


def test_evidence_with_nothing_readable_is_nothing_usable(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("just a note\n", encoding="utf-8")
    with pytest.raises(NothingUsable, match="nothing usable"):
        gather([], evidence=[str(tmp_path)])


def test_a_targets_file_gives_each_target_its_line(tmp_path: Path) -> None:
    listed = tmp_path / "targets.txt"
    listed.write_text("# hybrid endpoints\nmail.contoso.com\n\nsmtp.contoso.com:587  # submission\n", encoding="utf-8")
    found = gather(["mx.contoso.com"], targets_file=str(listed), expect_cert=[TLS_NAME])
    assert [(t.target.host, t.target.port, t.target.source) for t in found.targets] == [
        ("mx.contoso.com", 25, "argument"), ("mail.contoso.com", 25, f"{listed}:2"),
        ("smtp.contoso.com", 587, f"{listed}:4")]
    assert all(t.expect_cert == (TLS_NAME,) for t in found.targets)


def test_a_bad_line_in_the_targets_file_is_named(tmp_path: Path) -> None:
    listed = tmp_path / "targets.txt"
    listed.write_text("mail.contoso.com\nnot a host!\n", encoding="utf-8")
    with pytest.raises(UsageError, match=rf"^{listed}:2: "):
        gather([], targets_file=str(listed))


def test_nothing_to_watch_is_a_usage_error_unless_mx_gives_more() -> None:
    with pytest.raises(UsageError, match="nothing to watch"):
        gather([])
    assert gather([], allow_none=True).targets == ()


def test_a_target_named_twice_is_watched_once_with_both_expectations(tmp_path: Path) -> None:
    _write(tmp_path, "Get-SendConnector.txt", {"Name": "Outbound to Office 365", "CloudServicesMailEnabled": "True",
                                               "AddressSpaces": "{smtp:*;1}", "SmartHosts": "{}",
                                               "Fqdn": "mail.contoso.com", "TlsCertificateName": TLS_NAME})
    found = gather(["mail.contoso.com"], evidence=[str(tmp_path)], expect_cert=["<I>CN=Other<S>CN=mail"])
    [only] = found.targets
    assert only.target.source == "argument" and only.expect_cert == ("<I>CN=Other<S>CN=mail", TLS_NAME)


@given(st.lists(st.tuples(st.sampled_from(["a.test", "b.test", "c.test"]), st.sampled_from([25, 587])), max_size=12))
def test_merging_keeps_each_host_and_port_once_in_first_seen_order(pairs: list[tuple[str, int]]) -> None:
    from hybridtls.smtp.targets import Target
    from hybridtls.watch.targets import WatchTarget

    items = [WatchTarget(target=Target(host=h, port=p, source=str(i))) for i, (h, p) in enumerate(pairs)]
    kept = merged(items)
    assert [(t.target.host, t.target.port) for t in kept] == list(dict.fromkeys(pairs))
    assert all(pairs.index((t.target.host, t.target.port)) == int(t.target.source) for t in kept)


@given(st.binary(max_size=400))
def test_any_targets_file_is_read_or_refused_in_one_line(data: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        listed = Path(folder) / "targets.txt"
        listed.write_bytes(data)
        try:
            found = gather([], targets_file=str(listed), allow_none=True)
        except UsageError as exc:
            assert "\n" not in exc.message and str(listed) in exc.message
        else:
            assert all(t.target.source.startswith(f"{listed}:") for t in found.targets)
