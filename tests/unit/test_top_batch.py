"""``nlwire top --batch``: text and JSON reports, the shared column layout, the CLI."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_monitor_fakes import SECOND_NS, FakeClock, FakeSource, make_sampler
from test_monitor_system import make_proc

from nlwire.cli.main import main
from nlwire.cli.top import columns as cols
from nlwire.cli.top.batch import ViewOptions, json_report, run_batch, text_report
from nlwire.taskstats.monitor import Snapshot
from nlwire.taskstats.system import SystemMonitor, SystemSnapshot


def busy_world(tmp_path: Path) -> tuple[Snapshot, SystemSnapshot]:
    """One interval: a writer, a spinner, an idle daemon, and one exit."""
    source, clock = FakeSource(), FakeClock()
    source.add(1, cmdline="/sbin/init", ac_uid=0)
    source.add(40, cmdline="writer", ac_uid=1000)
    source.add(41, cmdline="spinner", ac_uid=0)
    source.add(42, cmdline="short-lived", ac_uid=0)
    sampler = make_sampler(source, clock)
    system = SystemMonitor(make_proc(tmp_path, cpu_line="cpu 1 0 1 8 0 0 0 0 0 0"))
    sampler.sample()
    system.sample()
    clock.now += 2.0
    source.advance(40, write_bytes=8 << 20, blkio_delay_total=SECOND_NS // 2)
    source.advance(40, cpu_run_virtual_total=SECOND_NS // 100)  # writing takes some CPU
    source.advance(41, cpu_run_virtual_total=2 * SECOND_NS, cpu_delay_total=SECOND_NS // 5)
    source.exit(42, status=1 << 8)
    make_proc(tmp_path, cpu_line="cpu 3 0 1 8 0 0 0 0 0 0")
    return sampler.sample(), system.sample()


def test_text_report_is_header_table_and_exits(tmp_path: Path) -> None:
    snapshot, system = busy_world(tmp_path)
    lines = text_report(snapshot, system, ViewOptions()).rstrip("\n").splitlines()
    assert lines[0].startswith("nlwire top ")
    assert "every 2.0s  3 processes, 3 threads  delayacct OFF" in lines[0]
    assert lines[1] == "CPU: 100.0 us, 0.0 sy, 0.0 ni, 0.0 id, 0.0 wa, 0.0 hi, 0.0 si, 0.0 st"
    titles = lines[5].split()
    assert titles == [column.title for column in cols.TASK_COLUMNS]
    assert [line.split()[0] for line in lines[6:9]] == ["41", "40", "1"]
    spinner = lines[6].split()
    assert spinner[2] == "100.0"  # CPU%
    assert spinner[5] == "10.0"  # CPU-wait is measured even with delay accounting off
    assert spinner[6] == "-"  # I/O wait is not
    assert lines[-3].startswith("Exited in this interval: 1 (exit records lost so far: 0)")
    assert "exit 1" in lines[-1]
    assert lines[-1].endswith("short-lived")


def test_json_report_carries_rows_exits_and_sources(tmp_path: Path) -> None:
    snapshot, system = busy_world(tmp_path)
    document = json_report(snapshot, system, ViewOptions(sort="write"))
    json.dumps(document)  # JSON-ready all the way down
    assert document["interval_s"] == 2.0
    assert document["delayacct"] is False
    rows = document["rows"]
    assert isinstance(rows, list)
    assert rows[0]["pid"] == 40
    assert rows[0]["write_bytes_per_s"] == 4 << 20
    assert rows[0]["delay_percent"]["blkio"] == 25.0
    assert rows[0]["command_from_proc"] is True
    (entry,) = document["exits"]  # type: ignore[misc]
    assert (entry["pid"], entry["exit_code"], entry["signal"]) == (42, 1, None)
    sources = document["sources"]
    assert isinstance(sources, dict)
    assert sources["command"].startswith("/proc/PID/cmdline")
    system_part = document["system"]
    assert isinstance(system_part, dict)
    assert system_part["pressure_avg10"]["io"] == {"some": 12.5, "full": 4.25}


def test_run_batch_prints_one_document_per_interval_after_the_baseline(tmp_path: Path) -> None:
    source, clock = FakeSource(), FakeClock()
    source.add(5, cmdline="job")
    sampler = make_sampler(source, clock)
    system = SystemMonitor(make_proc(tmp_path, cpu_line="cpu 1 0 1 8"))
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds
        source.advance(5, cpu_run_virtual_total=SECOND_NS // 4)

    out = io.StringIO()
    status = run_batch(
        sampler, system, ViewOptions(), out=out, delay=1.0, iterations=3, as_json=True,
        sleep=sleep, clock=clock,
    )  # fmt: skip
    assert status == 0
    documents = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(documents) == 3
    assert slept == [1.0, 1.0, 1.0]
    assert [doc["rows"][0]["cpu_percent"] for doc in documents] == [25.0, 25.0, 25.0]


def test_columns_fit_80_columns_with_room_for_the_command() -> None:
    chosen = cols.fit_columns(cols.TASK_COLUMNS, 80)
    fixed = sum(c.width for c in chosen) + len(chosen) - 1
    assert fixed + cols.COMMAND_MIN_WIDTH <= 80
    keys = [c.key for c in chosen]
    assert keys[:3] == ["pid", "user", "cpu"]
    assert {"read", "write", "cpuwait", "iowait", "rss", "command"} <= set(keys)
    assert cols.fit_columns(cols.TASK_COLUMNS, 200) == list(cols.TASK_COLUMNS)
    assert [c.key for c in cols.fit_columns(cols.TASK_COLUMNS, 30)] == ["pid", "cpu", "command"]


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0"), (999, "999"), (1024, "1.0K"), (50 << 20, "50M"), (3 << 30, "3.0G")],
)
def test_byte_figures_use_binary_prefixes(value: int, text: str) -> None:
    assert cols.format_bytes(value) == text


def test_durations_counts_and_percentages() -> None:
    assert cols.format_duration(0.123) == "0.12s"
    assert cols.format_duration(184) == "3m04s"
    assert cols.format_duration(3 * 86400 + 7200) == "3d02h"
    assert cols.format_count(12_345) == "12k"
    assert cols.format_percent(1234.4) == "1234"


def test_filters_by_user_text_and_activity(tmp_path: Path) -> None:
    snapshot, _ = busy_world(tmp_path)
    rows = snapshot.processes
    assert [r.pid for r in cols.filter_rows(rows, user="user1000")] == [40]
    assert [r.pid for r in cols.filter_rows(rows, user="1000")] == [40]
    assert [r.pid for r in cols.filter_rows(rows, text="SPIN")] == [41]
    assert [r.pid for r in cols.filter_rows(rows, text="1")] == [1]
    assert sorted(r.pid for r in cols.filter_rows(rows, only_active=True)) == [40, 41]


def test_bad_arguments_are_one_line_errors(capsys: pytest.CaptureFixture[str]) -> None:
    for argv, message in (
        (["top", "--batch", "--delay", "0"], "--delay must be between 0.1 and 3600"),
        (["top", "--batch", "-n", "0"], "--iterations must be at least 1"),
        (["top", "--json"], "--json and --iterations need --batch"),
    ):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert err.startswith("nlwire: ") and message in err


def test_registering_top_imports_neither_textual_nor_the_library() -> None:
    code = (
        "import sys, nlwire.cli.main as m; m.build_parser(); "
        "print(sorted(n for n in sys.modules if n.startswith(('textual', 'nlwire.taskstats'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
