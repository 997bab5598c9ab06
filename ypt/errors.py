"""The suite's expected failures: one base class, subclasses by cause.

Every failure a user can fix (a missing dataset, weights file, prompt or environment; a damaged or unreadable input;
a dataset folder in no known layout; an unknown key; a bad option or configuration; an external command that
failed) raises a subclass of :class:`YPTError` whose message names the thing and the fix. Command-line entry
points catch :class:`YPTError` only and print its message in one or two lines, so a bug (any other exception) still
shows its traceback. Subclasses also derive from the matching built-in exception where callers have long caught
that one (``FileNotFoundError``, ``ValueError``, ``KeyError``).

``ypt`` is the lowest layer of the suite, so the base lives here; ``benchmarks``, ``baselines`` and ``slurm``
subclass these classes for their own causes.
"""
from __future__ import annotations


class YPTError(Exception):
    """Base of every expected failure; ``str(error)`` is the user-facing message (what, and how to fix it)."""

    #: exit status of a command-line entry point that stops on this error: 2 when the command cannot start (bad
    #: usage, unknown key, missing resource), 1 when work that started failed
    exit_code = 1


class MissingResource(YPTError, FileNotFoundError):
    """Something the work needs is not on this machine: data, weights, a prompt file, an environment."""

    exit_code = 2


class MissingModel(MissingResource):
    """A backbone's weights are neither a local folder nor in the Hugging Face cache."""


class MissingPrompt(MissingResource):
    """A prompt file is not where it was looked for."""


class MissingData(MissingResource):
    """A dataset or training set is not on disk (or holds no samples)."""


class BadInput(YPTError, ValueError):
    """An input or target file exists but cannot be used: unreadable, truncated, wrong shape or size."""


class BadLayout(YPTError):
    """A dataset folder is in none of the layouts its spec understands."""


class UnknownKey(YPTError, KeyError, ValueError):
    """An unknown registry key (table, dataset, method, metric, bridge, backbone, ...); the message names close
    matches and every valid key. Also a ``KeyError`` (a lookup) and a ``ValueError`` (a bad argument value)."""

    exit_code = 2

    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return str(self.args[0]) if self.args else ""


class UsageError(YPTError, ValueError):
    """A bad option, argument combination or configuration file."""

    exit_code = 2


class RunFailed(YPTError):
    """Work that started failed for a reason outside the suite (an external command's exit status, a job)."""
