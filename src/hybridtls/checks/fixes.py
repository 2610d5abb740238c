"""PowerShell fixes that more than one family gives, built through hybridtls.powershell."""

from __future__ import annotations

from hybridtls.pki.tlsname import TlsCertificateName
from hybridtls.powershell import Script, is_single_line, ps_literal, thumbprint

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


# One-line commands: what a check's summary line offers to paste (Check.command). Each is the key line of the
# check's full fix, with <Placeholders> for what the evidence does not give; the full, defensive fix stays in the
# finding's remediation.
AUTHROOT_IMPORT = "Import-Certificate -FilePath '<RootCertificate.cer>' -CertStoreLocation Cert:\\LocalMachine\\AuthRoot"
CA_IMPORT = "Import-Certificate -FilePath '<IntermediateCertificate.cer>' -CertStoreLocation Cert:\\LocalMachine\\CA"
ENABLE_SMTP = "Enable-ExchangeCertificate -Server <ServerName> -Thumbprint <Thumbprint> -Services SMTP"
IMPORT_AND_ENABLE = ("Import-ExchangeCertificate -Server <ServerName> -FileData ([System.IO.File]::ReadAllBytes("
                     "'<NewCertificate.pfx>')) -Password (Read-Host -AsSecureString 'PFX password') "
                     "-PrivateKeyExportable $true | Enable-ExchangeCertificate -Services SMTP")
CERTIFICATE_REQUEST = ("New-ExchangeCertificate -GenerateRequest -KeySize 2048 -SubjectName 'CN=<mail.contoso.com>' "
                       "-DomainName '<mail.contoso.com>' -PrivateKeyExportable $true")
TLS12_SERVER = ("New-Item 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2"
                "\\Server' -Force | New-ItemProperty -Name Enabled -Value 1 -PropertyType DWord -Force")
TLS_DOMAIN = "Set-OutboundConnector -Identity '<Outbound to ...>' -TlsDomain '<NameInTheCertificate>'"
CERTIFICATES_ON_SERVER = ("Get-ExchangeCertificate -Server <ServerName> | Format-List Thumbprint, Subject, Issuer, "
                          "RootCAType, Status, Services, NotBefore, NotAfter")
TLSA_ADD = ("Add-DnsServerResourceRecord -ZoneName '<Zone>' -Name '_25._tcp.<Host>' -TLSA -CertificateUsage "
            "DomainIssuedCertificate -Selector SubjectPublicKeyInfo -MatchingType Sha256Hash "
            "-CertificateAssociationData '<Sha256OfPublicKey>'")
ZONE_SIGN = "Invoke-DnsServerZoneSign -ZoneName '<Zone>' -SignWithDefault -Force"
MX_RECORD = "Add-DnsServerResourceRecordMX -ZoneName '<Domain>' -Name '.' -MailExchange '<MxHost>' -Preference 0"
TLSRPT_RECORD = ("Add-DnsServerResourceRecord -ZoneName '<Domain>' -Name '_smtp._tls' -Txt -DescriptiveText "
                 "'v=TLSRPTv1; rua=mailto:<Mailbox>'")
# MTA-STS and certificate-naming faults are fixed in a policy file, at a CA or in the admin centre, not by a shell
# command: their one line says what to do, as a comment that is inert when pasted.
STS_LIST_MX = ("# Add 'mx: <MxHost>' to https://mta-sts.<Domain>/.well-known/mta-sts.txt, then publish a new id in "
               "the _mta-sts.<Domain> TXT record")
STS_SERVE_POLICY = ("# Serve the policy with status 200, text/plain, no redirect, at "
                    "https://mta-sts.<Domain>/.well-known/mta-sts.txt")
STS_HOST_CERTIFICATE = "# Give mta-sts.<Domain> a publicly trusted certificate that covers the name mta-sts.<Domain>"
STS_ENFORCE = ("# When every MX is listed and TLS reports are clean: set 'mode: enforce' and 'max_age: 604800' in the "
               "policy, then publish a new id")
CLIENT_AUTH_REQUEST = ("# At the next renewal, ask the CA for Client Authentication (1.3.6.1.5.5.7.3.2) beside Server "
                       "Authentication, or a certificate from a CA that still issues it")
ACCEPTED_NAME = ("# Use a certificate whose names are accepted domains of this tenant, or add the domain in the "
                 "Microsoft 365 admin center (Settings > Domains)")
OWN_CERTIFICATE = "# Give each tenant's hybrid connectors their own certificate, named in that tenant's accepted domains"
DEFER_REASONS = ("Get-MessageTrace -Status Pending -StartDate (Get-Date).AddDays(-2) -EndDate (Get-Date) | "
                 "Get-MessageTraceDetail | Where-Object Event -eq 'Defer' | Format-List Date, Event, Detail, Data")


def tls_name_command(setter: str) -> str:
    """One line that sets a TlsCertificateName from the installed certificate itself, e.g.
    ``tls_name_command("Set-SendConnector -Identity '<ConnectorName>'")``."""
    return (f"$c = Get-ExchangeCertificate -Server <ServerName> -Thumbprint <Thumbprint>; "
            f"{setter} -TlsCertificateName \"<I>$($c.Issuer)<S>$($c.Subject)\"")


def filled(command: str, *, server: str | None, certificate: str | None) -> str:
    """A one-line command with ``-Server <ServerName>`` and ``-Thumbprint <Thumbprint>`` filled in from the finding
    (quoted as every fix quotes values; a server name that is not one safe line, or a certificate known only by
    issuer and serial, leaves the placeholder)."""
    if server and is_single_line(server):
        command = command.replace("-Server <ServerName>", f"-Server {ps_literal(server)}")
    exact = thumbprint(certificate)
    if exact:
        command = command.replace("-Thumbprint <Thumbprint>", f"-Thumbprint {exact}")
    return command


def one_line(script: str) -> str:
    """A short fix of plain statements as one line (``a; b; c``), for the summary; empty when it is not that: more
    than three statements, a statement continued on the next line, or a ``#`` before the last statement (it would
    comment out what follows)."""
    lines = [line.strip() for line in script.split("\n") if line.strip() and not line.lstrip().startswith("#")]
    if not lines or len(lines) > 3 or any("#" in line for line in lines[:-1]):
        return ""
    if any(line.endswith(("|", "{", "`", ",")) for line in lines):
        return ""
    return "; ".join(lines)


def set_tls_certificate_name_fix(name: TlsCertificateName) -> str:
    """Set the exact ``<I>issuer<S>subject`` of a certificate on the connectors that should use it."""
    script = Script("# Set the exact value on every connector that should use this certificate:")
    value = script.value(str(name), "<TlsCertificateName>", "certificate's issuer or subject")
    return str(script.add(f"Set-SendConnector -Identity 'Outbound to Office 365*' -TlsCertificateName {value}",
                          "Set-ReceiveConnector -Identity '<ServerName>\\Default Frontend <ServerName>' "
                          f"-TlsCertificateName {value}"))
