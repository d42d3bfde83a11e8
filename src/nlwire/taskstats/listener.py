"""Exit records: one :class:`ExitRecord` per exiting task, losses counted exactly.

The kernel sends a record when a task exits to every socket registered for
the CPU the task exits on (``TASKSTATS_CMD_ATTR_REGISTER_CPUMASK``). There is
no multicast group: records are unicast, and dropped when the socket's
receive buffer is full.

Theory of operation:

1. One socket per CPU, each registered for its CPU only (the kernel's own
   advice for busy machines), each with a large receive buffer
   (``SO_RCVBUFFORCE`` when allowed, else ``SO_RCVBUF``).
2. The ``nlmsg_seq`` of an exit record is a per-CPU counter that moves by
   one per exit message while the CPU has a listener. A jump from ``s`` to
   ``s + 1 + n`` on a CPU's socket means ``n`` records were lost; a record
   older than the newest one seen fills a gap counted before. That is
   :attr:`ExitListener.lost`. ENOBUFS (the kernel's "something was dropped")
   only counts in :attr:`ExitListener.overruns`; the gap tells how many.
3. Reading goes on after a loss.
4. :meth:`ExitListener.close` deregisters each socket before closing it.

Known limitations, as the kernel behaves (measured on 6.18):

- In a non-initial network namespace the kernel accepts the registration
  and never sends a record; the listener warns (:attr:`ExitListener.warnings`).
- In a non-initial PID namespace the kernel refuses the registration with
  EINVAL; :class:`ListenerError` says so.
- Reading happens in non-blocking mode on sockets owned by the socket
  layer, set through a duplicate descriptor (the socket layer has no
  non-blocking receive of its own).
- A gap is seen only when the next record from that CPU arrives: records
  lost just before the listener stops are shown by :attr:`ExitListener.overruns`
  (ENOBUFS) but not counted in :attr:`ExitListener.lost`. Records lost
  before the first record a CPU's socket receives, and the rare record of a
  task that migrates to another CPU in the middle of its exit, can make the
  count off too; it is exact otherwise.
"""

from __future__ import annotations

import errno
import logging
import os
import select
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import TracebackType

from nlwire.errors import NetlinkError, Overrun
from nlwire.socket import NETLINK_GENERIC, NetlinkSocket, netns_path
from nlwire.taskstats.client import resolve_family
from nlwire.taskstats.errors import ListenerError, TaskstatsPermissionError
from nlwire.taskstats.messages import Command, CommandAttr, parse_taskstats
from nlwire.taskstats.procfs import online_cpus, parse_cpulist, pid_namespace_is_initial
from nlwire.taskstats.stats import TaskStats
from nlwire.wire import Message, pack_attribute

__all__ = ["ExitListener", "ExitRecord"]

log = logging.getLogger("nlwire.taskstats")

#: Default receive buffer per socket: 8 MiB holds several thousand records.
DEFAULT_RCVBUF = 8 << 20
# Datagrams read from one socket per poll, so one busy CPU cannot starve the rest.
_DRAIN_LIMIT = 4096
NETNS_WARNING = (
    "listening inside a non-initial network namespace: the kernel accepts the "
    "registration but sends exit records only to listeners in the initial one"
)


@dataclass(frozen=True, slots=True)
class ExitRecord:
    """One exiting task.

    ``stats`` is the task's own record (``AGGR_PID``). When the last thread
    of a process that ever had more than one thread exits, the same message
    also carries the whole process's record: ``tgid`` and ``group_stats``
    (``AGGR_TGID``; only the delay block, ``cpu_run_virtual_total``,
    ``ac_etime`` summed over threads and ``nvcsw`` are filled). ``cpu`` is
    the CPU the task exited on (the socket it came from) and ``seq`` that
    CPU's exit counter (``nlmsg_seq``). Ids are in the initial PID namespace.
    """

    pid: int
    stats: TaskStats
    tgid: int | None = None
    group_stats: TaskStats | None = None
    cpu: int | None = None
    seq: int | None = None


