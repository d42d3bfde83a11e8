"""The socket layer against the real kernel: foreign senders, sequence
mismatches, overruns, notifications during requests, groups above 32,
network namespaces, file descriptor hygiene and the asyncio flavour.

Tests that create links run in their own network namespace (``netns``).
A watchdog turns a hang into a failure.
"""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import socket
import struct
import subprocess
from collections.abc import Iterator
from types import FrameType

import pytest

from nlwire.errors import NetlinkError, Overrun, SequenceMismatch
from nlwire.genl import CTRL, CTRL_SPEC, GENL_ID_CTRL, Controller, CtrlCmd, GenlClient
from nlwire.socket import (
    NETLINK_GENERIC,
    NETLINK_ROUTE,
    AsyncNetlinkSocket,
    NetlinkSocket,
    netns_path,
)
from nlwire.wire import (
    STRING,
    Attr,
    AttrSet,
    Message,
    MessageFlags,
    MessageSpec,
    MessageType,
    StructType,
    pack_message,
)

RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK = 16, 17, 18
RTNLGRP_LINK = 1
RTNLGRP_IPV4_IFADDR = 5
RTM_NEWADDR = 20
RTNLGRP_TUNNEL = 35
RTM_NEWTUNNEL = 120
IFLA_IFNAME = 3

IFINFOMSG = StructType(
    "ifinfomsg",
    [("family", "B"), ("", "x"), ("type", "H"), ("index", "i"), ("flags", "I"), ("change", "I")],
)
LINK_ATTRS = AttrSet("link", None)
LINK_ATTRS.add(Attr(IFLA_IFNAME, "ifname", STRING))
LINK = MessageSpec("link", LINK_ATTRS, IFINFOMSG)


@pytest.fixture(autouse=True)
def watchdog() -> Iterator[None]:
    """Fail a test that blocks for more than 20 seconds instead of hanging."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError("kernel test blocked for 20 s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(20)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def link_names(sock: NetlinkSocket) -> list[str]:
    """Dump the links the socket's namespace has, by name."""
    replies = sock.dump(RTM_GETLINK, IFINFOMSG.pack({}), spec=LINK)
    return sorted(LINK.decode(m).attrs["ifname"] for m in replies if m.type == RTM_NEWLINK)


def ip(netns: str, *args: str, batch: str | None = None) -> None:
    subprocess.run(["ip", "-n", netns, *args], check=True, input=batch, text=True)


def getfamily(name: str) -> bytes:
    return bytes((CtrlCmd.GETFAMILY, 2, 0, 0)) + CTRL.encode({"family_name": name})


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


# -- senders and sequence numbers ----------------------------------------------------


def test_message_from_another_socket_is_dropped_and_counted() -> None:
    with (
        NetlinkSocket(NETLINK_GENERIC) as sock,
        socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC) as other,
    ):
        other.bind((0, 0))
        # A forged EPERM for the request the socket is about to send.
        forged_seq = sock._seq % 0xFFFFFFFF + 1
        echoed = struct.pack("=IHHII", 16, GENL_ID_CTRL, 5, forged_seq, sock.port)
        forged = pack_message(
            MessageType.ERROR, 0, forged_seq, sock.port, struct.pack("=i", -1) + echoed
        )
        other.sendto(forged, (sock.port, 0))
        family = Controller(sock=sock).get_family("nlctrl")
        assert family.id == GENL_ID_CTRL
        assert sock.stats.foreign == 1

        other.sendto(pack_message(RTM_NEWLINK, 0, 0, 0, b"\0" * 16), (sock.port, 0))
        assert sock.poll_events(0.2) == []
        assert sock.stats.foreign == 2


def test_reply_to_a_request_sent_behind_the_sockets_back_is_a_sequence_mismatch() -> None:
    with Controller() as ctrl:
        sock = ctrl.sock
        stray = sock.build(GENL_ID_CTRL, 0, getfamily("nlctrl"))
        sock.send(stray)
        with pytest.raises(SequenceMismatch):
            ctrl.get_family("nlctrl")
        # The abandoned request's reply and ACK are dropped, the next works.
        assert ctrl.get_family("nlctrl").id == GENL_ID_CTRL
        assert sock.stats.stale == 2


