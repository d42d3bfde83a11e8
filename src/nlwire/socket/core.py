"""The blocking netlink socket: one conversation with the kernel.

Theory of operation:

1. The socket binds to a port id the kernel chooses; ``port`` holds it.
2. Every request takes the next number of one counter per socket, which
   starts at a random value; replies are matched by sequence number *and*
   port id (see :mod:`nlwire.socket.exchange`).
3. A request reads until it is complete: the ACK, or ``NLMSG_DONE`` for a
   dump. Replies to requests abandoned by an exception are dropped later.
4. Messages from any sender other than the kernel (port id 0) are dropped
   and counted in ``stats.foreign``; they are never taken as replies.
5. Notifications (messages addressed to port id 0, such as taskstats exit
   records; anything that arrived through a multicast group; messages that
   match neither this socket's port id nor the request's sequence number)
   that arrive while a request is in flight are kept for
   :meth:`NetlinkSocket.events`.
6. ENOBUFS from the kernel raises :class:`Overrun`; the socket stays usable.
7. A datagram larger than the receive buffer is never cut: the socket peeks
   at its size first and grows the buffer.
"""

from __future__ import annotations

import collections
import logging
import os
import random
import select
import socket
import sys
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Any, Final, Protocol

from nlwire.errors import DumpInterrupted, Overrun
from nlwire.socket.exchange import Exchange
from nlwire.socket.netns import socket_in_netns
from nlwire.wire import Message, MessageFlags, MessageSpec, format_message, parse_messages
from nlwire.wire.header import pack_message

log = logging.getLogger("nlwire.socket")

SOL_NETLINK: Final = 270
NETLINK_ADD_MEMBERSHIP: Final = 1
NETLINK_DROP_MEMBERSHIP: Final = 2
NETLINK_CAP_ACK: Final = 10
NETLINK_EXT_ACK: Final = 11
NETLINK_GET_STRICT_CHK: Final = 12
SO_RCVBUFFORCE: Final = 33

DEFAULT_BUFFER: Final = 64 * 1024


class Transport(Protocol):
    """What :class:`NetlinkSocket` needs from a socket; ``socket.socket`` fits.

    :class:`nlwire.socket.fake.FakeTransport` implements it for tests.
    """

    def sendto(self, data: bytes, address: Any, /) -> int: ...
    def recvfrom_into(
        self, buffer: bytearray | memoryview, nbytes: int = ..., flags: int = ..., /
    ) -> tuple[int, Any]: ...
    def setsockopt(self, level: int, option: int, value: int, /) -> None: ...
    def getsockname(self) -> Any: ...
    def bind(self, address: Any, /) -> None: ...
    def fileno(self) -> int: ...
    def setblocking(self, flag: bool, /) -> None: ...
    def close(self) -> None: ...


class SocketStats:
    """Counters of what the socket dropped instead of returning.

    ``foreign``: messages from a sender other than the kernel.
    ``stale``: late replies to requests abandoned by an exception.
    ``overruns``: ENOBUFS reports (each means one or more lost messages).
    """

    __slots__ = ("foreign", "overruns", "stale")

    def __init__(self) -> None:
        self.foreign = 0
        self.stale = 0
        self.overruns = 0

    def __repr__(self) -> str:
        return f"SocketStats(foreign={self.foreign}, stale={self.stale}, overruns={self.overruns})"


