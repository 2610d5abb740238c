"""The nouns: immutable records that evidence readers and probes produce and checks consume, by subject.

Every record keeps where it came from (``Source``) so that a finding can cite file and line. Everything is
re-exported here: ``from hybridtls.model import ExchangeCertificate``.
"""

from __future__ import annotations

from hybridtls.model.dane import (
    DaneObservation,
    DaneResult,
    TlsaLookup,
    TlsaMatch,
    TlsaMatchingType,
    TlsaRecord,
    TlsaSelector,
    TlsaUsage,
)
from hybridtls.model.dates import DateReadings
from hybridtls.model.diagnostics import Coverage, InputProblem, Interruption, Notice, SkippedRecord
from hybridtls.model.domains import (
    AcceptedDomain,
    DnsAnswerStatus,
    DnssecDomainStatus,
    DomainType,
    OrganizationSide,
    tenant_named,
)
from hybridtls.model.events import EventLayout, EventLevel, WindowsEvent
from hybridtls.model.evidence import EvidenceSet
from hybridtls.model.exchange import (
    CertificateStatus,
    ConfiguredBy,
    ConnectorDirection,
    DeliveryError,
    ExchangeCertificate,
    HybridConfiguration,
    MailQueue,
    OnlineConnector,
    ReceiveConnector,
    RootCAType,
    SendConnector,
    TraceEntry,
    TraceStatus,
    TransportService,
    states,
)
from hybridtls.model.findings import (
    CheckOutcome,
    CheckStatus,
    Citation,
    Finding,
    FindingSubject,
    NotJudged,
    Severity,
)
from hybridtls.model.logs import (
    LoggedCertificate,
    SmtpLogSummary,
    SmtpLogType,
    SmtpSession,
    TlsOutcome,
    TrackingSummary,
)
from hybridtls.model.mtasts import MtaStsPolicy, MtaStsResult, MxMatch, PolicyFetch, PolicyMode, TxtLookup
from hybridtls.model.pki import AnchorRecord, CertificateFile, ChainAnalysis, ChainEnd, TrustBasis
from hybridtls.model.probe import ProbeOutcome, ProbeResult, ProbeStep, TranscriptDirection, TranscriptLine
from hybridtls.model.progress import Progress, ProgressEvent, ProgressKind
from hybridtls.model.source import Cited, ServerBasis, ServerRef, Source, certificate_identity_keys
from hybridtls.model.stores import StoreBasis, StoreCertificate, StoreView, name_key, store_name
from hybridtls.model.verify import ChainElement, ChainVerification, RootUpdateState

__all__ = [
    "AcceptedDomain",
    "DnsAnswerStatus",
    "DnssecDomainStatus",
    "DomainType",
    "OrganizationSide",
    "Coverage",
    "AnchorRecord",
    "CertificateFile",
    "CertificateStatus",
    "ChainAnalysis",
    "ChainElement",
    "ChainEnd",
    "ChainVerification",
    "CheckOutcome",
    "CheckStatus",
    "Citation",
    "Cited",
    "ConfiguredBy",
    "ConnectorDirection",
    "DaneObservation",
    "DaneResult",
    "DateReadings",
    "DeliveryError",
    "EventLayout",
    "EventLevel",
    "EvidenceSet",
    "ExchangeCertificate",
    "Finding",
    "FindingSubject",
    "HybridConfiguration",
    "InputProblem",
    "Interruption",
    "LoggedCertificate",
    "NotJudged",
    "Notice",
    "OnlineConnector",
    "ProbeOutcome",
    "Progress",
    "ProgressEvent",
    "ProgressKind",
    "ProbeResult",
    "ProbeStep",
    "ReceiveConnector",
    "RootUpdateState",
    "RootCAType",
    "SendConnector",
    "ServerBasis",
    "ServerRef",
    "Severity",
    "SkippedRecord",
    "SmtpLogSummary",
    "SmtpLogType",
    "SmtpSession",
    "Source",
    "StoreBasis",
    "StoreCertificate",
    "StoreView",
    "TlsOutcome",
    "TlsaLookup",
    "TlsaMatch",
    "TlsaMatchingType",
    "TlsaRecord",
    "TlsaSelector",
    "TlsaUsage",
    "TraceEntry",
    "TraceStatus",
    "TrackingSummary",
    "TranscriptDirection",
    "TranscriptLine",
    "MailQueue",
    "MtaStsPolicy",
    "MtaStsResult",
    "MxMatch",
    "PolicyFetch",
    "PolicyMode",
    "TxtLookup",
    "TransportService",
    "TrustBasis",
    "WindowsEvent",
    "certificate_identity_keys",
    "name_key",
    "states",
    "store_name",
    "tenant_named",
]