class ExitListener:
    """Receive exit records for the CPUs in ``cpus`` (a cpulist; default all online).

    Use it as a context manager (or call :meth:`close`, which deregisters).
    :meth:`poll` returns what arrived; iterating blocks for more.
    :meth:`fileno` is readable whenever any CPU's socket is (for
    ``select``/asyncio). ``rcvbuf`` is the receive buffer per socket;
    ``netns`` a network namespace to open the sockets in (records never
    arrive there: see :attr:`warnings`). ``socket_factory`` replaces the
    kernel sockets (tests pass sockets over a fake transport).

    Raises :class:`ValueError` for a malformed CPU list,
    :class:`ListenerError` when the kernel refuses the registration and
    :class:`TaskstatsPermissionError` without CAP_NET_ADMIN.
    """

    def __init__(
        self,
        cpus: str | None = None,
        *,
        rcvbuf: int = DEFAULT_RCVBUF,
        netns: str | None = None,
        socket_factory: Callable[[], NetlinkSocket] | None = None,
    ) -> None:
        self.cpulist = cpus if cpus is not None else online_cpus()
        self.cpus = parse_cpulist(self.cpulist)
        self.lost = 0
        self.overruns = 0
        self.warnings: list[str] = []
        self._last_seq: dict[int, int] = {}
        self._sockets: dict[int, NetlinkSocket] = {}
        self._cpu_of_fd: dict[int, int] = {}
        self._early: list[tuple[int, Message]] = []
        self._epoll = select.epoll()
        self.family = 0
        self._factory = socket_factory or (
            lambda: NetlinkSocket(NETLINK_GENERIC, netns=netns, rcvbuf=rcvbuf)
        )
        try:
            self._open_all(netns)
        except BaseException:
            self.close()
            raise

    def _open_all(self, netns: str | None) -> None:
        if not _in_initial_netns(netns):
            self.warnings.append(NETNS_WARNING)
            log.debug("%s", NETNS_WARNING)
        for cpu in self.cpus:
            sock = self._factory()
            self._sockets[cpu] = sock
            if not self.family:
                self.family = resolve_family(sock)
            self._register(sock, cpu)
            sock.set_blocking(False)
            self._epoll.register(sock.fileno(), select.EPOLLIN)
            self._cpu_of_fd[sock.fileno()] = cpu

    def _register(self, sock: NetlinkSocket, cpu: int) -> None:
        """Register ``sock`` for ``cpu``; keep records that beat the ACK."""
        try:
            sock.request(self.family, _mask_payload(CommandAttr.REGISTER_CPUMASK, cpu))
        except NetlinkError as exc:
            raise _registration_error(exc, self.cpulist) from None
        try:
            self._early.extend((cpu, message) for message in sock.poll_events(0.0))
        except Overrun:
            self.overruns += 1

    # -- life cycle -----------------------------------------------------------

    def close(self) -> None:
        """Deregister every CPU and close the sockets; safe to call twice."""
        for cpu, sock in self._sockets.items():
            try:
                payload = _mask_payload(CommandAttr.DEREGISTER_CPUMASK, cpu)
                sock.send(sock.build(self.family, 0, payload))
            except OSError as exc:
                log.debug("deregistering CPU %d failed: %s", cpu, exc)
            sock.close()
        self._sockets.clear()
        if not self._epoll.closed:
            self._epoll.close()

    def __enter__(self) -> ExitListener:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def fileno(self) -> int:
        """A descriptor readable while any CPU's socket has records (an epoll fd)."""
        return self._epoll.fileno()

    def fds(self) -> list[int]:
        """The descriptors of the per-CPU sockets, in CPU order."""
        return [sock.fileno() for sock in self._sockets.values()]

    # -- reading --------------------------------------------------------------

    def poll(self, timeout: float | None = 0.0) -> list[ExitRecord]:
        """Return every record that has arrived, waiting at most ``timeout`` s for one.

        ``None`` waits as long as it takes. Losses found on the way are added
        to :attr:`lost`; reading continues.
        """
        records = [r for cpu, m in self._early if (r := self._record(cpu, m)) is not None]
        self._early.clear()
        wait = 0.0 if records else timeout
        ready = self._epoll.poll(-1 if wait is None else wait)
        if not ready:
            return records
        for fd, _mask in ready:
            records.extend(self._drain(self._cpu_of_fd[fd]))
        return records

    def __iter__(self) -> Iterator[ExitRecord]:
        """Yield records as they arrive, forever (blocking)."""
        while True:
            yield from self.poll(None)

    def _drain(self, cpu: int) -> list[ExitRecord]:
        """Read what is queued on ``cpu``'s (non-blocking) socket."""
        sock, records = self._sockets[cpu], []
        for _ in range(_DRAIN_LIMIT):
            try:
                messages = sock.recv_messages(peek=False)
            except BlockingIOError:
                break
            except Overrun:
                self.overruns += 1
                continue
            for message in messages:
                record = self._record(cpu, message)
                if record is not None:
                    records.append(record)
        return records

    def _record(self, cpu: int, message: Message) -> ExitRecord | None:
        """Account for ``message``'s sequence number and decode it."""
        if message.type != self.family or message.port != 0:
            return None
        self._count_gap(cpu, message.seq)
        raw = message.raw
        if len(raw) < 20 or raw[16] != Command.TASKSTATS_CMD_NEW:
            return None
        reply = parse_taskstats(raw, 0, len(raw))
        if reply.pid is None or reply.stats is None:
            return None
        return ExitRecord(reply.pid, reply.stats, reply.tgid, reply.group_stats, cpu, message.seq)

    def _count_gap(self, cpu: int, seq: int) -> None:
        last = self._last_seq.get(cpu)
        if last is None:
            self._last_seq[cpu] = seq
            return
        step = (seq - last) & 0xFFFFFFFF
        if step == 0:
            return
        if step < 1 << 31:
            self.lost += step - 1
            self._last_seq[cpu] = seq
            if step > 1:
                log.debug("CPU %d: %d exit records lost before seq %d", cpu, step - 1, seq)
        elif self.lost:
            self.lost -= 1  # a late record from a gap already counted


