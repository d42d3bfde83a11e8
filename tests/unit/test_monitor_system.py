"""System readings: pressure, CPU shares, memory, delay accounting, user names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nlwire.taskstats.system import (
    CpuTimes,
    SystemMonitor,
    UserNames,
    cpu_percentages,
    read_memory,
    read_pressure,
)


def make_proc(root: Path, *, cpu_line: str, delayacct: str | None = "0") -> Path:
    (root / "pressure").mkdir(parents=True, exist_ok=True)
    (root / "pressure" / "io").write_text(
        "some avg10=12.50 avg60=3.00 avg300=1.00 total=123\n"
        "full avg10=4.25 avg60=1.00 avg300=0.50 total=45\n"
    )
    (root / "pressure" / "cpu").write_text("some avg10=1.00 avg60=0.00 avg300=0.00 total=1\n")
    (root / "stat").write_text(cpu_line + "\ncpu0 1 2 3 4\n")
    (root / "meminfo").write_text(
        "MemTotal:       1000 kB\nMemFree:         200 kB\nMemAvailable:    600 kB\n"
        "SwapTotal:        50 kB\nSwapFree:         40 kB\n"
    )
    if delayacct is not None:
        (root / "sys" / "kernel").mkdir(parents=True, exist_ok=True)
        (root / "sys" / "kernel" / "task_delayacct").write_text(delayacct + "\n")
    return root


def test_pressure_some_and_full_avg10(tmp_path: Path) -> None:
    proc = make_proc(tmp_path, cpu_line="cpu 1 2 3 4")
    io = read_pressure("io", proc)
    assert io is not None
    assert (io.some, io.full) == (12.5, 4.25)
    cpu = read_pressure("cpu", proc)
    assert cpu is not None and cpu.full is None


def test_absent_pressure_file_is_absent_not_an_error(tmp_path: Path) -> None:
    proc = make_proc(tmp_path, cpu_line="cpu 1 2 3 4")
    assert read_pressure("memory", proc) is None
    assert read_pressure("io", tmp_path / "nowhere") is None


def test_cpu_shares_between_two_readings() -> None:
    before = CpuTimes((100, 0, 50, 800, 50, 0, 0, 0, 0, 0))
    after = CpuTimes((150, 0, 75, 825, 150, 0, 0, 0, 0, 0))
    shares = cpu_percentages(before, after)
    assert shares["user"] == pytest.approx(25.0)
    assert shares["system"] == pytest.approx(12.5)
    assert shares["idle"] == pytest.approx(12.5)
    assert shares["iowait"] == pytest.approx(50.0)
    assert cpu_percentages(after, after) == {}


def test_memory_essentials(tmp_path: Path) -> None:
    memory = read_memory(make_proc(tmp_path, cpu_line="cpu 1"))
    assert memory is not None
    assert (memory.total, memory.free, memory.available) == (1000, 200, 600)
    assert (memory.swap_total, memory.swap_free) == (50, 40)


def test_system_monitor_cpu_shares_need_two_readings(tmp_path: Path) -> None:
    proc = make_proc(tmp_path, cpu_line="cpu 100 0 0 100 0 0 0 0 0 0")
    monitor = SystemMonitor(proc)
    first = monitor.sample()
    assert first.cpu == {}
    assert first.delayacct is False
    assert first.pressure["memory"] is None
    make_proc(tmp_path, cpu_line="cpu 200 0 0 100 0 0 0 0 0 0", delayacct="1")
    second = monitor.sample()
    assert second.cpu["user"] == pytest.approx(100.0)
    assert second.delayacct is True


def test_unknown_delay_accounting_switch_reads_none(tmp_path: Path) -> None:
    proc = make_proc(tmp_path, cpu_line="cpu 1", delayacct=None)
    assert SystemMonitor(proc).sample().delayacct is None


def test_user_names_are_cached_and_unknown_uids_are_numbers() -> None:
    names = UserNames()
    assert names(0) == "root"
    assert names(0) is names(0)
    unknown = 4_000_000_000 - os.getpid()
    assert names(unknown) == str(unknown)
