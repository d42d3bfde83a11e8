"""Replies captured from Linux 6.18 (taskstats v16), decoded field by field.

``tests/data/taskstats/golden.json`` was written by ``capture.py`` next to
it, which read each field at the kernel header's offsets on its own. The
messages are also re-shaped here (NULL pads, NLA_F_NESTED, unknown
attributes) to check that the attribute walk does not depend on one shape.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlwire.errors import DecodeError
from nlwire.taskstats.messages import (
    TaskstatsReply,
    _parse_walk,
    parse_cgroupstats,
    parse_taskstats,
)
from nlwire.taskstats.stats import AGROUP, TaskStats, decode_taskstats

GOLDEN = json.loads((Path(__file__).parents[1] / "data/taskstats/golden.json").read_text())


def message(name: str) -> bytes:
    return bytes.fromhex(GOLDEN[name]["hex"])


def assert_matches(stats: TaskStats | None, want: dict[str, Any]) -> None:
    assert stats is not None
    for name, value in want.items():
        assert stats.get(name) == value, name
    assert stats.version == 16 and stats.size == 560 and stats.trailing == b""


def parse(data: bytes) -> TaskstatsReply:
    return parse_taskstats(data, 0, len(data))


@pytest.mark.parametrize("name", ["pid_reply", "tgid_reply", "exit_aggr_tgid"])
def test_golden_reply_every_field(name: str) -> None:
    want = GOLDEN[name]["expected"]
    for reply in (parse(message(name)), _parse_walk(message(name), 0, len(message(name)))):
        assert reply.pid == want.get("pid")
        assert reply.tgid == want.get("tgid")
        if "stats" in want:
            assert_matches(reply.stats, want["stats"])
        if "group_stats" in want:
            assert_matches(reply.group_stats, want["group_stats"])
        assert reply.unknown == ()


def test_golden_pid_reply_is_596_bytes_of_a_stopped_sleep() -> None:
    data = message("pid_reply")
    reply = parse(data)
    assert len(data) == 596
    assert reply.stats is not None
    assert reply.stats.ac_comm == "sleep"
    assert reply.stats.ac_pid == reply.pid
    assert reply.group_stats is None


def test_golden_tgid_reply_leaves_identity_zero() -> None:
    # The kernel fills no comm, pid, uid, memory or I/O in a TGID reply.
    stats = parse(message("tgid_reply")).group_stats
    assert stats is not None
    assert (stats.ac_comm, stats.ac_pid, stats.hiwater_rss, stats.read_bytes) == ("", 0, 0, 0)
    assert stats.nvcsw and stats.cpu_run_virtual_total


def test_golden_exit_record_has_both_aggregates() -> None:
    data = message("exit_aggr_tgid")
    reply = parse(data)
    assert len(data) == 1172
    assert reply.stats is not None and reply.group_stats is not None
    assert reply.pid == reply.tgid
    assert reply.stats.ac_exitcode == 3 << 8
    assert reply.stats.ac_flag is not None and reply.stats.ac_flag & AGROUP
    # The process-wide record sums over the four threads.
    assert reply.group_stats.cpu_delay_total >= reply.stats.cpu_delay_total


def test_golden_cgroupstats() -> None:
    data = message("cgroupstats")
    stats = parse_cgroupstats(data, 0, len(data))
    assert list(stats.as_dict().values()) == GOLDEN["cgroupstats"]["expected"]


# Re-shaping a captured reply: the kernel may pad or flag differently.


def attr(type_: int, value: bytes) -> bytes:
    length = 4 + len(value)
    return struct.pack("=HH", length, type_) + value + b"\0" * (-length % 4)


def rebuild(original: bytes, body: bytes) -> bytes:
    header = bytearray(original[:20])
    struct.pack_into("=I", header, 0, 20 + len(body))
    return bytes(header) + body


def pid_parts() -> tuple[bytes, bytes]:
    data = message("pid_reply")
    return data[24:32], data[32:596]  # the PID attribute, the STATS attribute


def test_null_pad_inside_the_nest() -> None:
    pid_attr, stats_attr = pid_parts()
    data = rebuild(message("pid_reply"), attr(4, pid_attr + attr(6, b"") + stats_attr))
    assert parse(data).stats == parse(message("pid_reply")).stats


def test_null_pad_before_the_aggregate() -> None:
    pid_attr, stats_attr = pid_parts()
    data = rebuild(message("pid_reply"), attr(6, b"") + attr(4, pid_attr + stats_attr))
    reply = parse(data)
    assert reply.pid == GOLDEN["pid_reply"]["expected"]["pid"]
    assert reply.stats == parse(message("pid_reply")).stats


def test_nest_with_nla_f_nested() -> None:
    pid_attr, stats_attr = pid_parts()
    data = rebuild(message("pid_reply"), attr(4 | 0x8000, pid_attr + stats_attr))
    assert parse(data).stats == parse(message("pid_reply")).stats


def test_unknown_attribute_is_kept() -> None:
    pid_attr, stats_attr = pid_parts()
    data = rebuild(message("pid_reply"), attr(4, pid_attr + stats_attr) + attr(42, b"abcd"))
    reply = parse(data)
    assert reply.unknown == ((42, b"abcd"),)
    assert reply.stats == parse(message("pid_reply")).stats


def test_longer_stats_keep_trailing_bytes() -> None:
    data = message("pid_reply")
    pid_attr = data[24:32]
    stats = data[36:596] + b"\x11" * 8
    reply = parse(rebuild(data, attr(4, pid_attr + attr(3, stats))))
    assert reply.stats is not None and reply.stats.trailing == b"\x11" * 8


@pytest.mark.parametrize("cut", [21, 30, 40, 300, 595])
def test_truncated_message_raises_decode_error(cut: int) -> None:
    data = bytearray(message("pid_reply")[:cut])
    struct.pack_into("=I", data, 0, cut)
    with pytest.raises(DecodeError):
        parse(bytes(data))


def test_aggregate_without_stats_raises() -> None:
    pid_attr, _ = pid_parts()
    with pytest.raises(DecodeError):
        parse(rebuild(message("pid_reply"), attr(4, pid_attr)))


def test_wrong_command_raises() -> None:
    data = bytearray(message("pid_reply"))
    data[16] = 1
    with pytest.raises(DecodeError):
        parse(bytes(data))


# Arbitrary bytes: a result or DecodeError, never another exception.


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=1400))
def test_arbitrary_message_bytes_decode_or_raise_decode_error(data: bytes) -> None:
    try:
        reply = parse_taskstats(data, 0, len(data))
    except DecodeError:
        return
    assert isinstance(reply, TaskstatsReply)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=800))
def test_arbitrary_struct_bytes_decode_or_raise_decode_error(data: bytes) -> None:
    try:
        stats = decode_taskstats(data)
    except DecodeError:
        assert len(data) < 80
        return
    assert stats.size == len(data)
    assert isinstance(stats.as_dict(), dict)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 1171), st.binary(min_size=1, max_size=8))
def test_corrupted_golden_exit_record(position: int, garbage: bytes) -> None:
    data = bytearray(message("exit_aggr_tgid"))
    data[position : position + len(garbage)] = garbage
    data = data[: len(message("exit_aggr_tgid"))]
    try:
        reply = parse_taskstats(bytes(data), 0, len(data))
    except DecodeError:
        return
    assert isinstance(reply, TaskstatsReply)
