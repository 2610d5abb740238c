"""PowerShell fixes that more than one family gives, built through hybridtls.powershell."""

from __future__ import annotations

from hybridtls.powershell import Script


def tls_domain_fix(names: tuple[str, ...], *comments: str) -> str:
    """Point the Exchange Online outbound connector at a name the certificate covers."""
    script = Script(*comments)
    value = script.value(names[0] if names else None, "<NameInTheCertificate>", "certificate name")
    return str(script.add(f"Set-OutboundConnector -Identity '<Outbound to ...>' -TlsDomain {value}"))
