"""Figures, OIDs and documents the checks and the plan share: each defined once, here.

It imports nothing from the package, so anything (``pki/`` included) can use it without reaching upwards.
"""

from __future__ import annotations

# Thresholds
MINIMUM_RSA_BITS = 2048  # Exchange Online and public CAs refuse shorter RSA keys
EXPIRY_WARNING_DAYS = 30  # a certificate in use expiring within this many days is a warning
EXPIRY_NOTICE_DAYS = 60  # ... within this many, a notice
EDGE_TLS_NAME_LIMIT = 256  # characters the Edge Transport directory accepts in TlsCertificateName
CORRELATION_WINDOW_DAYS = 60  # pending mail this soon after a certificate's NotBefore is blamed on it
MINIMUM_NEW_CERTIFICATE_DAYS = 30  # a new certificate should be valid for at least this long (plan)
MAX_CITATIONS = 20  # citations listed per finding; the rest are counted, so a report grows with the findings only
MAX_NAMES_IN_MESSAGE = 10  # servers (or other names) a message lists before "and N more"

# Object identifiers
SERVER_AUTH = "1.3.6.1.5.5.7.3.1"  # EKU Server Authentication
ANY_PURPOSE = "2.5.29.37.0"  # EKU anyExtendedKeyUsage

# Documents
CERT_REQUIREMENTS = "https://learn.microsoft.com/exchange/certificate-requirements"
STARTTLS_SELECTION = "https://learn.microsoft.com/exchange/mail-flow/mail-routing/inbound-starttls-certificates-selection"
MAIL_FLOW_INTELLIGENCE = "https://learn.microsoft.com/exchange/monitoring/mail-flow-intelligence-in-office-365"
NEW_CERTIFICATE_NO_MAIL = ("https://learn.microsoft.com/exchange/troubleshoot/email-delivery/"
                           "cannot-receive-mail-with-new-certificate")
KB_4052493 = "https://learn.microsoft.com/exchange/troubleshoot/email-delivery/email-sent-from-on-premises-external"
TENANT_ATTRIBUTION = "https://learn.microsoft.com/exchange/troubleshoot/email-delivery/ndr/relay-access-denied-smtp"
GET_EXCHANGE_CERTIFICATE = "https://learn.microsoft.com/powershell/module/exchange/get-exchangecertificate"
GET_MESSAGE_TRACE = "https://learn.microsoft.com/powershell/module/exchange/get-messagetrace"
SET_HYBRID_CONFIGURATION = "https://learn.microsoft.com/powershell/module/exchange/set-hybridconfiguration"
SET_INBOUND_CONNECTOR = "https://learn.microsoft.com/powershell/module/exchange/set-inboundconnector"
SET_OUTBOUND_CONNECTOR = "https://learn.microsoft.com/powershell/module/exchange/set-outboundconnector"
SET_SEND_CONNECTOR = "https://learn.microsoft.com/powershell/module/exchange/set-sendconnector"
GET_QUEUE = "https://learn.microsoft.com/powershell/module/exchange/get-queue"
QUEUES = "https://learn.microsoft.com/exchange/mail-flow/queues/queues"
PROTOCOL_LOGGING = "https://learn.microsoft.com/exchange/mail-flow/connectors/protocol-logging"
EXO_ENCRYPTION = "https://learn.microsoft.com/purview/technical-reference-details-about-encryption"
SYSTEM_STORE_LOCATIONS = "https://learn.microsoft.com/windows/win32/seccrypto/system-store-locations"
KB_3212877 = "https://support.microsoft.com/help/3212877"
HYBRID_TLS_BLOG = ("https://techcommunity.microsoft.com/blog/exchange/"
                   "tls-certificates-in-exchange-hybrid---common-issues--how-to-fix-them/4420592")
ROOTCATYPE_PENDING = "Matt Allford, Exchange 2013 Hybrid Mail 'Pending' - RootCAType Certificate Issues (2016)"
OAUTH_CERTIFICATE_EXPIRED = ("https://learn.microsoft.com/exchange/troubleshoot/administration/"
                             "cannot-access-owa-or-ecp-if-oauth-expired")
SET_AUTH_CONFIG = "https://learn.microsoft.com/powershell/module/exchange/set-authconfig"

# Exchange Online's move to DigiCert Global Root G2 (Exchange Team blog, January 2026, updated February and March
# 2026: trust it by March 15, 2026; Windows servers with automatic root update need no action)
EXO_G2_ANNOUNCEMENT = ("https://techcommunity.microsoft.com/blog/exchange/"
                       "trust-digicert-global-root-g2-certificate-authority-to-avoid-exchange-online-ema/4488311")
