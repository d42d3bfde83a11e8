"""The blocking socket against a fake kernel: requests, dumps, errors,
protocol mismatches, stale and foreign messages, overruns, big datagrams,
notifications and multicast membership."""

from __future__ import annotations

import enum
import errno
import socket
import struct
from collections.abc import Callable, Iterable

import pytest

from nlwire.errors import (
    DecodeError,
    DumpInterrupted,
    NetlinkError,
    Overrun,
    PortMismatch,
    SequenceMismatch,
)
from nlwire.socket import (
    NETLINK_CAP_ACK,
    NETLINK_EXT_ACK,
    NETLINK_GET_STRICT_CHK,
    SOL_NETLINK,
    NetlinkSocket,
)
from nlwire.socket.fake import FakeTransport, ack, done, reply
from nlwire.wire import (
    U32,
    AttrSet,
    Message,
    MessageFlags,
    MessageSpec,
    MessageType,
    Nested,
    pack_message,
    parse_messages,
)

FAMILY = 0x20
Handler = Callable[[Message], Iterable[bytes]]


def open_socket(
    handler: Handler | None = None, *, groups: Iterable[int] = (), rcvbuf: int | None = None
) -> NetlinkSocket:
    """A generic netlink socket over a fake kernel answering with ``handler``."""
    return NetlinkSocket(16, transport=FakeTransport(handler), groups=groups, rcvbuf=rcvbuf)


def transport_of(sock: NetlinkSocket) -> FakeTransport:
    fake = sock._sock
    assert isinstance(fake, FakeTransport)
    return fake


def notification(payload: bytes = b"event", seq: int = 0, port: int = 0) -> bytes:
    return pack_message(FAMILY, 0, seq, port, payload)


# -- requests --------------------------------------------------------------------


def test_request_sends_one_message_and_returns_at_the_ack() -> None:
    with open_socket(lambda req: [ack(req)]) as sock:
        assert sock.request(FAMILY, b"\1\2\3\4") == []
        (sent,) = parse_messages(transport_of(sock).sent[0])
    assert sent.type == FAMILY
    assert sent.flags == MessageFlags.REQUEST | MessageFlags.ACK
    assert sent.port == 0
    assert bytes(sent.payload) == b"\1\2\3\4"


def test_request_returns_replies_before_the_ack() -> None:
    def kernel(req: Message) -> list[bytes]:
        return [reply(req, FAMILY, b"one") + reply(req, FAMILY, b"two"), ack(req)]

    with open_socket(kernel) as sock:
        replies = sock.request(FAMILY)
    assert [bytes(m.payload)[:3] for m in replies] == [b"one", b"two"]
    assert all(m.port == sock.port == 4242 for m in replies)


def test_request_without_ack_ends_at_the_first_reply() -> None:
    with open_socket(lambda req: [reply(req, FAMILY, b"only")]) as sock:
        (answer,) = sock.request(FAMILY, flags=0)
    assert bytes(answer.payload) == b"only"


def test_sequence_numbers_count_up_by_one_and_skip_zero() -> None:
    with open_socket(lambda req: [ack(req)]) as sock:
        sock.request(FAMILY)
        sock.request(FAMILY)
        first, second = (parse_messages(d)[0].seq for d in transport_of(sock).sent)
        assert second == first + 1
        sock._seq = 0xFFFFFFFF
        assert sock.next_seq() == 1


def test_each_socket_starts_at_its_own_sequence_number() -> None:
    starts = set()
    for _ in range(5):
        with open_socket() as sock:
            starts.add(sock.next_seq())
    assert len(starts) > 1


# -- dumps ---------------------------------------------------------------------


class DumpKernel:
    """A kernel that dumps ``count`` records; its first ``intr`` dumps are interrupted."""

    def __init__(self, count: int, per_datagram: int = 2, *, intr: int = 0) -> None:
        self.count = count
        self.per_datagram = per_datagram
        self.intr = intr
        self.calls = 0

    def __call__(self, req: Message) -> list[bytes]:
        self.calls += 1
        flags = MessageFlags.MULTI
        if self.calls <= self.intr:
            flags |= MessageFlags.DUMP_INTR
        records = [reply(req, FAMILY, bytes([i]) * 4, flags) for i in range(self.count)]
        step = self.per_datagram
        datagrams = [b"".join(records[i : i + step]) for i in range(0, self.count, step)]
        return [*datagrams, done(req)]


