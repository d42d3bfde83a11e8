"""Finding the ``TASKSTATS`` generic netlink family on a socket.

The id is dynamic (31 on one 6.18 machine) and comes from the generic
netlink controller. Older kernels without ``netnsok`` for this family
answer ENOENT inside a non-initial network namespace; that is reported
plainly. Resolving also teaches the socket's debug dumper the family's
messages.
"""

from __future__ import annotations

from nlwire.genl import Controller, FamilyNotFound
from nlwire.socket import NetlinkSocket
from nlwire.taskstats.messages import FAMILY_NAME

__all__ = ["TaskstatsUnavailable", "resolve_family"]


class TaskstatsUnavailable(FamilyNotFound):
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
    from nlwire.taskstats.schema import TASKSTATS_SPEC

    try:
        family = Controller(sock=sock).get_family(FAMILY_NAME)
    except FamilyNotFound as exc:
        raise TaskstatsUnavailable(exc.errno or 2) from None
    sock.specs[family.id] = TASKSTATS_SPEC
    sock.type_names[family.id] = FAMILY_NAME
    return family.id
