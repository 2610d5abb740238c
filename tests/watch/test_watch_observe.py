"""observe_round: a real probe Report (chains judged by the pipeline's store, every probe check run) into a Round."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timedelta

from factory import NOW, issue, name, rsa_key
from watch_factory import label, observed, pki, probe, probe_report, self_signed

from hybridtls.model import ProbeOutcome
from hybridtls.watch.observe import observe_round


def _sha(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def test_each_address_becomes_an_observation_with_its_own_judged_chain_and_findings() -> None:
    round_ = observed(probe("192.0.2.1"), probe("192.0.2.2", pki().leaf), probe("192.0.2.3", self_signed()),
                      probe("192.0.2.4", outcome=ProbeOutcome.REFUSED, detail="connection refused"), number=5)
    assert round_.number == 5 and round_.complete and round_.duration_seconds == 30
    whole, bare, own, refused = round_.observations
    leaf = pki().leaf
    assert whole.leaf is not None and bare.leaf is not None and own.leaf is not None
    assert whole.leaf.sha256 == _sha(leaf.der) and whole.leaf.thumbprint == hashlib.sha1(leaf.der).hexdigest().upper()
    assert whole.leaf.serial_number and whole.leaf.subject.startswith("CN=mail.contoso.com")
    assert whole.leaf.issuer.startswith("CN=Test TLS Issuing CA 2026")
    assert whole.leaf.names == ("mail.contoso.com", "autodiscover.contoso.com")
    assert whole.leaf.not_after.date() == leaf.cert.not_valid_after_utc.date() and whole.leaf.client_auth is True
    assert whole.chain_sha256 == (_sha(leaf.der), _sha(pki().intermediate.der))
    assert whole.chain_der == (leaf.der, pki().intermediate.der)
    # the same leaf on two addresses: each address's chain as it served it
    assert (whole.chain_end, bare.chain_end, own.chain_end, refused.chain_end) == (
        "trusted", "missing_issuer", "untrusted_root", None)
    assert whole.chain_expiry == min(whole.leaf.not_after, pki().intermediate.cert.not_valid_after_utc.replace(tzinfo=None))
    assert whole.name_covered is True and whole.expected_cert_matches is None  # no --expect-cert: not judged
    assert refused.leaf is None and refused.outcome == "refused" and refused.detail == "connection refused"
    assert refused.label == label("mail.contoso.com", "192.0.2.4") and not refused.connected
    assert [m.check_id for m in whole.findings] == []
    assert [m.check_id for m in bare.findings] == ["HT-CHAIN-001"]
    assert [m.check_id for m in own.findings] == ["HT-CHAIN-002"]
    assert [m.check_id for m in refused.findings] == ["HT-WIRE-001"]
    assert refused.findings[0].remediation.startswith("# Allow TCP 25")
    # about no single address: the name whose addresses differ
    assert [m.key for m in round_.findings] == ["HT-WIRE-006|name=mail.contoso.com:25"]


def test_names_and_the_expected_certificate_are_judged_per_address() -> None:
    leaf = observed(probe("192.0.2.1")).observations[0].leaf
    assert leaf is not None
    exact = f"<I>{leaf.issuer}<S>{leaf.subject}"
    probes = (probe("192.0.2.1"), probe("192.0.2.2", self_signed()),
              probe("192.0.2.3", expected_name="smtp.fabrikam.com"))
    first, second, third = observed(*probes, expect_cert=(exact,)).observations
    assert (first.expected_cert_matches, second.expected_cert_matches, third.expected_cert_matches) == (
        True, False, True)
    assert {m.check_id for m in second.findings} == {"HT-NAME-001", "HT-CHAIN-002"}
    assert (first.name_covered, third.name_covered) == (True, False)
    assert {m.check_id for m in third.findings} == {"HT-WIRE-005"}
    malformed = observed(*probes, expect_cert=("CN=mail.contoso.com",))  # names no certificate at all
    assert [o.expected_cert_matches for o in malformed.observations] == [False, False, False]
    assert "HT-NAME-001" in {m.check_id for m in malformed.findings}  # about the value, not an address


def test_a_probe_without_observed_at_takes_the_round_start_and_eku_is_read() -> None:
    server_only = issue(name("mail.contoso.com"), issuer=pki().intermediate, key=rsa_key(slot=7),
                        dns=("mail.contoso.com",), eku=(x509_server_auth(),))
    no_eku = issue(name("mail.contoso.com"), issuer=pki().intermediate, key=rsa_key(slot=8),
                   dns=("mail.contoso.com",), eku=None)
    report = probe_report(replace(probe("192.0.2.1", server_only, pki().intermediate), observed_at=None),
                          probe("192.0.2.2", no_eku, pki().intermediate))
    round_ = observe_round(report, number=2, started_at=NOW + timedelta(hours=1), finished_at=NOW + timedelta(hours=2),
                           complete=False)
    first, second = round_.observations
    assert first.observed_at == NOW + timedelta(hours=1) and second.observed_at == NOW
    assert first.leaf is not None and first.leaf.client_auth is False
    assert second.leaf is not None and second.leaf.client_auth is None
    assert not round_.complete


def x509_server_auth():  # type: ignore[no-untyped-def]
    from cryptography.x509.oid import ExtendedKeyUsageOID

    return ExtendedKeyUsageOID.SERVER_AUTH
