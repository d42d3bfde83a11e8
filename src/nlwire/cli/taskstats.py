"""``nlwire taskstats``."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``taskstats`` subcommand to ``subparsers``."""
    parser: argparse.ArgumentParser = subparsers.add_parser("taskstats", help="(not built yet)")
    parser.set_defaults(func=lambda args: 1)
