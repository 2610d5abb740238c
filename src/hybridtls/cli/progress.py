"""A long run's progress on a terminal: a rich progress bar on standard error, fed by the application's
``Progress`` events (items done / total, and the item in flight longest, with for how long).

Nothing at all is written when standard error is not a terminal: a log or a CI job keeps only the report.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.progress import Task
    from rich.text import Text

    from hybridtls.model import ProgressEvent


MAX_ITEM = 32  # characters of the item named beside the bar (an 80-column line holds the whole bar)


class InFlight:
    """The items started and not yet finished, with when each started (read by rich's refresh thread)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._started: dict[str, float] = {}

    def start(self, item: str) -> None:
        with self._lock:
            self._started[item] = self._clock()

    def finish(self, item: str) -> None:
        with self._lock:
            self._started.pop(item, None)

    def longest(self) -> tuple[str, float] | None:
        """The item in flight longest and its seconds so far; None when nothing is in flight."""
        with self._lock:
            if not self._started:
                return None
            item, since = min(self._started.items(), key=lambda pair: pair[1])
        return item, self._clock() - since


def waiting_words(longest: tuple[str, float] | None, verb: str) -> str:
    """"waiting on mail.contoso.com[192.0.2.1]:25 for 12 s" (the item is escaped: it may come from a file)."""
    from hybridtls.report.escape import inert

    if longest is None:
        return ""
    item, seconds = longest
    shown = inert(item, single_line=True)
    if len(shown) > MAX_ITEM:  # a deep path keeps its end, the file's own name
        shown = "\N{HORIZONTAL ELLIPSIS}" + shown[-(MAX_ITEM - 1):]
    return f"{verb} {shown} for {seconds:.0f} s"


class _Bar:
    """The events of one run onto one rich task."""

    def __init__(self, err: TextIO, what: str, verb: str) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn

        in_flight = self.in_flight = InFlight()

        class Waiting(ProgressColumn):
            def render(self, task: Task) -> Text:
                from rich.text import Text

                return Text(waiting_words(in_flight.longest(), verb), style="dim", no_wrap=True, overflow="ellipsis")

        console = Console(file=err, highlight=False, markup=False, emoji=False)
        self.progress = Progress(TextColumn(what), BarColumn(bar_width=16), MofNCompleteColumn(), Waiting(),
                                 console=console,
                                 transient=True, redirect_stdout=False, redirect_stderr=False,
                                 refresh_per_second=4)
        self.task = self.progress.add_task(what, total=None)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """The bar off the screen while something else talks on the terminal (a PFX password prompt)."""
        self.progress.stop()
        try:
            yield
        finally:
            self.progress.start()

    def __call__(self, event: ProgressEvent) -> None:
        from hybridtls.model import ProgressKind

        if event.kind is ProgressKind.TOTAL:
            self.progress.update(self.task, total=event.count, completed=0)
        elif event.kind is ProgressKind.STARTED:
            self.in_flight.start(event.item)
        else:
            self.in_flight.finish(event.item)
            self.progress.advance(self.task)


@contextmanager
def progress_bar(err: TextIO, what: str, verb: str) -> Iterator[_Bar | None]:
    """A callback that draws the run's progress on ``err`` while the block runs, or None when ``err`` is not a
    terminal. The bar is removed when the block ends, however it ends (Ctrl-C included); ``paused()`` takes it
    off the screen for a prompt."""
    from hybridtls.report.terminal import is_terminal

    if not is_terminal(err):
        yield None
        return
    bar = _Bar(err, what, verb)
    with bar.progress:
        yield bar