# -- errors from the kernel ---------------------------------------------------------------


def test_kernel_error_with_extended_ack_message() -> None:
    with Controller() as ctrl:
        too_long = {"family_name": "x" * 40}
        with pytest.raises(NetlinkError) as caught:
            ctrl.request(CtrlCmd.GETFAMILY, too_long)
    error = caught.value
    assert error.errno == errno.EINVAL
    assert error.message
    assert error.attr_path == ("family_name",)
    assert error.offset == 20


# -- overruns --------------------------------------------------------------------------


def test_flooded_small_buffer_raises_overrun_and_stays_usable(netns: str) -> None:
    count = 40
    groups = [RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR]
    with NetlinkSocket(NETLINK_ROUTE, netns=netns, rcvbuf=1024, groups=groups) as sock:
        batch = "".join(f"addr add 10.1.{i}.1/32 dev lo\n" for i in range(count))
        batch += "".join(f"link add fl{i} type veth peer name fp{i}\n" for i in range(count))
        batch += "".join(f"link del fl{i}\n" for i in range(count))
        ip(netns, "-batch", "-", batch=batch)

        with pytest.raises(Overrun) as caught:
            sock.poll_events(1.0)
        assert caught.value.errno == errno.ENOBUFS
        assert sock.stats.overruns == 1

        # Queued address notifications carry `ip`'s port and sequence
        # numbers; the request must set them aside, not take them for replies.
        # The buffer grows first: the kernel still announces link state
        # changes of the flood for a while, and they would overflow it again.
        sock.set_receive_buffer(1 << 22)
        assert link_names(sock) == ["lo"]
        events = sock.poll_events(0.1)
        assert events and {m.type for m in events} <= {RTM_NEWLINK, RTM_DELLINK, RTM_NEWADDR}


def test_notifications_during_a_request_are_kept(netns: str) -> None:
    groups = [RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR]
    with NetlinkSocket(NETLINK_ROUTE, netns=netns, groups=groups) as sock:
        ip(netns, "link", "add", "ev0", "type", "veth", "peer", "name", "ev1")
        ip(netns, "addr", "add", "10.2.0.1/32", "dev", "lo")
        assert link_names(sock) == ["ev0", "ev1", "lo"]
        events = sock.poll_events(0.5)
    names = {LINK.decode(m).attrs.get("ifname") for m in events if m.type == RTM_NEWLINK}
    assert {"ev0", "ev1"} <= names
    (address,) = [m for m in events if m.type == RTM_NEWADDR]
    assert address.port not in (0, sock.port)  # the port of `ip`, not ours


def test_multicast_group_above_32(netns: str) -> None:
    # VXLAN VNI filter changes are announced on RTNLGRP_TUNNEL (35).
    ip(netns, "link", "add", "vx0", "type", "vxlan", "dstport", "4789", "external", "vnifilter")
    with NetlinkSocket(NETLINK_ROUTE, netns=netns, groups=[RTNLGRP_TUNNEL]) as sock:
        subprocess.run(
            ["ip", "netns", "exec", netns, "bridge", "vni", "add", "dev", "vx0", "vni", "100"],
            check=True,
        )
        # A request in between: the group-35 notification must not upset it.
        assert "vx0" in link_names(sock)
        events = sock.poll_events(1.0)
        sock.leave_group(RTNLGRP_TUNNEL)
    assert [m.type for m in events] == [RTM_NEWTUNNEL]


def test_joining_nlctrl_notify_group() -> None:
    with Controller() as ctrl:
        group = ctrl.get_multicast_group("nlctrl", "notify")
        ctrl.sock.join_group(group)
        assert ctrl.get_family("nlctrl").id == GENL_ID_CTRL
        ctrl.sock.leave_group(group)


def test_refused_group_is_an_os_error_and_leaks_nothing() -> None:
    before = fd_count()
    for _ in range(20):
        with pytest.raises(OSError) as caught:
            NetlinkSocket(NETLINK_GENERIC, groups=[100_000])
        assert caught.value.errno == errno.EINVAL
    assert fd_count() == before


