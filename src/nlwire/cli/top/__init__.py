"""``nlwire top``: a live per-process monitor of CPU, I/O, memory and delays.

Only the standard library is imported here: the monitor, the taskstats
client and Textual are imported when the command runs, so ``nlwire`` starts
fast and works without Textual installed (``--batch`` needs none).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from nlwire.cli.common import CliError

_SORT_KEYS = (
    "pid", "user", "cpu", "read", "write", "cpuwait", "iowait", "swapin", "reclaim",
    "thrash", "compact", "wpcopy", "irq", "rss", "csw", "threads", "command",
)  # fmt: skip

DESCRIPTION = """\
Show, per process (or per thread), CPU use, storage reads and writes, peak
memory, context switches and the time spent waiting: for a CPU, for block
I/O, for swap-in, in memory reclaim, thrashing, compaction, write-protect
copies and IRQs. Above it: system CPU, memory and pressure stall figures;
below it: processes as they exit, with their exit status.

Needs CAP_NET_ADMIN in the initial user namespace (run as root). Delays
other than CPU-wait need delay accounting (sysctl kernel.task_delayacct=1).
"""


def register(subparsers: Any) -> None:
    """Add the ``top`` subcommand to ``subparsers``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "top",
        help="live per-process monitor of CPU, I/O, memory and delays",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "-b", "--batch", action="store_true", help="print text reports instead of the screen"
    )
    parser.add_argument(
        "-n", "--iterations", type=int, metavar="N", help="with --batch: stop after N reports"
    )
    parser.add_argument(
        "-d", "--delay", type=float, default=1.0, metavar="S",
        help="seconds between readings (default 1)",
    )  # fmt: skip
    parser.add_argument(
        "--json", action="store_true", help="with --batch: one JSON document per line"
    )
    parser.add_argument(
        "-H", "--threads", action="store_true", help="one row per thread, not per process"
    )
    parser.add_argument(
        "-o", "--only-active", action="store_true",
        help="only tasks that used CPU, did I/O or waited in the interval",
    )  # fmt: skip
    parser.add_argument(
        "-s", "--sort", choices=_SORT_KEYS, default="cpu", metavar="COLUMN",
        help=f"sort by COLUMN, largest first: {', '.join(_SORT_KEYS)} (default cpu)",
    )  # fmt: skip
    parser.add_argument("-r", "--reverse", action="store_true", help="reverse the sort order")
    parser.add_argument("-u", "--user", default="", help="only tasks of USER (name or uid)")
    parser.add_argument(
        "-f", "--filter", default="", metavar="TEXT",
        help="only tasks whose command line contains TEXT (or whose pid is TEXT)",
    )  # fmt: skip
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``nlwire top`` as ``args`` say; return the exit status."""
    _check_arguments(args)
    from nlwire.cli.top.batch import ViewOptions

    ascending = args.sort in ("pid", "user", "command")
    options = ViewOptions(
        sort=args.sort,
        reverse=ascending == args.reverse,
        text=args.filter,
        user=args.user,
        only_active=args.only_active,
        threads=args.threads,
    )
    # Open the kernel side first: no privilege means one line and status 1,
    # before anything draws on the terminal.
    from nlwire.taskstats import TaskstatsPermissionError
    from nlwire.taskstats.monitor import Sampler
    from nlwire.taskstats.system import KernelSource, SystemMonitor

    try:
        source = KernelSource.open(netns=args.netns)
    except TaskstatsPermissionError:
        raise CliError(
            "top needs CAP_NET_ADMIN in the initial user namespace: run it as root"
        ) from None
    with source:
        if not args.batch:
            _check_terminal()
        sampler = Sampler(source)
        system = SystemMonitor()
        if args.batch:
            from nlwire.cli.common import warn
            from nlwire.cli.top.batch import run_batch

            for warning in source.warnings:
                warn(warning)
            return run_batch(
                sampler, system, options, out=sys.stdout, delay=args.delay,
                iterations=args.iterations, as_json=args.json,
            )  # fmt: skip
        return _run_screen(sampler, system, options, args.delay, source.warnings)


def _check_arguments(args: argparse.Namespace) -> None:
    if not 0.1 <= args.delay <= 3600:
        raise CliError(f"--delay must be between 0.1 and 3600 seconds, not {args.delay:g}")
    if args.iterations is not None and args.iterations < 1:
        raise CliError(f"--iterations must be at least 1, not {args.iterations}")
    if not args.batch and (args.json or args.iterations is not None):
        raise CliError("--json and --iterations need --batch")


def _check_terminal() -> None:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise CliError("the screen needs a terminal; use --batch for output to a pipe or file")
    try:
        import textual  # noqa: F401
    except ImportError:
        raise CliError(
            "the screen needs Textual: pip install 'nlwire[tui]' (or use --batch)"
        ) from None


def _run_screen(sampler: Any, system: Any, options: Any, delay: float, warnings: list[str]) -> int:
    from nlwire.cli.top.app import TopApp
    from nlwire.taskstats.procfs import set_delayacct

    # Textual takes COLUMNS/LINES, when exported, as a fixed screen size and
    # then ignores resizes; the terminal itself knows its size better.
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)

    app = TopApp(
        sampler, system, set_delayacct=set_delayacct, options=options, interval=delay,
        notice="; ".join(warnings),
    )  # fmt: skip
    app.run()
    if app.failure is not None:
        raise app.failure
    return 0
