"""Every evidence reader, in the order they are asked, and where each kind of record goes in the EvidenceSet.

To read a new format: write a module with an ``EvidenceReader`` (see ``interface``) and add it to ``READERS``,
before the readers whose recognition would also take the file. To read a new cmdlet's output, add a
``RecordKind`` to ``kinds.KINDS``; if it builds a new kind of model record, give that record its field here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from hybridtls.errors import EvidenceError
from hybridtls.evidence.blocks import ConsoleReader
from hybridtls.evidence.certutil import CertutilReader
from hybridtls.evidence.certverify import ChainDumpReader, RootUpdateReader
from hybridtls.evidence.clixml import CliXmlReader
from hybridtls.evidence.collector_log import CollectorLogReader
from hybridtls.evidence.commands import CommandLinesReader
from hybridtls.evidence.dig import DigReader
from hybridtls.evidence.events import EventTextReader, EventViewerSavedReader
from hybridtls.evidence.interface import EXPECTED, EvidenceFile, EvidenceReader, Record
from hybridtls.evidence.logs import ExchangeLogReader
from hybridtls.evidence.regquery import RegistryStoreReader
from hybridtls.evidence.saved_report import SavedReportReader
from hybridtls.evidence.sniff import CertificateFileReader
from hybridtls.evidence.structured import CsvReader, JsonReader
from hybridtls.model import (
    AcceptedDomain,
    AnchorRecord,
    CertificateFile,
    ChainVerification,
    DeliveryError,
    DnsAnswerStatus,
    DnssecDomainStatus,
    ExchangeCertificate,
    HybridConfiguration,
    MailQueue,
    MtaStsResult,
    OnlineConnector,
    ProbeResult,
    ReceiveConnector,
    RootUpdateState,
    SendConnector,
    SmtpLogSummary,
    SmtpSession,
    StoreCertificate,
    TlsaRecord,
    TraceEntry,
    TrackingSummary,
    TransportService,
    WindowsEvent,
)

READERS: tuple[EvidenceReader, ...] = (
    CertificateFileReader(),  # from the bytes: before any decoding
    SavedReportReader(),
    CollectorLogReader(),  # the collector script's own log: what it could not collect
    JsonReader(),
    CliXmlReader(),  # Export-Clixml, HealthChecker's XML: any text that opens as XML
    ExchangeLogReader(),  # SMTP protocol and message-tracking logs, with their header or pasted without
    EventViewerSavedReader(),  # before CSV: its header has five columns and its rows six
    CsvReader(),
    ChainDumpReader(),  # certutil -verify chain dumps (CERT_CHAIN_CONTEXT, CertContext[0][n])
    RootUpdateReader(),  # certutil -verifyctl AuthRoot, reg query ...\AuthRoot: LastSyncTime, DisableRootAutoUpdate
    DigReader(),  # dig TLSA answers and +short lines (the rest is read as console text)
    CertutilReader(),  # certutil -store blocks anywhere in the file (the rest is read as console text)
    RegistryStoreReader(),  # reg query ...\SystemCertificates\<Store>\Certificates
    EventTextReader(),  # before the console reader: it hands it what is not an event
    CommandLinesReader(),  # New-/Set- connector command lines, bare error text (then any console output)
    ConsoleReader(),  # recognises anything: last
)

# The EvidenceSet field each kind of model record is gathered into.
FIELDS: Mapping[type, str] = {
    ExchangeCertificate: "certificates",
    TraceEntry: "trace_entries",
    SendConnector: "send_connectors",
    ReceiveConnector: "receive_connectors",
    HybridConfiguration: "hybrid_configurations",
    OnlineConnector: "online_connectors",
    TransportService: "transport_services",
    MailQueue: "queues",
    DeliveryError: "delivery_errors",
    CertificateFile: "certificate_files",
    ProbeResult: "probes",
    MtaStsResult: "mta_sts",
    AnchorRecord: "recorded_anchors",
    WindowsEvent: "events",
    SmtpSession: "smtp_sessions",
    SmtpLogSummary: "smtp_summaries",
    TrackingSummary: "tracking_summaries",
    StoreCertificate: "store_certificates",
    ChainVerification: "chain_verifications",
    RootUpdateState: "root_update_states",
    AcceptedDomain: "accepted_domains",
    DnssecDomainStatus: "dnssec_statuses",
    TlsaRecord: "tlsa_records",
    DnsAnswerStatus: "dns_answers",
}


def reader_for(file: EvidenceFile, readers: tuple[EvidenceReader, ...] = READERS) -> EvidenceReader:
    """The first reader that recognises the file (the console reader takes whatever is left)."""
    for reader in readers:
        if reader.recognises(file):
            return reader
    raise EvidenceError("no reader recognises the file; " + EXPECTED, path=file.display)


def read_records(file: EvidenceFile, readers: tuple[EvidenceReader, ...] = READERS) -> Iterator[Record]:
    """The records of one file, as its reader yields them."""
    return reader_for(file, readers).read(file)
