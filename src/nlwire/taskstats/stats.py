"""``struct taskstats`` and ``struct cgroupstats``, decoded by version and length.

The kernel sends one ``struct taskstats`` per task in host byte order. It has
grown from 80 bytes (version 1) to 688 bytes (version 17) by appending
fields, with one exception: version 15 inserted the new ``*_delay_max`` and
``*_delay_min`` fields right after each ``*_count``/``*_delay_total`` pair,
moving every later field; version 16 moved them to the end again. This
module knows every layout::

    off  v16 (this kernel, 560 bytes)        v15 (broken, 560 bytes)
      0  version, ac_exitcode, ac_flag, ...  same
     16  cpu_count, cpu_delay_total          cpu_count, cpu_delay_total,
                                             cpu_delay_max, cpu_delay_min
     32  blkio_count, ...                    ...
     80  ac_comm[32]                         (128) ac_comm[32]
     ...
    432  cpu_delay_max, cpu_delay_min, ...   (absent: interleaved above)
    560  (v17) cpu_delay_max_ts, ...  8 x struct __kernel_timespec, to 688

Theory of operation:

1. A field is present when the struct's version is at least the version
   that added it *and* the bytes hold it entirely. An absent field reads as
   ``None``; bytes beyond the layout of the struct's version are kept in
   :attr:`TaskStats.trailing`.
2. The common cases (v16 at 560 bytes, v17 at 688) take one precompiled
   :meth:`struct.Struct.unpack_from` into a tuple; nothing else is built
   until a field is read (``ac_comm`` becomes a ``str`` on access).
3. Version 15, short structs and unknown versions take a slower path that
   builds the same tuple (absent fields as ``None``), so readers never see
   the difference.

Units, as the kernel fills them: ``*_delay_*`` and ``cpu_run_*`` in ns;
``ac_etime``, ``ac_utime``, ``ac_stime``, ``ac_tgetime`` in µs;
``hiwater_*`` in KiB; ``coremem``/``virtmem`` in MB·µs; the I/O counters
(``read_char`` .. ``cancelled_write_bytes``, and the syscall counts) are
rounded down to a multiple of 1024 by the kernel.

Limitation: the version-1 layout of Linux 2.6.18 had a different 8-byte
header; a version-1 struct is decoded with today's layout.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, overload

from nlwire.errors import DecodeError

__all__ = [
    "FIELDS",
    "CgroupStats",
    "FieldInfo",
    "TaskStats",
    "decode_cgroupstats",
    "decode_taskstats",
]

#: The newest struct version this module knows.
KNOWN_VERSION = 17

#: Size in bytes of the struct of each version (v1 measured in today's layout).
SIZE_BY_VERSION = {
    1: 80, 2: 248, 3: 248, 4: 272, 5: 288, 6: 312, 7: 328, 8: 328,
    9: 344, 10: 352, 11: 368, 12: 400, 13: 416, 14: 432, 15: 560, 16: 560,
    17: 688,
}  # fmt: skip

#: ``ac_flag`` bits.
AFORK, ASU, ACOMPAT, ACORE, AXSIG, AGROUP = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20

_NS, _US = "ns", "µs"
_IO = "bytes, rounded down to a multiple of 1024 by the kernel"
_DELAY_CATEGORIES = (
    "cpu", "blkio", "swapin", "freepages", "thrashing", "compact", "wpcopy", "irq",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """One field of ``struct taskstats`` in the version-16/17 layout.

    ``code`` is the :mod:`struct` code, ``since`` the struct version that
    added the field, ``unit`` what its number counts.
    """

    name: str
    offset: int
    code: str
    since: int
    unit: str

    @property
    def size(self) -> int:
        """Bytes the field takes."""
        return struct.calcsize("=" + self.code)

    @property
    def end(self) -> int:
        """Offset of the first byte after the field."""
        return self.offset + self.size


def _build_fields() -> tuple[FieldInfo, ...]:
    spec: list[tuple[str, int, str, int, str]] = [
        ("version", 0, "H", 1, "struct version"),
        ("ac_exitcode", 4, "I", 2, "wait status (exit(1) is 256); 0 for live tasks"),
        ("ac_flag", 8, "B", 2, "AFORK 0x01, ASU 0x02, ACOMPAT 0x04, ACORE 0x08, AXSIG 0x10, "
         "AGROUP 0x20"),
        ("ac_nice", 9, "b", 2, "nice value (signed)"),
        ("cpu_count", 16, "Q", 1, "times run on a CPU"),
        ("cpu_delay_total", 24, "Q", 1, _NS + " waiting on a run queue"),
        ("blkio_count", 32, "Q", 1, "synchronous block I/O waits"),
        ("blkio_delay_total", 40, "Q", 1, _NS + " waiting for block I/O"),
        ("swapin_count", 48, "Q", 1, "swap-in waits"),
        ("swapin_delay_total", 56, "Q", 1, _NS + " waiting for swap-in"),
        ("cpu_run_real_total", 64, "Q", 1, _NS + " user+system time (tick based)"),
        ("cpu_run_virtual_total", 72, "Q", 1, _NS + " on a CPU (exact)"),
        ("ac_comm", 80, "32s", 2, "command name"),
        ("ac_sched", 112, "B", 2, "scheduling policy"),
        ("ac_uid", 120, "I", 2, "user id"),
        ("ac_gid", 124, "I", 2, "group id"),
        ("ac_pid", 128, "I", 2, "thread id"),
        ("ac_ppid", 132, "I", 2, "parent process id"),
        ("ac_btime", 136, "I", 2, "start, s since the epoch (32-bit)"),
        ("ac_etime", 144, "Q", 2, _US + " elapsed"),
        ("ac_utime", 152, "Q", 2, _US + " user CPU time"),
        ("ac_stime", 160, "Q", 2, _US + " system CPU time"),
        ("ac_minflt", 168, "Q", 2, "minor page faults"),
        ("ac_majflt", 176, "Q", 2, "major page faults"),
        ("coremem", 184, "Q", 2, "MB·µs, RSS integrated over CPU time"),
        ("virtmem", 192, "Q", 2, "MB·µs, virtual memory integrated over CPU time"),
        ("hiwater_rss", 200, "Q", 2, "KiB, peak resident set"),
        ("hiwater_vm", 208, "Q", 2, "KiB, peak virtual memory"),
        ("read_char", 216, "Q", 2, _IO + ", through read syscalls"),
        ("write_char", 224, "Q", 2, _IO + ", through write syscalls"),
        ("read_syscalls", 232, "Q", 2, "read syscalls, rounded down to 1024 by the kernel"),
        ("write_syscalls", 240, "Q", 2, "write syscalls, rounded down to 1024 by the kernel"),
        ("read_bytes", 248, "Q", 4, _IO + ", read from storage"),
        ("write_bytes", 256, "Q", 4, _IO + ", written to storage"),
        ("cancelled_write_bytes", 264, "Q", 4, _IO + ", written then truncated"),
        ("nvcsw", 272, "Q", 5, "voluntary context switches"),
        ("nivcsw", 280, "Q", 5, "involuntary context switches"),
        ("ac_utimescaled", 288, "Q", 6, _US + " user time, scaled"),
        ("ac_stimescaled", 296, "Q", 6, _US + " system time, scaled"),
        ("cpu_scaled_run_real_total", 304, "Q", 6, _NS + " run time, scaled"),
        ("freepages_count", 312, "Q", 7, "memory reclaim waits"),
        ("freepages_delay_total", 320, "Q", 7, _NS + " in memory reclaim"),
        ("thrashing_count", 328, "Q", 9, "thrashing waits"),
        ("thrashing_delay_total", 336, "Q", 9, _NS + " waiting on refaulted pages"),
        ("ac_btime64", 344, "Q", 10, "start, s since the epoch"),
        ("compact_count", 352, "Q", 11, "memory compaction waits"),
        ("compact_delay_total", 360, "Q", 11, _NS + " in memory compaction"),
        ("ac_tgid", 368, "I", 12, "thread group (process) id"),
        ("ac_tgetime", 376, "Q", 12, _US + " since the group leader started"),
        ("ac_exe_dev", 384, "Q", 12, "device of the executable (huge_encode_dev)"),
        ("ac_exe_inode", 392, "Q", 12, "inode of the executable"),
        ("wpcopy_count", 400, "Q", 13, "write-protect copy waits"),
        ("wpcopy_delay_total", 408, "Q", 13, _NS + " copying on write faults"),
        ("irq_count", 416, "Q", 14, "IRQ/softirq interruptions"),
        ("irq_delay_total", 424, "Q", 14, _NS + " in IRQ/softirq"),
    ]  # fmt: skip
    offset = 432
    for category in _DELAY_CATEGORIES:
        spec.append((f"{category}_delay_max", offset, "Q", 16, _NS + ", largest single delay"))
        spec.append((f"{category}_delay_min", offset + 8, "Q", 16, _NS + ", smallest delay"))
        offset += 16
    for category in _DELAY_CATEGORIES:
        unit = "ns since the epoch when the largest delay was seen; 0 if never"
        spec.append((f"{category}_delay_max_ts", offset, "qq", 17, unit))
        offset += 16
    return tuple(FieldInfo(*row) for row in spec)


#: Every field, in the order of the version-16/17 layout.
FIELDS: tuple[FieldInfo, ...] = _build_fields()

_BY_NAME = {info.name: info for info in FIELDS}
_STORED = tuple(info for info in FIELDS if info.code != "qq")
_TIMESTAMPS = tuple(info for info in FIELDS if info.code == "qq")
# Index of each field in the value tuple: the 70 plain fields, then the v17
# timestamps as (seconds, nanoseconds) pairs.
_INDEX = {info.name: i for i, info in enumerate(_STORED)}
_INDEX.update({info.name: len(_STORED) + 2 * i for i, info in enumerate(_TIMESTAMPS)})
_TUPLE_LEN = len(_STORED) + 2 * len(_TIMESTAMPS)
_ALWAYS_PRESENT = frozenset(info.name for info in FIELDS if info.since == 1)
# The interleaved v15 order of the fields stored at 16..559.
_V15_ORDER = (
    ["version", "ac_exitcode", "ac_flag", "ac_nice"]
    + [f"{c}_{s}" for c in ("cpu", "blkio", "swapin")
       for s in ("count", "delay_total", "delay_max", "delay_min")]
    + [info.name for info in _STORED if 64 <= info.offset < 312]
    + [f"{c}_{s}" for c in ("freepages", "thrashing")
       for s in ("count", "delay_total", "delay_max", "delay_min")]
    + ["ac_btime64"]
    + [f"compact_{s}" for s in ("count", "delay_total", "delay_max", "delay_min")]
    + ["ac_tgid", "ac_tgetime", "ac_exe_dev", "ac_exe_inode"]
    + [f"{c}_{s}" for c in ("wpcopy", "irq")
       for s in ("count", "delay_total", "delay_max", "delay_min")]
)  # fmt: skip


def _layout(fields: list[tuple[int, str]]) -> struct.Struct:
    """Return a Struct reading ``(offset, code)`` fields, padding the gaps."""
    parts, position = ["="], 0
    for offset, code in fields:
        if offset < position:
            raise AssertionError(f"field at {offset} overlaps the previous one")
        if offset > position:
            parts.append(f"{offset - position}x")
        parts.append(code)
        position = offset + struct.calcsize("=" + code)
    return struct.Struct("".join(parts))


def _v15_offsets() -> dict[str, int]:
    """Offsets of the v15 layout: v16's types in the v15 order, C alignment rules."""
    offsets, position = {}, 0
    for name in _V15_ORDER:
        info = _BY_NAME[name]
        align = 1 if info.code == "32s" else min(info.size, 8)
        if name in {"cpu_count", "ac_uid", "ac_tgetime"}:
            align = 8
        position = -(-position // align) * align
        offsets[name] = position
        position += info.size
    return offsets


_V15_OFFSETS = _v15_offsets()
_V16_OFFSETS = {info.name: info.offset for info in FIELDS}


def _layout_of(names: list[str], offsets: dict[str, int]) -> struct.Struct:
    """Return a Struct reading the fields ``names`` placed at ``offsets``."""
    ordered = sorted(names, key=offsets.__getitem__)
    return _layout([(offsets[name], _BY_NAME[name].code) for name in ordered])


_V16 = _layout([(info.offset, info.code) for info in _STORED])
_V17 = _layout([(info.offset, info.code) for info in FIELDS])
_V15 = _layout_of(list(_V15_ORDER), _V15_OFFSETS)
_V15_TO_CANONICAL = tuple(
    sorted(_V15_ORDER, key=_V15_OFFSETS.__getitem__).index(info.name) for info in _STORED
)
_VERSION = struct.Struct("=H")
_PARTIAL: dict[tuple[int, int], tuple[struct.Struct, tuple[int, ...], int]] = {}
assert _V16.size == 560 and _V17.size == 688 and _V15.size == 560


class _Field:
    """A field of :class:`TaskStats` that may be absent (reads ``None``)."""

    def __init__(self, name: str) -> None:
        info = _BY_NAME[name]
        self.name = name
        self._index = _INDEX[name]
        self.__doc__ = f"{info.unit} (since v{info.since}; None when absent)."

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> _Field: ...
    @overload
    def __get__(self, obj: TaskStats, owner: type[Any]) -> int | None: ...
    def __get__(self, obj: TaskStats | None, owner: type[Any]) -> _Field | int | None:
        if obj is None:
            return self
        value: int | None = obj._v[self._index]
        return value


class _Required(_Field):
    """A field every decodable struct holds (``version`` and the v1 block)."""

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> _Required: ...
    @overload
    def __get__(self, obj: TaskStats, owner: type[Any]) -> int: ...
    def __get__(self, obj: TaskStats | None, owner: type[Any]) -> _Required | int:
        if obj is None:
            return self
        value: int = obj._v[self._index]
        return value


class _Timestamp(_Field):
    """A v17 ``struct __kernel_timespec``, read as ns since the epoch."""

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> _Field: ...
    @overload
    def __get__(self, obj: TaskStats, owner: type[Any]) -> int | None: ...
    def __get__(self, obj: TaskStats | None, owner: type[Any]) -> _Field | int | None:
        if obj is None:
            return self
        values, index = obj._v, self._index
        if len(values) <= index or values[index] is None:
            return None
        seconds: int = values[index]
        nanoseconds: int = values[index + 1]
        return seconds * 1_000_000_000 + nanoseconds


class TaskStats:
    """One decoded ``struct taskstats``; fields use the kernel's names.

    Build it with :func:`decode_taskstats`. Each field is a read-only
    attribute; a field the struct is too old or too short to hold reads as
    ``None`` (``version`` and the version-1 delay block are always there).
    ``size`` is the number of bytes the kernel sent and ``trailing`` the
    bytes beyond the fields this decoder knows for the struct's version.
    Two records are equal when all their bytes decode to the same values.
    """

    __slots__ = ("_v", "size", "trailing")

    _v: tuple[Any, ...]
    size: int
    trailing: bytes

    version = _Required("version")
    ac_exitcode = _Field("ac_exitcode")
    ac_flag = _Field("ac_flag")
    ac_nice = _Field("ac_nice")
    cpu_count = _Required("cpu_count")
    cpu_delay_total = _Required("cpu_delay_total")
    blkio_count = _Required("blkio_count")
    blkio_delay_total = _Required("blkio_delay_total")
    swapin_count = _Required("swapin_count")
    swapin_delay_total = _Required("swapin_delay_total")
    cpu_run_real_total = _Required("cpu_run_real_total")
    cpu_run_virtual_total = _Required("cpu_run_virtual_total")
    ac_sched = _Field("ac_sched")
    ac_uid = _Field("ac_uid")
    ac_gid = _Field("ac_gid")
    ac_pid = _Field("ac_pid")
    ac_ppid = _Field("ac_ppid")
    ac_btime = _Field("ac_btime")
    ac_etime = _Field("ac_etime")
    ac_utime = _Field("ac_utime")
    ac_stime = _Field("ac_stime")
    ac_minflt = _Field("ac_minflt")
    ac_majflt = _Field("ac_majflt")
    coremem = _Field("coremem")
    virtmem = _Field("virtmem")
    hiwater_rss = _Field("hiwater_rss")
    hiwater_vm = _Field("hiwater_vm")
    read_char = _Field("read_char")
    write_char = _Field("write_char")
    read_syscalls = _Field("read_syscalls")
    write_syscalls = _Field("write_syscalls")
    read_bytes = _Field("read_bytes")
    write_bytes = _Field("write_bytes")
    cancelled_write_bytes = _Field("cancelled_write_bytes")
    nvcsw = _Field("nvcsw")
    nivcsw = _Field("nivcsw")
    ac_utimescaled = _Field("ac_utimescaled")
    ac_stimescaled = _Field("ac_stimescaled")
    cpu_scaled_run_real_total = _Field("cpu_scaled_run_real_total")
    freepages_count = _Field("freepages_count")
    freepages_delay_total = _Field("freepages_delay_total")
    thrashing_count = _Field("thrashing_count")
    thrashing_delay_total = _Field("thrashing_delay_total")
    ac_btime64 = _Field("ac_btime64")
    compact_count = _Field("compact_count")
    compact_delay_total = _Field("compact_delay_total")
    ac_tgid = _Field("ac_tgid")
    ac_tgetime = _Field("ac_tgetime")
    ac_exe_dev = _Field("ac_exe_dev")
    ac_exe_inode = _Field("ac_exe_inode")
    wpcopy_count = _Field("wpcopy_count")
    wpcopy_delay_total = _Field("wpcopy_delay_total")
    irq_count = _Field("irq_count")
    irq_delay_total = _Field("irq_delay_total")
    cpu_delay_max = _Field("cpu_delay_max")
    cpu_delay_min = _Field("cpu_delay_min")
    blkio_delay_max = _Field("blkio_delay_max")
    blkio_delay_min = _Field("blkio_delay_min")
    swapin_delay_max = _Field("swapin_delay_max")
    swapin_delay_min = _Field("swapin_delay_min")
    freepages_delay_max = _Field("freepages_delay_max")
    freepages_delay_min = _Field("freepages_delay_min")
    thrashing_delay_max = _Field("thrashing_delay_max")
    thrashing_delay_min = _Field("thrashing_delay_min")
    compact_delay_max = _Field("compact_delay_max")
    compact_delay_min = _Field("compact_delay_min")
    wpcopy_delay_max = _Field("wpcopy_delay_max")
    wpcopy_delay_min = _Field("wpcopy_delay_min")
    irq_delay_max = _Field("irq_delay_max")
    irq_delay_min = _Field("irq_delay_min")
    cpu_delay_max_ts = _Timestamp("cpu_delay_max_ts")
    blkio_delay_max_ts = _Timestamp("blkio_delay_max_ts")
    swapin_delay_max_ts = _Timestamp("swapin_delay_max_ts")
    freepages_delay_max_ts = _Timestamp("freepages_delay_max_ts")
    thrashing_delay_max_ts = _Timestamp("thrashing_delay_max_ts")
    compact_delay_max_ts = _Timestamp("compact_delay_max_ts")
    wpcopy_delay_max_ts = _Timestamp("wpcopy_delay_max_ts")
    irq_delay_max_ts = _Timestamp("irq_delay_max_ts")

    @property
    def ac_comm(self) -> str | None:
        """Command name (``TASK_COMM_LEN`` bytes used), NUL padding removed."""
        raw: bytes | None = self._v[_COMM]
        if raw is None:
            return None
        return raw.split(b"\0", 1)[0].decode("utf-8", "replace")

    def get(self, name: str) -> int | str | None:
        """Return the field ``name`` (kernel spelling), ``None`` when absent.

        Raises :class:`KeyError` for a name that is no field of the struct.
        """
        if name not in _BY_NAME:
            raise KeyError(f"struct taskstats has no field {name!r}")
        value: int | str | None = getattr(self, name)
        return value

    def present(self) -> Iterator[str]:
        """Yield the names of the fields this record holds, in layout order."""
        values = self._v
        for info in FIELDS:
            index = _INDEX[info.name]
            if index < len(values) and values[index] is not None:
                yield info.name

    def as_dict(self) -> dict[str, object]:
        """Return every present field (``version`` included) by kernel name."""
        return {name: getattr(self, name) for name in self.present()}

    def implausible_delays(self, slack_ns: int = 1_000_000) -> tuple[str, ...]:
        """Name the delay totals and maxima larger than the elapsed time.

        A task cannot wait longer than it has lived, yet Linux 6.18 sometimes
        reports a block I/O delay sample of the whole uptime. Such values are
        not to be shown as truth. The bound is ``ac_etime`` (for TGID records,
        the sum of the threads' elapsed times) plus ``slack_ns``; records
        without an elapsed time are never flagged.
        """
        elapsed = self.ac_etime
        if not elapsed:
            return ()
        limit = elapsed * 1000 + slack_ns
        flagged = []
        for category in _DELAY_CATEGORIES:
            for suffix in ("_delay_total", "_delay_max"):
                value = getattr(self, category + suffix, None)
                if value is not None and value > limit:
                    flagged.append(category + suffix)
        return tuple(flagged)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TaskStats):
            return NotImplemented
        return (self._v, self.size, self.trailing) == (other._v, other.size, other.trailing)

    def __hash__(self) -> int:
        return hash((self._v, self.size, self.trailing))

    def __repr__(self) -> str:
        return (
            f"TaskStats(version={self.version}, ac_pid={self.ac_pid}, "
            f"ac_comm={self.ac_comm!r}, size={self.size})"
        )


