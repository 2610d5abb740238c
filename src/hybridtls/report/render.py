"""Every format behind one signature: ``(result, format, stream)``, for a run's report and for a change plan.

Callers use ``Report.write`` and ``Plan.write``; the writers are imported only for the format asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from hybridtls.report import Plan, Report

FORMATS = ("terminal", "json", "html", "markdown")


def _known(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def render_report(report: Report, fmt: str, stream: TextIO, *, width: int | None = None,
                  color: bool | None = None, brief: bool = False, verbose: bool = False) -> None:
    _known(fmt)
    if fmt == "json":
        from hybridtls.report.json import write_json

        write_json(report, stream)
    elif fmt == "html":
        from hybridtls.report.html import render_html

        stream.write(render_html(report, brief=brief, verbose=verbose))
    elif fmt == "markdown":
        from hybridtls.report.markdown import render_markdown

        stream.write(render_markdown(report, brief=brief, verbose=verbose))
    else:
        from hybridtls.report.terminal import make_console, render_terminal

        render_terminal(report, make_console(stream, width=width, color=color), brief=brief, verbose=verbose)


def render_plan(result: Plan, fmt: str, stream: TextIO, *, width: int | None = None,
                color: bool | None = None) -> None:
    _known(fmt)
    from hybridtls.report import planview

    if fmt == "json":
        stream.write(planview.render_plan_json(result.plan, result.now))
    elif fmt == "html":
        stream.write(planview.render_plan_html(result.plan, result.now, result.fail_on))
    elif fmt == "markdown":
        stream.write(planview.render_plan_markdown(result.plan, result.now))
    else:
        from hybridtls.report.terminal import make_console

        planview.render_plan_terminal(result.plan, result.now, make_console(stream, width=width, color=color))
