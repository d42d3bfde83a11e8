"""The taskstats client: stats of one task, pipelined sweeps, cgroupstats.

Theory of operation:

1. The client owns one generic netlink socket and resolves the
   ``TASKSTATS`` family id once, when it is created, through the generic
   netlink controller (the id is dynamic; 31 on one 6.18 machine).
2. A single query (:meth:`TaskstatsClient.stats_for_pid`) is a request with
   ``NLM_F_ACK``: the kernel answers with the reply and then the ACK, or
   with an error (ESRCH, EPERM) that becomes a clear exception.
3. A sweep packs up to ``batch`` GET requests into one datagram, without
   ``NLM_F_ACK``. The kernel handles the messages of a datagram one after
   the other, inside the ``send`` call, and answers each one with exactly
   one message: the reply, or an error. Replies are matched to requests by
   sequence number; ESRCH (the task exited meanwhile) leaves it out.
4. Replies the kernel could not queue are lost without a trace, so the
   receive buffer is sized for a whole batch (``SO_RCVBUFFORCE``, which
   needs CAP_NET_ADMIN, the same capability queries need).

IDs are those of the caller's PID namespace; ``ac_uid``/``ac_gid`` are
mapped into the caller's user namespace.
"""

from __future__ import annotations

import errno
import os
import socket as socket_module
import struct
from collections.abc import Iterable
from types import TracebackType

from nlwire.errors import DecodeError, NetlinkError
from nlwire.genl import Controller, FamilyNotFound
from nlwire.socket import NETLINK_GENERIC, NetlinkSocket
from nlwire.taskstats.errors import NoSuchTask, TaskstatsPermissionError, TaskstatsUnavailable
from nlwire.taskstats.messages import (
    CGROUPSTATS_CMD_ATTR_FD,
    FAMILY_NAME,
    TASKSTATS_SPEC,
    Command,
    CommandAttr,
    TaskstatsReply,
    pack_get,
    pack_get_batch,
    pack_request,
    parse_cgroupstats,
    parse_stats,
    parse_taskstats,
)
from nlwire.taskstats.stats import CgroupStats, TaskStats, decode_v16_unchecked
from nlwire.wire import Message, MessageFlags, MessageType, pack_attribute

__all__ = ["TaskstatsClient", "resolve_family"]

#: Requests per datagram in a sweep.
DEFAULT_BATCH = 128
# Receive buffer for a sweep: a v17 reply takes about 1.5 KiB of kernel memory.
_SWEEP_RCVBUF = 4 << 20
_ERROR_CODE = struct.Struct("=i")
_HEADER = struct.Struct("=IHHII")
_NLMSG_ERROR = int(MessageType.ERROR)
# A v16 reply on x86_64: nlmsghdr, genlmsghdr, the nest, the 8-byte id, the stats header.
_V16_REPLY_SIZE = 596
_V16_HEAD = struct.Struct("=IHHIIBBHHHHHIHH")
_V16_SHAPE = {
    False: (2, 1, 0, 576, 4, 8, 1),  # NEW v1, AGGR_PID nest, PID attribute
    True: (2, 1, 0, 576, 5, 8, 2),  # NEW v1, AGGR_TGID nest, TGID attribute
}
_V16_STATS = (564, 3)  # the STATS attribute header


