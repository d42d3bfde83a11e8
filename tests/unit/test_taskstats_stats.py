"""Decoding ``struct taskstats`` by version and length, on synthetic structs.

The structs are built here from the kernel header's field order, with C
alignment rules, independently of the decoder's own tables.
"""

from __future__ import annotations

import struct

import pytest

from nlwire.errors import DecodeError
from nlwire.taskstats.stats import (
    FIELDS,
    SIZE_BY_VERSION,
    TaskStats,
    decode_cgroupstats,
    decode_taskstats,
)

CATEGORIES = ("cpu", "blkio", "swapin", "freepages", "thrashing", "compact", "wpcopy", "irq")
QUAD = ("count", "delay_total", "delay_max", "delay_min")

# The v15 header, in declaration order: (name, struct code, alignment).
V15_HEADER = (
    [("version", "H", 2), ("ac_exitcode", "I", 4), ("ac_flag", "B", 1), ("ac_nice", "b", 1)]
    + [(f"{c}_{s}", "Q", 8) for c in ("cpu", "blkio", "swapin") for s in QUAD]
    + [("cpu_run_real_total", "Q", 8), ("cpu_run_virtual_total", "Q", 8)]
    + [("ac_comm", "32s", 1), ("ac_sched", "B", 1)]
    + [(n, "I", 8 if n == "ac_uid" else 4)
       for n in ("ac_uid", "ac_gid", "ac_pid", "ac_ppid", "ac_btime")]
    + [(n, "Q", 8) for n in (
        "ac_etime", "ac_utime", "ac_stime", "ac_minflt", "ac_majflt", "coremem", "virtmem",
        "hiwater_rss", "hiwater_vm", "read_char", "write_char", "read_syscalls",
        "write_syscalls", "read_bytes", "write_bytes", "cancelled_write_bytes", "nvcsw",
        "nivcsw", "ac_utimescaled", "ac_stimescaled", "cpu_scaled_run_real_total")]
    + [(f"{c}_{s}", "Q", 8) for c in ("freepages", "thrashing") for s in QUAD]
    + [("ac_btime64", "Q", 8)]
    + [(f"compact_{s}", "Q", 8) for s in QUAD]
    + [("ac_tgid", "I", 4), ("ac_tgetime", "Q", 8), ("ac_exe_dev", "Q", 8),
       ("ac_exe_inode", "Q", 8)]
    + [(f"{c}_{s}", "Q", 8) for c in ("wpcopy", "irq") for s in QUAD]
)  # fmt: skip


def sample_values() -> dict[str, object]:
    """A distinct value for every field, so a misplaced field cannot go unseen."""
    values: dict[str, object] = {}
    for number, info in enumerate(FIELDS, start=1):
        if info.code == "32s":
            values[info.name] = b"worker/3\0" + b"\0" * 23
        elif info.code == "b":
            values[info.name] = -7
        elif info.code == "B":
            values[info.name] = number
        elif info.code == "qq":
            values[info.name] = (1_700_000_000 + number, 123_456_789)
        else:
            values[info.name] = 1000 * number + 3
    return values


def build_v16_layout(version: int, values: dict[str, object], size: int) -> bytes:
    """Pack ``values`` at the v16/v17 offsets into ``size`` bytes."""
    buf = bytearray(max(size, 688))
    for info in FIELDS:
        value = values[info.name]
        args = value if isinstance(value, tuple) else (value,)
        struct.pack_into("=" + info.code, buf, info.offset, *args)
    struct.pack_into("=H", buf, 0, version)
    return bytes(buf[:size])