_COMM = _INDEX["ac_comm"]
_new = object.__new__


def decode_taskstats(data: Any, offset: int = 0, length: int | None = None) -> TaskStats:
    """Decode the ``struct taskstats`` of ``length`` bytes at ``offset`` of ``data``.

    ``data`` is any buffer (``bytes``, ``bytearray``, ``memoryview``);
    ``length`` defaults to the rest of it. Nothing of ``data`` is kept.
    Raises :class:`~nlwire.errors.DecodeError` when the bytes are too short
    to hold even a version-1 struct (80 bytes) or run past the buffer.
    """
    if length is None:
        length = len(data) - offset
    if offset < 0 or length < 0 or offset + length > len(data):
        raise DecodeError(f"struct taskstats of {length} bytes runs past its buffer")
    # Fast paths: exactly the layouts current kernels send.
    if length == 560:
        values = _V16.unpack_from(data, offset)
        if values[0] == 16:
            obj = _new(TaskStats)
            obj._v = values
            obj.size = 560
            obj.trailing = b""
            return obj
    elif length == 688:
        values = _V17.unpack_from(data, offset)
        if values[0] == 17:
            obj = _new(TaskStats)
            obj._v = values
            obj.size = 688
            obj.trailing = b""
            return obj
    return _decode_slow(data, offset, length)


