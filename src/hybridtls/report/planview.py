"""A change plan for people: terminal, Markdown (for the change ticket) and JSON."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.text import Text

from hybridtls._version import __version__
from hybridtls.model import Severity
from hybridtls.planning.model import ChangePlan, Rotation
from hybridtls.report.escape import inert, inert_lines
from hybridtls.report.markdown import code_block, text

PLAN_SCHEMA_VERSION = 1
_STYLE = {"error": "bold red", "warning": "bold yellow", "info": "bold cyan"}


def plan_document(plan: ChangePlan, now: datetime) -> dict[str, Any]:
    new = plan.new_certificate
    return {
        "schema_version": PLAN_SCHEMA_VERSION,
        "tool": {"name": "hybridtls", "version": __version__},
        "command": "plan",
        "now": now.isoformat(timespec="seconds"),
        "new_certificate": {"subject": new.subject, "issuer": new.issuer, "thumbprint": new.thumbprint,
                            "tls_certificate_name": new.tls_certificate_name, "lenient": list(new.lenient),
                            "certificate_domains": list(new.certificate_domains),
                            "not_before": new.not_before.isoformat(), "not_after": new.not_after.isoformat(),
                            "chain": [c.subject for c in plan.chain.path], "chain_end": plan.chain.end.value},
        "servers": list(plan.servers),
        "current_tls_certificate_names": list(plan.current_names),
        "vendor_change": plan.vendor_change,
        "references": [{"what": r.what, "name": r.name, "setting": r.setting, "current": r.current, "after": r.after,
                        "path": r.source.path, "line": r.source.line} for r in plan.references],
        "steps": [{"title": s.title, "why": s.why, "where": s.where, "commands": s.commands} for s in plan.steps],
        "risks": [{"severity": r.severity.value, "title": r.title, "detail": r.detail} for r in plan.risks],
        "rotation": _rotation_document(plan.rotation),
    }


def _rotation_document(rotation: Rotation | None) -> dict[str, Any] | None:
    if rotation is None:
        return None
    return {"client_auth": rotation.client_auth, "eku": list(rotation.eku),
            "lifetime_days": round(rotation.lifetime_days, 2), "max_lifetime_days": rotation.max_lifetime_days,
            "renew_by": rotation.renew_by.isoformat(), "next_max_lifetime_days": rotation.next_max_lifetime_days,
            "accepted_domains": list(rotation.accepted_domains), "names_outside": list(rotation.names_outside),
            "servers": [{"server": s.server, "root_in_authroot": s.root_in_authroot, "root_elsewhere": list(s.root_elsewhere),
                         "ca_listed": s.ca_listed, "intermediates_missing": list(s.intermediates_missing),
                         "path": s.source.path, "line": s.source.line} for s in rotation.servers]}


def rotation_lines(rotation: Rotation) -> list[str]:
    """The rotation section as plain sentences (escaped by each format): EKU, names, cadence, stores."""
    eku = (f"yes ({', '.join(rotation.eku)})" if rotation.client_auth and rotation.eku
           else "yes (no Extended Key Usage extension: any use)" if rotation.client_auth
           else f"no ({', '.join(rotation.eku)}): Microsoft has published no statement yet on whether Exchange Online "
                "needs it")
    limit = (f"; a public CA may issue at most {rotation.max_lifetime_days} days on its NotBefore"
             if rotation.max_lifetime_days else "")
    names = ("not compared: no Get-AcceptedDomain output in the evidence" if not rotation.accepted_domains
             else "all under the accepted domains" if not rotation.names_outside
             else f"outside the accepted domains: {', '.join(rotation.names_outside)}")
    lines = [f"Client Authentication EKU: {eku}",
             f"Lifetime: {rotation.lifetime_days:,.0f} days{limit}",
             f"Next rotation due by: {rotation.renew_by:%Y-%m-%d}"
             + (f" (then at most {rotation.next_max_lifetime_days} days per certificate)"
                if rotation.next_max_lifetime_days else ""),
             f"Names vs accepted domains: {names}"]
    if not rotation.servers:
        lines.append("Stores: no certificate-store listings in the evidence; the chain step imports it on every server")
    for server in rotation.servers:
        root = {True: "root in AuthRoot", False: "root NOT in AuthRoot", None: "AuthRoot not listed"}[
            server.root_in_authroot]
        if server.root_elsewhere:
            root += f" (found in {', '.join(server.root_elsewhere)})"
        inter = ("CA not listed" if not server.ca_listed else "intermediates in CA" if not server.intermediates_missing
                 else f"missing from CA: {'; '.join(server.intermediates_missing)}")
        lines.append(f"Stores on {server.server}: {root}; {inter} ({server.source})")
    return lines


def render_plan_json(plan: ChangePlan, now: datetime) -> str:
    return json.dumps(plan_document(plan, now), indent=2, ensure_ascii=True) + "\n"


def render_plan_markdown(plan: ChangePlan, now: datetime) -> str:
    new = plan.new_certificate
    out = [f"# Certificate change plan: {text(new.subject)}", "",
           f"New certificate: {text(new.subject)}, issued by {text(new.issuer)}, thumbprint {new.thumbprint}, "
           f"valid {new.not_before:%Y-%m-%d} to {new.not_after:%Y-%m-%d}. Planned {now:%Y-%m-%d}.", "",
           f"Servers: {text(', '.join(plan.servers) or '(none in the evidence)')}"]
    if new.lenient:
        out += ["", f"Read leniently: {text('; '.join(new.lenient))}"]
    if plan.vendor_change:
        out += ["", "**A new CA vendor: every TlsCertificateName changes.**"]
    out += ["", "## What would fail if done as planned", ""]
    out += [f"- **{r.severity.value.upper()}** {text(r.title)}: {text(r.detail)}" for r in plan.risks] or ["- nothing found"]
    if plan.references:
        out += ["", "## Objects that refer to the current certificate", "",
                "| Object | Name | Setting | Now | After |", "|---|---|---|---|---|"]
        out += [f"| {text(r.what)} | {text(r.name)} | {r.setting} | {text(r.current)} | {text(r.after)} |"
                for r in plan.references]
    if plan.rotation is not None:
        out += ["", "## Rotation", ""]
        out += [f"- {text(line)}" for line in rotation_lines(plan.rotation)]
    out += ["", "## Steps"]
    for number, step in enumerate(plan.steps, 1):
        out += ["", f"### {number}. {text(step.title)}", "", f"Where: {text(step.where)}", "", text(step.why), "",
                code_block(step.commands)]
    return "\n".join(out) + "\n"


def render_plan_terminal(plan: ChangePlan, now: datetime, console: Console) -> None:
    new = plan.new_certificate
    console.print(Text(f"hybridtls plan: switch to {inert(new.subject, single_line=True)}", style="bold"))
    console.print(Text(f"thumbprint {new.thumbprint}, issued by {inert(new.issuer, single_line=True)}, valid "
                       f"{new.not_before:%Y-%m-%d} to {new.not_after:%Y-%m-%d}", style="dim"))
    console.print(Text(f"servers: {inert(', '.join(plan.servers) or '(none in the evidence)', single_line=True)}"))
    if new.lenient:
        console.print(Text(f"read leniently: {inert('; '.join(new.lenient), single_line=True)}", style="dim"))
    console.print()
    console.print(Text("What would fail if done as planned", style="bold underline"))
    for risk in plan.risks or ():
        line = Text(f"  {risk.severity.value.upper():8}", style=_STYLE[risk.severity.value])
        line.append(f"{inert(risk.title, single_line=True)}: {inert(risk.detail, single_line=True)}")
        console.print(line)
    if not plan.risks:
        console.print(Text("  nothing found", style="green"))
    if plan.references:
        console.print()
        console.print(Text("Objects that refer to the current certificate", style="bold underline"))
        for ref in plan.references:
            console.print(Text(f"  {ref.what} {inert(ref.name, single_line=True)}: {ref.setting} "
                               f"{inert(ref.current, single_line=True)} -> {inert(ref.after, single_line=True)}  "
                               f"({inert(str(ref.source), single_line=True)})"))
    if plan.rotation is not None:
        console.print()
        console.print(Text("Rotation", style="bold underline"))
        for sentence in rotation_lines(plan.rotation):
            console.print(Text(f"  {inert(sentence, single_line=True)}"))
    for number, step in enumerate(plan.steps, 1):
        console.print()
        console.print(Text(f"{number}. {step.title}", style="bold"))
        console.print(Text(f"   where: {inert(step.where, single_line=True)}", style="dim"))
        console.print(Text(f"   {step.why}", style="dim"))
        for command_line in inert_lines(step.commands):
            console.print(Text("     " + command_line, style="green"), soft_wrap=True)


def render_plan_html(plan: ChangePlan, now: datetime, fail_on: Severity | None) -> str:
    from hybridtls.report.html import environment

    counts: dict[str, int] = {}
    for risk in plan.risks:
        counts[risk.severity.value] = counts.get(risk.severity.value, 0) + 1
    blocking = fail_on is not None and any(r.severity.rank >= fail_on.rank for r in plan.risks)
    return str(environment().get_template("plan.html.j2").render(
        plan=plan, now=now, version=__version__, counts=sorted(counts.items()), blocking=blocking,
        rotation=rotation_lines(plan.rotation) if plan.rotation else ()))
