"""What every command-line entry point of the suite shares: expected failures as one or two lines, tracebacks
only when asked for.

Wrap a ``main(argv) -> int`` with :func:`entry_point`: a :class:`ypt.errors.YPTError` prints ``error: <message>``
on stderr and returns the error's ``exit_code`` (2: the command could not start: bad usage, an unknown key, a missing
resource; 1: work that started failed);
``--debug`` on the command line or ``YPT_DEBUG=1`` lets it propagate with its traceback. ``KeyboardInterrupt``
returns 130. One environment failure is recognised too: PyPI's CUDA-built torchvision beside a CPU-only torch
(``operator torchvision::nms does not exist``, :mod:`ypt.compat.torchvision_cpu`) prints the one line that fixes it
and returns 2. Any other exception is a bug and keeps its traceback.
"""
from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence

from ypt.errors import YPTError

DEBUG_ENV = "YPT_DEBUG"
DEBUG_FLAG = "--debug"


def debug_requested(argv: Sequence[str] | None = None) -> bool:
    argv = sys.argv[1:] if argv is None else argv
    return DEBUG_FLAG in argv or os.environ.get(DEBUG_ENV, "") not in ("", "0")


def add_debug_argument(parser) -> None:
    """``--debug``: show the traceback of an expected failure (also ``YPT_DEBUG=1``); on a parser with
    subcommands, on each of them too (``prog check X --debug``). Call it once the parser is complete."""
    import argparse

    parsers = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            parsers += list(action.choices.values())
    for each in parsers:
        if not any(DEBUG_FLAG in a.option_strings for a in each._actions):
            each.add_argument(DEBUG_FLAG, action="store_true",
                              help=f"show tracebacks of expected failures too (or {DEBUG_ENV}=1)")


def report(error: BaseException, stream=None) -> None:
    """``error: <message>`` on stderr; the message's own line breaks kept."""
    print(f"error: {error}", file=stream or sys.stderr)


def entry_point(main: Callable[..., int]) -> Callable[..., int]:
    """``main(argv=None) -> int`` with the suite's error handling (see the module docstring)."""

    @functools.wraps(main)
    def wrapped(argv: Sequence[str] | None = None, *args, **kwargs) -> int:
        previous = _interrupt_on_sigterm()
        try:
            return main(argv, *args, **kwargs)
        except YPTError as error:
            if debug_requested(argv):
                raise
            report(error)
            return error.exit_code
        except KeyboardInterrupt:
            print("interrupted; rerun the same command to resume (finished work is kept)", file=sys.stderr)
            return 130
        except Exception as error:
            from ypt.compat.torchvision_cpu import explain

            hint = explain(error)
            if hint is None or debug_requested(argv):
                raise
            report(hint)
            return 2
        finally:
            _restore_sigterm(previous)

    return wrapped


def _interrupt_on_sigterm():
    """SIGTERM (``kill``, a scheduler ending the command) interrupts like Ctrl-C: ``finally`` blocks run (staging
    removed, child processes ended) and the interrupted message is printed. Only in the main thread."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, interrupt)


def _restore_sigterm(previous) -> None:
    import signal

    if previous is not None:
        signal.signal(signal.SIGTERM, previous)
