"""Every format behind one signature: ``render(result, format, stream)`` for a run's report or a change plan."""

from __future__ import annotations

from typing import TextIO

from hybridtls.report import FORMATS, Plan, Report


def render(result: Report | Plan, fmt: str, stream: TextIO, *, width: int | None = None,
           color: bool | None = None) -> None:
    """Write ``result`` to ``stream`` as ``fmt`` (one of FORMATS). ``width`` and ``color`` apply to the terminal."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if isinstance(result, Plan):
        _render_plan(result, fmt, stream, width=width, color=color)
    elif fmt == "json":
        from hybridtls.report.json import render_json

        stream.write(render_json(result))
    elif fmt == "html":
        from hybridtls.report.html import render_html

        stream.write(render_html(result))
    elif fmt == "markdown":
        from hybridtls.report.markdown import render_markdown

        stream.write(render_markdown(result))
    else:
        from hybridtls.report.terminal import make_console, render_terminal

        render_terminal(result, make_console(stream, width=width, color=color))


def _render_plan(result: Plan, fmt: str, stream: TextIO, *, width: int | None, color: bool | None) -> None:
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
