"""Everything read for one run, by kind of record."""

from __future__ import annotations

from dataclasses import dataclass

from hybridtls.model.dane import TlsaRecord
from hybridtls.model.diagnostics import Coverage, InputProblem, Notice, SkippedRecord
from hybridtls.model.domains import AcceptedDomain, DnsAnswerStatus, DnssecDomainStatus
from hybridtls.model.events import WindowsEvent
from hybridtls.model.exchange import (
    DeliveryError,
    ExchangeCertificate,
    HybridConfiguration,
    MailQueue,
    OnlineConnector,
    ReceiveConnector,
    SendConnector,
    TraceEntry,
    TransportService,
)
from hybridtls.model.logs import SmtpLogSummary, SmtpSession, TrackingSummary
from hybridtls.model.mtasts import MtaStsResult
from hybridtls.model.pki import AnchorRecord, CertificateFile, ChainAnalysis, TrustBasis
from hybridtls.model.probe import ProbeResult
from hybridtls.model.stores import StoreCertificate
from hybridtls.model.verify import ChainVerification, RootUpdateState


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceSet:
    """Everything read from the paths given to ``check``."""

    files: tuple[str, ...] = ()
    certificates: tuple[ExchangeCertificate, ...] = ()
    certificate_files: tuple[CertificateFile, ...] = ()
    chains: tuple[ChainAnalysis, ...] = ()
    trust: TrustBasis | None = None  # what the chains were judged against; None when no chain was built
    recorded_anchors: tuple[AnchorRecord, ...] = ()  # anchors a saved hybridtls report says it was judged with
    probes: tuple[ProbeResult, ...] = ()
    mta_sts: tuple[MtaStsResult, ...] = ()  # MTA-STS and TLS-RPT of each domain probed with --mx
    send_connectors: tuple[SendConnector, ...] = ()
    receive_connectors: tuple[ReceiveConnector, ...] = ()
    hybrid_configurations: tuple[HybridConfiguration, ...] = ()
    online_connectors: tuple[OnlineConnector, ...] = ()
    transport_services: tuple[TransportService, ...] = ()
    delivery_errors: tuple[DeliveryError, ...] = ()
    queues: tuple[MailQueue, ...] = ()  # on-premises queues (Get-Queue), held or not
    trace_entries: tuple[TraceEntry, ...] = ()
    skipped: tuple[SkippedRecord, ...] = ()
    notices: tuple[Notice, ...] = ()
    problems: tuple[InputProblem, ...] = ()
    events: tuple[WindowsEvent, ...] = ()  # Windows events (Event Viewer copies, Get-WinEvent, Get-EventLog)
    smtp_sessions: tuple[SmtpSession, ...] = ()  # protocol-log sessions kept whole (TLS failures, first of a kind)
    smtp_summaries: tuple[SmtpLogSummary, ...] = ()  # every protocol-log session, counted by connector and remote
    tracking_summaries: tuple[TrackingSummary, ...] = ()
    store_certificates: tuple[StoreCertificate, ...] = ()  # Windows certificate store listings, per server and store
    chain_verifications: tuple[ChainVerification, ...] = ()  # certutil -verify chain dumps, per server
    root_update_states: tuple[RootUpdateState, ...] = ()  # AuthRoot CTL sync time, DisableRootAutoUpdate
    accepted_domains: tuple[AcceptedDomain, ...] = ()  # Get-AcceptedDomain, on-premises or Exchange Online
    dnssec_statuses: tuple[DnssecDomainStatus, ...] = ()  # Get-DnssecStatusForVerifiedDomain (Exchange Online)
    tlsa_records: tuple[TlsaRecord, ...] = ()  # TLSA records read from evidence (dig, Resolve-DnsName, DNS server)
    dns_answers: tuple[DnsAnswerStatus, ...] = ()  # whether each TLSA answer was authenticated (dig's ad flag)
    superseded_certificates: tuple[ExchangeCertificate, ...] = ()  # earlier states of certificates read again later
    coverage: Coverage | None = None  # for evidence read from files and folders (check, plan)

    @property
    def usable(self) -> bool:
        return bool(self.certificates or self.trace_entries or self.certificate_files or self.probes or self.mta_sts
                    or self.send_connectors or self.receive_connectors or self.hybrid_configurations
                    or self.online_connectors or self.transport_services or self.delivery_errors or self.queues
                    or self.events or self.store_certificates or self.chain_verifications or self.root_update_states
                    or self.smtp_sessions or self.smtp_summaries or self.tracking_summaries or self.accepted_domains
                    or self.dnssec_statuses or self.tlsa_records)
