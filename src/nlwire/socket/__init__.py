"""Netlink sockets: the stateful side of talking to the kernel.

:class:`NetlinkSocket` (blocking, select-friendly) and
:class:`AsyncNetlinkSocket` (asyncio) share one code path; network
namespaces are opened with :func:`socket_in_netns`; :mod:`nlwire.socket.fake`
holds a fake kernel for tests.
"""

from nlwire.socket.aio import AsyncNetlinkSocket
from nlwire.socket.core import (
    NETLINK_CAP_ACK,
    NETLINK_EXT_ACK,
    NETLINK_GET_STRICT_CHK,
    SOL_NETLINK,
    NetlinkSocket,
    SocketStats,
    Transport,
)
from nlwire.socket.netns import netns_path, socket_in_netns

NETLINK_ROUTE = 0
NETLINK_NETFILTER = 12
NETLINK_GENERIC = 16

__all__ = [
    "NETLINK_CAP_ACK",
    "NETLINK_EXT_ACK",
    "NETLINK_GENERIC",
    "NETLINK_GET_STRICT_CHK",
    "NETLINK_NETFILTER",
    "NETLINK_ROUTE",
    "SOL_NETLINK",
    "AsyncNetlinkSocket",
    "NetlinkSocket",
    "SocketStats",
    "Transport",
    "netns_path",
    "socket_in_netns",
]
