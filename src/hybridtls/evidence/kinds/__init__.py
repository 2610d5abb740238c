"""Which kind of object a record describes, and how to turn it into a model record (see ``base``)."""

from hybridtls.evidence.kinds.base import KINDS, BuildContext, RecordKind, classify

__all__ = ["KINDS", "BuildContext", "RecordKind", "classify"]
