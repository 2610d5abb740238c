"""On-premises queues that hold mail: a queue in Retry or Suspended is reported whatever its LastError says (or if
it says nothing), so that mail held on-premises is never a PASS. Why it is held is HT-ERR-001's to explain, when the
catalogue knows the error."""

from __future__ import annotations

from collections.abc import Iterator

from hybridtls import references as refs
from hybridtls.checks.base import Check, CheckContext, Command, Family, Need, needs
from hybridtls.checks.errors import signatures_for
from hybridtls.model import Citation, EvidenceSet, Finding, FindingSubject, MailQueue, Severity
from hybridtls.powershell import Script

_EXCHANGE_ONLINE_HOP = ".mail.onmicrosoft.com"

QUEUES = Need(what="Get-Queue output (Status, MessageCount, LastError)",
              reason="no Get-Queue output in the evidence: save Get-Queue | Format-List on each server",
              present=lambda e, c: bool(e.queues))


def _queues(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    for queue in (q for q in evidence.queues if q.held):
        state = "Suspended" if (queue.status or "").casefold() == "suspended" else "Retry"
        name = queue.identity or "?"
        where = f"queue {name} (next hop {queue.next_hop_domain or '?'})"
        count = f"{queue.message_count:,} message(s)" if queue.message_count is not None else "messages"
        parts = [f"{where} is in {state}, holding {count}."]
        error = queue.last_error
        if not error:
            parts.append("It gives no LastError: the queue does not say why (Get-Message on it may).")
        elif signatures_for(error):
            parts.append(f"Its LastError is one hybridtls knows (see HT-ERR-001): {error[:300]!r}.")
        else:
            parts.append(f"Its LastError is not in hybridtls's catalogue: {error[:300]!r}.")
        if (queue.next_hop_domain or "").casefold().endswith(_EXCHANGE_ONLINE_HOP):
            parts.append("The next hop is Exchange Online: this is hybrid mail from on-premises to Office 365, "
                         "sent over the send connector that requires TLS.")
        if state == "Suspended":
            parts.append("A suspended queue is not retried until it is resumed.")
        yield HELD_QUEUE.finding(
            subject=where, server=queue.server,
            about=FindingSubject(server=queue.server, name=f"queue {name}"),
            message=" ".join(parts),
            evidence=[Citation(source=queue.source, text=f"{where}: {state}, {count}"
                               + (f", LastError {error[:200]}" if error else ", no LastError"))],
            remediation=_fix(queue, state), command=_send_on(Script(), queue, state),
        )


def _fix(queue: MailQueue, state: str) -> str:
    script = Script()
    identity = script.value(queue.identity, "<QueueIdentity>", "queue identity")
    script.comment("Exchange Management Shell: what the queue holds and why")
    script.add(f"Get-Queue -Identity {identity} | Format-List Identity, Status, MessageCount, LastError, "
               "LastRetryTime, NextRetryTime, NextHopDomain, NextHopConnector, TlsDomain")
    script.add(f"Get-Message -Queue {identity} -ResultSize 20 | Format-List FromAddress, Recipients, Status, LastError")
    script.comment("Once the cause is fixed (see the other findings), send the mail on now:")
    return str(script.add(_send_on(script, queue, state)))


def _send_on(script: Script, queue: MailQueue, state: str) -> str:
    """The one line that sends the held mail on once the cause is fixed: Resume-Queue or Retry-Queue."""
    identity = script.value(queue.identity, "<QueueIdentity>", "queue identity")
    return f"Resume-Queue -Identity {identity}" if state == "Suspended" else f"Retry-Queue -Identity {identity}"


HELD_QUEUE = Check(
    id="HT-QUEUE-001", title="Mail held in an on-premises queue (Retry or Suspended)", severity=Severity.WARNING,
    needs=needs(QUEUES),
    explanation=("A queue in Retry has failed to deliver to its next hop and is waiting to try again; one in "
                 "Suspended has been stopped by an admin (or by Exchange) and will not try until resumed. Either way "
                 "mail is held on-premises. For hybrid mail the next hop is <tenant>.mail.onmicrosoft.com and the "
                 "usual causes are TLS: the send connector's TlsCertificateName naming a certificate that is not "
                 "there, expired or not trusted by Exchange Online, or a name mismatch with the tenant's inbound "
                 "connector. The LastError says which, when there is one."),
    remediation="Read the queue's LastError and messages, fix the cause, then Retry-Queue (or Resume-Queue).",
    command="Retry-Queue -Identity '<ServerName>\\<QueueIdentity>'",
    references=(refs.GET_QUEUE, refs.QUEUES), run=_queues,
)

FAMILY = Family(name="queues", commands=frozenset({Command.CHECK}), checks=(HELD_QUEUE,))
CHECKS = FAMILY.checks