class NetlinkSocket:
    """A netlink socket of one protocol (``NETLINK_ROUTE`` = 0, ``NETLINK_GENERIC`` = 16, …).

    ``netns`` opens it inside a network namespace (a name under
    /run/netns, a path or an open fd). ``rcvbuf`` sets the kernel receive
    buffer in bytes (as root beyond ``net.core.rmem_max``). ``groups`` are
    multicast groups to join. ``transport`` replaces the kernel socket (for
    tests). Use it as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        protocol: int,
        *,
        netns: str | int | None = None,
        rcvbuf: int | None = None,
        groups: Iterable[int] = (),
        transport: Transport | None = None,
    ) -> None:
        self.protocol = protocol
        self.stats = SocketStats()
        self.specs: dict[int, MessageSpec] = {}
        self.type_names: dict[int, str] = {}
        self._sock = transport or _open(protocol, netns)
        self._closed = False
        try:
            self._setup(rcvbuf)
            for group in groups:
                self.join_group(group)
        except BaseException:
            self._sock.close()
            raise
        self._seq = random.randrange(1, 1 << 31)
        self._abandoned: collections.deque[int] = collections.deque(maxlen=64)
        self._events: collections.deque[Message] = collections.deque()
        self._buffer = bytearray(DEFAULT_BUFFER)
        self.debug = os.environ.get("NLWIRE_DEBUG", "") not in ("", "0")
        self._multicast = False

    def _setup(self, rcvbuf: int | None) -> None:
        for option in (NETLINK_EXT_ACK, NETLINK_CAP_ACK, NETLINK_GET_STRICT_CHK):
            try:
                self._sock.setsockopt(SOL_NETLINK, option, 1)
            except OSError as exc:
                log.debug("netlink socket option %d not available: %s", option, exc)
        if rcvbuf is not None:
            self.set_receive_buffer(rcvbuf)
        self._sock.bind((0, 0))
        self.port: int = self._sock.getsockname()[0]

    # -- life cycle -------------------------------------------------------

    def fileno(self) -> int:
        """The file descriptor, for ``select``/``poll``."""
        return self._sock.fileno()

    def close(self) -> None:
        """Close the socket; safe to call twice."""
        if not self._closed:
            self._closed = True
            self._sock.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def __enter__(self) -> NetlinkSocket:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- options ----------------------------------------------------------

    def set_receive_buffer(self, size: int) -> None:
        """Set the kernel receive buffer to ``size`` bytes (forced when root)."""
        if size <= 0:
            raise ValueError(f"receive buffer size must be positive, not {size}")
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, size)
        except PermissionError:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)

    def set_blocking(self, blocking: bool) -> None:
        """Block in receives (the default), or raise ``BlockingIOError`` when nothing is queued."""
        self._sock.setblocking(blocking)

    def join_group(self, group: int) -> None:
        """Join multicast group ``group`` (any id, including those above 32)."""
        self._sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group)

    def leave_group(self, group: int) -> None:
        """Leave multicast group ``group``."""
        self._sock.setsockopt(SOL_NETLINK, NETLINK_DROP_MEMBERSHIP, group)

    # -- sending ------------------------------------------------------------

    def next_seq(self) -> int:
        """Take the next sequence number of this socket (never 0)."""
        self._seq = (self._seq % 0xFFFFFFFF) + 1
        return self._seq

    def send(self, data: bytes) -> None:
        """Send already-packed message(s) to the kernel as one datagram."""
        if self.debug:
            self._dump(data, ">>> send")
        self._sock.sendto(data, (0, 0))

    def build(self, type: int, flags: int, payload: bytes, seq: int | None = None) -> bytes:
        """Pack one request with this socket's next sequence number (or ``seq``)."""
        return pack_message(type, flags | MessageFlags.REQUEST, seq or self.next_seq(), 0, payload)

    # -- receiving ----------------------------------------------------------

    def recv_messages(self, *, peek: bool = True) -> list[Message]:
        """Read one datagram and return its messages from the kernel.

        A datagram from any other sender is dropped and counted in
        ``stats.foreign``; it gives an empty list. Raises :class:`Overrun`
        on ENOBUFS. With ``peek=False`` the size check is skipped (one system
        call less); only for protocols whose messages are known to fit the
        buffer.
        """
        data, sender, groups = self._recv_datagram(peek)
        self._multicast = bool(groups)
        if sender != 0:
            self.stats.foreign += 1
            log.debug("dropped a %d-byte message from port %d", len(data), sender)
            return []
        if self.debug:
            self._dump(data, "<<< recv")
        return parse_messages(data)

    def _recv_datagram(self, peek: bool) -> tuple[bytes, int, int]:
        try:
            if peek:
                size, _ = self._sock.recvfrom_into(
                    self._buffer, len(self._buffer), socket.MSG_PEEK | socket.MSG_TRUNC
                )
                if size > len(self._buffer):
                    self._buffer = bytearray(max(size, 2 * len(self._buffer)))
            size, address = self._sock.recvfrom_into(self._buffer, len(self._buffer))
        except OSError as exc:
            if exc.errno == 105:  # ENOBUFS
                self.stats.overruns += 1
                raise Overrun from None
            raise
        return bytes(memoryview(self._buffer)[:size]), address[0], address[1]

    def _dump(self, data: bytes, direction: str) -> None:
        try:
            messages = parse_messages(data)
        except ValueError as exc:
            sys.stderr.write(f"{direction} {len(data)} undecodable bytes: {exc}\n")
            return
        for message in messages:
            spec = self.specs.get(message.type)
            name = self.type_names.get(message.type)
            text = format_message(
                message, direction=direction, protocol=self.protocol, spec=spec, type_name=name
            )
            sys.stderr.write(text + "\n")

    # -- requests -----------------------------------------------------------

    def request(
        self,
        type: int,
        payload: bytes = b"",
        flags: int = MessageFlags.ACK,
        *,
        spec: MessageSpec | None = None,
        timeout: float | None = None,
    ) -> list[Message]:
        """Send one request and return its replies once it is complete.

        ``flags`` are added to ``NLM_F_REQUEST``; include ``ACK`` to wait for
        the acknowledgement and ``DUMP`` for a dump. ``spec`` describes the
        request so an extended ACK offset can be named. ``timeout`` bounds
        each wait for the next datagram, in seconds (``None``: no bound).
        Raises :class:`NetlinkError`, :class:`DumpInterrupted`,
        :class:`Overrun`, a :class:`ProtocolError`, or ``TimeoutError``.
        """
        exchange = self.begin(type, payload, flags, spec)
        try:
            while not exchange.done:
                if timeout is not None and not self._readable(timeout):
                    raise TimeoutError(f"no reply from the kernel within {timeout:g} s")
                self.take(exchange, self.recv_messages())
        except BaseException:
            self.abandon(exchange)
            raise
        return exchange.replies

    def begin(
        self, type: int, payload: bytes, flags: int, spec: MessageSpec | None = None
    ) -> Exchange:
        """Send one request and return its :class:`Exchange` (for adapters).

        Feed it what arrives with :meth:`take` until ``exchange.done``; call
        :meth:`abandon` if reading stops early.
        """
        seq = self.next_seq()
        data = self.build(type, flags, payload, seq)
        exchange = Exchange(data, seq, self.port, flags, spec=spec, abandoned=set(self._abandoned))
        self.send(data)
        return exchange

    def take(self, exchange: Exchange, messages: Iterable[Message]) -> None:
        """Route received ``messages``: to ``exchange``, to events, or dropped."""
        for message in messages:
            self._route(message, exchange)

    def abandon(self, exchange: Exchange) -> None:
        """Forget an unfinished request; its late replies will be dropped."""
        if not exchange.done:
            self._abandoned.append(exchange.seq)

    def _route(self, message: Message, exchange: Exchange) -> None:
        if self._is_notification(message, exchange):
            self._events.append(message)
        elif exchange.done or message.seq in exchange.abandoned:
            self.stats.stale += 1
        else:
            exchange.feed(message)

    def _is_notification(self, message: Message, exchange: Exchange) -> bool:
        # A multicast copy carries the port id and sequence number of the
        # request that caused it, which may be another socket's. It is told
        # apart by the group in the sender address (the kernel reports only
        # groups 1-32 there) or else by matching neither our port nor our
        # sequence number.
        if message.port == 0 or self._multicast:
            return True
        return message.port != self.port and message.seq != exchange.seq

    def dump(
        self,
        type: int,
        payload: bytes = b"",
        *,
        spec: MessageSpec | None = None,
        retries: int = 0,
    ) -> list[Message]:
        """Dump: request with ``NLM_F_DUMP`` and read to ``NLMSG_DONE``.

        When the kernel flags the dump inconsistent, it is repeated up to
        ``retries`` times before :class:`DumpInterrupted` is raised.
        """
        if retries < 0:
            raise ValueError(f"retries must be 0 or more, not {retries}")
        for attempt in range(retries + 1):
            try:
                return self.request(type, payload, MessageFlags.DUMP, spec=spec)
            except DumpInterrupted:
                if attempt == retries:
                    raise
                log.debug("dump interrupted; trying again (%d of %d)", attempt + 1, retries)
        raise AssertionError("unreachable")

    # -- events -------------------------------------------------------------

    def poll_events(self, timeout: float | None = 0.0) -> list[Message]:
        """Return the notifications that arrive within ``timeout`` seconds.

        Waits for the first one at most ``timeout`` seconds (``None``: forever),
        then takes everything already queued without waiting again. When the
        kernel reports an overrun part way, what was read before it is kept
        for the next call and :class:`Overrun` is raised.
        """
        messages = list(self._events)
        self._events.clear()
        wait = 0.0 if messages else timeout
        try:
            while self._readable(wait):
                messages.extend(self.unsolicited(self.recv_messages()))
                wait = 0.0
        except Overrun:
            self._events.extend(messages)
            raise
        return messages

    def events(self) -> Iterator[Message]:
        """Yield notifications as they arrive, forever (blocking)."""
        while True:
            while self._events:
                yield self._events.popleft()
            yield from self.unsolicited(self.recv_messages())

    def unsolicited(self, messages: list[Message]) -> list[Message]:
        """``messages`` without late replies to abandoned requests (counted stale)."""
        if not self._abandoned:
            return messages
        kept = [m for m in messages if m.port != self.port or m.seq not in self._abandoned]
        self.stats.stale += len(messages) - len(kept)
        return kept

    def _readable(self, timeout: float | None) -> bool:
        ready, _, _ = select.select([self._sock], [], [], timeout)
        return bool(ready)


def _open(protocol: int, netns: str | int | None) -> socket.socket:
    def make() -> socket.socket:
        return socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, protocol)

    return make() if netns is None else socket_in_netns(netns, make)
