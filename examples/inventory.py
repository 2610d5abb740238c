"""Every server's certificates with their RootCAType, from a folder of saved console output.

    python3 examples/inventory.py examples/founding-incident
"""

import sys

import hybridtls

report = hybridtls.check(sys.argv[1:] or ["examples/founding-incident"])
rows = sorted(report.evidence.certificates,
              key=lambda c: ((c.server.name if c.server else "").casefold(), c.display_name))
print(f"{'Server':<12} {'Thumbprint or serial number':<40} {'RootCAType':<11} {'SMTP':<5} Certificate")
for cert in rows:
    server = cert.server.name if cert.server else "?"
    root = cert.root_ca_type.value if cert.root_ca_type else "?"
    smtp = {True: "yes", False: "no", None: "?"}[cert.has_smtp]
    print(f"{server:<12} {cert.thumbprint or cert.serial_number or '?':<40} {root:<11} {smtp:<5} {cert.display_name}")
print(f"\n{report.verdict.upper()}: " + ", ".join(f"{n} {s}" for s, n in report.counts.items()))
for finding in report.findings:
    print(f"  {finding.severity.value:<8} {finding.check_id} {finding.subject}")
