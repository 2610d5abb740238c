"""The plan and MTA-STS: under a policy senders apply, the new certificate must cover every MX host this
organisation answers itself; Exchange Online's MX hosts are not its to cover."""

from __future__ import annotations

from factory import public_like_pki
from ststools import GOOD_POLICY, sts_result

from hybridtls.model import EvidenceSet, ExchangeCertificate, ProbeOutcome, ProbeResult, ProbeStep, Severity, Source
from hybridtls.pki.facts import certificate_facts
from hybridtls.planning.build import mta_sts_risks


def _new(*names: str):  # type: ignore[no-untyped-def]
    pki = public_like_pki(leaf_dns=names)
    return certificate_facts(pki.leaf.cert, source=Source(path="new.pfx"), label="new")


# the current certificate as Get-ExchangeCertificate lists it: it covers mail.contoso.com, which ties that MX here
CURRENT = ExchangeCertificate(source=Source(path="certs.txt", line=1), thumbprint="AB" * 20, subject="CN=mail.contoso.com",
                              issuer="CN=Contoso Issuing CA", certificate_domains=("mail.contoso.com",),
                              services=frozenset({"SMTP"}), is_self_signed=False)


def test_an_enforced_policy_whose_own_mx_the_new_certificate_misses_is_an_error() -> None:
    evidence = EvidenceSet(mta_sts=(sts_result(),), certificates=(CURRENT,))  # MX: mail.contoso.com and Exchange Online's
    [risk] = mta_sts_risks(evidence, _new("autodiscover.contoso.com"))
    assert risk.severity is Severity.ERROR and "mail.contoso.com" in risk.title and "enforce" in risk.detail
    assert "outlook.com" not in risk.title  # Exchange Online's MX is not this certificate's to cover


def test_testing_mode_warns_and_a_covering_certificate_is_said_to_cover() -> None:
    testing = EvidenceSet(mta_sts=(sts_result(GOOD_POLICY.replace("enforce", "testing")),), certificates=(CURRENT,))
    [risk] = mta_sts_risks(testing, _new("autodiscover.contoso.com"))
    assert risk.severity is Severity.WARNING and "report failures" in risk.detail
    [fine] = mta_sts_risks(EvidenceSet(mta_sts=(sts_result(),), certificates=(CURRENT,)), _new("mail.contoso.com"))
    assert fine.severity is Severity.INFO and "covers every MX host of contoso.com" in fine.title
    [wildcard] = mta_sts_risks(EvidenceSet(mta_sts=(sts_result(),), certificates=(CURRENT,)), _new("*.contoso.com"))
    assert wildcard.severity is Severity.INFO


def test_no_policy_or_mode_none_asks_nothing_and_no_probe_is_said() -> None:
    none_mode = EvidenceSet(mta_sts=(sts_result(GOOD_POLICY.replace("enforce", "none")),))
    assert mta_sts_risks(none_mode, _new("other.contoso.com")) == []
    only_online = EvidenceSet(mta_sts=(sts_result(mx=("contoso-com.mail.protection.outlook.com",)),))
    assert mta_sts_risks(only_online, _new("other.contoso.com")) == []
    [unknown] = mta_sts_risks(EvidenceSet(), _new("mail.contoso.com"))
    assert unknown.severity is Severity.INFO and unknown.title == "MTA-STS not checked"


GATEWAY = "eu-smtp-inbound-1.mimecast.com"
POLICY_WITH_GATEWAY = GOOD_POLICY.replace("mx: mail.contoso.com", "mx: mail.contoso.com\nmx: *.mimecast.com")


def test_a_third_party_gateway_mx_is_named_not_judged() -> None:
    evidence = EvidenceSet(mta_sts=(sts_result(POLICY_WITH_GATEWAY, mx=(GATEWAY, "mail.contoso.com")),),
                           certificates=(CURRENT,))
    risks = mta_sts_risks(evidence, _new("mail.contoso.com"))
    assert [r.severity for r in risks] == [Severity.INFO, Severity.INFO]
    assert not [r for r in risks if GATEWAY in r.title and "not ours to judge" not in r.title]
    [foreign] = [r for r in risks if "not ours to judge" in r.title]
    assert GATEWAY in foreign.title and "mail.contoso.com" not in foreign.title


def test_a_saved_probe_that_served_the_current_certificate_ties_the_mx_here() -> None:
    served = _new(GATEWAY)  # the gateway name on this estate's own certificate: it is ours after all
    current = ExchangeCertificate(source=Source(path="certs.txt", line=1), thumbprint=served.thumbprint,
                                  subject=served.subject, issuer=served.issuer, services=frozenset({"SMTP"}),
                                  is_self_signed=False)
    probe = ProbeResult(host=GATEWAY, address="127.0.0.2", port=25, expected_name=GATEWAY, outcome=ProbeOutcome.OK,
                        stage=ProbeStep.QUIT, chain=(served,))
    mta_sts = (sts_result(POLICY_WITH_GATEWAY, mx=(GATEWAY,)),)
    [risk] = mta_sts_risks(EvidenceSet(mta_sts=mta_sts, certificates=(current,), probes=(probe,)),
                           _new("mail.contoso.com"))
    assert risk.severity is Severity.ERROR and GATEWAY in risk.title
    # without the probe nothing ties it here (the listing names no domains): named, not judged
    [risk] = mta_sts_risks(EvidenceSet(mta_sts=mta_sts, certificates=(current,)), _new("mail.contoso.com"))
    assert risk.severity is Severity.INFO and "not ours to judge" in risk.title
