from __future__ import annotations

from pathlib import Path

import pytest
from conftest import format_list, judge
from test_connectors import inbound, write_estate

from hybridtls.model import CheckStatus
from hybridtls.pipeline import explain_error_text

QUEUE = {
    "RunspaceId": "2b1c7d59-54a4-4a76-8d0f-6d0e8c3a1b2c",
    "Identity": "EXMBX1\\7",
    "DeliveryType": "SmartHostConnectorDelivery",
    "NextHopDomain": "contoso.mail.onmicrosoft.com",
    "TlsDomain": "mail.protection.outlook.com",
    "NextHopConnector": "6f7e8d9c-1a2b-4c3d-9e8f-0a1b2c3d4e5f",
    "Status": "Retry",
    "MessageCount": "37",
    "LastError": "454 4.7.5 The certificate specified in TlsCertificateName of the SendConnector could not be found.",
    "RetryCount": "12",
    "LastRetryTime": "3/14/2030 10:05:11 AM",
    "NextRetryTime": "3/14/2030 10:15:11 AM",
}
DETAIL = {
    "Date": "3/14/2030 9:58:02 AM",
    "Event": "Defer",
    "Action": "",
    "Detail": ("Reason: [{LED=450 4.4.317 Cannot connect to remote server [Message=451 5.7.3 STARTTLS is required to "
               "send mail] [LastAttemptedServerName=mail.contoso.com] [LastAttemptedIP=203.0.113.25:25]};{MSG=};"
               "{FQDN=mail.contoso.com};{IP=203.0.113.25};{LRT=3/14/2030 9:57:01 AM}]"),
    "Data": "<root><MEP Name=\"Connector\" String=\"Outbound to 6f7e8d9c\"/></root>",
    "MessageTraceId": "d33e3c2f-5473-4b32-32ee-08d33855e852",
    "RecipientAddress": "onpremuser@contoso.com",
}


def test_queue_and_trace_errors_are_explained_with_corroboration(tmp_path: Path) -> None:
    estate = write_estate(tmp_path)
    (estate / "EXMBX1" / "Get-Queue.txt").write_text(format_list(QUEUE))
    (estate / "exchange-online" / "Get-MessageTraceDetail.txt").write_text(format_list(DETAIL))
    outcomes, findings = judge(estate)
    errors = {f.subject: f for f in findings if f.check_id == "HT-ERR-001"}
    assert set(errors) == {"the send connector's TlsCertificateName names no usable certificate",
                           "the on-premises server did not offer STARTTLS"}
    send = errors["the send connector's TlsCertificateName names no usable certificate"]
    assert "queue EXMBX1\\7 (next hop contoso.mail.onmicrosoft.com)" in send.message
    assert "ruled out: Outbound to Office 365 - 6f7e8d9c-1a2b-4c3d-9e8f-0a1b2c3d4e5f's certificate is on EXMBX1 with SMTP" in send.message
    assert send.evidence[0].source.line == 11  # the LastError line
    starttls = errors["the on-premises server did not offer STARTTLS"]
    assert "message trace detail (Defer)" in starttls.message


def test_tenant_attribution_is_confirmed_by_the_inbound_connector(tmp_path: Path) -> None:
    estate = write_estate(tmp_path, eo_in=inbound(TlsSenderCertificateName="hybrid.fabrikam.com"))
    detail = dict(DETAIL, Event="Fail", Detail="550 5.7.64 TenantAttribution; Relay Access Denied")
    (estate / "exchange-online" / "Get-MessageTraceDetail.txt").write_text(format_list(detail))
    _, findings = judge(estate)
    [finding] = [f for f in findings if f.check_id == "HT-ERR-001"]
    assert "confirmed: TlsSenderCertificateName hybrid.fabrikam.com does not cover" in finding.message