def test_dump_reads_every_datagram_to_done() -> None:
    with open_socket(DumpKernel(5)) as sock:
        records = sock.dump(FAMILY)
        (sent,) = parse_messages(transport_of(sock).sent[0])
    assert [bytes(m.payload)[0] for m in records] == [0, 1, 2, 3, 4]
    assert sent.flags & MessageFlags.DUMP == MessageFlags.DUMP
    assert not sent.flags & MessageFlags.ACK


def test_empty_dump() -> None:
    with open_socket(lambda req: [done(req)]) as sock:
        assert sock.dump(FAMILY) == []


def test_dump_interrupted_raises_with_what_was_read() -> None:
    with open_socket(DumpKernel(3, intr=1)) as sock:
        with pytest.raises(DumpInterrupted) as caught:
            sock.dump(FAMILY)
        assert len(caught.value.messages) == 3
        assert sock.dump(FAMILY) != []


def test_dump_interrupted_is_retried() -> None:
    kernel = DumpKernel(3, intr=2)
    with open_socket(kernel) as sock:
        assert len(sock.dump(FAMILY, retries=2)) == 3
    assert kernel.calls == 3


def test_dump_interrupted_gives_up_after_its_retries() -> None:
    kernel = DumpKernel(1, intr=5)
    with open_socket(kernel) as sock, pytest.raises(DumpInterrupted):
        sock.dump(FAMILY, retries=1)
    assert kernel.calls == 2


def test_negative_retries_is_a_usage_error() -> None:
    with open_socket(DumpKernel(1)) as sock, pytest.raises(ValueError, match="retries"):
        sock.dump(FAMILY, retries=-1)


def test_error_at_the_end_of_a_dump() -> None:
    def kernel(req: Message) -> list[bytes]:
        return [reply(req, FAMILY, b"x", MessageFlags.MULTI), done(req, -errno.EBUSY)]

    with open_socket(kernel) as sock, pytest.raises(NetlinkError) as caught:
        sock.dump(FAMILY)
    assert caught.value.errno == errno.EBUSY


def test_noop_messages_are_skipped() -> None:
    def kernel(req: Message) -> list[bytes]:
        noop = reply(req, MessageType.NOOP, b"", MessageFlags.MULTI)
        return [noop + reply(req, FAMILY, b"rec", MessageFlags.MULTI) + noop, done(req)]

    with open_socket(kernel) as sock:
        (record,) = sock.dump(FAMILY)
    assert record.type == FAMILY


def test_multipart_answer_to_a_plain_request_ends_at_done() -> None:
    def kernel(req: Message) -> list[bytes]:
        parts = [reply(req, FAMILY, b"part", MessageFlags.MULTI) for _ in range(2)]
        answer = [*parts, done(req)]
        return [*answer, ack(req)] if req.flags & MessageFlags.ACK else answer

    with open_socket(kernel) as sock:
        assert [m.type for m in sock.request(FAMILY, flags=0)] == [FAMILY, FAMILY]
        assert [m.type for m in sock.request(FAMILY)] == [FAMILY, FAMILY]
        assert sock.poll_events() == []


def test_nlmsg_overrun_in_a_reply_is_an_overrun() -> None:
    def kernel(req: Message) -> list[bytes]:
        return [reply(req, MessageType.OVERRUN, b""), ack(req)]

    with open_socket(kernel) as sock, pytest.raises(Overrun):
        sock.request(FAMILY)


# -- errors ------------------------------------------------------------------------


class LimitAttr(enum.IntEnum):
    LIMIT = 1


class TopAttr(enum.IntEnum):
    ID = 1
    OPTS = 2


