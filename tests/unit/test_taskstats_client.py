"""The client and the exit listener over a fake kernel (no root, no kernel).

The fake answers the controller and the ``TASKSTATS`` family with replies
built from the captured golden messages.
"""

from __future__ import annotations

import errno
import json
import struct
from collections.abc import Iterable
from pathlib import Path

import pytest

from nlwire.socket import NetlinkSocket
from nlwire.socket.fake import FakeTransport, ack, reply
from nlwire.taskstats import (
    ExitListener,
    ListenerError,
    NoSuchTask,
    TaskstatsClient,
    TaskstatsPermissionError,
)
from nlwire.taskstats import listener as listener_module
from nlwire.wire import Message, MessageFlags, iter_attributes, pack_attribute, parse_messages

GOLDEN = json.loads((Path(__file__).parents[1] / "data/taskstats/golden.json").read_text())
FAMILY = 31


def golden(name: str) -> bytes:
    return bytes.fromhex(GOLDEN[name]["hex"])


def pid_reply_payload(pid: int) -> bytes:
    """The captured PID reply's payload (after nlmsghdr), for thread ``pid``."""
    payload = bytearray(golden("pid_reply")[16:])
    struct.pack_into("=I", payload, 12, pid)  # TASKSTATS_TYPE_PID
    struct.pack_into("=I", payload, 20 + 128, pid)  # ac_pid
    return bytes(payload)


def request_attrs(request: Message) -> dict[int, bytes]:
    raw = request.raw
    return {t & 0x3FFF: bytes(raw[s:e]) for t, s, e in iter_attributes(raw, 20, len(raw))}


class FakeKernel:
    """Answers like Linux 6.18: replies for ``tasks``, ``error`` for others."""

    def __init__(self, tasks: Iterable[int] = (), error: int = errno.ESRCH) -> None:
        self.tasks = set(tasks)
        self.error = error
        self.register_error = 0
        self.cpumasks: list[tuple[int, str]] = []

    def __call__(self, request: Message) -> list[bytes]:
        if request.type == 16:
            return self.controller(request)
        attrs = request_attrs(request)
        answers = self.taskstats(request, attrs)
        if request.flags & MessageFlags.ACK and not any(
            parse_messages(a)[0].type == 2 for a in answers
        ):
            answers.append(ack(request))
        return answers

    def controller(self, request: Message) -> list[bytes]:
        payload = bytes([1, 2, 0, 0])
        payload += pack_attribute(2, b"TASKSTATS\0") + pack_attribute(1, struct.pack("=H", FAMILY))
        return [reply(request, 16, payload), ack(request)]

    def taskstats(self, request: Message, attrs: dict[int, bytes]) -> list[bytes]:
        if request.raw[16] == 4:  # CGROUPSTATS_CMD_GET
            return [reply(request, FAMILY, golden("cgroupstats")[16:])]
        for kind in (3, 4):  # REGISTER / DEREGISTER a cpumask
            if kind in attrs:
                self.cpumasks.append((kind, attrs[kind].rstrip(b"\0").decode()))
                return [ack(request, -self.register_error)] if self.register_error else []
        if 1 in attrs:
            pid = struct.unpack("=I", attrs[1])[0]
            if pid in self.tasks:
                return [reply(request, FAMILY, pid_reply_payload(pid))]
            return [ack(request, -self.error)]
        if 2 in attrs:
            return [reply(request, FAMILY, golden("tgid_reply")[16:])]
        return [ack(request, -errno.EINVAL)]


def client_for(kernel: FakeKernel, **kwargs: int) -> tuple[TaskstatsClient, FakeTransport]:
    transport = FakeTransport(kernel)
    return TaskstatsClient(socket=NetlinkSocket(16, transport=transport), **kwargs), transport


def test_stats_for_pid() -> None:
    client, _ = client_for(FakeKernel([4242]))
    with client:
        stats = client.stats_for_pid(4242)
    assert stats.ac_pid == 4242 and stats.ac_comm == "sleep" and stats.version == 16
    assert client.family == FAMILY


