"""The errors of the taskstats family, each with the one line a user needs.

::

    NetlinkPermissionError (nlwire.errors; also PermissionError)
     └── TaskstatsPermissionError   EPERM: no CAP_NET_ADMIN in the initial user ns
    NetlinkProcessLookupError (nlwire.errors; also ProcessLookupError)
     └── NoSuchTask                 ESRCH: the PID or TGID does not exist
    NetlinkError (nlwire.errors; also OSError)
     └── ListenerError              registering for exit records failed
    FamilyNotFound (nlwire.genl; also FileNotFoundError)
     └── TaskstatsUnavailable       ENOENT: no TASKSTATS family here
"""

from __future__ import annotations

import errno
from typing import Any

from nlwire.errors import NetlinkError, NetlinkPermissionError, NetlinkProcessLookupError
from nlwire.genl import FamilyNotFound

__all__ = ["ListenerError", "NoSuchTask", "TaskstatsPermissionError", "TaskstatsUnavailable"]

PERMISSION_TEXT = "taskstats needs CAP_NET_ADMIN in the initial user namespace"


class TaskstatsPermissionError(NetlinkPermissionError):
    """The kernel refused a taskstats request with EPERM.

    ``TASKSTATS_CMD_GET`` (queries and exit registration) is marked
    ``GENL_ADMIN_PERM``: both the process that opened the socket and the one
    sending need ``CAP_NET_ADMIN`` in the *initial* user namespace, so root
    inside a container's user namespace is refused too.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> TaskstatsPermissionError:
        return OSError.__new__(cls, errno.EPERM, PERMISSION_TEXT)

    def __init__(self, code: int = errno.EPERM, message: str | None = None) -> None:
        super().__init__(code, message)

    def __str__(self) -> str:
        return PERMISSION_TEXT


class NoSuchTask(NetlinkProcessLookupError):
    """The PID or TGID asked for does not exist (ESRCH); ``task`` holds it.

    Ids are those of the caller's PID namespace.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> NoSuchTask:
        return OSError.__new__(cls, errno.ESRCH, "no such task")

    def __init__(self, task: int) -> None:
        super().__init__(errno.ESRCH)
        self.task = task

    def __str__(self) -> str:
        return f"no such task: {self.task}"


class ListenerError(NetlinkError):
    """Registering (or deregistering) a CPU list for exit records failed.

    ``str()`` says why in terms of the cause: a CPU list naming CPUs the
    machine does not have (ERANGE/EINVAL), or a non-initial PID namespace,
    where the kernel refuses every registration with EINVAL.
    """

    def __new__(cls, code: int, text: str) -> ListenerError:
        return OSError.__new__(cls, code, text)

    def __init__(self, code: int, text: str) -> None:
        super().__init__(code)
        self.text = text

    def __str__(self) -> str:
        return self.text


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
