"""``nlwire decode``."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``decode`` subcommand to ``subparsers``."""
    parser: argparse.ArgumentParser = subparsers.add_parser("decode", help="(not built yet)")
    parser.set_defaults(func=lambda args: 1)