def test_stats_for_tgid() -> None:
    client, _ = client_for(FakeKernel())
    with client:
        stats = client.stats_for_tgid(GOLDEN["tgid_reply"]["expected"]["tgid"])
    assert stats.nvcsw == GOLDEN["tgid_reply"]["expected"]["group_stats"]["nvcsw"]


def test_stats_for_tgids_sweep() -> None:
    client, _ = client_for(FakeKernel(), batch=2)
    want = GOLDEN["tgid_reply"]["expected"]
    with client:
        found = client.stats_for_tgids([5, 6, 7])
    assert sorted(found) == [5, 6, 7]
    assert all(s.nvcsw == want["group_stats"]["nvcsw"] for s in found.values())


def test_no_such_task() -> None:
    client, _ = client_for(FakeKernel())
    with client, pytest.raises(NoSuchTask, match="no such task: 77"):
        client.stats_for_pid(77)


def test_permission_error_says_what_is_needed() -> None:
    client, _ = client_for(FakeKernel(error=errno.EPERM))
    with client, pytest.raises(PermissionError) as info:
        client.stats_for_pid(1)
    assert isinstance(info.value, TaskstatsPermissionError)
    assert str(info.value) == "taskstats needs CAP_NET_ADMIN in the initial user namespace"


def test_sweep_pipelines_and_leaves_out_vanished_tasks() -> None:
    alive = [10, 11, 13, 14, 16, 17, 19]
    client, transport = client_for(FakeKernel(alive), batch=4)
    with client:
        found = client.stats_for_pids(range(10, 20))
    assert sorted(found) == alive
    assert all(found[pid].ac_pid == pid for pid in alive)
    # After the controller's request: datagrams of 4, 4 and 2 GET requests.
    sweeps = [parse_messages(d) for d in transport.sent if parse_messages(d)[0].type == FAMILY]
    assert [len(d) for d in sweeps] == [4, 4, 2]
    assert all(not m.flags & MessageFlags.ACK for d in sweeps for m in d)


def test_sweep_permission_error_is_raised() -> None:
    client, _ = client_for(FakeKernel(error=errno.EPERM))
    with client, pytest.raises(TaskstatsPermissionError):
        client.stats_for_pids([1, 2, 3])


@pytest.mark.parametrize("bad", [0, -1, 1 << 32, True, "5"])
def test_bad_ids_are_usage_errors(bad: object) -> None:
    client, _ = client_for(FakeKernel())
    with client:
        with pytest.raises(ValueError, match="positive 32-bit"):
            client.stats_for_pid(bad)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="positive 32-bit"):
            client.stats_for_pids([1, bad])  # type: ignore[list-item]


def test_cgroupstats(tmp_path: Path) -> None:
    client, _ = client_for(FakeKernel())
    with client:
        stats = client.cgroupstats(tmp_path)
    assert list(stats.as_dict().values()) == GOLDEN["cgroupstats"]["expected"]


def test_cgroupstats_on_cgroup_v2_says_so(tmp_path: Path) -> None:
    kernel = FakeKernel()
    kernel.taskstats = lambda request, attrs: [ack(request, -errno.EINVAL)]  # type: ignore[method-assign]
    client, _ = client_for(kernel)
    with client, pytest.raises(ValueError, match="not a cgroup v1 directory"):
        client.cgroupstats(tmp_path)


# -- the exit listener ---------------------------------------------------------


def exit_record(seq: int, name: str = "pid_reply") -> bytes:
    data = bytearray(golden(name))
    struct.pack_into("=II", data, 8, seq, 0)  # per-CPU sequence, from the kernel
    return bytes(data)


def listener_for(
    kernel: FakeKernel, cpus: str = "0-1"
) -> tuple[ExitListener, list[FakeTransport]]:
    transports: list[FakeTransport] = []

    def factory() -> NetlinkSocket:
        transports.append(FakeTransport(kernel, port=100 + len(transports)))
        return NetlinkSocket(16, transport=transports[-1])

    return ExitListener(cpus, socket_factory=factory), transports


