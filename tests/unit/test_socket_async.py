"""The asyncio socket over the fake kernel: same exchange, awaited."""

from __future__ import annotations

import asyncio
import errno

import pytest

from nlwire.errors import DumpInterrupted, NetlinkError, Overrun
from nlwire.socket import AsyncNetlinkSocket
from nlwire.socket.fake import FakeTransport, ack, done, reply
from nlwire.wire import Message, MessageFlags, pack_message

FAMILY = 0x20


def dump_kernel(req: Message) -> list[bytes]:
    records = b"".join(reply(req, FAMILY, bytes([i]) * 4, MessageFlags.MULTI) for i in range(3))
    return [records, done(req)]


def open_socket(fake: FakeTransport) -> AsyncNetlinkSocket:
    return AsyncNetlinkSocket(16, transport=fake)


async def test_request_and_ack() -> None:
    fake = FakeTransport(lambda req: [reply(req, FAMILY, b"hello"), ack(req)])
    async with open_socket(fake) as sock:
        (answer,) = await sock.request(FAMILY)
        assert bytes(answer.payload)[:5] == b"hello"
        assert sock.port == 4242
    assert fake.closed


async def test_dump_to_done() -> None:
    async with open_socket(FakeTransport(dump_kernel)) as sock:
        records = await sock.dump(FAMILY)
    assert [bytes(m.payload)[0] for m in records] == [0, 1, 2]


async def test_reply_that_arrives_later_is_awaited() -> None:
    fake = FakeTransport()
    async with open_socket(fake) as sock:
        pending: list[Message] = []

        def hold(req: Message) -> list[bytes]:
            pending.append(req)
            return []

        fake.handler = hold
        task = asyncio.create_task(sock.request(FAMILY))
        await asyncio.sleep(0.01)
        assert not task.done()
        fake.inject(ack(pending[0]))
        assert await asyncio.wait_for(task, 5) == []


async def test_error_and_interrupted_dump() -> None:
    def kernel(req: Message) -> list[bytes]:
        if req.flags & MessageFlags.DUMP == MessageFlags.DUMP:
            return [
                reply(req, FAMILY, b"x", MessageFlags.MULTI | MessageFlags.DUMP_INTR),
                done(req),
            ]
        return [ack(req, -errno.EPERM, message="not allowed")]

    async with open_socket(FakeTransport(kernel)) as sock:
        with pytest.raises(PermissionError) as caught:
            await sock.request(FAMILY)
        assert isinstance(caught.value, NetlinkError)
        assert caught.value.message == "not allowed"
        with pytest.raises(DumpInterrupted):
            await sock.dump(FAMILY)


async def test_overrun_then_still_usable() -> None:
    fake = FakeTransport(lambda req: [ack(req)])
    async with open_socket(fake) as sock:
        fake.fail_next(errno.ENOBUFS)
        with pytest.raises(Overrun):
            await sock.request(FAMILY)
        assert await sock.request(FAMILY) == []
        assert sock.sync.stats.overruns == 1
        assert sock.sync.stats.stale == 1


async def test_events_yield_kept_and_new_notifications() -> None:
    fake = FakeTransport(lambda req: [pack_message(FAMILY, 0, 0, 0, b"kept"), ack(req)])
    async with open_socket(fake) as sock:
        await sock.request(FAMILY)
        fake.inject(pack_message(FAMILY, 0, 0, 0, b"sent"), sender=77)
        stream = sock.events()
        first = await asyncio.wait_for(stream.__anext__(), 5)
        assert bytes(first.payload) == b"kept"
        waiting = asyncio.ensure_future(stream.__anext__())
        await asyncio.sleep(0.01)
        fake.inject(pack_message(FAMILY, 0, 0, 0, b"late"))
        second = await asyncio.wait_for(waiting, 5)
        assert bytes(second.payload) == b"late"
        assert sock.sync.stats.foreign == 1


async def test_requests_from_two_tasks_are_serialised() -> None:
    fake = FakeTransport(lambda req: [reply(req, FAMILY, req.seq.to_bytes(4, "little")), ack(req)])
    async with open_socket(fake) as sock:
        first, second = await asyncio.gather(sock.request(FAMILY), sock.request(FAMILY))
    assert first[0].seq != second[0].seq
    assert bytes(first[0].payload) == first[0].seq.to_bytes(4, "little")


async def test_events_skip_late_replies_of_abandoned_requests() -> None:
    fake = FakeTransport(lambda req: [reply(req, FAMILY, b"late"), ack(req)])
    async with open_socket(fake) as sock:
        fake.fail_next(errno.ENOBUFS)
        with pytest.raises(Overrun):
            await sock.request(FAMILY)
        fake.inject(pack_message(FAMILY, 0, 0, 0, b"real"))
        event = await asyncio.wait_for(sock.events().__anext__(), 5)
        assert bytes(event.payload) == b"real"
        assert sock.sync.stats.stale == 2


async def test_cancelled_request_is_abandoned_and_its_late_reply_dropped() -> None:
    fake = FakeTransport()
    pending: list[Message] = []

    def hold(req: Message) -> list[bytes]:
        pending.append(req)
        return []

    fake.handler = hold
    async with open_socket(fake) as sock:
        task = asyncio.create_task(sock.request(FAMILY))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        fake.inject(ack(pending[0]))
        fake.handler = lambda req: [ack(req)]
        assert await asyncio.wait_for(sock.request(FAMILY), 5) == []
        assert sock.sync.stats.stale == 1


async def test_interrupted_dump_is_retried() -> None:
    calls = []

    def kernel(req: Message) -> list[bytes]:
        calls.append(req.seq)
        flags = MessageFlags.MULTI | (MessageFlags.DUMP_INTR if len(calls) == 1 else 0)
        return [reply(req, FAMILY, b"abcd", flags), done(req)]

    async with open_socket(FakeTransport(kernel)) as sock:
        assert len(await sock.dump(FAMILY, retries=1)) == 1
        with pytest.raises(ValueError, match="retries"):
            await sock.dump(FAMILY, retries=-1)
    assert len(calls) == 2