def _mask_payload(attr: CommandAttr, cpu: int) -> bytes:
    header = bytes([Command.TASKSTATS_CMD_GET, 1, 0, 0])
    return header + pack_attribute(attr, f"{cpu}".encode() + b"\0")


def _registration_error(exc: NetlinkError, cpulist: str) -> NetlinkError:
    """Turn the kernel's refusal into an error that names the cause."""
    code = exc.errno
    if code in (errno.EPERM, errno.EACCES):
        return TaskstatsPermissionError(code)
    if code == errno.EINVAL and pid_namespace_is_initial() is False:
        return ListenerError(
            code,
            "cannot listen for exit records from a non-initial PID namespace: "
            "the kernel refuses the registration (EINVAL); run in the host's PID namespace",
        )
    if code in (errno.ERANGE, errno.EINVAL):
        return ListenerError(
            code, f"the kernel refused the CPU list {cpulist!r}: it names CPUs not present"
        )
    if code == errno.E2BIG:
        return ListenerError(code, f"the CPU list {cpulist!r} is too long for the kernel")
    return exc


def _in_initial_netns(netns: str | None) -> bool:
    """Whether a socket opened with ``netns`` lives in the initial network namespace."""
    try:
        init = os.stat("/proc/1/ns/net")
        mine = os.stat(netns_path(netns) if netns else "/proc/self/ns/net")
    except OSError:
        return netns is None
    return (init.st_dev, init.st_ino) == (mine.st_dev, mine.st_ino)
