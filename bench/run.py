"""Run every benchmark in this folder, one after the other.

Each benchmark is a standalone script that measures nlwire against its
references in the same run and prints a table of ratios. They need root
and a quiet machine; they are not part of the test suite.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    """Run the benchmark scripts; return non-zero if any of them failed."""
    here = Path(__file__).parent
    failed = 0
    for script in sorted(here.glob("*.py")):
        if script.name == "run.py":
            continue
        print(f"== {script.name}", flush=True)
        failed += subprocess.run([sys.executable, str(script)], check=False).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
