"""System-wide readings that sit next to per-task statistics.

A task monitor shows, above its per-task table, what the whole machine is
doing. These readers collect it from ``/proc``:

- pressure stall information (``/proc/pressure/{cpu,io,memory}``): the
  ``some`` and ``full`` ``avg10`` figures, in percent;
- CPU time totals (the first line of ``/proc/stat``), turned into per-interval
  percentages by :func:`cpu_percentages`;
- the memory essentials of ``/proc/meminfo``;
- user names for uids, cached;
- whether delay accounting is on (``kernel.task_delayacct``);
- :class:`KernelSource`, the per-task readings of ``nlwire top``'s sampler:
  the thread and process lists of ``/proc``, taskstats sweeps, exit records
  and command lines.

Rules:

1. A file that does not exist (a kernel built without PSI, a container that
   hides ``/proc/pressure``) reads as absent (``None``), never as an error.
2. Every reader takes the ``/proc`` root as an argument so tests can point it
   at a directory of fixture files.
3. Nothing here needs privileges, apart from :class:`KernelSource`
   (``CAP_NET_ADMIN``, as every taskstats query).
"""

from __future__ import annotations

import logging
import os
import pwd
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from nlwire.taskstats.client import TaskstatsClient
from nlwire.taskstats.errors import ListenerError
from nlwire.taskstats.listener import ExitListener, ExitRecord
from nlwire.taskstats.procfs import list_tgids, list_tids
from nlwire.taskstats.stats import TaskStats

__all__ = [
    "CpuTimes",
    "KernelSource",
    "MemoryInfo",
    "Pressure",
    "SystemMonitor",
    "SystemSnapshot",
    "UserNames",
    "cpu_percentages",
    "delay_accounting_enabled",
    "read_cpu_times",
    "read_memory",
    "read_pressure",
]

_log = logging.getLogger("nlwire.taskstats.system")

PRESSURE_RESOURCES = ("cpu", "io", "memory")

# The columns of the "cpu" line of /proc/stat, in order (proc(5)).
CPU_TIME_FIELDS = (
    "user",
    "nice",
    "system",
    "idle",
    "iowait",
    "irq",
    "softirq",
    "steal",
    "guest",
    "guest_nice",
)


@dataclass(frozen=True, slots=True)
class Pressure:
    """The ``avg10`` figures of one ``/proc/pressure`` file, in percent.

    ``full`` is ``None`` when the file has no ``full`` line (``cpu`` before
    Linux 5.13).
    """

    some: float
    full: float | None


@dataclass(frozen=True, slots=True)
class CpuTimes:
    """Cumulative CPU time of all CPUs, in clock ticks, by category."""

    values: tuple[int, ...]

    def get(self, name: str) -> int:
        """Return the ticks of category ``name`` (one of ``CPU_TIME_FIELDS``)."""
        index = CPU_TIME_FIELDS.index(name)
        return self.values[index] if index < len(self.values) else 0

    @property
    def total(self) -> int:
        """All ticks, without guest time (already counted in user and nice)."""
        return sum(self.values[:8])


@dataclass(frozen=True, slots=True)
class MemoryInfo:
    """The essentials of ``/proc/meminfo``, in KiB.

    ``available`` is ``None`` on kernels without ``MemAvailable``.
    """

    total: int
    free: int
    available: int | None
    swap_total: int
    swap_free: int


@dataclass(frozen=True, slots=True)
class SystemSnapshot:
    """One reading of the whole system, as a monitor's header shows it.

    ``pressure`` maps ``cpu``, ``io`` and ``memory`` to their ``avg10``
    figures (``None`` when that file is absent). ``cpu`` holds the share of
    each CPU category since the previous reading in percent (empty for the
    first reading). ``delayacct`` is ``None`` when the sysctl is unknown.
    """

    pressure: dict[str, Pressure | None]
    cpu: dict[str, float]
    memory: MemoryInfo | None
    delayacct: bool | None