def make_spec() -> MessageSpec:
    inner = AttrSet("opts", LimitAttr, {LimitAttr.LIMIT: U32})
    return MessageSpec(
        "test", AttrSet("top", TopAttr, {TopAttr.ID: U32, TopAttr.OPTS: Nested(inner)})
    )


def test_error_with_extended_ack_becomes_netlink_error() -> None:
    spec = make_spec()
    payload = spec.attrs.encode({"id": 1, "opts": {"limit": 9}})

    def kernel(req: Message) -> list[bytes]:
        return [ack(req, -errno.ERANGE, message="limit too high", offset=16 + 8 + 4)]

    with open_socket(kernel) as sock, pytest.raises(NetlinkError) as caught:
        sock.request(FAMILY, payload, spec=spec)
    error = caught.value
    assert error.errno == errno.ERANGE
    assert error.message == "limit too high"
    assert error.attr_path == ("opts", "limit")
    assert error.offset == 28
    assert error.request is not None and error.request[16:] == payload


def test_eperm_is_caught_as_permission_error() -> None:
    with open_socket(lambda req: [ack(req, -errno.EPERM)]) as sock:
        with pytest.raises(PermissionError) as caught:
            sock.request(FAMILY)
        assert caught.value.errno == errno.EPERM
        assert isinstance(caught.value, NetlinkError)
        transport_of(sock).handler = lambda req: [ack(req)]
        assert sock.request(FAMILY) == []


def test_undecodable_reply_raises_decode_error() -> None:
    kernel = lambda req: [b"\x30\0\0\0" + b"\0" * 12]  # noqa: E731
    with open_socket(kernel) as sock, pytest.raises(DecodeError):
        sock.request(FAMILY)


# -- protocol mismatches, stale and foreign messages ----------------------------------


def test_sequence_mismatch() -> None:
    def kernel(req: Message) -> list[bytes]:
        return [pack_message(FAMILY, 0, req.seq + 7, req.port)]

    with open_socket(kernel) as sock, pytest.raises(SequenceMismatch):
        sock.request(FAMILY)


def test_port_mismatch() -> None:
    kernel = lambda req: [ack(req, port=req.port + 1)]  # noqa: E731
    with open_socket(kernel) as sock, pytest.raises(PortMismatch):
        sock.request(FAMILY)


def test_stale_reply_of_an_abandoned_request_is_dropped_and_counted() -> None:
    with open_socket(lambda req: [reply(req, FAMILY, b"late"), ack(req)]) as sock:
        fake = transport_of(sock)
        fake.fail_next(errno.ENOBUFS)
        with pytest.raises(Overrun):
            sock.request(FAMILY)
        # The abandoned request's reply and ACK are still queued.
        (answer,) = sock.request(FAMILY)
        assert answer.seq == parse_messages(fake.sent[-1])[0].seq
        assert sock.stats.stale == 2
        assert sock.poll_events() == []


def test_stale_replies_are_not_returned_as_notifications() -> None:
    with open_socket(lambda req: [reply(req, FAMILY, b"late"), ack(req)]) as sock:
        fake = transport_of(sock)
        fake.fail_next(errno.ENOBUFS)
        with pytest.raises(Overrun):
            sock.request(FAMILY)
        fake.inject(notification(b"real"))
        events = sock.poll_events()
        assert [bytes(m.payload)[:4] for m in events] == [b"real"]
        assert sock.stats.stale == 2


def test_foreign_sender_is_dropped_and_counted() -> None:
    with open_socket(lambda req: [ack(req)]) as sock:
        fake = transport_of(sock)
        fake.inject(pack_message(FAMILY, 0, 1, sock.port, b"spoof"), sender=31337)
        assert sock.request(FAMILY) == []
        assert sock.stats.foreign == 1


def test_foreign_sender_spoofing_a_reply_is_never_returned() -> None:
    def kernel(req: Message) -> list[bytes]:
        return [ack(req)]

    with open_socket(kernel) as sock:
        fake = transport_of(sock)
        seq = sock._seq + 1
        spoof = pack_message(MessageType.ERROR, 0, seq, sock.port, struct.pack("=i", -1))
        fake.inject(spoof + b"\0" * 16, sender=999)
        assert sock.request(FAMILY) == []
        assert sock.stats.foreign == 1