class TaskstatsClient:
    """A client of the kernel's ``TASKSTATS`` generic netlink family.

    ``netns`` opens the socket in a network namespace (queries work there
    on Linux 6.x; exit records do not, see :class:`ExitListener`).
    ``batch`` is the number of requests per datagram in a sweep. Use it as
    a context manager, or call :meth:`close`.

    Every query raises :class:`TaskstatsPermissionError` without
    ``CAP_NET_ADMIN`` in the initial user namespace.
    """

    def __init__(
        self,
        *,
        netns: str | None = None,
        batch: int = DEFAULT_BATCH,
        socket: NetlinkSocket | None = None,
    ) -> None:
        if batch < 1:
            raise ValueError(f"batch must be at least 1, not {batch}")
        self.batch = batch
        self._sock = socket or NetlinkSocket(NETLINK_GENERIC, netns=netns)
        self._fast: _FastReader | None = None
        try:
            self.family = resolve_family(self._sock)
            if socket is None:
                self._grow_buffer()
            self._fast = _FastReader.attach(self._sock)
        except BaseException:
            self._sock.close()
            raise

    def _grow_buffer(self) -> None:
        try:
            self._sock.set_receive_buffer(_SWEEP_RCVBUF)
        except OSError:
            # Without the capability to force it, the default applies; the
            # queries themselves will then fail with EPERM anyway.
            self.batch = min(self.batch, 64)

    # -- life cycle -----------------------------------------------------------

    def close(self) -> None:
        """Close the socket; safe to call twice."""
        if self._fast is not None:
            self._fast.close()
            self._fast = None
        self._sock.close()

    def __enter__(self) -> TaskstatsClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- one task -------------------------------------------------------------

    def stats_for_pid(self, pid: int) -> TaskStats:
        """Return the stats of the thread ``pid`` (everything filled).

        Raises :class:`NoSuchTask` when there is no such thread.
        """
        reply = self._query(CommandAttr.PID, pid)
        if reply.stats is None:
            raise NetlinkError(errno.EPROTO, f"the reply for pid {pid} holds no AGGR_PID")
        return reply.stats

    def stats_for_tgid(self, tgid: int) -> TaskStats:
        """Return the stats of process ``tgid``, summed over its threads.

        The kernel fills only the delay block, ``cpu_run_*``, ``ac_utime``,
        ``ac_stime``, ``nvcsw``/``nivcsw``, ``cpu_scaled_run_real_total`` and
        ``ac_etime`` (a *sum* of the threads' elapsed times); ``ac_comm``,
        ids, memory and I/O are 0 (see :func:`nlwire.taskstats.procfs.process_info`).
        The ``*_delay_max``/``*_delay_min`` fields are those of one thread,
        not the process's extremes. Raises :class:`NoSuchTask`.
        """
        reply = self._query(CommandAttr.TGID, tgid)
        if reply.group_stats is None:
            raise NetlinkError(errno.EPROTO, f"the reply for tgid {tgid} holds no AGGR_TGID")
        return reply.group_stats

    def _query(self, attr: CommandAttr, ident: int) -> TaskstatsReply:
        _check_id(ident)
        seq = self._sock.next_seq()
        flags = MessageFlags.REQUEST | MessageFlags.ACK
        data = pack_get(self.family, seq, attr, ident, flags)
        replies = self._exchange(data, seq, ident)
        for message in replies:
            if message.type == self.family:
                return parse_taskstats(message.raw, 0, len(message.raw))
        raise NetlinkError(errno.EPROTO, f"no taskstats reply for {attr.name.lower()} {ident}")

    def _exchange(self, data: bytes, seq: int, ident: int) -> list[Message]:
        """Send one ACKed request; collect replies up to the ACK."""
        replies: list[Message] = []
        self._sock.send(data)
        while True:
            for message in self._sock.recv_messages():
                if message.seq != seq or message.port != self._sock.port:
                    continue
                if message.type != MessageType.ERROR:
                    replies.append(message)
                    continue
                code = -_ERROR_CODE.unpack_from(message.raw, 16)[0]
                if code:
                    raise _error(code, ident)
                return replies

    # -- sweeps ---------------------------------------------------------------

    def stats_for_pids(self, pids: Iterable[int]) -> dict[int, TaskStats]:
        """Return the stats of each thread in ``pids``, by pid.

        Requests are pipelined ``batch`` per datagram. Threads that no longer
        exist are left out. Raises :class:`TaskstatsPermissionError`.
        """
        return self._sweep(CommandAttr.PID, pids, group=False)

    def stats_for_tgids(self, tgids: Iterable[int]) -> dict[int, TaskStats]:
        """Return the stats of each process in ``tgids`` (as :meth:`stats_for_tgid`).

        Processes that no longer exist are left out.
        """
        return self._sweep(CommandAttr.TGID, tgids, group=True)

    def _sweep(self, attr: CommandAttr, ids: Iterable[int], group: bool) -> dict[int, TaskStats]:
        wanted = list(ids)
        if wanted and not all(type(i) is int and 0 < i <= 0xFFFFFFFF for i in wanted):
            bad = next(i for i in wanted if not (type(i) is int and 0 < i <= 0xFFFFFFFF))
            _check_id(bad)
        results: dict[int, TaskStats] = {}
        for start in range(0, len(wanted), self.batch):
            self._sweep_batch(attr, wanted[start : start + self.batch], group, results)
        return results

    def _sweep_batch(
        self, attr: CommandAttr, chunk: list[int], group: bool, results: dict[int, TaskStats]
    ) -> None:
        # 1. One datagram with a request per id, consecutive sequence numbers.
        sock = self._sock
        pending = {sock.next_seq(): ident for ident in chunk}
        first = next(iter(pending))
        if first + len(chunk) - 1 > 0xFFFFFFFF:
            self._sweep_slowly(attr, list(pending.values()), group, results)
            return
        sock.send(pack_get_batch(self.family, first, attr, chunk))

        # 2. Exactly one answer per request, all queued before send returned.
        if self._fast is not None and not sock.debug:
            self._fast.collect(pending, self.family, group, results)
        else:
            self._collect(pending, group, results)

        # 3. Answers the kernel could not queue: ask again, one at a time.
        if pending:
            self._sweep_slowly(attr, list(pending.values()), group, results)

    def _collect(
        self, pending: dict[int, int], group: bool, results: dict[int, TaskStats]
    ) -> None:
        """Read the answers through the socket layer (the portable path)."""
        family, port = self.family, self._sock.port
        while pending:
            for message in self._sock.recv_messages(peek=False):
                ident = pending.pop(message.seq, None)
                if ident is None or message.port != port:
                    continue
                raw = message.raw
                if message.type == family:
                    stats = parse_stats(raw, 0, len(raw), group)
                    if stats is not None:
                        results[ident] = stats
                elif message.type == MessageType.ERROR:
                    _check_code(-_ERROR_CODE.unpack_from(raw, 16)[0], ident)

    def _sweep_slowly(
        self, attr: CommandAttr, chunk: list[int], group: bool, results: dict[int, TaskStats]
    ) -> None:
        # The sequence counter wrapped inside the batch: ask one at a time.
        for ident in chunk:
            try:
                reply = self._query(attr, ident)
            except NoSuchTask:
                continue
            stats = reply.group_stats if group else reply.stats
            if stats is not None:
                results[ident] = stats

    # -- cgroups --------------------------------------------------------------

    def cgroupstats(self, path: str | os.PathLike[str]) -> CgroupStats:
        """Return how many tasks of the cgroup directory ``path`` are in each state.

        Works on cgroup v1 hierarchies only (``/sys/fs/cgroup/cpu/...``); the
        kernel refuses cgroup v2 directories with EINVAL, raised here as a
        :class:`ValueError` that says so. Needs no privilege.
        """
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            return self._cgroupstats_fd(fd, os.fspath(path))
        finally:
            os.close(fd)

    def _cgroupstats_fd(self, fd: int, path: str) -> CgroupStats:
        seq = self._sock.next_seq()
        attrs = pack_attribute(CGROUPSTATS_CMD_ATTR_FD, struct.pack("=I", fd))
        data = _pack_command(self.family, seq, Command.CGROUPSTATS_CMD_GET, attrs)
        try:
            replies = self._exchange(data, seq, fd)
        except NetlinkError as exc:
            if exc.errno == errno.EINVAL:
                raise ValueError(
                    f"{path} is not a cgroup v1 directory "
                    "(cgroupstats works on cgroup v1 hierarchies only)"
                ) from None
            raise
        for message in replies:
            raw = message.raw
            return parse_cgroupstats(raw, 0, len(raw))
        raise NetlinkError(errno.EPROTO, f"the kernel sent no cgroupstats for {path}")


