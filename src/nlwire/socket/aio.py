"""The asyncio flavour of :class:`~nlwire.socket.NetlinkSocket`.

A thin adapter: the socket is put in non-blocking mode, the event loop is
asked to wake us when it is readable, and every datagram then goes through
the very same receive and :class:`~nlwire.socket.exchange.Exchange` code as
the blocking socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from types import TracebackType

from nlwire.errors import DumpInterrupted
from nlwire.socket.core import NetlinkSocket, Transport
from nlwire.wire import Message, MessageFlags, MessageSpec


class AsyncNetlinkSocket:
    """An asyncio netlink socket; the same arguments as :class:`NetlinkSocket`.

    ``sync`` is the underlying blocking socket, for its counters and options.
    Only one request may be in flight at a time (a lock serialises them).
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
        self.sync = NetlinkSocket(
            protocol, netns=netns, rcvbuf=rcvbuf, groups=groups, transport=transport
        )
        self.sync.set_blocking(False)
        self._lock = asyncio.Lock()

    @property
    def port(self) -> int:
        """The port id the kernel gave the socket."""
        return self.sync.port

    def close(self) -> None:
        """Close the socket."""
        self.sync.close()

    async def __aenter__(self) -> AsyncNetlinkSocket:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    async def _readable(self) -> None:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()
        fd = self.sync.fileno()

        def wake() -> None:
            if not ready.done():
                ready.set_result(None)

        loop.add_reader(fd, wake)
        try:
            await ready
        finally:
            loop.remove_reader(fd)

    async def recv_messages(self) -> list[Message]:
        """Wait for one datagram and return its messages (see the blocking socket)."""
        while True:
            try:
                return self.sync.recv_messages()
            except BlockingIOError:
                await self._readable()

    async def request(
        self,
        type: int,
        payload: bytes = b"",
        flags: int = MessageFlags.ACK,
        *,
        spec: MessageSpec | None = None,
    ) -> list[Message]:
        """Send one request and return its replies (see :meth:`NetlinkSocket.request`)."""
        async with self._lock:
            exchange = self.sync.begin(type, payload, flags, spec)
            try:
                while not exchange.done:
                    self.sync.take(exchange, await self.recv_messages())
            except BaseException:
                self.sync.abandon(exchange)
                raise
            return exchange.replies

    async def dump(
        self,
        type: int,
        payload: bytes = b"",
        *,
        spec: MessageSpec | None = None,
        retries: int = 0,
    ) -> list[Message]:
        """Dump to ``NLMSG_DONE``, repeating an interrupted dump up to ``retries`` times.

        See :meth:`NetlinkSocket.dump`.
        """
        if retries < 0:
            raise ValueError(f"retries must be 0 or more, not {retries}")
        for attempt in range(retries + 1):
            try:
                return await self.request(type, payload, MessageFlags.DUMP, spec=spec)
            except DumpInterrupted:
                if attempt == retries:
                    raise
        raise AssertionError("unreachable")

    async def events(self) -> AsyncIterator[Message]:
        """Yield notifications as they arrive, forever."""
        while True:
            while self.sync._events:
                yield self.sync._events.popleft()
            for message in self.sync.unsolicited(await self.recv_messages()):
                yield message