def test_datagram_larger_than_the_buffer_grows_it() -> None:
    with Controller() as ctrl:
        expected = [family.name for family in ctrl.list_families()]
        ctrl.sock._buffer = bytearray(64)  # far smaller than one dump datagram
        assert [family.name for family in ctrl.list_families()] == expected
        assert len(ctrl.sock._buffer) > 64


# -- network namespaces -------------------------------------------------------------------


def test_socket_in_netns_by_name_path_and_fd_sees_that_namespace(netns: str) -> None:
    ip(netns, "link", "add", "nsonly0", "type", "veth", "peer", "name", "nsonly1")
    ip(netns, "link", "del", "nsonly1")
    fd = os.open(netns_path(netns), os.O_RDONLY)
    try:
        for where in (netns, netns_path(netns), fd):
            with NetlinkSocket(NETLINK_ROUTE, netns=where) as sock:
                assert link_names(sock) == ["lo"], where
    finally:
        os.close(fd)
    with NetlinkSocket(NETLINK_ROUTE) as host:
        assert "nsonly0" not in link_names(host)


def test_controller_inside_a_netns(netns: str) -> None:
    with Controller(netns=netns) as ctrl:
        names = [family.name for family in ctrl.list_families()]
    assert "nlctrl" in names


def test_missing_netns_is_file_not_found() -> None:
    with pytest.raises(FileNotFoundError):
        NetlinkSocket(NETLINK_ROUTE, netns="nlwire-no-such-netns")


class NlctrlByName(GenlClient):
    """A client that resolves nlctrl by name, as family clients do."""

    FAMILY = "nlctrl"
    VERSION = 2
    ATTRS = CTRL


def test_no_fd_leak_over_a_thousand_open_close_cycles(netns: str) -> None:
    ns_fd = os.open(netns_path(netns), os.O_RDONLY)
    try:
        before = fd_count()
        for i in range(1000):
            kind = i % 6
            if kind == 0:
                with NetlinkSocket(NETLINK_ROUTE):
                    pass
            elif kind == 1:
                with NetlinkSocket(NETLINK_GENERIC, netns=netns):
                    pass
            elif kind == 2:
                with NetlinkSocket(NETLINK_ROUTE, netns=ns_fd, groups=[RTNLGRP_LINK]):
                    pass
            elif kind == 3:
                with NlctrlByName(netns=netns) as client:
                    assert client.family.id == GENL_ID_CTRL
            elif kind == 4:
                Controller().close()
            else:
                AsyncNetlinkSocket(NETLINK_GENERIC, netns=netns).close()
        assert fd_count() == before
    finally:
        os.close(ns_fd)


# -- asyncio ---------------------------------------------------------------------------------


async def test_async_socket_against_the_kernel() -> None:
    async with AsyncNetlinkSocket(NETLINK_GENERIC) as sock:
        payload = bytes((CtrlCmd.GETFAMILY, 2, 0, 0))
        replies = await sock.dump(GENL_ID_CTRL, payload, spec=CTRL_SPEC)
        names = [CTRL_SPEC.decode(m).attrs["family_name"] for m in replies]
        (answer,) = await sock.request(GENL_ID_CTRL, getfamily("nlctrl"))
        with pytest.raises(FileNotFoundError):
            await sock.request(GENL_ID_CTRL, getfamily("nlwire-no-such"))
    assert "nlctrl" in names
    assert CTRL_SPEC.decode(answer).attrs["family_id"] == GENL_ID_CTRL


async def test_async_events_in_a_netns(netns: str) -> None:
    async with AsyncNetlinkSocket(NETLINK_ROUTE, netns=netns, groups=[RTNLGRP_LINK]) as sock:
        stream = sock.events()
        ip(netns, "link", "add", "aev0", "type", "veth", "peer", "name", "aev1")
        seen: set[str] = set()
        while not {"aev0", "aev1"} <= seen:
            message: Message = await asyncio.wait_for(stream.__anext__(), 5)
            if message.type == RTM_NEWLINK:
                seen.add(LINK.decode(message).attrs["ifname"])
        replies = await sock.dump(RTM_GETLINK, IFINFOMSG.pack({}), spec=LINK)
    assert len([m for m in replies if m.flags & MessageFlags.MULTI]) == 3
