"""A terminal progress bar for runs longer than a couple of seconds."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["ProgressBar"]


class ProgressBar:
    """Shows simulated-time progress on ``stream`` once a run has taken ``delay`` seconds.

    Parameters
    ----------
    start, end
        Simulated time span.
    quiet
        Show nothing.
    delay
        Seconds of wall time before the bar first appears (short runs stay silent).
    """

    def __init__(self, start: float, end: float, *, quiet: bool = False, delay: float = 2.0,
                 stream: TextIO | None = None, width: int = 30) -> None:
        self.start, self.end = start, end
        self.quiet = quiet
        self.delay = delay
        self.stream = stream or sys.stderr
        self.width = width
        self.t0 = time.perf_counter()
        self._last = 0.0
        self.shown = False
        # On a terminal the bar redraws in place; into a file it writes a line per 10 %.
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._next_line = 0.0

    def update(self, t: float) -> None:
        """Report that simulated time ``t`` has been reached."""
        if self.quiet:
            return
        now = time.perf_counter()
        if now - self.t0 < self.delay or now - self._last < 0.1:
            return
        self._last = now
        self.shown = True
        frac = min(max((t - self.start) / (self.end - self.start), 0.0), 1.0)
        if not self.tty and frac < self._next_line:
            return
        self._next_line = (int(frac * 10) + 1) / 10
        filled = int(round(frac * self.width))
        elapsed = now - self.t0
        eta = elapsed * (1 - frac) / frac if frac > 0 else float("nan")
        line = (f"[{'#' * filled}{'.' * (self.width - filled)}] {100 * frac:5.1f}%  "
                f"t={t:.4g}  {elapsed:6.1f}s elapsed, ~{eta:5.1f}s left")
        self.stream.write(f"\r{line}" if self.tty else f"{line}\n")
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line, if it was shown."""
        if self.shown and self.tty:
            self.stream.write("\n")
            self.stream.flush()
