"""Signals held across a unit of work that must not be cut in half (a training step): the work finishes the unit,
saves, and only then the signal acts."""
from __future__ import annotations

from typing import Any


class HeldSignals:
    """While training, SIGTERM, SIGINT, SIGUSR1 and SIGUSR2 (a scheduler's preemption or time-out, Ctrl-C) are held
    until the step in progress ends: the trainer saves its checkpoint at that step boundary, then :meth:`release`
    hands the signal to whatever handled it before (submitit's requeue, Python's KeyboardInterrupt, the default
    termination). A resumed run so continues at the exact step, on the uninterrupted trajectory. Outside the main
    thread (where handlers cannot be set) nothing is held."""

    SIGNALS = ("SIGTERM", "SIGINT", "SIGUSR1", "SIGUSR2")

    def __init__(self) -> None:
        self.pending: tuple[int, Any] | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> HeldSignals:
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            for name in self.SIGNALS:
                number = getattr(signal, name, None)
                if number is not None:
                    self._previous[number] = signal.signal(number, self._hold)
        return self

    def _hold(self, signum: int, frame: Any) -> None:
        if self.pending is None:
            self.pending = (signum, frame)

    def _restore(self) -> None:
        import signal

        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous = {}

    def release(self) -> None:
        """Put the previous handlers back and deliver the held signal to them."""
        import signal

        signum, frame = self.pending
        self.pending = None
        self._restore()
        handler = signal.getsignal(signum)
        if callable(handler):
            handler(signum, frame)  # submitit requeues and exits; Python's SIGINT handler raises KeyboardInterrupt
        elif handler == signal.SIG_DFL:
            signal.raise_signal(signum)  # the default action (SIGTERM terminates)

    def __exit__(self, *exc: Any) -> None:
        self._restore()
