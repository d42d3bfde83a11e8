"""Helpers shared by the ``nlwire`` subcommands.

Subcommand modules are imported at start-up only to register their argument
parsers, so they keep their module-level imports to the standard library and
import the library (or Textual) inside the function that runs the command.
"""

from __future__ import annotations

import json
import sys
from typing import Any


class CliError(Exception):
    """A failure to report as one line on stderr, with an exit status."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout."""
    json.dump(value, sys.stdout, indent=2, default=_json_default)
    sys.stdout.write("\n")


def print_json_line(value: Any) -> None:
    """Print ``value`` as one compact JSON line on stdout and flush it."""
    sys.stdout.write(json.dumps(value, separators=(",", ":"), default=_json_default))
    sys.stdout.write("\n")
    sys.stdout.flush()


def warn(message: str) -> None:
    """Print a one-line warning on stderr."""
    sys.stderr.write(f"nlwire: warning: {message}\n")
    sys.stderr.flush()


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, set | frozenset):
        return sorted(value)
    return str(value)