def test_delivered_details_and_empty_queues_are_not_errors(tmp_path: Path) -> None:
    estate = write_estate(tmp_path)
    (estate / "EXMBX1" / "Get-Queue.txt").write_text(format_list(dict(QUEUE, LastError="", Status="Ready")))
    (estate / "exchange-online" / "Get-MessageTraceDetail.txt").write_text(
        format_list(dict(DETAIL, Event="Deliver", Detail="The message was successfully delivered.")))
    outcomes, findings = judge(estate)
    assert outcomes["HT-ERR-001"].status is CheckStatus.NOT_APPLICABLE
    assert not [f for f in findings if f.check_id == "HT-ERR-001"]


def test_an_unknown_queue_error_is_a_warning_quoting_it(tmp_path: Path) -> None:
    estate = write_estate(tmp_path)
    unknown = "421 4.3.2 The system is going down for maintenance"
    (estate / "EXMBX1" / "Get-Queue.txt").write_text(format_list(dict(QUEUE, LastError=unknown)))
    outcomes, findings = judge(estate)
    [finding] = [f for f in findings if f.check_id == "HT-ERR-001"]
    assert (finding.severity.value, finding.key) == ("warning", f"HT-ERR-001|name={unknown.casefold()}")
    assert repr(unknown) in finding.message and "not in hybridtls's catalogue" in finding.message
    assert finding.evidence[0].source.line == 11


def test_a_nested_ndr_names_the_inner_cause_and_not_the_wrapper(tmp_path: Path) -> None:
    estate = write_estate(tmp_path)
    (estate / "ndr.txt").write_text(
        "Diagnostic information for administrators:\n\n> Remote server returned '550 5.4.300 Message expired -> "
        "450 4.4.101 Proxy session setup failed on Frontend with \u2018451 4.4.0 Primary target IP address responded "
        "with: \u201c451 5.7.3 STARTTLS is required to send mail.\u201d\u2019'\n", encoding="utf-8")
    _, findings = judge(estate)
    assert {(f.subject, f.severity.value) for f in findings if f.check_id == "HT-ERR-001"} == {
        ("the on-premises server did not offer STARTTLS", "error"),
        ("mail expired in the queue after the retries", "error")}


# --- one signature each, as an NDR quotes it (curly quotes, inside "Diagnostic information for administrators") ---

NEXT_HOP_AUTH = "the next Exchange server refused this server's authentication"
HANDSHAKE = "the TLS handshake failed"
SIGNATURES = {
    "454 4.7.0": ("451 4.4.0 Primary target IP address responded with: \u201c454 4.7.0 Temporary authentication "
                  "failure.\u201d Attempted failover to alternate host, but that did not succeed. Either there are no "
                  "alternate hosts, or delivery failed to all alternate hosts.", NEXT_HOP_AUTH),
    "4.4.317 SSL": ("450 4.4.317 Cannot connect to remote server [Message=The SSL connection could not be established, "
                    "see inner exception.] [LastAttemptedServerName=mail.contoso.com] [LastAttemptedIP=203.0.113.25:25]",
                    "Exchange Online could not complete TLS with the on-premises server"),
    "4.4.317 other": ("450 4.4.317 Cannot connect to remote server [Message=Unexpected EOF from the remote side] "
                      "[LastAttemptedServerName=mail.contoso.com]", "Exchange Online could not connect to the on-premises "
                                                                    "server"),
    "4.4.316": ("450 4.4.316 Connection refused [Message=Socket error code 10061] [LastAttemptedServerName="
                "mail.contoso.com] [LastAttemptedIP=203.0.113.25:25]", "the connection was refused"),
    "5.7.3": ("451 5.7.3 STARTTLS is required to send mail", "the on-premises server did not offer STARTTLS"),
    "4.7.320": ("450 4.7.320 Certificate validation failed", "Exchange Online could not validate the certificate"),
    "4.7.5": ("454 4.7.5 The certificate specified in TlsCertificateName of the SendConnector could not be found.",
              "the send connector's TlsCertificateName names no usable certificate"),
    "UnknownCredentials": ("451 4.4.0 TLS negotiation failed with error UnknownCredentials",
                           "the certificate is not usable for TLS on the sending server"),
    "NoCredentials": ("451 4.4.0 TLS negotiation failed with error NoCredentials",
                      "the sending server has no usable certificate"),
    "SocketError": ("451 4.4.0 TLS negotiation failed with error SocketError", HANDSHAKE),
    "InvalidToken": ("451 4.4.0 TLS negotiation failed with error InvalidToken", HANDSHAKE),
}


