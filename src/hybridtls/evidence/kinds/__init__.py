"""Which kind of object a record describes, and how to turn it into a model record.

A kind is recognised from its properties (and the ``#TYPE`` line of a CSV, where there is one). To teach
hybridtls a new cmdlet's output: write a module here with its ``RecordKind`` and builder (see ``base``), and add
the kind to ``KINDS``; if it builds a new kind of model record, give that record its EvidenceSet field in
``registry.FIELDS``.
"""

from __future__ import annotations

from functools import lru_cache

from hybridtls.evidence.kinds.base import BuildContext, RecordKind
from hybridtls.evidence.kinds.certificate import EXCHANGE_CERTIFICATE
from hybridtls.evidence.kinds.connectors import (
    HYBRID_CONFIGURATION,
    INBOUND_CONNECTOR,
    OUTBOUND_CONNECTOR,
    RECEIVE_CONNECTOR,
    SEND_CONNECTOR,
    TRANSPORT_SERVICE,
)
from hybridtls.evidence.kinds.domains import ACCEPTED_DOMAIN, DNSSEC_STATUS, TLSA_RECORD
from hybridtls.evidence.kinds.events import EVENT_LOG_ENTRY, WIN_EVENT
from hybridtls.evidence.kinds.queue import QUEUE
from hybridtls.evidence.kinds.stores import CERTUTIL_ENTRY, REGISTRY_KEY, STORE_CERTIFICATE, command_type
from hybridtls.evidence.kinds.trace import MESSAGE_TRACE, MESSAGE_TRACE_DETAIL
from hybridtls.evidence.kinds.tracking import MESSAGE_TRACKING_EVENT
from hybridtls.evidence.raw import RawRecord

__all__ = ["KINDS", "BuildContext", "RecordKind", "classify"]

KINDS: tuple[RecordKind, ...] = (EXCHANGE_CERTIFICATE, MESSAGE_TRACE, SEND_CONNECTOR, RECEIVE_CONNECTOR,
                                 HYBRID_CONFIGURATION, OUTBOUND_CONNECTOR, INBOUND_CONNECTOR, TRANSPORT_SERVICE,
                                 QUEUE, MESSAGE_TRACE_DETAIL, WIN_EVENT, EVENT_LOG_ENTRY,
                                 MESSAGE_TRACKING_EVENT, STORE_CERTIFICATE, CERTUTIL_ENTRY, REGISTRY_KEY,
                                 ACCEPTED_DOMAIN, DNSSEC_STATUS, TLSA_RECORD)


def classify(record: RawRecord) -> RecordKind | None:
    return _classify(record.key_set, record.type_hint, command_type(record.command))


@lru_cache(maxsize=1024)
def _classify(keys: frozenset[str], type_hint: str | None, listed: str | None) -> RecordKind | None:
    """Records of one file nearly always share their property set: the answer is worked out once per set (and
    the type of object the command line lists, where it says: ``Get-ChildItem Cert:\\...`` lists certificates)."""
    best, best_score = None, 0
    for kind in KINDS:
        score = kind.score(keys, type_hint, listed)
        if score > best_score:
            best, best_score = kind, score
    return best