def test_listener_registers_one_socket_per_cpu_and_deregisters() -> None:
    kernel = FakeKernel()
    listener, transports = listener_for(kernel)
    assert len(transports) == 2 and len(listener.fds()) == 2
    assert kernel.cpumasks == [(3, "0"), (3, "1")]
    listener.close()
    assert kernel.cpumasks[2:] == [(4, "0"), (4, "1")]
    assert all(t.closed for t in transports)


def test_listener_counts_sequence_gaps_exactly() -> None:
    listener, transports = listener_for(FakeKernel())
    with listener:
        for seq in (10, 11, 14):
            transports[0].inject(exit_record(seq))
        transports[1].inject(exit_record(500))
        records = listener.poll(1.0)
        assert [(r.cpu, r.seq) for r in records] == [(0, 10), (0, 11), (0, 14), (1, 500)]
        assert listener.lost == 2
        # A late record from the gap: one less lost.
        transports[0].inject(exit_record(12))
        assert [r.seq for r in listener.poll(1.0)] == [12]
        assert listener.lost == 1


def test_listener_sequence_wraps_around() -> None:
    listener, transports = listener_for(FakeKernel(), cpus="0")
    with listener:
        for seq in (0xFFFFFFFE, 0xFFFFFFFF, 0, 2):  # 1 is lost
            transports[0].inject(exit_record(seq))
        assert len(listener.poll(1.0)) == 4
        assert listener.lost == 1


def test_listener_keeps_going_after_enobufs() -> None:
    listener, transports = listener_for(FakeKernel(), cpus="0")
    with listener:
        transports[0].inject(exit_record(1))
        transports[0].fail_next(errno.ENOBUFS)
        transports[0].inject(exit_record(5))
        seqs = []
        for _ in range(3):
            seqs += [r.seq for r in listener.poll(0.2)]
        assert seqs == [1, 5]
        assert listener.overruns == 1 and listener.lost == 3


def test_listener_reads_both_aggregates() -> None:
    listener, transports = listener_for(FakeKernel(), cpus="0")
    with listener:
        transports[0].inject(exit_record(7, "exit_aggr_tgid"))
        (record,) = listener.poll(1.0)
    want = GOLDEN["exit_aggr_tgid"]["expected"]
    assert record.pid == want["pid"] and record.tgid == want["tgid"]
    assert record.group_stats is not None
    assert record.group_stats.cpu_delay_total == want["group_stats"]["cpu_delay_total"]
    assert record.stats.ac_exitcode == want["stats"]["ac_exitcode"]


def test_listener_drops_messages_from_other_senders() -> None:
    listener, transports = listener_for(FakeKernel(), cpus="0")
    with listener:
        transports[0].inject(exit_record(1), sender=999)
        assert listener.poll(0.1) == []
        assert listener.lost == 0


@pytest.mark.parametrize(
    ("code", "initial", "message"),
    [
        (errno.ERANGE, True, "names CPUs not present"),
        (errno.EINVAL, False, "non-initial PID namespace"),
        (errno.E2BIG, True, "too long"),
    ],
)
def test_registration_errors_name_the_cause(
    code: int, initial: bool, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listener_module, "pid_namespace_is_initial", lambda: initial)
    kernel = FakeKernel()
    kernel.register_error = code
    with pytest.raises(ListenerError, match=message):
        listener_for(kernel)


def test_registration_eperm() -> None:
    kernel = FakeKernel()
    kernel.register_error = errno.EPERM
    with pytest.raises(TaskstatsPermissionError):
        listener_for(kernel)


def test_bad_cpu_list_is_a_usage_error() -> None:
    with pytest.raises(ValueError, match="bad CPU list"):
        listener_for(FakeKernel(), cpus="1-x")


def test_public_names_are_sorted_and_cover_the_contract() -> None:
    import nlwire.taskstats as package

    assert package.__all__ == sorted(package.__all__)
    contract = {
        "TaskStats", "TaskstatsClient", "ExitRecord", "ExitListener", "delayacct_enabled",
        "set_delayacct", "TaskstatsPermissionError", "NoSuchTask",
    }  # fmt: skip
    assert contract <= set(package.__all__)
    for name in package.__all__:
        assert getattr(package, name).__doc__, name
