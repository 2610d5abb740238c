"""No input, however broken, produces a traceback or a crashed check."""

from __future__ import annotations

import json
import tempfile
from datetime import datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from hybridtls.checks import CheckContext, run_checks
from hybridtls.evidence.loader import load_evidence
from hybridtls.model import CheckStatus

_LABELS = ["Thumbprint", "Services", "Subject", "Issuer", "RootCAType", "NotAfter", "NotBefore", "IsSelfSigned",
           "HasPrivateKey", "SerialNumber", "Status", "PublicKeySize", "CertificateDomains", "Identity",
           "PSComputerName", "Received", "SenderAddress", "RecipientAddress", "MessageId", "Size", "Message Trace ID"]
_VALUES = st.one_of(
    st.sampled_from(["True", "False", "Registry", "ThirdParty", "3", "99", "-1", "Pending", "Failed", "SMTP",
                     "IP.WS..", "{a, b...}", "{}", "System.Object[]", "@{Address=x}", "12/02/2016 1:53:00 PM",
                     "31/31/2016", "/Date(99999999999999999)/", "x\\y\\z", "A" * 40, "CN=a, O=b", "", "...",
                     "2/30/2016", "0", "1024", "None", "PendingRequest"]),
    st.text(max_size=40),
)
_RECORD = st.lists(st.tuples(st.sampled_from(_LABELS), _VALUES), min_size=1, max_size=12)


def _judge(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for name, data in files.items():
            path = Path(folder) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        evidence = load_evidence([folder])
        outcomes = run_checks(evidence, CheckContext(now=datetime(2026, 11, 27)))
        crashed = [o for o in outcomes if o.status is CheckStatus.CRASHED]
        assert not crashed, crashed


@given(st.lists(_RECORD, min_size=1, max_size=4), st.sampled_from(["fl", "json", "csv"]),
       st.sampled_from(["utf-8", "utf-16"]))
def test_arbitrary_property_values_never_crash(records, form: str, codec: str) -> None:
    if form == "fl":
        text = "\n\n".join("\n".join(f"{label} : {value}" for label, value in record) for record in records)
        name = "ex1/out.txt"
    elif form == "json":
        text = json.dumps([dict(record) for record in records])
        name = "ex1/out.json"
    else:
        labels = list(dict.fromkeys(label for record in records for label, _ in record))
        rows = [",".join(json.dumps(dict(record).get(label, "")) for label in labels) for record in records]
        text = ",".join(json.dumps(label) for label in labels) + "\n" + "\n".join(rows)
        name = "ex1/out.csv"
    _judge({name: text.encode(codec), "ex2/other.txt": b"Thumbprint : " + b"B" * 40 + b"\nServices : SMTP\n"})


@given(st.binary(max_size=600))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    _judge({"ex1/a.txt": data, "ex1/b.json": data, "ex1/c.csv": data})
