"""PowerShell fixes that more than one family gives, built through hybridtls.powershell."""

from __future__ import annotations

from hybridtls.pki.tlsname import TlsCertificateName
from hybridtls.powershell import Script

CONNECT_FIX = ("# Allow TCP 25 from the Microsoft 365 address ranges to this address, and check the service:\n"
               "Test-NetConnection -ComputerName <SmartHost> -Port 25\n"
               "Get-Service MSExchangeFrontEndTransport, MSExchangeTransport | Format-Table Name, Status")
SAME_CERTIFICATE_FIX = ("# Install the same certificate, with SMTP and the same TlsCertificateName, on every server\n"
                        "# behind this name (Exchange Management Shell), then probe again:\n"
                        "Get-ExchangeServer | ForEach-Object { Get-ExchangeCertificate -Server $_.Name | "
                        "Format-Table -AutoSize Thumbprint, Services, Subject, NotAfter }")


def tls_domain_fix(names: tuple[str, ...], *comments: str) -> str:
    """Point the Exchange Online outbound connector at a name the certificate covers."""
    script = Script(*comments)
    value = script.value(names[0] if names else None, "<NameInTheCertificate>", "certificate name")
    return str(script.add(f"Set-OutboundConnector -Identity '<Outbound to ...>' -TlsDomain {value}"))


def set_tls_certificate_name_fix(name: TlsCertificateName) -> str:
    """Set the exact ``<I>issuer<S>subject`` of a certificate on the connectors that should use it."""
    script = Script("# Set the exact value on every connector that should use this certificate:")
    value = script.value(str(name), "<TlsCertificateName>", "certificate's issuer or subject")
    return str(script.add(f"Set-SendConnector -Identity 'Outbound to Office 365*' -TlsCertificateName {value}",
                          "Set-ReceiveConnector -Identity '<ServerName>\\Default Frontend <ServerName>' "
                          f"-TlsCertificateName {value}"))
