"""What the command is doing right now, so the user is never left guessing.

A step that lasts longer than ``FIRST_AFTER`` seconds is named on stderr (``… connecting
to 127.0.0.1:8765``), and again every ``REPEAT_EVERY`` seconds with the time waited, so
no wait is silent for long. The activity also remembers where the command talks to and
whether a state-changing request was started, for the message after an error or a Ctrl-C
("it may have reached the exchange"); ``uncancel`` tells the task a Ctrl-C was handled.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator

__all__ = ["FIRST_AFTER", "REPEAT_EVERY", "Activity", "uncancel"]

FIRST_AFTER = 1.0
REPEAT_EVERY = 5.0


class Activity:
    """The current step, where it talks to, and what state-changing request is under way."""

    def __init__(self, write: Callable[[str], None] = lambda text: None, *, first_after: float = FIRST_AFTER,
                 repeat_every: float = REPEAT_EVERY, clock: Callable[[], float] = time.monotonic) -> None:
        self._write = write
        self._first_after = first_after
        self._repeat_every = repeat_every
        self._clock = clock
        #: the host (or venue and network) the command talks to, once known
        self.where: str | None = None
        #: the state-changing request started (kept after it ended: it may have reached the exchange)
        self.sending: str | None = None
        self._step: str | None = None
        self._since = 0.0
        self._told: float | None = None

    @contextlib.contextmanager
    def step(self, what: str | None, *, sending: str | None = None) -> Iterator[None]:
        """Mark ``what`` as the current step (a nested step replaces it until it ends);
        ``None`` is a quiet step (e.g. while the user reads a question)."""
        outer = (self._step, self._since, self._told)
        self._step, self._since, self._told = what, self._clock(), None
        if sending is not None:
            self.sending = sending
        try:
            yield
        finally:
            self._step, self._since, self._told = outer

    def tick(self) -> None:
        """Say what is being waited for, when the current step has lasted long enough."""
        if self._step is None:
            return
        now = self._clock()
        waited = now - self._since
        if self._told is None:
            if waited >= self._first_after:
                self._write(f"… {self._step}")
                self._told = now
        elif now - self._told >= self._repeat_every:
            self._write(f"… still {self._step} ({waited:.0f} s)")
            self._told = now

    async def watch(self, interval: float = 0.1) -> None:
        """Run ``tick`` until cancelled."""
        while True:
            await asyncio.sleep(interval)
            self.tick()


def uncancel() -> None:
    """After a Ctrl-C (the main task cancelled) was handled: nothing is cancelling any more."""
    task = asyncio.current_task()
    undo = getattr(task, "uncancel", None)  # Python 3.11+
    if undo is not None:
        undo()
