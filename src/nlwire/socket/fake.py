"""A fake kernel for unit tests: no socket, no root, same code path.

:class:`FakeTransport` stands in for the ``socket.socket`` under a
:class:`~nlwire.socket.NetlinkSocket`. Each datagram the socket sends is
split into messages and handed to ``handler``, which returns the datagrams
the kernel would answer with; :func:`reply`, :func:`ack` and :func:`done`
build them. :meth:`FakeTransport.inject` queues any datagram (from any
sender port), :meth:`FakeTransport.fail_next` an error such as ENOBUFS.

Example::

    def kernel(request: Message) -> list[bytes]:
        return [reply(request, 16, b"payload"), ack(request)]

    with NetlinkSocket(16, transport=FakeTransport(kernel)) as sock:
        sock.request(16, b"")
"""

from __future__ import annotations

import collections
import os
import socket
import struct
from collections.abc import Callable, Iterable
from typing import Any

from nlwire.wire import Message, MessageFlags, MessageType, pack_attribute, parse_messages
from nlwire.wire.header import pack_message

Handler = Callable[[Message], Iterable[bytes]]


class FakeTransport:
    """A socket-like object that answers requests with ``handler``."""

    def __init__(self, handler: Handler | None = None, *, port: int = 4242) -> None:
        self.handler = handler
        self.port = port
        self.sent: list[bytes] = []
        self.options: dict[tuple[int, int], int] = {}
        self.groups: set[int] = set()
        self.closed = False
        self._queue: collections.deque[tuple[bytes, int, int]] = collections.deque()
        self._errors: collections.deque[int] = collections.deque()
        self._read_fd, self._write_fd = os.pipe()

    # -- what tests call ------------------------------------------------------

    def inject(self, datagram: bytes, sender: int = 0, group: int = 0) -> None:
        """Queue ``datagram`` as if port ``sender`` (0: the kernel) sent it.

        ``group`` is the multicast group it was sent to (0: unicast); like
        the kernel, only groups 1-32 show in the sender address.
        """
        self._queue.append((datagram, sender, group))
        os.write(self._write_fd, b"x")

    def fail_next(self, code: int) -> None:
        """Make the next receive fail with ``OSError(code)`` (e.g. ENOBUFS)."""
        self._errors.append(code)
        os.write(self._write_fd, b"x")

    # -- the socket interface ---------------------------------------------------

    def sendto(self, data: bytes, address: Any, /) -> int:
        """Record ``data`` and queue the handler's answers to each message.

        The handler sees each message with ``port`` set to this transport's
        port id, as the kernel knows its sender.
        """
        self.sent.append(bytes(data))
        for sent in parse_messages(data):
            message = Message(sent.type, sent.flags, sent.seq, self.port, sent.raw)
            for datagram in self.handler(message) if self.handler else ():
                self.inject(datagram)
        return len(data)

    def recvfrom_into(
        self, buffer: bytearray | memoryview, nbytes: int = 0, flags: int = 0, /
    ) -> tuple[int, Any]:
        """Copy the next queued datagram into ``buffer`` (honours MSG_PEEK/TRUNC)."""
        if self._errors:
            self._take_wakeup()
            code = self._errors.popleft()
            raise OSError(code, os.strerror(code))
        if not self._queue:
            raise BlockingIOError(11, "no datagram queued on the fake transport")
        datagram, sender, group = self._queue[0]
        size = min(len(datagram), nbytes or len(buffer))
        buffer[:size] = datagram[:size]
        if not flags & socket.MSG_PEEK:
            self._queue.popleft()
            self._take_wakeup()
        total = len(datagram) if flags & socket.MSG_TRUNC else size
        mask = 1 << (group - 1) if 0 < group <= 32 else 0
        return total, (sender, mask)

    def setsockopt(self, level: int, option: int, value: int, /) -> None:
        """Record the option; membership options update ``groups``."""
        self.options[(level, option)] = value
        if (level, option) == (270, 1):
            self.groups.add(value)
        elif (level, option) == (270, 2):
            self.groups.discard(value)

    def getsockname(self) -> Any:
        """The fake port id and no groups."""
        return (self.port, 0)

    def bind(self, address: Any, /) -> None:
        """Nothing to bind."""

    def fileno(self) -> int:
        """A pipe that is readable while datagrams are queued (for ``select``)."""
        return self._read_fd

    def setblocking(self, flag: bool, /) -> None:
        """Always non-blocking in effect: an empty queue raises BlockingIOError."""

    def close(self) -> None:
        """Close the wake-up pipe."""
        if not self.closed:
            self.closed = True
            os.close(self._read_fd)
            os.close(self._write_fd)

    def _take_wakeup(self) -> None:
        os.read(self._read_fd, 1)