def test_poll_events_with_only_foreign_messages_returns_nothing() -> None:
    with open_socket() as sock:
        transport_of(sock).inject(notification(), sender=555)
        assert sock.poll_events(0.05) == []
        assert sock.stats.foreign == 1


# -- overruns and big datagrams ---------------------------------------------------------


def test_enobufs_raises_overrun_and_the_socket_stays_usable() -> None:
    with open_socket(lambda req: [ack(req)]) as sock:
        fake = transport_of(sock)
        fake.fail_next(errno.ENOBUFS)
        with pytest.raises(Overrun) as caught:
            sock.poll_events()
        assert caught.value.errno == errno.ENOBUFS
        assert isinstance(caught.value, OSError)
        assert sock.stats.overruns == 1
        assert sock.request(FAMILY) == []
        fake.inject(notification())
        assert len(sock.poll_events()) == 1


def test_other_receive_errors_propagate_unchanged() -> None:
    with open_socket() as sock:
        transport_of(sock).fail_next(errno.EBADF)
        with pytest.raises(OSError) as caught:
            sock.poll_events()
        assert caught.value.errno == errno.EBADF
        assert not isinstance(caught.value, Overrun)


def test_datagram_larger_than_the_buffer_grows_it_and_is_not_cut() -> None:
    big = b"\xab" * (200 * 1024)

    def kernel(req: Message) -> list[bytes]:
        return [reply(req, FAMILY, big), ack(req)]

    with open_socket(kernel) as sock:
        (answer,) = sock.request(FAMILY)
        assert bytes(answer.payload) == big
        assert len(sock._buffer) >= len(big) + 16


# -- notifications ------------------------------------------------------------------------


def test_notifications_during_a_request_are_kept_for_later() -> None:
    def kernel(req: Message) -> list[bytes]:
        return [notification(b"ev1"), reply(req, FAMILY, b"rep") + notification(b"ev2"), ack(req)]

    with open_socket(kernel) as sock:
        (answer,) = sock.request(FAMILY)
        assert bytes(answer.payload)[:3] == b"rep"
        events = sock.poll_events()
    assert [bytes(m.payload)[:3] for m in events] == [b"ev1", b"ev2"]


def test_events_generator_yields_kept_then_new_notifications() -> None:
    with open_socket(lambda req: [notification(b"old"), ack(req)]) as sock:
        sock.request(FAMILY)
        transport_of(sock).inject(notification(b"new"))
        stream = sock.events()
        assert bytes(next(stream).payload)[:3] == b"old"
        assert bytes(next(stream).payload)[:3] == b"new"


def test_multicast_caused_by_another_socket_is_a_notification_not_a_mismatch() -> None:
    # rtnetlink copies the requester's port id and sequence number into the
    # notification it multicasts; it reaches every member of the group.
    def kernel(req: Message) -> list[bytes]:
        return [notification(b"other", seq=12345, port=777), ack(req)]

    with open_socket(kernel) as sock:
        assert sock.request(FAMILY) == []
        (event,) = sock.poll_events()
    assert event.port == 777


def test_multicast_copy_of_our_own_request_is_a_notification() -> None:
    # Delivered through group 1, it carries our port and sequence number.
    with open_socket() as sock:
        fake = transport_of(sock)

        def kernel(req: Message) -> list[bytes]:
            fake.inject(notification(b"mine", seq=req.seq, port=req.port), group=1)
            return [ack(req)]

        fake.handler = kernel
        assert sock.request(FAMILY) == []
        (event,) = sock.poll_events()
    assert bytes(event.payload)[:4] == b"mine"


def test_multicast_above_group_32_from_another_port_is_a_notification() -> None:
    with open_socket(groups=[40]) as sock:
        fake = transport_of(sock)

        def kernel(req: Message) -> list[bytes]:
            fake.inject(notification(b"far", seq=req.seq + 1, port=req.port + 1), group=40)
            return [ack(req)]

        fake.handler = kernel
        assert sock.request(FAMILY) == []
        assert len(sock.poll_events()) == 1


