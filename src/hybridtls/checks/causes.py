"""Which findings explain which: the one table the report's summary ranks root causes by.

``EXPLAINS[a]`` lists the checks whose findings a finding of check ``a`` explains: a symptom (mail Pending in the
trace, a queue in Retry, a TLS failure in a protocol log, an event) is listed under the cause that produces it, not
as a second root cause. The rules, applied by :func:`explains` and by ``hybridtls.report.summary``:

- a finding explains another when the other's check is in its row, and they are about the same server or one of
  them names no server (the message trace is Exchange Online's; it names none);
- explanation is transitive (a root in Registry explains the Pending trace that the certificate change explains);
- a finding of a check in ``ONLY_AS_ERROR`` explains only at ERROR severity (the enforce form of HT-STS-001);
- a finding that is context, not a fault as of the evidence's own date (``Finding.context``), explains nothing;
- the table has no cycles (tests/checks/test_causes.py), so every chain of explanations ends at a root cause.
"""

from __future__ import annotations

from hybridtls.model import Finding, Severity

# What mail flow shows when TLS to or from the on-premises servers fails, whatever the cause.
MAIL_FLOW = ("HT-TRACE-001", "HT-TRACE-002", "HT-ERR-001", "HT-QUEUE-001")
# What the servers log when they cannot use or trust a certificate.
TLS_FAILURES = ("HT-LOG-001", "HT-LOG-002", "HT-LOG-003", "HT-EVT-001", "HT-EVT-006")
# What a chain the server cannot build shows besides.
CHAIN_SYMPTOMS = ("HT-CERT-003", "HT-STORE-007")

_ROOT_NOT_THIRD_PARTY = (*MAIL_FLOW, *TLS_FAILURES, *CHAIN_SYMPTOMS)
_CERTIFICATE_UNUSABLE = (*MAIL_FLOW, *TLS_FAILURES)
_CONFIGURATION = (*MAIL_FLOW, "HT-LOG-001", "HT-LOG-002", "HT-EVT-001")

EXPLAINS: dict[str, tuple[str, ...]] = {
    # a root imported by hand into Trusted Root only (RootCAType Registry), or in no root store
    "HT-ROOT-001": _ROOT_NOT_THIRD_PARTY,
    "HT-ROOT-002": _ROOT_NOT_THIRD_PARTY,
    "HT-STORE-001": _ROOT_NOT_THIRD_PARTY,
    "HT-STORE-002": _ROOT_NOT_THIRD_PARTY,
    "HT-STORE-009": (*MAIL_FLOW, *TLS_FAILURES),
    # an expired or untrusted chain: 'certificate validation failed' in events, NDRs and queues
    "HT-CERT-001": (*_CERTIFICATE_UNUSABLE, *CHAIN_SYMPTOMS, "HT-CHAIN-003", "HT-EVT-002"),
    "HT-CHAIN-001": (*_CERTIFICATE_UNUSABLE, *CHAIN_SYMPTOMS),
    "HT-CHAIN-002": (*_CERTIFICATE_UNUSABLE, *CHAIN_SYMPTOMS),
    "HT-CHAIN-003": (*_CERTIFICATE_UNUSABLE, *CHAIN_SYMPTOMS),
    "HT-STORE-003": (*_CERTIFICATE_UNUSABLE, *CHAIN_SYMPTOMS),
    "HT-STORE-004": (*_CERTIFICATE_UNUSABLE, *CHAIN_SYMPTOMS),
    # a certificate not on the server, without its key, or not bound to SMTP
    "HT-CERT-004": _CERTIFICATE_UNUSABLE,
    "HT-CERT-005": _CERTIFICATE_UNUSABLE,
    "HT-CERT-007": _CERTIFICATE_UNUSABLE,
    # what the wire shows on an address explains the connector's failures
    "HT-WIRE-001": _CONFIGURATION,
    "HT-WIRE-002": _CONFIGURATION,
    "HT-WIRE-003": _CONFIGURATION,
    "HT-WIRE-004": (*_CONFIGURATION, "HT-EVT-006"),
    "HT-WIRE-005": _CONFIGURATION,
    "HT-WIRE-006": _CONFIGURATION,
    # connectors that name or expect the wrong certificate
    "HT-CONN-001": _CONFIGURATION,
    "HT-CONN-002": _CONFIGURATION,
    "HT-CONN-003": _CONFIGURATION,
    "HT-CONN-004": _CONFIGURATION,
    "HT-CONN-005": _CONFIGURATION,
    "HT-CONN-006": _CONFIGURATION,
    "HT-CONN-008": (*_CONFIGURATION, "HT-EVT-003"),
    # a delivery error the catalogue names is what holds the queue and defers the trace
    "HT-ERR-001": ("HT-QUEUE-001", "HT-TRACE-001"),
    # the mail that began pending with a certificate change: the change is the first suspect
    "HT-TRACE-002": ("HT-TRACE-001", "HT-ERR-001", "HT-QUEUE-001"),
    # a DANE sender that will not deliver (no TLSA match, dnssec-invalid), or an MX an enforced MTA-STS policy
    # leaves out: Exchange Online holds the mail, which the trace shows Pending and a queue holds
    "HT-DANE-001": ("HT-TRACE-001", "HT-QUEUE-001"),
    "HT-STS-001": ("HT-TRACE-001", "HT-QUEUE-001"),
}
# Checks whose findings explain only at ERROR: an MX missing from a policy in testing mode (a WARNING) still gets
# its mail, and a TLSA lookup that was not determined (an INFO) stops nothing.
ONLY_AS_ERROR = frozenset({"HT-DANE-001", "HT-STS-001"})


def _same_place(cause: Finding, effect: Finding) -> bool:
    if cause.server is None or effect.server is None:
        return True
    return cause.server.casefold() == effect.server.casefold()


def explains(cause: Finding, effect: Finding) -> bool:
    """Whether ``cause`` directly explains ``effect`` by the table and the rules above."""
    if cause is effect or cause.context or cause.fixed_at is not None:
        return False
    if cause.check_id in ONLY_AS_ERROR and cause.severity is not Severity.ERROR:
        return False
    return effect.check_id in EXPLAINS.get(cause.check_id, ()) and _same_place(cause, effect)


__all__ = ["EXPLAINS", "explains"]