def decode_v16_unchecked(data: Any, offset: int) -> TaskStats | None:
    """The v16 fast path alone: 560 bytes known to be at ``offset``.

    For callers that already checked the length (the sweep's inner loop);
    returns ``None`` when the struct is not version 16.
    """
    values = _V16.unpack_from(data, offset)
    if values[0] != 16:
        return None
    obj = _new(TaskStats)
    obj._v = values
    obj.size = 560
    obj.trailing = b""
    return obj


def _decode_slow(data: Any, offset: int, length: int) -> TaskStats:
    # 1. Refuse what cannot hold the version-1 block.
    if length < SIZE_BY_VERSION[1]:
        raise DecodeError(f"struct taskstats of {length} bytes is shorter than 80")
    version = _VERSION.unpack_from(data, offset)[0]
    obj = _new(TaskStats)
    obj.size = length

    # 2. The broken v15 layout: read it, then reorder to the canonical one.
    if version == 15 and length >= _V15.size:
        raw = _V15.unpack_from(data, offset)
        obj._v = tuple(raw[i] for i in _V15_TO_CANONICAL)
        obj.trailing = bytes(data[offset + _V15.size : offset + length])
        return obj

    # 3. Every other layout: the fields this version has that fit in the bytes.
    layout, indexes, end = _partial_layout(version, length)
    values: list[Any] = [None] * _TUPLE_LEN
    for index, value in zip(indexes, layout.unpack_from(data, offset), strict=True):
        values[index] = value
    # Keep the tuple as short as the fast path makes it when there is no v17 part.
    obj._v = tuple(values if values[-1] is not None else values[: len(_STORED)])
    obj.trailing = bytes(data[offset + end : offset + length])
    return obj