EXO_G2_EFFECTIVE = "2026-03-15"  # ISO date: Exchange Online's certificates may chain to the root from this day
DIGICERT_G2_NAME = "CN=DigiCert Global Root G2, OU=www.digicert.com, O=DigiCert Inc, C=US"
DIGICERT_G2_SHA1 = "DF3C24F9BFD666761B268073FE06D1CC8D4F82A4"  # published in the announcement above
DIGICERT_G2_SHA256 = "CB3CCBB76031E5E0138F8DD39A23F9DE47FFC35E43C1144CEA27D46A5AB1CB5F"
DIGICERT_G2_SERIAL = "033AF1E6A711A9A0BB2864B11D09FAE5"
DIGICERT_ROOTS = "https://www.digicert.com/kb/digicert-root-certificates.htm"
DIGICERT_G2_DOWNLOAD = "https://cacerts.digicert.com/DigiCertGlobalRootG2.crt"
AZURE_CA_DETAILS = "https://learn.microsoft.com/azure/security/fundamentals/azure-ca-details"  # roots, intermediates
HEALTHCHECKER_ROOT_UPDATE = ("https://microsoft.github.io/CSS-Exchange/Diagnostics/HealthChecker/"
                             "TrustedRootCertificatesCheck")
CERT_TRUST_STATUS = "https://learn.microsoft.com/windows/win32/api/wincrypt/ns-wincrypt-cert_trust_status"
AUTHROOT_STALE_DAYS = 90  # an AuthRoot trust list not synced for this long is managed by hand, or cut off
EXO_DANE = "https://learn.microsoft.com/purview/how-smtp-dane-works"
RFC_6698 = "https://www.rfc-editor.org/rfc/rfc6698"  # DANE TLSA
RFC_7671 = "https://www.rfc-editor.org/rfc/rfc7671"  # DANE operational guidance
RFC_7672 = "https://www.rfc-editor.org/rfc/rfc7672"  # SMTP security via opportunistic DANE TLS
RFC_8460 = "https://www.rfc-editor.org/rfc/rfc8460"  # SMTP TLS reporting: result types

# MTA-STS and TLS-RPT
MTA_STS_SHORT_MAX_AGE = 86400  # a policy cached for less than a day protects little while its host is down
RFC_8461 = "https://www.rfc-editor.org/rfc/rfc8461"  # SMTP MTA Strict Transport Security (MTA-STS)
EXO_MTA_STS = "https://learn.microsoft.com/purview/enhancing-mail-flow-with-mta-sts"
EXO_INBOUND_DANE = "https://learn.microsoft.com/purview/how-smtp-dane-works"

# CA/Browser Forum Baseline Requirements 6.3.2, as ballot SC-081 (2025) amends it: the longest validity period a
# publicly-trusted TLS certificate may have, by the date it is issued (NotBefore). Validity is counted as the BRs
# count it: NotAfter - NotBefore + 1 second (both ends inclusive). (ISO date from which the limit applies, days.)
PUBLIC_TLS_LIFETIMES = (("2018-03-01", 825), ("2020-09-01", 398), ("2026-03-15", 200), ("2027-03-15", 100),
                        ("2029-03-15", 47))
SC_081 = "https://cabforum.org/2025/04/11/ballot-sc081v3-introduce-schedule-of-reducing-validity-and-data-reuse-periods/"
CAB_BASELINE = "https://cabforum.org/working-groups/server/baseline-requirements/requirements/"
RENEW_AT_FRACTION = 2 / 3  # renew a certificate once two thirds of its lifetime have passed (plan)
RENEW_MARGIN_DAYS = 30  # ... or this many days before NotAfter, whichever comes first

# The Client Authentication EKU: public CAs stop issuing it in TLS server certificates (Chrome Root Program policy
# 1.6, from 2026-06-15); Exchange on-premises presents the hybrid certificate as a TLS client to Exchange Online.
CLIENT_AUTH = "1.3.6.1.5.5.7.3.2"
CLIENT_AUTH_SUNSET = "2026-06-15"
CHROME_ROOT_POLICY = "https://googlechrome.github.io/chromerootprogram/"
# Exchange Online attributes mail from an on-premises inbound connector by the certificate's domain first
# (Microsoft 365 message center MC1226222, February 2026)
MC1226222 = "Microsoft 365 message center MC1226222 (February 2026): inbound connector attribution by certificate domain"
IDENTIFY_CONNECTOR = ("https://learn.microsoft.com/exchange/mail-flow-best-practices/use-connectors-to-configure-"
                      "mail-flow/set-up-connectors-to-route-mail")
