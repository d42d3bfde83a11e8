"""The request/reply state machine, shared by the blocking and asyncio sockets.

Theory of operation. A request is one message with ``NLM_F_REQUEST`` and a
sequence number taken from the socket's counter. The exchange is fed every
message that arrives and decides, message by message:

1. Messages addressed to port id 0 are notifications, not replies; the
   socket sets them aside before the exchange sees them.
2. A message whose sequence number is not the request's is not a reply.
   If it answers an earlier, abandoned request it is dropped (counted);
   otherwise :class:`SequenceMismatch` is raised.
3. A reply addressed to another port id raises :class:`PortMismatch`.
4. ``NLMSG_ERROR`` ends the exchange: code 0 is the ACK, anything else
   becomes a :class:`NetlinkError` with its extended ACK.
5. ``NLMSG_DONE`` ends a dump, or the multipart answer to a request that
   did not ask for an ACK (its payload may carry an error code too); it
   is never a reply. ``NLMSG_OVERRUN`` raises :class:`Overrun`.
6. Any other message is a reply; for a request without ACK that is not a
   dump, the first reply ends the exchange.
7. ``NLM_F_DUMP_INTR`` on any part of a dump is remembered and raised as
   :class:`DumpInterrupted` when the dump is complete.
"""

from __future__ import annotations

import struct

from nlwire.errors import DumpInterrupted, Overrun, PortMismatch, SequenceMismatch
from nlwire.wire import Message, MessageFlags, MessageSpec, MessageType
from nlwire.wire.ack import error_from_ack, parse_ack

_DONE_ERROR = struct.Struct("=i")


class Exchange:
    """One request in flight: collects its replies until it is complete."""

    __slots__ = (
        "abandoned",
        "done",
        "dump",
        "interrupted",
        "port",
        "replies",
        "request",
        "seq",
        "spec",
        "wants_ack",
    )

    def __init__(
        self,
        request: bytes,
        seq: int,
        port: int,
        flags: int,
        *,
        spec: MessageSpec | None,
        abandoned: set[int],
    ) -> None:
        self.request = request
        self.seq = seq
        self.port = port
        self.spec = spec
        self.abandoned = abandoned
        self.dump = flags & MessageFlags.DUMP == MessageFlags.DUMP
        self.wants_ack = bool(flags & MessageFlags.ACK)
        self.replies: list[Message] = []
        self.interrupted = False
        self.done = False

    def feed(self, message: Message) -> None:
        """Take one message from the kernel; sets ``done`` when complete.

        Raises the kernel's error, a protocol mismatch, or
        :class:`DumpInterrupted` at the end of an inconsistent dump.
        """
        if not self._is_ours(message):
            return
        kind = message.type
        if kind == MessageType.ERROR:
            self._finish_with_ack(message)
        elif kind == MessageType.DONE:
            # The end of a multipart answer; a request that wants an ACK
            # still waits for it.
            if self.dump or not self.wants_ack:
                self._finish_dump(message)
        elif kind == MessageType.OVERRUN:
            self.done = True
            raise Overrun
        elif kind != MessageType.NOOP:
            self.replies.append(message)
            if message.flags & MessageFlags.DUMP_INTR:
                self.interrupted = True
            if not self.dump and not self.wants_ack and not message.flags & MessageFlags.MULTI:
                self.done = True

    def _is_ours(self, message: Message) -> bool:
        if message.seq != self.seq:
            if message.seq in self.abandoned:
                return False
            raise SequenceMismatch(
                f"reply with sequence number {message.seq} while waiting for {self.seq}"
            )
        if message.port != self.port:
            raise PortMismatch(
                f"reply addressed to port {message.port}, this socket is port {self.port}"
            )
        return True

    def _finish_with_ack(self, message: Message) -> None:
        ack = parse_ack(message.payload, message.flags)
        self.done = True
        if ack.code:
            raise error_from_ack(ack, self.request, self.spec)
        self._check_interrupted()

    def _finish_dump(self, message: Message) -> None:
        payload = message.payload
        code = _DONE_ERROR.unpack_from(payload)[0] if len(payload) >= 4 else 0
        if code < 0:
            # An error at the end of a dump: the payload is the code followed,
            # on kernels with extended ACK, by its attributes.
            self.done = True
            raise _done_error(message, self)
        # The kernel never ACKs a dump it started, even when asked to.
        self.done = True
        self._check_interrupted()

    def _check_interrupted(self) -> None:
        if self.interrupted:
            raise DumpInterrupted(self.replies)


def _done_error(message: Message, exchange: Exchange) -> Exception:
    from nlwire.errors import NetlinkError
    from nlwire.wire import ExtAckAttr, iter_attributes

    payload = message.payload
    code = -_DONE_ERROR.unpack_from(payload)[0]
    text = None
    if message.flags & MessageFlags.ACK_TLVS:
        for type_, start, end in iter_attributes(payload, 4):
            if type_ == ExtAckAttr.MSG:
                text = bytes(payload[start:end]).split(b"\0")[0].decode("utf-8", "replace")
    return NetlinkError(code, text, request=exchange.request)
