"""Fixtures for tests that talk to the real kernel.

Every test here needs root; without it the whole directory is skipped with a
reason. Tests that touch networking take the ``netns`` fixture: a fresh
network namespace, removed afterwards.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this directory ``kernel`` and skip it when not root."""
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason="kernel tests need root")
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.kernel)
            if os.geteuid() != 0:
                item.add_marker(skip)


@pytest.fixture
def netns() -> Iterator[str]:
    """Create a network namespace for one test; yield its name; delete it."""
    name = f"nlwire-test-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False)


@pytest.fixture
def delayacct_on() -> Iterator[None]:
    """Turn kernel.task_delayacct on for one test and restore the old value."""
    path = Path("/proc/sys/kernel/task_delayacct")
    if not path.exists():
        pytest.skip("this kernel has no kernel.task_delayacct sysctl")
    old = path.read_text().strip()
    path.write_text("1\n")
    try:
        yield
    finally:
        path.write_text(old + "\n")
