"""Finding the ``TASKSTATS`` generic netlink family id.

The id is dynamic (31 on one 6.18 machine) and comes from the generic
netlink controller (``CTRL_CMD_GETFAMILY``). Older kernels without
``netnsok`` for this family answer ENOENT inside a non-initial network
namespace; that is reported plainly.
"""

from __future__ import annotations

import errno
import struct

from nlwire.errors import NetlinkError
from nlwire.socket import NetlinkSocket
from nlwire.taskstats.messages import FAMILY_NAME
from nlwire.wire import NLA_TYPE_MASK, MessageFlags, iter_attributes, pack_attribute

__all__ = ["TaskstatsUnavailable", "resolve_family"]

_GENL_ID_CTRL = 0x10
_CTRL_CMD_GETFAMILY = 3
_CTRL_ATTR_FAMILY_ID = 1
_CTRL_ATTR_FAMILY_NAME = 2
_U16 = struct.Struct("=H")


class TaskstatsUnavailable(NetlinkError):
    """The kernel has no ``TASKSTATS`` family here (ENOENT).

    Either the kernel lacks ``CONFIG_TASKSTATS``, or it is older than about
    5.10-6.1 and the socket is in a non-initial network namespace, where
    the family was not visible then.
    """

    def __str__(self) -> str:
        return (
            "the kernel has no TASKSTATS generic netlink family here (no CONFIG_TASKSTATS, "
            "or an older kernel inside a non-initial network namespace)"
        )


def resolve_family(sock: NetlinkSocket) -> int:
    """Return the ``TASKSTATS`` family id, asking the controller over ``sock``.

    Raises :class:`TaskstatsUnavailable` when the family does not exist.
    """
    payload = bytes([_CTRL_CMD_GETFAMILY, 1, 0, 0]) + pack_attribute(
        _CTRL_ATTR_FAMILY_NAME, FAMILY_NAME.encode() + b"\0"
    )
    try:
        replies = sock.request(_GENL_ID_CTRL, payload, MessageFlags.ACK)
    except NetlinkError as exc:
        if exc.errno == errno.ENOENT:
            raise TaskstatsUnavailable(errno.ENOENT) from None
        raise
    for message in replies:
        raw = message.raw
        for type_, start, _end in iter_attributes(raw, 20, len(raw)):
            if type_ & NLA_TYPE_MASK == _CTRL_ATTR_FAMILY_ID:
                family: int = _U16.unpack_from(raw, start)[0]
                return family
    raise NetlinkError(errno.EPROTO, "the controller's reply names no TASKSTATS family id")