def read_pressure(resource: str, proc: Path = Path("/proc")) -> Pressure | None:
    """Return the ``avg10`` figures of ``/proc/pressure/<resource>``.

    ``None`` when the file is absent or unreadable (PSI disabled). A line
    that does not parse is ignored.
    """
    try:
        text = (proc / "pressure" / resource).read_text()
    except OSError:
        return None

    found: dict[str, float] = {}
    for line in text.splitlines():
        kind, _, rest = line.partition(" ")
        for item in rest.split():
            key, _, value = item.partition("=")
            if key == "avg10":
                try:
                    found[kind] = float(value)
                except ValueError:
                    _log.debug("unparsable PSI line in %s: %r", resource, line)
    if "some" not in found:
        return None
    return Pressure(some=found["some"], full=found.get("full"))


def read_cpu_times(proc: Path = Path("/proc")) -> CpuTimes | None:
    """Return the totals of the ``cpu`` line of ``/proc/stat``, or ``None``."""
    try:
        with open(proc / "stat", encoding="ascii") as stat:
            first = stat.readline()
    except OSError:
        return None
    fields = first.split()
    if not fields or fields[0] != "cpu":
        return None
    try:
        return CpuTimes(tuple(int(field) for field in fields[1:]))
    except ValueError:
        return None


def cpu_percentages(before: CpuTimes, after: CpuTimes) -> dict[str, float]:
    """Return the share of each CPU category between two readings, in percent.

    The shares are of all CPUs together (they add up to 100). Categories
    whose counter went backwards count as 0.
    """
    elapsed = after.total - before.total
    if elapsed <= 0:
        return {}
    shares: dict[str, float] = {}
    for name in CPU_TIME_FIELDS[:8]:
        delta = max(0, after.get(name) - before.get(name))
        shares[name] = 100.0 * delta / elapsed
    return shares


def read_memory(proc: Path = Path("/proc")) -> MemoryInfo | None:
    """Return the essentials of ``/proc/meminfo``, or ``None`` if unreadable."""
    try:
        text = (proc / "meminfo").read_text()
    except OSError:
        return None

    values: dict[str, int] = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[name] = int(parts[0])
    if "MemTotal" not in values:
        return None
    return MemoryInfo(
        total=values["MemTotal"],
        free=values.get("MemFree", 0),
        available=values.get("MemAvailable"),
        swap_total=values.get("SwapTotal", 0),
        swap_free=values.get("SwapFree", 0),
    )


def delay_accounting_enabled(proc: Path = Path("/proc")) -> bool | None:
    """Return whether ``kernel.task_delayacct`` is on; ``None`` if unknown.

    This reads the sysctl file under ``proc`` so that it also works with a
    fixture directory; for the real ``/proc``, :class:`SystemMonitor` uses the
    taskstats package's ``delayacct_enabled()``.
    """
    try:
        text = (proc / "sys" / "kernel" / "task_delayacct").read_text().strip()
    except OSError:
        return None
    return text not in ("", "0")


class SystemMonitor:
    """Takes successive :class:`SystemSnapshot` readings.

    ``proc`` is the ``/proc`` root. ``delayacct`` reports whether delay
    accounting is on; by default it is the taskstats package's
    ``delayacct_enabled()`` for the real ``/proc`` and a read of
    ``sys/kernel/task_delayacct`` under any other root.
    """

    def __init__(
        self,
        proc: Path = Path("/proc"),
        *,
        delayacct: Callable[[], bool | None] | None = None,
    ) -> None:
        self._proc = proc
        self._delayacct = delayacct or self._default_delayacct(proc)
        self._last_cpu: CpuTimes | None = None

    def sample(self) -> SystemSnapshot:
        """Read everything once; CPU shares are since the previous call."""
        cpu = read_cpu_times(self._proc)
        shares: dict[str, float] = {}
        if cpu is not None and self._last_cpu is not None:
            shares = cpu_percentages(self._last_cpu, cpu)
        self._last_cpu = cpu
        return SystemSnapshot(
            pressure={name: read_pressure(name, self._proc) for name in PRESSURE_RESOURCES},
            cpu=shares,
            memory=read_memory(self._proc),
            delayacct=self._delayacct(),
        )

    @staticmethod
    def _default_delayacct(proc: Path) -> Callable[[], bool | None]:
        if proc != Path("/proc"):
            return lambda: delay_accounting_enabled(proc)
        from nlwire.taskstats.procfs import delayacct_enabled

        def enabled() -> bool | None:
            try:
                return delayacct_enabled()
            except OSError:
                return None

        return enabled


