"""HealthChecker's XML (``HealthChecker-<Server>-<date>.xml``): one object of nested objects, read as the records
the text forms give for what it holds of transport and certificates.

Microsoft's Exchange HealthChecker (CSS-Exchange, ``Diagnostics/HealthChecker``) saves, per server, with
``Export-Clixml -Depth 2`` (``Features/Invoke-HealthCheckerMainReport.ps1``), the analyzer's result object
(``Analyzer/Invoke-AnalyzerEngine.ps1``): ``HealthCheckerExchangeServer``, ``HtmlServerValues``,
``DisplayResults``. ``HealthCheckerExchangeServer`` is built in ``Features/Get-HealthCheckerDataObject.ps1``:
``ServerName`` (the name HealthChecker was given), ``OrganizationInformation``, ``OSInformation`` and
``ExchangeInformation``, which holds what the Exchange cmdlets returned for the server
(``DataCollection/ExchangeInformation/Invoke-JobExchangeInformationCmdlet.ps1``): ``GetExchangeServer``
(Get-ExchangeServer: Name, Fqdn), ``GetReceiveConnector`` (Get-ReceiveConnector -Server), ``GetTransportService``
and ``ExchangeCertificateInformation``: ``Certificates`` (the Get-ExchangeCertificate objects, RootCAType, Status
and Services with them), ``InternalCertificateThumbprint`` and ``CustomCertificates`` (HealthChecker's summary
of each: Thumbprint, Subject, Issuer, Services, Status, IsCurrentAuthConfigCertificate... but no RootCAType,
and its ``CertificateObject`` is the same certificate again).

Those nested objects become records of their own, each citing the line of its ``<Obj>``: every certificate of
``Certificates`` (given the server's name as a ``Server`` property where it names none), every receive connector
and the transport service. The rest (hardware, IIS, the analyzer's display) is not evidence hybridtls judges.
A part cut short by ``-Depth`` (an object kept only as its text) is said, never guessed at.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from hybridtls.evidence.raw import RawField, RawValue, raw_field
from hybridtls.model import Notice, Source

if TYPE_CHECKING:
    from hybridtls.evidence.clixml import _DerFound, _Node, _Walker
    from hybridtls.evidence.interface import Record

MAX_NESTED_RECORDS = 10_000  # a server has tens of certificates and connectors, never thousands
MAX_ELEMENTS = 1_000_000  # elements looked through for the objects <Ref> refers to
_SERVER = "HealthCheckerExchangeServer"
_HINT = "HealthChecker saves with Export-Clixml -Depth 2; Get-ExchangeCertificate | Export-Clixml saves it whole"


def server_object(node: _Node) -> _Node | None:
    """HealthChecker's server object in a top-level object: its ``HealthCheckerExchangeServer`` member (the saved
    analyzer result), or the object itself when it is that object (HealthChecker's debug export); else None."""
    members = _members(node)
    found = members.get(_SERVER.casefold())
    if found is not None and found.tag == "Obj":
        return found
    if "healthcheckerversion" in members and "exchangeinformation" in members:
        return node
    return None


def records(walker: _Walker, top: _Node, hc: _Node) -> Iterator[Record | _DerFound]:
    """The records nested in HealthChecker's object ``hc`` (inside the top-level ``top``), each cited at its line."""
    path = walker.path
    index = _index(top)
    members = _members(hc)
    server = _server_field(members, index)
    info = _object(members.get("exchangeinformation"), index)
    shown = server.value.text if server is not None else "the server"
    if info is None:
        yield Notice(source=Source(path=path, line=hc.line),
                     message=f"HealthChecker's XML for {shown} holds no ExchangeInformation object; nothing in it "
                             "is read", hint=_HINT)
        return
    parts = _members(info)
    count = 0
    cut: list[str] = []
    certificates = _object(parts.get("exchangecertificateinformation"), index)
    found = {"certificate": 0, "receive connector": 0, "transport service": 0}
    groups = (("certificate", _items(_members(certificates).get("certificates") if certificates else None, index),
               "ExchangeCertificateInformation.Certificates"),
              ("receive connector", _items(parts.get("getreceiveconnector"), index), "GetReceiveConnector"),
              ("transport service", _items(parts.get("gettransportservice"), index), "GetTransportService"))
    for what, items, where in groups:
        for item in items:
            if not _has_members(item):
                if item.tag == "Obj" and where not in cut:
                    cut.append(where)
                continue
            count += 1
            if count > MAX_NESTED_RECORDS:
                yield Notice(source=Source(path=path, line=item.line),
                             message=f"HealthChecker's XML holds more than {MAX_NESTED_RECORDS:,} certificates and "
                                     "connectors; the rest are not read")
                return
            found[what] += 1
            extra = (server,) if server is not None and what != "transport service" else ()
            yield from walker.record(item, extra=extra)
    if certificates is None and "exchangecertificateinformation" in parts:
        cut.append("ExchangeCertificateInformation")
    read = ", ".join(_counted(n, what) for what, n in found.items() if n) or "nothing hybridtls judges"
    message = f"HealthChecker's XML for {shown}: read {read}"
    if cut:
        message += f"; {', '.join(cut)} kept only as text (cut short by Export-Clixml -Depth), not read"
    yield Notice(source=Source(path=path, line=hc.line), message=message, hint=_HINT if cut else None)


def _members(node: _Node | None) -> dict[str, _Node]:
    """An object's properties (``<Props>`` and ``<MS>``) by case-folded name, the first of each."""
    found: dict[str, _Node] = {}
    if node is None:
        return found
    for group in node.children:
        if group.tag in ("Props", "MS"):
            for member in group.children:
                name = member.attrib.get("N")
                if name is not None:
                    found.setdefault(name.casefold(), member)
    return found


def _has_members(node: _Node) -> bool:
    return node.tag == "Obj" and any(g.tag in ("Props", "MS") and g.children for g in node.children)


def _index(top: _Node) -> dict[str, _Node]:
    """The objects of ``top`` by RefId, for ``<Ref>`` (an object met again is written as a reference to it)."""
    index: dict[str, _Node] = {}
    stack = [top]
    seen = 0
    while stack and seen < MAX_ELEMENTS:
        node = stack.pop()
        seen += 1
        if node.tag == "Obj" and "RefId" in node.attrib:
            index.setdefault(node.attrib["RefId"], node)
        stack.extend(node.children)
    return index


def _object(node: _Node | None, index: dict[str, _Node]) -> _Node | None:
    """The object a member holds, through a ``<Ref>``; None for ``<Nil>``, text, or an object cut to its text."""
    if node is not None and node.tag == "Ref":
        node = index.get(node.attrib.get("RefId", ""))
    return node if node is not None and node.tag == "Obj" else None


def _items(node: _Node | None, index: dict[str, _Node]) -> list[_Node]:
    """The objects a member holds: a collection's items (``<LST>``, ``<IE>``...), or the one object it is."""
    found = _object(node, index)
    if found is None:
        return []
    for group in found.children:
        if group.tag in ("LST", "IE", "STK", "QUE"):
            return [item for item in (_object(c, index) for c in group.children) if item is not None]
    return [found]


def _server_field(members: dict[str, _Node], index: dict[str, _Node]) -> RawField | None:
    """The server the object speaks of, as a ``Server`` property cited where HealthChecker has it: Get-ExchangeServer's
    Name (or Fqdn), else ServerName (the name HealthChecker was run for)."""
    info = _members(_object(members.get("exchangeinformation"), index))
    server = _members(_object(info.get("getexchangeserver"), index))
    for name in ("name", "fqdn"):
        found = server.get(name)
        if found is not None and found.tag == "S" and found.value.strip():
            return raw_field("Server", RawValue(found.value.strip()), found.line)
    named = members.get("servername")
    if named is not None and named.tag == "S" and named.value.strip():
        return raw_field("Server", RawValue(named.value.strip()), named.line)
    return None


def _counted(number: int, what: str) -> str:
    return f"{number:,} {what}" + ("s" if number != 1 else "")
