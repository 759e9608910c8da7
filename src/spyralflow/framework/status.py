"""Progress messages: Spyral's ``StatusMessage`` and a queue that turns them into log lines."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any, TextIO


@dataclass
class StatusMessage:
    """A progress step, as Spyral's phases send it.

    Parameters
    ----------
    phase : str
        The task name shown to the user.
    increment : int
        Steps done since the last message.
    total : int
        Steps in the whole task.
    run : int
        The run number.
    """

    phase: str
    increment: int
    total: int
    run: int

    def __str__(self) -> str:
        return f"Run {self.run} | Task: {self.phase} |"


class ProgressLog:
    """A stand-in for Spyral's message queue that writes progress lines to a stream.

    Lines are written at most every ``min_interval_s`` seconds and at completion, so a job log
    shows progress on long work without one line per event.

    Parameters
    ----------
    stream : TextIO, optional
        Where lines go; standard error by default (the job log).
    min_interval_s : float
        Smallest time between two lines of the same task, in seconds.
    """

    def __init__(self, stream: TextIO | None = None, min_interval_s: float = 5.0) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.min_interval_s = min_interval_s
        self._task: tuple[str, int] | None = None
        self._done = 0
        self._total = 0
        self._started = 0.0
        self._last_line: float | None = None

    def put(self, message: Any) -> None:
        """Record one message (any object with phase, increment, total and run)."""
        task = (str(message.phase), int(message.run))
        now = time.monotonic()
        if task != self._task:
            self._task, self._done, self._started, self._last_line = task, 0, now, None
        self._total = int(message.total)
        self._done += int(message.increment)
        finished = self._total > 0 and self._done >= self._total
        due = self._last_line is None or now - self._last_line >= self.min_interval_s
        if finished or due:
            self._last_line = now
            self._write_line(now)

    def _write_line(self, now: float) -> None:
        phase, run = self._task if self._task else ("?", -1)
        elapsed = now - self._started
        if self._total > 0:
            percent = 100.0 * min(self._done, self._total) / self._total
            progress = f"{self._done}/{self._total} ({percent:.0f}%)"
        else:
            progress = f"{self._done} steps"
        self.stream.write(f"progress: run {run} | {phase} | {progress} | {elapsed:.1f} s\n")
        self.stream.flush()

    def empty(self) -> bool:
        """Spyral's queues are polled with ``empty``; this one never holds messages."""
        return True


class RunProgress:
    """Spyral's progress pattern for one run: about ``steps`` messages spread over the items.

    Parameters
    ----------
    msg_queue : queue-like
        Where ``StatusMessage`` objects go (``put``).
    task : str
        The task name shown in progress lines.
    run : int
        The run number.
    items : int
        How many items (events, clusters, fits) the run has.
    steps : int
        Most messages per run.
    """

    def __init__(self, msg_queue: Any, task: str, run: int, items: int, steps: int = 100) -> None:
        self.msg_queue, self.task, self.run = msg_queue, task, run
        self.items = max(items, 0)
        self.total = min(steps, self.items)
        self.reported = 0

    def update(self, done: int) -> None:
        """Report that ``done`` items of the run are finished."""
        if self.items == 0:
            return
        due = min(done, self.items) * self.total // self.items
        if due > self.reported:
            self.msg_queue.put(StatusMessage(self.task, due - self.reported, self.total, self.run))
            self.reported = due

    def finish(self) -> None:
        """Report the rest, so the task ends at 100 % even if items were missing."""
        self.update(self.items)