class UserNames:
    """A cache of user names by uid.

    A uid with no passwd entry is shown as its number. The cache never
    expires: a user renamed while the monitor runs keeps its old name.
    """

    def __init__(self) -> None:
        self._names: dict[int, str] = {}

    def __call__(self, uid: int) -> str:
        """Return the name of ``uid`` (its number as text if it has none)."""
        name = self._names.get(uid)
        if name is None:
            try:
                name = pwd.getpwuid(uid).pw_name
            except (KeyError, OverflowError):
                name = str(uid)
            self._names[uid] = name
        return name


class KernelSource:
    """The real task source of the sampler: taskstats, exit records, ``/proc``.

    It is the :class:`~nlwire.taskstats.monitor.TaskSource` of the kernel.

    Build it with :meth:`open`. ``warnings`` holds what the user should know
    (exits cannot be seen in this namespace, for example). Use it as a
    context manager, or call :meth:`close`.
    """

    def __init__(self, client: TaskstatsClient, listener: ExitListener | None) -> None:
        self._client = client
        self._listener = listener
        self.warnings: list[str] = list(listener.warnings) if listener else []

    @classmethod
    def open(cls, *, netns: str | None = None, exits: bool = True) -> KernelSource:
        """Open the taskstats client and, with ``exits``, the exit listener.

        One query of the caller's own thread checks the privilege first.
        Raises :class:`~nlwire.taskstats.TaskstatsPermissionError` without
        ``CAP_NET_ADMIN``. A refused exit registration (a non-initial PID
        namespace) is not fatal: it becomes a warning and no exits are shown.
        """
        client = TaskstatsClient(netns=netns)
        listener = None
        try:
            client.stats_for_pid(os.getpid())
            if exits:
                listener = cls._open_listener(netns)
        except BaseException:
            client.close()
            raise
        source = cls(client, listener)
        if exits and listener is None:
            source.warnings.append("exit records are refused here: no exits will be shown")
        return source

    @staticmethod
    def _open_listener(netns: str | None) -> ExitListener | None:
        try:
            return ExitListener(netns=netns)
        except ListenerError:
            return None

    def close(self) -> None:
        """Deregister the exit listener and close both sockets."""
        if self._listener is not None:
            self._listener.close()
        self._client.close()

    def __enter__(self) -> KernelSource:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def list_processes(self) -> list[int]:
        """Return the process ids in ``/proc``."""
        return list_tgids()

    def list_threads(self, tgid: int) -> list[int]:
        """Return the thread ids of ``tgid`` from ``/proc/TGID/task``."""
        return list_tids(tgid)

    def read_process_cpu(self, tgids: Iterable[int]) -> dict[int, int]:
        """Return each process's summed ``cpu_run_virtual_total`` (TGID queries)."""
        replies = self._client.stats_for_tgids(tgids)
        return {tgid: stats.cpu_run_virtual_total for tgid, stats in replies.items()}

    def read_threads(self, tids: Iterable[int]) -> dict[int, TaskStats]:
        """Return the PID records of ``tids`` in one pipelined sweep."""
        return self._client.stats_for_pids(tids)

    def read_exits(self) -> list[ExitRecord]:
        """Return the exit records that have arrived, without waiting."""
        if self._listener is None:
            return []
        return self._listener.poll(0.0)

    def exits_lost(self) -> int:
        """Return the exact count of exit records the kernel dropped."""
        return 0 if self._listener is None else self._listener.lost

    def read_cmdline(self, tgid: int) -> str | None:
        """Return ``/proc/TGID/cmdline`` with spaces between the arguments."""
        try:
            with open(f"/proc/{tgid}/cmdline", "rb") as file:
                raw = file.read(4096)
        except OSError:
            return None
        text = raw.rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace")
        return text or None
