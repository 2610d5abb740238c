"""Read a 5,000-object ``Get-ExchangeCertificate`` CliXML export three ways and compare time and what comes out.

The export is written by the tests' writer (``tests/clixml_writer.py``): ExchangeCertificate objects as a remote
Exchange Management Shell serializes them (nested AccessRules, CertificateDomains, IssuerName; type names once then
``<TNRef>``; RawData; SerializationData holding RootCAType, Status and Services).

Side by side, best of ``--runs`` in this process (wall time):
- hybridtls's direct walk (``evidence.clixml.iter_clixml``: defusedxml, fed in pieces, one object at a time, with
  the SerializationData of every object decoded), and the whole reader (also reading each RawData certificate);
- psrpcore 0.3.1 ``deserialize_clixml`` (stdlib ElementTree, not hardened: the text would have to be parsed by
  defusedxml first as well);
- pypsrp's ``Serializer.deserialize`` of each top-level ``<Obj>`` (its tags must first lose their namespace);
- the floor: defusedxml building the whole tree, nothing deserialized.
Correctness: each object's Thumbprint, NotAfter, CertificateDomains, IssuerName and RawData compared with what was
written, and whether the object's line and its type name come out as written.

Figures (2026-11-30, 5,000 objects, 30.6 MB of text, best of 3; a shared, noisy machine): floor 0.91 s; hybridtls
walk 2.11 s (0.42 ms an object, every SerializationData decoded), whole reader 5.61 s (each object's certificate
parsed too); psrpcore 11.05 s (2.21 ms an object); pypsrp 10.36 s (2.07 ms). psrpcore reads every value right but
doubles the prefix of type names (``Deserialized.Deserialized....``); pypsrp needs the namespace stripped and leaves
CertificateDomains (a collection of a type it does not know) unread. Neither gives a line to cite, parses with a
hardened parser or streams (each holds the whole tree). So the direct walk is kept and neither library is a
dependency.

Usage: python bench/bench_clixml.py [--objects 5000] [--runs 3]
"""

from __future__ import annotations

import argparse
import base64
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE.parent / "tests")]

from clixml_writer import Exported, clixml, founding_chain  # noqa: E402
from timing import best  # noqa: E402

from hybridtls.evidence.clixml import CliXmlReader, iter_clixml  # noqa: E402
from hybridtls.evidence.interface import EvidenceFile  # noqa: E402
from hybridtls.evidence.raw import RawRecord  # noqa: E402

NS = ' xmlns="http://schemas.microsoft.com/powershell/2004/04"'


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    _, _, leaf = founding_chain()
    text = clixml(*[Exported(leaf.cert, server="EXCAS1")] * args.objects)
    raw_data = base64.b64encode(leaf.der).decode()
    print(f"{args.objects:,} objects, {len(text) / 1e6:.1f} MB of text")

    def walk() -> list[Any]:
        return [r for r in iter_clixml(text, "x.xml") if isinstance(r, RawRecord)]

    def reader() -> list[Any]:
        return list(CliXmlReader().read(EvidenceFile("x.xml", text.encode())))

    def floor() -> Any:
        import defusedxml.ElementTree as safe

        return safe.fromstring(text)

    def with_psrpcore() -> list[Any]:
        import psrpcore.types

        return psrpcore.types.deserialize_clixml(text, None)  # type: ignore[arg-type]

    def with_pypsrp() -> list[Any]:
        import xml.etree.ElementTree as stdlib

        from pypsrp.serializer import Serializer

        serializer = Serializer()
        return [serializer.deserialize(e, clear=False) for e in stdlib.fromstring(text.replace(NS, ""))]

    expected = ("2018-02-12T13:53:00", ["owa.domain.com", "autodiscover.domain.com"], "CN=QuoVadis EV SSL ICA G1")

    def ours(records: list[RawRecord]) -> str:
        right = all(r.get("NotAfter").value.text.startswith(expected[0])  # type: ignore[union-attr]
                    and list(r.get("CertificateDomains").value.items or ()) == expected[1]  # type: ignore[union-attr]
                    and r.get("IssuerName").value.text.startswith(expected[2])  # type: ignore[union-attr]
                    and r.get("RawData").value.text == raw_data  # type: ignore[union-attr]
                    and r.get("RootCAType").value.text == "Registry" for r in records)  # type: ignore[union-attr]
        types = records[-1].type_hint == ("Deserialized.Microsoft.Exchange.Management.SystemConfigurationTasks."
                                          "ExchangeCertificate")
        return f"values {'right' if right else 'WRONG'}, lines yes, type names {'right' if types else 'WRONG'}"

    def psrpcore_check(objects: list[Any]) -> str:
        right = all(str(o.NotAfter).startswith(expected[0].replace("T", " ")) and list(o.CertificateDomains) == expected[1]
                    and str(o.IssuerName).startswith(expected[2]) and bytes(o.RawData) == leaf.der for o in objects)
        return (f"values {'right' if right else 'WRONG'}, lines no, type names as "
                f"{objects[-1].PSTypeNames[0].split('.Microsoft')[0]}.Microsoft...")

    def pypsrp_check(objects: list[Any]) -> str:
        def props(o: Any) -> dict[str, Any]:
            return o.adapted_properties  # type: ignore[no-any-return]

        wrong = sorted({name for o in objects for name, right in (
            ("NotAfter", props(o)["NotAfter"].startswith(expected[0])),
            ("CertificateDomains", isinstance(props(o)["CertificateDomains"], list)
             and props(o)["CertificateDomains"] == expected[1]),
            ("IssuerName", str(props(o)["IssuerName"]).startswith(expected[2])),
            ("RawData", props(o)["RawData"] == leaf.der)) if not right})
        return (f"values {'WRONG: ' + ', '.join(wrong) if wrong else 'right'}, lines no, "
                f"type names {objects[-1].types[0]}")

    rows: list[tuple[str, Callable[[], Any], Callable[[Any], str] | None]] = [
        ("defusedxml tree (floor)", floor, None),
        ("hybridtls walk", walk, ours),
        ("hybridtls reader (+ certificates)", reader, None),
        ("psrpcore deserialize_clixml", with_psrpcore, psrpcore_check),
        ("pypsrp Serializer.deserialize", with_pypsrp, pypsrp_check),
    ]
    for label, work, check in rows:
        try:
            seconds, result = best(args.runs, work)
        except ImportError as exc:
            print(f"{label:36} not installed ({exc.name})")
            continue
        said = check(result) if check else ""
        print(f"{label:36} {seconds:6.2f} s  {seconds / args.objects * 1000:5.2f} ms/object  {said}")


if __name__ == "__main__":
    main()