class RecordingTransport:
    """A real kernel socket that keeps a copy of every datagram sent and read.

    For capturing golden data: pass it as ``transport`` to a
    :class:`~nlwire.socket.NetlinkSocket` and read ``sent`` and ``received``
    afterwards. Peeks are not recorded, only the reads that consume.
    """

    def __init__(self, protocol: int) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, protocol)
        self.sent: list[bytes] = []
        self.received: list[bytes] = []

    def sendto(self, data: bytes, address: Any, /) -> int:
        """Record ``data`` and send it."""
        self.sent.append(bytes(data))
        return self.sock.sendto(data, address)

    def recvfrom_into(
        self, buffer: bytearray | memoryview, nbytes: int = 0, flags: int = 0, /
    ) -> tuple[int, Any]:
        """Receive into ``buffer``, recording the datagram unless peeking."""
        size, address = self.sock.recvfrom_into(buffer, nbytes, flags)
        if not flags & socket.MSG_PEEK:
            self.received.append(bytes(buffer[:size]))
        return size, address

    def setsockopt(self, level: int, option: int, value: int, /) -> None:
        """Set a socket option on the kernel socket."""
        self.sock.setsockopt(level, option, value)

    def getsockname(self) -> Any:
        """The kernel socket's address (port id, groups)."""
        return self.sock.getsockname()

    def bind(self, address: Any, /) -> None:
        """Bind the kernel socket."""
        self.sock.bind(address)

    def fileno(self) -> int:
        """The kernel socket's descriptor."""
        return self.sock.fileno()

    def setblocking(self, flag: bool, /) -> None:
        """Set the kernel socket's blocking mode."""
        self.sock.setblocking(flag)

    def close(self) -> None:
        """Close the kernel socket."""
        self.sock.close()


def reply(
    request: Message, type: int, payload: bytes = b"", flags: int = 0, *, port: int | None = None
) -> bytes:
    """A reply to ``request`` (same sequence number, addressed to its sender)."""
    target = request.port if port is None else port
    return pack_message(type, flags, request.seq, target, payload)


def ack(
    request: Message,
    code: int = 0,
    *,
    message: str | None = None,
    offset: int | None = None,
    port: int | None = None,
) -> bytes:
    """An ACK (``code`` 0) or error (negative errno) for ``request``.

    ``message`` and ``offset`` add extended-ACK attributes; the request is
    echoed in full, as the kernel does without NLM_F_CAPPED.
    """
    tlvs = b""
    if message is not None:
        tlvs += pack_attribute(1, message.encode() + b"\0")
    if offset is not None:
        tlvs += pack_attribute(2, struct.pack("=I", offset))
    flags = MessageFlags.ACK_TLVS if tlvs else 0
    echoed = bytes(request.raw)
    echoed += b"\0" * (-len(echoed) % 4)
    payload = struct.pack("=i", code) + echoed + tlvs
    return reply(request, MessageType.ERROR, payload, flags, port=port)


def done(request: Message, code: int = 0) -> bytes:
    """The ``NLMSG_DONE`` that ends a dump answering ``request``."""
    return reply(request, MessageType.DONE, struct.pack("=i", code), MessageFlags.MULTI)