def build_v15(values: dict[str, object]) -> tuple[bytes, dict[str, int]]:
    """Pack ``values`` in the v15 layout; return the bytes and the offsets used."""
    buf, offsets, position = bytearray(560), {}, 0
    for name, code, align in V15_HEADER:
        position = -(-position // align) * align
        offsets[name] = position
        struct.pack_into("=" + code, buf, position, values[name])
        position += struct.calcsize("=" + code)
    struct.pack_into("=H", buf, 0, 15)
    return bytes(buf), offsets


def expected(values: dict[str, object], name: str) -> object:
    value = values[name]
    if name == "ac_comm":
        return "worker/3"
    if isinstance(value, tuple):
        return value[0] * 1_000_000_000 + value[1]
    return value


def test_v16_every_field_at_its_offset() -> None:
    values = sample_values()
    stats = decode_taskstats(build_v16_layout(16, values, 560))
    assert stats.version == 16 and stats.size == 560 and stats.trailing == b""
    for info in FIELDS:
        if info.since <= 16 and info.name != "version":
            assert stats.get(info.name) == expected(values, info.name), info.name
    assert stats.cpu_delay_max_ts is None
    assert stats.ac_nice == -7
    assert stats.ac_comm == "worker/3"


def test_v17_reads_the_timestamps() -> None:
    values = sample_values()
    stats = decode_taskstats(build_v16_layout(17, values, 688))
    assert stats.size == 688
    for info in FIELDS:
        if info.name != "version":
            assert stats.get(info.name) == expected(values, info.name), info.name
    assert stats.irq_delay_max_ts == (1_700_000_000 + len(FIELDS)) * 10**9 + 123_456_789


def test_v15_interleaved_layout() -> None:
    values = sample_values()
    data, offsets = build_v15(values)
    # The header's own facts: the pair moves the rest of the struct.
    assert offsets["blkio_delay_total"] == 56
    assert offsets["ac_comm"] == 128
    assert offsets["read_bytes"] == 296
    assert offsets["irq_delay_min"] == 552
    stats = decode_taskstats(data)
    assert stats.version == 15
    for info in FIELDS:
        if info.since <= 16 and info.name != "version":
            assert stats.get(info.name) == expected(values, info.name), info.name
    assert stats.cpu_delay_max_ts is None


def test_v15_decodes_like_v16_of_the_same_values() -> None:
    values = sample_values()
    v15 = decode_taskstats(build_v15(values)[0]).as_dict()
    v16 = decode_taskstats(build_v16_layout(16, values, 560)).as_dict()
    v15.pop("version")
    v16.pop("version")
    assert v15 == v16


@pytest.mark.parametrize("version", sorted(SIZE_BY_VERSION))
def test_each_version_at_its_own_size(version: int) -> None:
    values = sample_values()
    if version == 15:
        data = build_v15(values)[0]
    else:
        data = build_v16_layout(version, values, SIZE_BY_VERSION[version])
    stats = decode_taskstats(data)
    present = set(stats.as_dict())
    # v15 already had the max/min fields that v16 moved to the end.
    newest = 16 if version == 15 else version
    wanted = {info.name for info in FIELDS if info.since <= newest}
    assert present == wanted
    assert stats.trailing == b""


def test_short_struct_reports_absent_fields() -> None:
    values = sample_values()
    # A v16 header but only 292 bytes: nivcsw (280..288) fits, ac_utimescaled does not.
    stats = decode_taskstats(build_v16_layout(16, values, 292))
    assert stats.nivcsw == values["nivcsw"]
    assert stats.ac_utimescaled is None
    assert stats.irq_delay_max is None
    assert stats.get("cpu_delay_min") is None
    assert "ac_utimescaled" not in stats.as_dict()
    assert stats.size == 292


def test_trailing_bytes_are_kept() -> None:
    values = sample_values()
    data = build_v16_layout(16, values, 560) + b"\x01\x02\x03\x04\x05\x06\x07\x08"
    stats = decode_taskstats(data)
    assert stats.trailing == b"\x01\x02\x03\x04\x05\x06\x07\x08"
    assert stats.irq_delay_min == values["irq_delay_min"]
    assert stats.size == 568


def test_older_version_keeps_bytes_past_its_layout() -> None:
    # A v4 struct padded to 300 bytes: 272 bytes of fields, 28 unknown.
    values = sample_values()
    stats = decode_taskstats(build_v16_layout(4, values, 300))
    assert stats.read_bytes == values["read_bytes"]
    assert stats.nvcsw is None
    assert stats.trailing == build_v16_layout(4, values, 300)[272:]


def test_unknown_newer_version_decodes_what_it_knows() -> None:
    values = sample_values()
    data = build_v16_layout(18, values, 688) + b"\xaa" * 16
    stats = decode_taskstats(data)
    assert stats.version == 18
    assert stats.cpu_delay_max_ts == expected(values, "cpu_delay_max_ts")
    assert stats.trailing == b"\xaa" * 16


def test_version_one_has_only_the_delay_block() -> None:
    values = sample_values()
    stats = decode_taskstats(build_v16_layout(1, values, 80))
    assert stats.cpu_count == values["cpu_count"]
    assert stats.cpu_run_virtual_total == values["cpu_run_virtual_total"]
    assert stats.ac_comm is None and stats.ac_exitcode is None and stats.ac_nice is None


def test_offset_into_a_larger_buffer() -> None:
    values = sample_values()
    data = b"\xff" * 36 + build_v16_layout(16, values, 560) + b"\xee" * 20
    stats = decode_taskstats(memoryview(data), 36, 560)
    assert stats == decode_taskstats(build_v16_layout(16, values, 560))
    assert stats.cpu_count == values["cpu_count"]


@pytest.mark.parametrize("length", [0, 1, 2, 79])
def test_too_short_raises_decode_error(length: int) -> None:
    with pytest.raises(DecodeError):
        decode_taskstats(bytes([16, 0]) + bytes(max(length - 2, 0)), 0, length)


def test_length_past_the_buffer_raises() -> None:
    with pytest.raises(DecodeError):
        decode_taskstats(bytes(560), 10, 560)


def test_truncated_v15_without_the_v1_block_raises() -> None:
    data = build_v15(sample_values())[0][:100]
    with pytest.raises(DecodeError):
        decode_taskstats(data)


def test_comm_is_clean_text() -> None:
    values = sample_values()
    values["ac_comm"] = b"kworker/0:1H\0garbage" + b"\0" * 12
    stats = decode_taskstats(build_v16_layout(16, values, 560))
    assert stats.ac_comm == "kworker/0:1H"


def test_fields_are_read_only() -> None:
    stats = decode_taskstats(build_v16_layout(16, sample_values(), 560))
    with pytest.raises(AttributeError):
        stats.cpu_count = 5  # type: ignore[misc]


def test_get_unknown_name() -> None:
    stats = decode_taskstats(build_v16_layout(16, sample_values(), 560))
    with pytest.raises(KeyError):
        stats.get("no_such_field")


def test_implausible_block_io_delay_is_flagged() -> None:
    values = sample_values()
    values.update({f"{c}_delay_{s}": 0 for c in CATEGORIES for s in ("total", "max", "min")})
    values["ac_etime"] = 5_000_000  # 5 s in µs
    values["blkio_delay_total"] = 1_538_000_000_000  # the uptime, in ns
    values["blkio_delay_max"] = 1_538_000_000_000
    values["cpu_delay_total"] = 4_000_000_000
    stats = decode_taskstats(build_v16_layout(16, values, 560))
    assert stats.implausible_delays() == ("blkio_delay_total", "blkio_delay_max")


def test_tasks_are_typed_as_taskstats() -> None:
    assert isinstance(decode_taskstats(build_v16_layout(16, sample_values(), 560)), TaskStats)


def test_cgroupstats() -> None:
    stats = decode_cgroupstats(struct.pack("=5Q", 38, 2, 0, 1, 4))
    assert stats.as_dict() == {
        "nr_sleeping": 38,
        "nr_running": 2,
        "nr_stopped": 0,
        "nr_uninterruptible": 1,
        "nr_io_wait": 4,
    }
    assert stats.trailing == b""
    with pytest.raises(DecodeError):
        decode_cgroupstats(bytes(39))
