"""Opening a socket inside another network namespace.

``setns(2)`` moves only the calling thread. :func:`socket_in_netns` moves
it into the target namespace, creates the socket (a socket stays in the
namespace it was created in for its whole life) and moves straight back,
so the thread is elsewhere only for the time of one ``socket(2)`` call.
No fork, no subprocess.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import socket
import threading
from collections.abc import Callable
from typing import Final

CLONE_NEWNET: Final = 0x40000000
NETNS_RUN_DIR: Final = "/run/netns"

_lock = threading.Lock()


def netns_path(netns: str) -> str:
    """The path of namespace ``netns``: a name under /run/netns, or a path."""
    if "/" in netns:
        return netns
    if not netns or netns in {".", ".."}:
        raise ValueError(f"{netns!r} is not a network namespace name")
    return os.path.join(NETNS_RUN_DIR, netns)


def socket_in_netns(netns: str | int, make: Callable[[], socket.socket]) -> socket.socket:
    """Call ``make()`` with the thread inside network namespace ``netns``.

    ``netns`` is a name (``/run/netns/NAME``), a path, or an open file
    descriptor of a namespace. Raises ``FileNotFoundError`` for a namespace
    that does not exist and ``PermissionError`` without CAP_SYS_ADMIN.
    """
    target = netns if isinstance(netns, int) else os.open(netns_path(netns), os.O_RDONLY)
    try:
        with _lock:
            home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
            try:
                _setns(target)
                try:
                    return make()
                finally:
                    _setns(home)
            finally:
                os.close(home)
    finally:
        if not isinstance(netns, int):
            with contextlib.suppress(OSError):
                os.close(target)


def _setns(fd: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"setns: {os.strerror(code)}")