def resolve_family(sock: NetlinkSocket) -> int:
    """Return the ``TASKSTATS`` family id, asking the controller over ``sock``.

    Raises :class:`TaskstatsUnavailable` when the family does not exist.
    """
    try:
        family = Controller(sock=sock).get_family(FAMILY_NAME)
    except FamilyNotFound as exc:
        raise TaskstatsUnavailable(exc.errno or 2) from None
    sock.specs[family.id] = TASKSTATS_SPEC
    sock.type_names[family.id] = FAMILY_NAME
    return family.id


def _pack_command(family: int, seq: int, command: int, attrs: bytes) -> bytes:
    return pack_request(family, seq, command, attrs, MessageFlags.REQUEST | MessageFlags.ACK)


def _check_id(ident: int) -> None:
    if not isinstance(ident, int) or isinstance(ident, bool) or not 0 < ident <= 0xFFFFFFFF:
        raise ValueError(f"a task id is a positive 32-bit integer, not {ident!r}")


def _check_code(code: int, ident: int) -> None:
    """Raise for an error answer in a sweep, except ESRCH (the task is gone)."""
    if code and code != errno.ESRCH:
        raise _error(code, ident)


def _error(code: int, ident: int) -> NetlinkError:
    """The exception for the kernel's ``code`` answering a request about ``ident``."""
    if code in (errno.EPERM, errno.EACCES):
        return TaskstatsPermissionError(code)
    if code == errno.ESRCH:
        return NoSuchTask(ident)
    return NetlinkError(code)