def ndr(inner: str) -> str:
    return ("Delivery has failed to these recipients or groups:\n\nonpremuser@contoso.com\nThe message couldn't be "
            "delivered.\n\nDiagnostic information for administrators:\n\nGenerating server: EXMBX1.contoso.com\n\n"
            f"onpremuser@contoso.com\nRemote Server returned \u2018{inner}\u2019\n\nOriginal message headers:\n\n"
            "Received: from EXMBX1.contoso.com (10.0.0.21) by EXCAS1.contoso.com (10.0.0.11)\n")


@pytest.mark.parametrize(("text", "meaning"), SIGNATURES.values(), ids=SIGNATURES.keys())
def test_each_signature_in_an_ndr(tmp_path: Path, text: str, meaning: str) -> None:
    (tmp_path / "ndr.txt").write_text(ndr(text), encoding="utf-8")
    _, findings = judge(tmp_path)
    assert {(f.subject, f.severity.value) for f in findings if f.check_id == "HT-ERR-001"} == {(meaning, "error")}
    assert [c.meaning for c in explain_error_text(text)] == [meaning]


def test_an_unknown_reply_in_an_ndr_is_a_warning_quoting_it(tmp_path: Path) -> None:
    unknown = "550 5.9.98 QUUX.Unheard; nobody has seen this"
    (tmp_path / "ndr.txt").write_text(ndr(unknown), encoding="utf-8")
    _, findings = judge(tmp_path)
    [finding] = [f for f in findings if f.check_id == "HT-ERR-001"]
    assert finding.severity.value == "warning" and "not in hybridtls's catalogue" in finding.message
    assert "QUUX.Unheard; nobody has seen this" in finding.message


def test_a_queue_454_4_7_0_is_confirmed_by_the_next_hops_event_1035(tmp_path: Path) -> None:
    estate = write_estate(tmp_path)
    (estate / "EXMBX1" / "Get-Queue.txt").write_text(format_list(dict(QUEUE, LastError=SIGNATURES["454 4.7.0"][0]
                                                                      .replace("\u201c", '"').replace("\u201d", '"'))))
    (estate / "EXCAS1" / "events.txt").write_text(
        "Log Name:      Application\nSource:        MSExchangeFrontEndTransport\nDate:          3/14/2030 10:04:58 AM\n"
        "Event ID:      1035\nTask Category: SmtpReceive\nLevel:         Warning\nComputer:      EXCAS1.contoso.com\n"
        "Description:\nInbound authentication failed with error UnexpectedExchangeAuthBlob for Receive connector "
        "Default Frontend EXCAS1. The authentication mechanism is ExchangeAuth. The source IP address of the client "
        "who tried to authenticate to Microsoft Exchange is [10.0.0.21].\n", encoding="utf-8")
    _, findings = judge(estate)
    [finding] = [f for f in findings if f.check_id == "HT-ERR-001"]
    assert (finding.subject, finding.severity.value) == (NEXT_HOP_AUTH, "error")
    assert ("confirmed: event 1035 on EXCAS1.contoso.com: ExchangeAuth from 10.0.0.21 failed with "
            "UnexpectedExchangeAuthBlob on Default Frontend EXCAS1") in finding.message
    assert "queue EXMBX1\\7" in finding.message and "w32tm /stripchart" in finding.remediation


def test_the_innermost_wrapper_speaks_when_nothing_inside_is_known() -> None:
    nested = ("450 4.4.101 Proxy session setup failed on Frontend with \u2018450 4.4.317 Cannot connect to remote "
              "server [Message=Unexpected EOF from the remote side]\u2019")
    assert [c.meaning for c in explain_error_text(nested)] == [SIGNATURES["4.4.317 other"][1]]
