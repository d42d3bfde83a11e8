"""Netlink sockets: the stateful side of talking to the kernel.

:class:`NetlinkSocket` (blocking, select-friendly) and
:class:`AsyncNetlinkSocket` (asyncio) share one code path; network
namespaces are opened with :func:`socket_in_netns`; :mod:`nlwire.socket.fake`
holds a fake kernel for tests.
"""

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from nlwire.socket.aio import AsyncNetlinkSocket

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


def __getattr__(name: str) -> Any:
    # asyncio (and the ssl module it drags in) costs ~50 ms at start-up;
    # load the asyncio flavour only when someone asks for it.
    if name == "AsyncNetlinkSocket":
        from nlwire.socket.aio import AsyncNetlinkSocket

        return AsyncNetlinkSocket
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