class _FastReader:
    """Bulk, non-blocking reads of sweep answers straight into one buffer.

    The socket layer returns :class:`~nlwire.wire.Message` objects, one
    allocation per answer; a sweep of thousands of tasks cannot afford that.
    This reader holds a duplicate file descriptor of the same kernel socket
    and reads with ``MSG_DONTWAIT``: the kernel queued every answer before
    ``send`` returned, so "would block" means an answer was lost. Datagrams
    from any sender other than the kernel are dropped, as the socket layer
    does. It is only attached to real sockets (not to test transports).
    """

    __slots__ = ("_buffer", "_raw")

    def __init__(self, raw: socket_module.socket) -> None:
        self._raw = raw
        self._buffer = bytearray(1 << 16)

    @classmethod
    def attach(cls, sock: NetlinkSocket) -> _FastReader | None:
        """Return a reader sharing ``sock``'s kernel socket, or None if it is no socket."""
        try:
            fd = os.dup(sock.fileno())
        except OSError:
            return None
        try:
            raw = socket_module.socket(fileno=fd)
        except OSError:
            os.close(fd)
            return None
        if raw.family != socket_module.AF_NETLINK:
            raw.close()
            return None
        return cls(raw)

    def close(self) -> None:
        """Close the duplicate descriptor (the socket stays open)."""
        self._raw.close()

    def collect(
        self, pending: dict[int, int], family: int, group: bool, results: dict[int, TaskStats]
    ) -> None:
        """Read answers until ``pending`` (seq -> id) is empty or nothing is queued."""
        buffer, recv, unpack = self._buffer, self._raw.recvfrom_into, _V16_HEAD.unpack_from
        start, shape = (_V16_REPLY_SIZE, family), _V16_SHAPE[group]
        while pending:
            # 1. One datagram from the kernel; "would block" means all is read.
            try:
                size, sender = recv(buffer, 0, socket_module.MSG_DONTWAIT)
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno == errno.ENOBUFS:
                    continue
                raise
            if sender[0] != 0:
                continue

            # 2. The usual datagram: exactly one v16 reply in the x86_64 shape.
            if size == _V16_REPLY_SIZE:
                head = unpack(buffer)
                if head[:2] == start and head[5:12] == shape and head[13:] == _V16_STATS:
                    stats = decode_v16_unchecked(buffer, 36)
                    ident = pending.pop(head[3], None)
                    if stats is not None and ident is not None:
                        results[ident] = stats
                        continue
                    if ident is not None:
                        pending[head[3]] = ident

            # 3. Anything else: walk the messages.
            self._walk(size, pending, family, group, results)

    def _walk(
        self,
        size: int,
        pending: dict[int, int],
        family: int,
        group: bool,
        results: dict[int, TaskStats],
    ) -> None:
        """Take every message of a datagram (any shape, any version)."""
        buffer, offset = self._buffer, 0
        while size - offset >= 16:
            length, type_, _flags, seq, _port = _HEADER.unpack_from(buffer, offset)
            if length < 16 or offset + length > size:
                raise DecodeError(f"netlink message of {length} bytes in {size}")
            ident = pending.pop(seq, None)
            if ident is None:
                pass
            elif type_ == family:
                stats = parse_stats(buffer, offset, offset + length, group)
                if stats is not None:
                    results[ident] = stats
            elif type_ == _NLMSG_ERROR:
                _check_code(-_ERROR_CODE.unpack_from(buffer, offset + 16)[0], ident)
            offset += (length + 3) & ~3