def _partial_layout(version: int, length: int) -> tuple[struct.Struct, tuple[int, ...], int]:
    """Return the Struct, tuple indexes and known end for ``version`` at ``length``.

    Raises :class:`DecodeError` when a version-1 field does not fit.
    """
    key = (version, length)
    cached = _PARTIAL.get(key)
    if cached is not None:
        return cached

    # Which fields: those of this version (all known ones for a newer
    # version) that fit entirely; a short v15 struct uses the v15 offsets.
    newest = min(max(version, 1), KNOWN_VERSION)
    offsets = _V15_OFFSETS if version == 15 else _V16_OFFSETS
    chosen = [
        info.name
        for info in FIELDS
        if info.since <= newest
        and info.name in offsets
        and offsets[info.name] + info.size <= length
    ]
    if not _ALWAYS_PRESENT.issubset(chosen):
        raise DecodeError(f"version {version} struct taskstats of {length} bytes is truncated")

    # Where each value goes in the canonical tuple.
    indexes: list[int] = []
    for name in sorted(chosen, key=offsets.__getitem__):
        start = _INDEX[name]
        indexes.extend((start, start + 1) if _BY_NAME[name].code == "qq" else (start,))
    end = min(SIZE_BY_VERSION[newest], length)
    result = (_layout_of(chosen, offsets), tuple(indexes), end)
    _PARTIAL[key] = result
    return result


