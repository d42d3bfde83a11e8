"""What taskstats needs from ``/proc``: task lists, the delay accounting switch,
and the gaps the kernel leaves in TGID replies.

A ``TASKSTATS_CMD_GET`` for a TGID sums the delay block, CPU times and
context switches over the process's threads, but leaves ``ac_comm``,
``ac_pid``, ``ac_uid``/``ac_gid``, ``ac_ppid``, the memory high-water marks,
the I/O counters and the executable zero. :func:`process_info` reads those
from ``/proc/PID`` instead, and every value it returns is labelled as coming
from ``/proc`` (the :class:`ProcessInfo` type), never mixed into a
:class:`~nlwire.taskstats.TaskStats`.

Note the two sources differ: ``/proc/PID/io`` is exact where taskstats
rounds down to 1024, and for a process leader it includes reaped children.

All functions read the ``/proc`` of the caller's PID namespace.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DELAYACCT_SYSCTL",
    "ProcessInfo",
    "delayacct_enabled",
    "list_all_tids",
    "list_tgids",
    "list_tids",
    "online_cpus",
    "process_info",
    "set_delayacct",
]

#: The sysctl that switches delay accounting (``kernel.task_delayacct``).
DELAYACCT_SYSCTL = Path("/proc/sys/kernel/task_delayacct")

_PROC = "/proc"


def delayacct_enabled() -> bool:
    """Return whether delay accounting is on (``kernel.task_delayacct``).

    When it is off, every delay category except CPU reads 0 for tasks that
    were started while it was off, even after it is turned on. Raises
    :class:`FileNotFoundError` on kernels without the sysctl (before 5.14
    it was a boot option only).
    """
    return DELAYACCT_SYSCTL.read_text().strip() not in ("", "0")


def set_delayacct(enabled: bool) -> None:
    """Turn delay accounting on or off for tasks started from now on.

    Raises :class:`PermissionError` without ``CAP_SYS_ADMIN`` and
    :class:`FileNotFoundError` on kernels without the sysctl.
    """
    try:
        DELAYACCT_SYSCTL.write_text("1\n" if enabled else "0\n")
    except PermissionError as exc:
        raise PermissionError(
            errno.EPERM, "setting kernel.task_delayacct needs CAP_SYS_ADMIN", exc.filename
        ) from None


def list_tgids() -> list[int]:
    """Return the process ids (thread group ids) in ``/proc``, sorted."""
    return sorted(int(name) for name in os.listdir(_PROC) if name.isdigit())


def list_tids(tgid: int) -> list[int]:
    """Return the thread ids of process ``tgid``, sorted; empty if it is gone."""
    try:
        names = os.listdir(f"{_PROC}/{tgid}/task")
    except (FileNotFoundError, ProcessLookupError, NotADirectoryError):
        return []
    return sorted(int(name) for name in names if name.isdigit())


def list_all_tids() -> list[int]:
    """Return every thread id of every process, sorted.

    Processes that exit while the list is read are skipped.
    """
    tids: list[int] = []
    for tgid in list_tgids():
        tids.extend(list_tids(tgid))
    tids.sort()
    return tids


def online_cpus() -> str:
    """Return the online CPUs as a kernel cpulist, such as ``"0-3,6"``."""
    try:
        return Path("/sys/devices/system/cpu/online").read_text().strip()
    except OSError:
        count = os.cpu_count() or 1
        return f"0-{count - 1}" if count > 1 else "0"


def parse_cpulist(text: str) -> list[int]:
    """Expand a cpulist (``"0-3,8"``) into CPU numbers.

    Raises :class:`ValueError` with the offending part when it does not parse.
    """
    cpus: list[int] = []
    for part in text.strip().split(","):
        first, _, last = part.partition("-")
        try:
            low, high = int(first), int(last or first)
        except ValueError:
            raise ValueError(f"bad CPU list {text!r}: {part!r} is not N or N-M") from None
        if low < 0 or high < low:
            raise ValueError(f"bad CPU list {text!r}: {part!r} is not an ascending range")
        cpus.extend(range(low, high + 1))
    return sorted(set(cpus))


@dataclass(frozen=True, slots=True)
class ProcessInfo:
    """What ``/proc/PID`` says about a process: the fields a TGID reply lacks.

    Every value here comes from ``/proc``, not taskstats. ``read_bytes`` and
    friends come from ``/proc/PID/io`` (exact, and including reaped children
    for a leader); they are ``None`` when that file is not readable.
    ``hiwater_rss_kib``/``hiwater_vm_kib`` are ``VmHWM``/``VmPeak``.
    """

    pid: int
    comm: str
    ppid: int
    uid: int
    gid: int
    threads: int
    hiwater_rss_kib: int | None
    hiwater_vm_kib: int | None
    read_char: int | None
    write_char: int | None
    read_syscalls: int | None
    write_syscalls: int | None
    read_bytes: int | None
    write_bytes: int | None
    cancelled_write_bytes: int | None


def process_info(pid: int) -> ProcessInfo:
    """Read the ``/proc`` side of process ``pid``.

    Raises :class:`ProcessLookupError` when the process does not exist.
    """
    try:
        status = _read_keyed(f"{_PROC}/{pid}/status", ":")
    except (FileNotFoundError, ProcessLookupError):
        raise ProcessLookupError(errno.ESRCH, f"no such process: {pid}") from None
    try:
        io = _read_keyed(f"{_PROC}/{pid}/io", ":")
    except OSError:
        io = {}
    return ProcessInfo(
        pid=pid,
        comm=status.get("Name", ""),
        ppid=int(status.get("PPid", "0")),
        uid=int(status.get("Uid", "0").split()[0]),
        gid=int(status.get("Gid", "0").split()[0]),
        threads=int(status.get("Threads", "1")),
        hiwater_rss_kib=_kib(status.get("VmHWM")),
        hiwater_vm_kib=_kib(status.get("VmPeak")),
        read_char=_int(io.get("rchar")),
        write_char=_int(io.get("wchar")),
        read_syscalls=_int(io.get("syscr")),
        write_syscalls=_int(io.get("syscw")),
        read_bytes=_int(io.get("read_bytes")),
        write_bytes=_int(io.get("write_bytes")),
        cancelled_write_bytes=_int(io.get("cancelled_write_bytes")),
    )


def _read_keyed(path: str, separator: str) -> dict[str, str]:
    with open(path, encoding="utf-8", errors="replace") as file:
        pairs = (line.partition(separator) for line in file)
        return {key.strip(): value.strip() for key, _, value in pairs}


def _kib(value: str | None) -> int | None:
    return int(value.split()[0]) if value else None


def _int(value: str | None) -> int | None:
    return int(value) if value else None


def pid_namespace_is_initial() -> bool | None:
    """Return whether the caller is in the initial PID namespace.

    ``None`` when it cannot be told (``/proc/self/ns/pid`` unreadable).
    The initial namespace's inode is ``PROC_PID_INIT_INO`` (0xEFFFFFFC).
    """
    try:
        return os.stat("/proc/self/ns/pid").st_ino == 0xEFFFFFFC
    except OSError:
        return None


def net_namespace_is_initial() -> bool | None:
    """Return whether the caller is in the initial network namespace.

    Compares ``/proc/self/ns/net`` with PID 1's; ``None`` when PID 1's is
    not readable (then it cannot be told).
    """
    try:
        mine = os.stat("/proc/self/ns/net")
        init = os.stat("/proc/1/ns/net")
    except OSError:
        return None
    return (mine.st_dev, mine.st_ino) == (init.st_dev, init.st_ino)
