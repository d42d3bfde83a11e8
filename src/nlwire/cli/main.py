"""The ``nlwire`` command: argument parsing, dispatch and error reporting.

Every failure ends as one line on stderr, ``nlwire: <what went wrong>``, and
exit status 1 (2 for usage errors, 130 for Ctrl-C); never a traceback.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import sys
from collections.abc import Sequence

from nlwire import __version__
from nlwire.cli.common import CliError

# Subcommand modules, each with ``register(subparsers)``. They are imported
# at start-up, so they import only the standard library at module level.
_COMMANDS = ("top", "taskstats", "genl", "decode")


def build_parser() -> argparse.ArgumentParser:
    """Return the parser for the whole command line."""
    parser = argparse.ArgumentParser(
        prog="nlwire",
        description="Linux netlink tools: taskstats monitor, generic netlink, decoder.",
    )
    parser.add_argument("--version", action="version", version=f"nlwire {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="print every netlink message sent and received on stderr (also NLWIRE_DEBUG=1)",
    )
    parser.add_argument(
        "-n", "--netns", metavar="NAME", help="run inside the network namespace NAME (like ip -n)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in _COMMANDS:
        module = importlib.import_module(f"nlwire.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``nlwire`` with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    args = build_parser().parse_args(argv)
    if args.debug:
        os.environ["NLWIRE_DEBUG"] = "1"
    try:
        status: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 1
    except CliError as exc:
        return _fail(str(exc), exc.status)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, no traceback
        return _fail(describe_error(exc), 1)
    return status


def describe_error(exc: BaseException) -> str:
    """Return a one-line description of ``exc`` for the user."""
    from nlwire.errors import NlwireError

    if isinstance(exc, NlwireError):
        return str(exc)
    if isinstance(exc, OSError):
        name = errno.errorcode.get(exc.errno or 0, "")
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror or exc}{where}" + (f" [{name}]" if name else "")
    return f"internal error: {type(exc).__name__}: {exc}"


def _fail(message: str, status: int) -> int:
    sys.stdout.flush()
    sys.stderr.write(f"nlwire: {message}\n")
    return status


def _silence_stdout() -> None:
    # Python flushes stdout again at exit; point it at /dev/null so a closed
    # pipe (``nlwire ... | head``) does not print a second error.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    sys.exit(main())
