"""The ``TASKSTATS`` generic netlink messages: requests out, replies in (sans-IO).

A reply to ``TASKSTATS_CMD_GET`` and an exit record look the same::

    nlmsghdr(16)  genlmsghdr(4: cmd NEW, version 1)
      AGGR_PID or AGGR_TGID   nest, NLA_F_NESTED *not* set by the kernel
        PID or TGID           u32
        [NULL]                zero-length pad, only on some 64-bit arches
        STATS                 struct taskstats
      [AGGR_TGID ...]         exit of the last thread of a multi-threaded process

Theory of operation:

1. The attributes are walked, never assumed at fixed offsets: ``NULL``
   padding is skipped at any level, a nest is read whether or not it carries
   ``NLA_F_NESTED``, and unknown attributes are kept as ``(type, bytes)``.
2. :func:`parse_taskstats` first checks whether the message has exactly the
   x86_64 shape above (nest, 8-byte id, stats) and then reads the stats at
   byte 36 directly; any other shape takes the full walk. Both give the
   same result for the same bytes.
3. Nothing here does I/O; the client and the listener feed it receive buffers.
4. :data:`TASKSTATS_SPEC` declares the same messages in the
   :mod:`nlwire.wire` schema vocabulary, for the debug dumper
   (``NLWIRE_DEBUG=1``). Requests and replies share attribute numbers with
   different meanings (3 is ``REGISTER_CPUMASK`` in a request, ``STATS`` in
   a reply); the spec is the reply's, and a value that is no struct
   taskstats is shown as bytes.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from typing import Any

from nlwire.errors import DecodeError
from nlwire.genl import genl_header
from nlwire.taskstats.stats import CgroupStats, TaskStats, decode_cgroupstats, decode_taskstats
from nlwire.wire import (
    NLA_TYPE_MASK,
    NUL_STRING,
    U32,
    AttrSet,
    Codec,
    MessageFlags,
    MessageSpec,
    Nested,
    iter_attributes,
)

#: The generic netlink family name and version (``TASKSTATS_GENL_NAME``/``_VERSION``).
FAMILY_NAME = "TASKSTATS"
FAMILY_VERSION = 1


class Command(enum.IntEnum):
    """Commands of the family (``TASKSTATS_CMD_*``, ``CGROUPSTATS_CMD_*``)."""

    TASKSTATS_CMD_GET = 1  # user to kernel: stats of a PID/TGID, or (de)register
    TASKSTATS_CMD_NEW = 2  # kernel to user: a reply or an exit record
    CGROUPSTATS_CMD_GET = 4
    CGROUPSTATS_CMD_NEW = 5


class CommandAttr(enum.IntEnum):
    """Attributes of a ``TASKSTATS_CMD_GET`` request (``TASKSTATS_CMD_ATTR_*``)."""

    PID = 1  # u32
    TGID = 2  # u32
    REGISTER_CPUMASK = 3  # string, a cpulist such as "0-3,8"
    DEREGISTER_CPUMASK = 4  # string


class TypeAttr(enum.IntEnum):
    """Attributes of a reply (``TASKSTATS_TYPE_*``)."""

    PID = 1  # u32
    TGID = 2  # u32
    STATS = 3  # struct taskstats
    AGGR_PID = 4  # nest: PID, STATS
    AGGR_TGID = 5  # nest: TGID, STATS
    NULL = 6  # zero-length padding


#: ``CGROUPSTATS_CMD_ATTR_FD``: u32 file descriptor of an open cgroup directory.
CGROUPSTATS_CMD_ATTR_FD = 1
#: ``CGROUPSTATS_TYPE_CGROUP_STATS``: the reply's struct cgroupstats.
CGROUPSTATS_TYPE_CGROUP_STATS = 1

# nlmsghdr + genlmsghdr + one u32 attribute: the whole of a GET request.
_GET = struct.Struct("=IHHIIBBHHHI")
GET_SIZE = _GET.size
_FAST = struct.Struct("=HHHHIHH")  # nest, id attribute, id, stats header at byte 20
_U32 = struct.Struct("=I")
_GENL = struct.Struct("=BBH")
_HEADER = struct.Struct("=IHHII")
_REQUEST = int(MessageFlags.REQUEST)
# Plain ints for the hot path (enum member lookups cost more than the decode).
_CMD_NEW, _TYPE_MASK = int(Command.TASKSTATS_CMD_NEW), int(NLA_TYPE_MASK)
_PID, _TGID, _STATS = int(TypeAttr.PID), int(TypeAttr.TGID), int(TypeAttr.STATS)
_AGGR_PID, _AGGR_TGID = int(TypeAttr.AGGR_PID), int(TypeAttr.AGGR_TGID)
_PID_PAIR = (_AGGR_PID, _PID)


@dataclass(slots=True)
class TaskstatsReply:
    """What one ``TASKSTATS_CMD_NEW`` message carried.

    ``pid``/``stats`` come from ``AGGR_PID``, ``tgid``/``group_stats`` from
    ``AGGR_TGID``; either pair is ``None`` when absent. ``unknown`` keeps
    attributes this decoder does not know, as ``(type, bytes)``.
    """

    pid: int | None = None
    stats: TaskStats | None = None
    tgid: int | None = None
    group_stats: TaskStats | None = None
    unknown: tuple[tuple[int, bytes], ...] = ()


def pack_get(family: int, seq: int, attr: CommandAttr, value: int, flags: int = _REQUEST) -> bytes:
    """Build a ``TASKSTATS_CMD_GET`` for a PID or TGID (``attr``) with ``value``."""
    return _GET.pack(GET_SIZE, family, flags, seq, 0, 1, FAMILY_VERSION, 0, 8, attr, value)


def pack_get_batch(family: int, first_seq: int, attr: CommandAttr, values: list[int]) -> bytes:
    """Build consecutive GET requests for ``values`` with seqs from ``first_seq``.

    Sent as one datagram, the kernel answers each message in turn.
    """
    pack = _GET.pack
    return b"".join(
        [
            pack(GET_SIZE, family, _REQUEST, first_seq + i, 0, 1, FAMILY_VERSION, 0, 8, attr, v)
            for i, v in enumerate(values)
        ]
    )


def pack_request(family: int, seq: int, command: int, attrs: bytes, flags: int) -> bytes:
    """Build any request of the family: headers plus packed ``attrs``."""
    length = 20 + len(attrs)
    return _HEADER.pack(length, family, flags, seq, 0) + _GENL.pack(command, 1, 0) + attrs


def parse_taskstats(data: Any, start: int, end: int) -> TaskstatsReply:
    """Parse the ``TASKSTATS_CMD_NEW`` message occupying ``data[start:end]``.

    ``start`` is the offset of the netlink header. Raises
    :class:`~nlwire.errors.DecodeError` for a message that is not a NEW
    command or whose attributes do not parse.
    """
    fast = _parse_fast(data, start, end)
    if fast is None:
        return _parse_walk(data, start, end)
    kind, ident, stats = fast
    if kind == _AGGR_PID:
        return TaskstatsReply(pid=ident, stats=stats)
    return TaskstatsReply(tgid=ident, group_stats=stats)


def parse_stats(data: Any, start: int, end: int, group: bool) -> TaskStats | None:
    """Return just the stats of a reply: AGGR_TGID's if ``group``, else AGGR_PID's.

    The sweep's shortcut around :func:`parse_taskstats`; same checks, same
    errors, ``None`` when the message lacks that aggregate.
    """
    # The common shape, checked inline: this runs once per task of a sweep.
    if end - start >= 36 and data[start + 16] == _CMD_NEW:
        nest_len, nest_type, id_len, id_type, _, stats_len, stats_type = _FAST.unpack_from(
            data, start + 20
        )
        if (
            nest_len + 20 == end - start
            and nest_len == stats_len + 12
            and id_len == 8
            and stats_type == _STATS
            and (nest_type & _TYPE_MASK, id_type) == ((_AGGR_TGID, _TGID) if group else _PID_PAIR)
        ):
            return decode_taskstats(data, start + 36, stats_len - 4)
    reply = _parse_walk(data, start, end)
    return reply.group_stats if group else reply.stats


def _parse_fast(data: Any, start: int, end: int) -> tuple[int, int, TaskStats] | None:
    """Decode the common shape (one nest: 8-byte id, then stats) or return None."""
    if end - start < 36 or data[start + 16] != _CMD_NEW:
        return None
    nest_len, nest_type, id_len, id_type, ident, stats_len, stats_type = _FAST.unpack_from(
        data, start + 20
    )
    if id_len != 8 or stats_type != _STATS or nest_len != stats_len + 12:
        return None
    if nest_len + 20 != end - start:
        return None
    kind = nest_type & _TYPE_MASK
    if (kind, id_type) != (_AGGR_PID, _PID) and (kind, id_type) != (_AGGR_TGID, _TGID):
        return None
    return kind, ident, decode_taskstats(data, start + 36, stats_len - 4)


def _parse_walk(data: Any, start: int, end: int) -> TaskstatsReply:
    # 1. The generic netlink header names the command.
    if end - start < 20:
        raise DecodeError(f"taskstats message of {end - start} bytes has no genl header")
    command = data[start + 16]
    if command != Command.TASKSTATS_CMD_NEW:
        raise DecodeError(f"expected TASKSTATS_CMD_NEW, got command {command}")

    # 2. Top level: the aggregates, padding, and anything newer.
    reply = TaskstatsReply()
    unknown: list[tuple[int, bytes]] = []
    for type_, vstart, vend in iter_attributes(data, start + 20, end):
        kind = type_ & NLA_TYPE_MASK
        if kind == TypeAttr.AGGR_PID:
            reply.pid, reply.stats = _parse_aggregate(data, vstart, vend, TypeAttr.PID)
        elif kind == TypeAttr.AGGR_TGID:
            reply.tgid, reply.group_stats = _parse_aggregate(data, vstart, vend, TypeAttr.TGID)
        elif kind != TypeAttr.NULL:
            unknown.append((type_, bytes(data[vstart:vend])))
    reply.unknown = tuple(unknown)
    return reply


def _parse_aggregate(data: Any, start: int, end: int, id_type: int) -> tuple[int, TaskStats]:
    """Read one ``AGGR_*`` nest: the id and the stats, skipping NULL pads."""
    ident: int | None = None
    stats: TaskStats | None = None
    for type_, vstart, vend in iter_attributes(data, start, end):
        kind = type_ & NLA_TYPE_MASK
        if kind == id_type:
            if vend - vstart != 4:
                raise DecodeError(f"taskstats id attribute of {vend - vstart} bytes, not 4")
            ident = _U32.unpack_from(data, vstart)[0]
        elif kind == TypeAttr.STATS:
            stats = decode_taskstats(data, vstart, vend - vstart)
    if ident is None or stats is None:
        raise DecodeError("taskstats aggregate without its id or its stats")
    return ident, stats


def parse_cgroupstats(data: Any, start: int, end: int) -> CgroupStats:
    """Parse a ``CGROUPSTATS_CMD_NEW`` message occupying ``data[start:end]``.

    Raises :class:`~nlwire.errors.DecodeError` when it holds no cgroupstats.
    """
    if end - start < 20 or data[start + 16] != Command.CGROUPSTATS_CMD_NEW:
        raise DecodeError("expected a CGROUPSTATS_CMD_NEW message")
    for type_, vstart, vend in iter_attributes(data, start + 20, end):
        if type_ & NLA_TYPE_MASK == CGROUPSTATS_TYPE_CGROUP_STATS:
            return decode_cgroupstats(bytes(data[vstart:vend]))
    raise DecodeError("CGROUPSTATS_CMD_NEW message without CGROUPSTATS_TYPE_CGROUP_STATS")


# -- the schema, for the debug dumper ---------------------------------------


class StatsCodec(Codec):
    """``struct taskstats`` as a mapping of its present fields (bytes if it is none)."""

    kind = "struct taskstats"

    def decode(self, data: memoryview, parent: Any = None) -> Any:
        """Return the decoded fields, or the raw bytes when they are no struct."""
        try:
            return decode_taskstats(data).as_dict()
        except DecodeError:
            return bytes(data)


#: Inside ``AGGR_PID``/``AGGR_TGID``: the id, the stats and NULL padding.
AGGREGATE = AttrSet(
    "taskstats_aggregate",
    TypeAttr,
    {TypeAttr.PID: U32, TypeAttr.TGID: U32, TypeAttr.STATS: StatsCodec()},
)

#: The top level of a reply or an exit record.
TASKSTATS = AttrSet(
    "taskstats",
    TypeAttr,
    {
        TypeAttr.PID: U32,
        TypeAttr.TGID: U32,
        TypeAttr.STATS: StatsCodec(),
        TypeAttr.AGGR_PID: Nested(AGGREGATE, nested_flag=False),
        TypeAttr.AGGR_TGID: Nested(AGGREGATE, nested_flag=False),
    },
)

#: A ``TASKSTATS_CMD_GET`` request: a PID, a TGID, or a cpumask to (de)register.
COMMAND = AttrSet(
    "taskstats_command",
    CommandAttr,
    {
        CommandAttr.PID: U32,
        CommandAttr.TGID: U32,
        CommandAttr.REGISTER_CPUMASK: NUL_STRING,
        CommandAttr.DEREGISTER_CPUMASK: NUL_STRING,
    },
)


class CgroupCommandAttr(enum.IntEnum):
    """Attributes of a ``CGROUPSTATS_CMD_GET`` request (``CGROUPSTATS_CMD_ATTR_*``)."""

    FD = 1  # u32, an open cgroup directory


class CgroupTypeAttr(enum.IntEnum):
    """Attributes of a ``CGROUPSTATS_CMD_NEW`` reply (``CGROUPSTATS_TYPE_*``)."""

    CGROUP_STATS = 1  # struct cgroupstats


class CgroupStatsCodec(Codec):
    """``struct cgroupstats`` as a mapping of its fields (bytes if it is none)."""

    kind = "struct cgroupstats"

    def decode(self, data: memoryview, parent: Any = None) -> Any:
        """Return the decoded fields, or the raw bytes when they are no struct."""
        try:
            return decode_cgroupstats(bytes(data)).as_dict()
        except DecodeError:
            return bytes(data)


#: One message of the family, for the debug dumper and ``nlwire decode``: a
#: reply or exit record by default, requests and cgroupstats by command.
TASKSTATS_SPEC = MessageSpec(
    FAMILY_NAME,
    TASKSTATS,
    genl_header(Command),
    by_command={
        Command.TASKSTATS_CMD_GET: COMMAND,
        Command.CGROUPSTATS_CMD_GET: AttrSet(
            "cgroupstats_command", CgroupCommandAttr, {CgroupCommandAttr.FD: U32}
        ),
        Command.CGROUPSTATS_CMD_NEW: AttrSet(
            "cgroupstats", CgroupTypeAttr, {CgroupTypeAttr.CGROUP_STATS: CgroupStatsCodec()}
        ),
    },
)