@dataclass(frozen=True, slots=True)
class CgroupStats:
    """``struct cgroupstats``: how many tasks of a cgroup are in each state.

    ``nr_io_wait`` needs delay accounting. ``trailing`` keeps bytes a newer
    kernel may append.
    """

    nr_sleeping: int
    nr_running: int
    nr_stopped: int
    nr_uninterruptible: int
    nr_io_wait: int
    trailing: bytes = b""

    def as_dict(self) -> dict[str, int]:
        """Return the five counters by kernel name."""
        return {
            "nr_sleeping": self.nr_sleeping,
            "nr_running": self.nr_running,
            "nr_stopped": self.nr_stopped,
            "nr_uninterruptible": self.nr_uninterruptible,
            "nr_io_wait": self.nr_io_wait,
        }


_CGROUPSTATS = struct.Struct("=5Q")


def decode_cgroupstats(data: Any) -> CgroupStats:
    """Decode a ``struct cgroupstats`` (40 bytes; longer input kept as trailing).

    Raises :class:`~nlwire.errors.DecodeError` when shorter than 40 bytes.
    """
    if len(data) < _CGROUPSTATS.size:
        raise DecodeError(f"struct cgroupstats of {len(data)} bytes is shorter than 40")
    sleeping, running, stopped, uninterruptible, io_wait = _CGROUPSTATS.unpack_from(data, 0)
    return CgroupStats(
        sleeping, running, stopped, uninterruptible, io_wait, bytes(data[_CGROUPSTATS.size :])
    )
