"""Progress of a run: stage lines for people, JSON lines for schedulers, bars on a terminal."""

from __future__ import annotations

import json
import sys
import time
from contextlib import contextmanager
from typing import TextIO


class RunLog:
    """Reports the stages of a run.

    Parameters
    ----------
    stream : file-like
        Where to write (standard error by default).
    json_lines : bool
        One JSON object per event (``{"event": ..., "stage": ..., "seconds": ...}``) instead of
        plain lines.
    bars : bool, optional
        Progress bars for long stages; by default only when ``stream`` is a terminal.
    """

    def __init__(self, stream: TextIO | None = None, *, json_lines: bool = False,
                 bars: bool | None = None):
        self.stream = stream or sys.stderr
        self.json_lines = json_lines
        self.bars = (not json_lines and self.stream.isatty()) if bars is None else bars

    def event(self, event: str, **fields) -> None:
        if self.json_lines:
            record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "event": event, **fields}
            self.stream.write(json.dumps(record, default=str) + "\n")
        else:
            details = " ".join(f"{k}={v}" for k, v in fields.items() if k not in ("stage",
                                                                                   "message"))
            stage = fields.get("stage")
            text = fields.get("message", "")
            parts = [p for p in (stage, event, text, details) if p]
            self.stream.write(" ".join(str(p) for p in parts) + "\n")
        self.stream.flush()

    def info(self, message: str, **fields) -> None:
        self.event("info", message=message, **fields)

    @contextmanager
    def progress(self, stage: str, total: int, what: str):
        """Report progress of ``total`` items: on a terminal a bar with the elapsed time (a
        pulsing one for a single item, so that a long stage of one partition is not silent),
        else lines at each quarter."""
        if self.bars:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                       TextColumn("{task.completed}/{task.total}" if total > 1 else ""),
                       TimeElapsedColumn())
            with Progress(*columns, console=Console(file=self.stream, force_terminal=True),
                          transient=True) as bar:
                task = bar.add_task(f"{stage}: {what}", total=total if total > 1 else None)
                yield lambda n=1: bar.advance(task, n)
        else:
            done = [0]
            step = max(1, total // 4)

            def advance(n: int = 1) -> None:
                before = done[0]
                done[0] += n
                if total > 1 and done[0] // step != before // step and done[0] < total:
                    self.event("progress", stage=stage, done=done[0], total=total, of=what)

            yield advance