def test_poll_events_waits_at_most_its_timeout() -> None:
    with open_socket() as sock:
        assert sock.poll_events(0.01) == []


# -- membership and options ---------------------------------------------------------------


def test_join_and_leave_groups_above_32() -> None:
    with open_socket(groups=[1, 33, 4096]) as sock:
        fake = transport_of(sock)
        assert fake.groups == {1, 33, 4096}
        sock.leave_group(33)
        sock.join_group(70)
        assert fake.groups == {1, 70, 4096}


def test_socket_asks_for_extended_and_capped_acks_and_strict_checks() -> None:
    with open_socket(rcvbuf=1 << 20) as sock:
        options = transport_of(sock).options
    for option in (NETLINK_EXT_ACK, NETLINK_CAP_ACK, NETLINK_GET_STRICT_CHK):
        assert options[(SOL_NETLINK, option)] == 1
    assert 1 << 20 in {options.get((socket.SOL_SOCKET, 33)), options.get((1, 8))}


def test_bad_receive_buffer_size_is_a_usage_error() -> None:
    with pytest.raises(ValueError, match="positive"):
        open_socket(rcvbuf=0)


class RefusingTransport(FakeTransport):
    """A transport whose kernel refuses every multicast membership."""

    def setsockopt(self, level: int, option: int, value: int, /) -> None:
        if (level, option) == (SOL_NETLINK, 1):
            raise OSError(errno.EINVAL, "no such group")
        super().setsockopt(level, option, value)


def test_failed_constructor_closes_the_socket() -> None:
    fake = RefusingTransport()
    with pytest.raises(OSError):
        NetlinkSocket(16, groups=[99], transport=fake)
    assert fake.closed


def test_close_is_idempotent() -> None:
    sock = open_socket()
    sock.close()
    sock.close()
    assert sock.closed and transport_of(sock).closed


def test_debug_dump_goes_to_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NLWIRE_DEBUG", "1")
    with open_socket(lambda req: [ack(req)]) as sock:
        sock.request(FAMILY, b"\0\0\0\0")
    err = capsys.readouterr().err
    assert ">>> send NETLINK_GENERIC 20 bytes" in err
    assert "<<< recv NETLINK_GENERIC 40 bytes: type=ERROR(2)" in err
    assert '"error": 0' in err


def test_no_debug_output_by_default(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("NLWIRE_DEBUG", raising=False)
    with open_socket(lambda req: [ack(req)]) as sock:
        sock.request(FAMILY)
    assert capsys.readouterr().err == ""


def test_request_timeout_when_the_kernel_never_answers() -> None:
    with open_socket(lambda req: []) as sock:
        with pytest.raises(TimeoutError, match="no reply"):
            sock.request(FAMILY, timeout=0.05)
        transport_of(sock).handler = lambda req: [ack(req)]
        assert sock.request(FAMILY, timeout=1.0) == []


class OverrunAfterFirstRead(FakeTransport):
    """Reports ENOBUFS right after the first datagram is taken, as the kernel does."""

    def recvfrom_into(
        self, buffer: bytearray | memoryview, nbytes: int = 0, flags: int = 0, /
    ) -> tuple[int, object]:
        result = super().recvfrom_into(buffer, nbytes, flags)
        if not flags & socket.MSG_PEEK and not getattr(self, "failed", False):
            self.failed = True
            self.fail_next(errno.ENOBUFS)
        return result


def test_overrun_during_poll_keeps_what_was_read() -> None:
    fake = OverrunAfterFirstRead()
    with NetlinkSocket(16, transport=fake) as sock:
        for text in (b"one!", b"two!"):
            fake.inject(pack_message(FAMILY, 0, 0, 0, text))
        with pytest.raises(Overrun):
            sock.poll_events(0)
        kept = sock.poll_events(0)
    assert [bytes(m.payload) for m in kept] == [b"one!", b"two!"]
