"""``nlwire taskstats`` output, and the /proc helpers, without a kernel."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest

from nlwire.cli import taskstats as cli
from nlwire.cli.main import main
from nlwire.taskstats.listener import ExitRecord
from nlwire.taskstats.messages import TaskstatsReply, parse_taskstats
from nlwire.taskstats.procfs import list_tids, parse_cpulist, process_info
from nlwire.taskstats.stats import decode_taskstats

GOLDEN = json.loads((Path(__file__).parents[1] / "data/taskstats/golden.json").read_text())


def golden_reply(name: str) -> TaskstatsReply:
    data = bytes.fromhex(GOLDEN[name]["hex"])
    return parse_taskstats(data, 0, len(data))


def test_pid_text_is_grouped_like_getdelays() -> None:
    reply = golden_reply("pid_reply")
    assert reply.stats is not None
    text = cli.format_stats(reply.stats, "pid", reply.pid)
    lines = text.splitlines()
    assert lines[0] == f"pid {reply.pid} (sleep)  taskstats version 16"
    headings = [line.split()[0] for line in lines if line.startswith("  ") and "ms" in line]
    assert headings == ["CPU", "IO", "SWAP", "RECLAIM", "THRASHING", "COMPACT", "WPCOPY", "IRQ"]
    cpu = next(line for line in lines if line.startswith("  CPU"))
    want = GOLDEN["pid_reply"]["expected"]["stats"]
    assert cpu.split()[1] == str(want["cpu_count"])
    assert cpu.split()[2] == f"{want['cpu_delay_total'] / 1e6:.3f}ms"
    assert f"peak RSS {want['hiwater_rss']:,} KiB" in text
    assert "rounded down to 1024" in text


def test_tgid_text_says_what_the_kernel_leaves_out() -> None:
    reply = golden_reply("tgid_reply")
    assert reply.group_stats is not None
    text = cli.format_stats(reply.group_stats, "tgid", reply.tgid or 0, None)
    assert "leaves comm, ids, memory and I/O zero" in text
    assert "summed over threads" in text
    assert "peak RSS" not in text  # not from taskstats, and no /proc given


def test_tgid_text_labels_proc_values() -> None:
    reply = golden_reply("tgid_reply")
    assert reply.group_stats is not None
    proc = process_info(os.getpid())
    text = cli.format_stats(reply.group_stats, "tgid", os.getpid(), proc)
    assert "from /proc" in text.splitlines()[0]
    assert "memory (from /proc)" in text


def test_implausible_delay_is_marked() -> None:
    data = bytearray(bytes.fromhex(GOLDEN["pid_reply"]["hex"])[36:])
    struct.pack_into("=Q", data, 144, 1_000_000)  # ac_etime: 1 s
    struct.pack_into("=QQ", data, 32, 3, 1_538_000_000_000)  # blkio count, total
    stats = decode_taskstats(bytes(data))
    text = cli.format_stats(stats, "pid", 1)
    io_line = next(line for line in text.splitlines() if line.startswith("  IO"))
    assert "IMPLAUSIBLE" in io_line
    assert "IMPLAUSIBLE" not in next(
        line for line in text.splitlines() if line.startswith("  CPU")
    )


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (0, "exited 0"),
        (3 << 8, "exited 3"),
        (9, "killed by signal 9 (SIGKILL)"),
        (6 | 0x80, "killed by signal 6 (SIGABRT), core dumped"),
        (None, "unknown"),
    ],
)
def test_exit_status(code: int | None, text: str) -> None:
    assert cli.exit_status(code) == text


def exit_record() -> ExitRecord:
    reply = golden_reply("exit_aggr_tgid")
    assert reply.pid is not None and reply.stats is not None
    return ExitRecord(reply.pid, reply.stats, reply.tgid, reply.group_stats, 1, 42)


def test_exit_record_document() -> None:
    text = cli.format_exit_record(exit_record())
    lines = text.splitlines()
    want = GOLDEN["exit_aggr_tgid"]["expected"]
    assert lines[0] == "---"
    assert lines[1] == f"pid: {want['pid']}"
    assert "command: python" in lines
    assert "status: exited 3" in lines
    assert "process:" in lines
    assert f"  tgid: {want['tgid']}" in lines


def test_exit_record_json_line() -> None:
    record = cli.exit_record_json(exit_record())
    assert record["pid"] == record["tgid"] == GOLDEN["exit_aggr_tgid"]["expected"]["pid"]
    assert record["cpu"] == 1
    stats = record["stats"]
    assert isinstance(stats, dict) and stats["version"] == 16
    assert stats == GOLDEN["exit_aggr_tgid"]["expected"]["stats"] | {"version": 16}
    json.dumps(record)


@pytest.mark.parametrize(
    "argv", [["pid", "abc"], ["pid", "0"], ["tgid", "-5"], ["delayacct", "x"]]
)
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["taskstats", *argv])
    assert info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_cli_module_imports_only_the_standard_library() -> None:
    source = Path(cli.__file__).read_text()
    top_level = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    allowed = (
        "from __future__",
        "import argparse",
        "import sys",
        "import time",
        "from typing",
        "from nlwire.cli.common",
    )
    assert all(line.startswith(allowed) for line in top_level), top_level


# -- /proc helpers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cpus"), [("0", [0]), ("0-3", [0, 1, 2, 3]), ("0-1,4,6-7", [0, 1, 4, 6, 7])]
)
def test_parse_cpulist(text: str, cpus: list[int]) -> None:
    assert parse_cpulist(text) == cpus


@pytest.mark.parametrize("text", ["", "a", "3-1", "-1", "1,,2"])
def test_parse_cpulist_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="bad CPU list"):
        parse_cpulist(text)


def test_own_process_from_proc() -> None:
    info = process_info(os.getpid())
    assert info.pid == os.getpid() and info.ppid == os.getppid()
    assert info.uid == os.getuid()
    assert os.getpid() in list_tids(os.getpid())
    assert info.threads == len(list_tids(os.getpid()))


def test_missing_process() -> None:
    with pytest.raises(ProcessLookupError):
        process_info(0x7FFFFFFF)
    assert list_tids(0x7FFFFFFF) == []
