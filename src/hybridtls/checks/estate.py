"""Views over the evidence that several checks share: the same certificate across servers, the servers seen."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hybridtls.model import Citation, ExchangeCertificate, FindingSubject
from hybridtls.powershell import Script


def server_key(cert: ExchangeCertificate) -> str:
    """Records with no server attribution stay apart, one pseudo-server per file."""
    return cert.server.key if cert.server else "file:" + cert.source.path


def server_name(cert: ExchangeCertificate) -> str:
    return cert.server.name if cert.server else f"the server of {cert.source.path}"


@dataclass(frozen=True, slots=True)
class CertificateGroup:
    """Every observation of one certificate, on any server, in any file."""

    observations: tuple[ExchangeCertificate, ...]

    @property
    def representative(self) -> ExchangeCertificate:
        """The most complete observation, for naming the certificate."""
        return max(self.observations, key=lambda c: (bool(c.thumbprint), bool(c.subject), bool(c.issuer)))

    @property
    def name(self) -> str:
        rep = self.representative
        if rep.thumbprint and rep.display_name != rep.thumbprint:
            return f"{rep.display_name} (thumbprint {rep.thumbprint})"
        if rep.serial_number and not rep.thumbprint:
            return f"{rep.display_name} (serial {rep.serial_number})"
        return rep.display_name

    @property
    def servers(self) -> dict[str, list[ExchangeCertificate]]:
        by_server: dict[str, list[ExchangeCertificate]] = {}
        for cert in self.observations:
            by_server.setdefault(server_key(cert), []).append(cert)
        return by_server

    @property
    def is_ca_issued(self) -> bool | None:
        answers = {c.is_ca_issued for c in self.observations} - {None}
        return answers.pop() if len(answers) == 1 else None

    @property
    def smtp_anywhere(self) -> bool:
        return any(c.has_smtp for c in self.observations)


def group_certificates(certificates: Iterable[ExchangeCertificate]) -> list[CertificateGroup]:
    """Join observations that share a thumbprint, or an issuer and serial number (union-find over keys)."""
    certs = list(certificates)
    parent = list(range(len(certs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with_key: dict[str, int] = {}
    for index, cert in enumerate(certs):
        for key in cert.identity_keys:
            if key in first_with_key:
                parent[find(index)] = find(first_with_key[key])
            else:
                first_with_key[key] = index
    groups: dict[int, list[ExchangeCertificate]] = {}
    for index, cert in enumerate(certs):
        groups.setdefault(find(index), []).append(cert)
    return [CertificateGroup(tuple(members)) for _, members in sorted(groups.items())]


def estate_servers(certificates: Iterable[ExchangeCertificate]) -> dict[str, list[ExchangeCertificate]]:
    """Servers with certificate evidence, by server key, with every certificate seen on each."""
    servers: dict[str, list[ExchangeCertificate]] = {}
    for cert in certificates:
        if cert.server is not None:
            servers.setdefault(server_key(cert), []).append(cert)
    return servers


def cite(cert: ExchangeCertificate, prop: str, label: str, value: object) -> Citation:
    return Citation(source=cert.cite(prop), text=f"{server_name(cert)}: {label} {value}")


def ps_server_value(script: Script, cert: ExchangeCertificate) -> str:
    """The certificate's server as a PowerShell literal, or ``<ServerName>``."""
    return script.value(cert.server.name if cert.server else None, "<ServerName>", "server name")


def certificate_selector(script: Script, cert: ExchangeCertificate) -> str:
    """A PowerShell expression that selects this certificate in Cert:\\LocalMachine\\My."""
    return script.certificate_item(thumbprint_text=cert.thumbprint, serial=cert.serial_number)


def get_certificate(script: Script, cert: ExchangeCertificate, server: str | None = None) -> str:
    """``Get-ExchangeCertificate -Server 'X' ...`` selecting this certificate, on its own server or another."""
    return script.exchange_certificate(server=server or (cert.server.name if cert.server else None),
                                       thumbprint_text=cert.thumbprint, serial=cert.serial_number)


def certificate_id(cert: ExchangeCertificate) -> str | None:
    """The certificate as FindingSubject names it: its thumbprint, else ``issuer+serial:<issuer>|<serial>``."""
    if cert.thumbprint:
        return cert.thumbprint.upper()
    if cert.issuer and cert.serial_number:
        return f"issuer+serial:{' '.join(cert.issuer.split())}|{cert.serial_number.upper()}"
    return None


def about(cert: ExchangeCertificate, *, server: bool = True, **extra: str | None) -> FindingSubject:
    """What a finding about this certificate (on its server, unless ``server`` is False) is about."""
    where = cert.server.name if cert.server else None
    name = extra.pop("name", None) or (None if where or not server else f"file:{cert.source.path}")
    return FindingSubject(server=where if server else None, certificate=certificate_id(cert), name=name, **extra)
