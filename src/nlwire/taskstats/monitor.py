"""The sampler behind ``nlwire top``: per-interval rates from taskstats readings.

Each call of :meth:`Sampler.sample` takes one reading of every thread on the
system (a pipelined sweep of per-thread ``TASKSTATS_CMD_GET`` queries) and
turns the difference from the previous reading into rates and percentages,
per process and, on request, per thread. Exit records from the exit listener
close the accounts of threads that ended and feed a bounded list of recent
process exits.

The sampler does no I/O of its own: it reads through a :class:`TaskSource`.
:class:`nlwire.taskstats.system.KernelSource` is the real one (taskstats
client, exit listener and ``/proc``); tests pass a fake.

Theory of operation:

1. Per-process figures are sums of per-thread deltas. A TGID reply carries
   delays and CPU time but no I/O and no memory figures, so the sampler never
   uses one: it reads every thread's PID record and adds the deltas up. The
   peak RSS of a process is the largest ``hiwater_rss`` of its threads (they
   share one address space, so this is the process's figure).
2. A thread is the same task as in the previous reading when its start time
   (``ac_btime64``, or ``ac_btime``) is within 1 s of the remembered one and
   its CPU time did not go down; otherwise its pid was reused and it starts
   afresh.
3. A thread first seen in this reading counts in full when it started within
   the interval (its ``ac_etime`` is shorter than the interval); otherwise
   only its baseline is taken. Counters that go down count as 0, so rates
   are never negative.
4. A thread whose CPU time did not change since the previous reading has not
   run, so none of its counters changed: only that one field is read for it.
   This keeps a reading of 10 000 idle threads cheap.
5. A thread's exit record closes its account: the difference between the
   record and the last reading goes to the interval in which the record was
   read. A thread that vanished without a record (lost, or it exited between
   the exit poll and the sweep) waits two readings for its record, then is
   forgotten; its last partial interval is then lost, never counted twice.
6. A per-thread delay delta larger than the interval cannot be true (a task
   cannot wait longer than the time that passed). Linux 6.18 produces such
   block I/O delays now and then. Such a delta is rejected: it counts as 0
   and the row names the delay kind in :attr:`TaskRow.flagged`.
7. A process with several threads is first asked for its summed CPU time
   (one TGID query, which also counts threads that ended). When that did not
   move, none of its threads ran, so they are not listed or read again: a
   process with 10 000 sleeping threads costs one query per reading.

Known limitations: the command line of a process is read from
``/proc/PID/cmdline`` once, when the process is first seen, so a later
``exec`` or a rewritten title is not shown; the final interval of a thread
that exits between the exit poll and the sweep is credited one interval
late; the I/O of a multi-threaded process that exits counts only threads
whose exit records were seen while the sampler ran.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import add, attrgetter, sub
from typing import Protocol

from nlwire.taskstats.listener import ExitRecord
from nlwire.taskstats.stats import TaskStats
from nlwire.taskstats.system import UserNames

__all__ = [
    "DELAY_KINDS",
    "FIGURE_SOURCES",
    "ExitEntry",
    "Sampler",
    "Snapshot",
    "TaskRow",
    "TaskSource",
]

#: The delay categories of ``struct taskstats``, in the order of
#: :attr:`TaskRow.delays`: CPU wait (run queue), block I/O, swap-in, memory
#: reclaim (``freepages``), thrashing, compaction, write-protect copy, IRQ.
DELAY_KINDS = ("cpu", "blkio", "swapin", "freepages", "thrashing", "compact", "wpcopy", "irq")

#: Where every figure of a row comes from, for help screens and JSON output.
FIGURE_SOURCES: dict[str, str] = {
    "pid": "/proc/PID/task listing (thread ids and the process they belong to)",
    "user": "taskstats ac_uid of the process leader; name from the passwd database",
    "command": "/proc/PID/cmdline, read once when the process is first seen; "
    "taskstats ac_comm in brackets when empty (kernel threads) or unreadable",
    "cpu": "taskstats cpu_run_virtual_total of each thread, summed per process",
    "read": "taskstats read_bytes of each thread, summed per process",
    "write": "taskstats write_bytes of each thread, summed per process",
    "delays": "taskstats *_delay_total of each thread, summed per process",
    "peak_rss": "taskstats hiwater_rss, the largest over the process's threads",
    "switches": "taskstats nvcsw + nivcsw of each thread, summed per process",
}

# Indexes into the counter tuple: CPU time, the eight delays, then I/O and
# context switches.
_CPU = 0
_DELAY_FIRST, _DELAY_LAST = 1, 8
_READ, _WRITE, _NVCSW, _NIVCSW = 9, 10, 11, 12
_N_COUNTERS = 13

_AGROUP = 0x20  # ac_flag: the record of the last thread of a process
_SAME_START_S = 1  # ac_btime jitters by a second between reads
_NEW_TASK_SLACK_US = 50_000
_VANISHED_READINGS = 2


class TaskSource(Protocol):
    """Where the sampler's readings come from (the kernel, or a test fake)."""

    def list_processes(self) -> Sequence[int]:
        """Return the id of every live process."""

    def list_threads(self, tgid: int) -> Sequence[int]:
        """Return the thread ids of process ``tgid``; empty if it is gone."""

    def read_process_cpu(self, tgids: Iterable[int]) -> Mapping[int, int]:
        """Return the CPU time (ns) of each process in ``tgids``, its threads summed.

        The sum must include threads that ended (as a TGID reply does), so it
        never goes down. Processes that vanished are left out.
        """

    def read_threads(self, tids: Iterable[int]) -> Mapping[int, TaskStats]:
        """Return the records of ``tids``; threads that vanished are left out."""

    def read_exits(self) -> Sequence[ExitRecord]:
        """Return the exit records that arrived since the last call, without waiting."""

    def exits_lost(self) -> int:
        """Return how many exit records were lost so far."""

    def read_cmdline(self, tgid: int) -> str | None:
        """Return the command line of process ``tgid``; ``None`` if empty or gone."""


@dataclass(frozen=True, slots=True)
class TaskRow:
    """The figures of one process (or thread) over one interval.

    ``pid`` is the process id for a process row and the thread id for a
    thread row. Rates are per second and percentages are of the wall-clock
    interval: ``cpu`` 100 means one CPU busy all the time, and a delay of
    100 means one thread waited all the time (a process with several threads
    can exceed 100). ``delays`` follows :data:`DELAY_KINDS`. ``flagged``
    names the delay kinds whose kernel figures were rejected as impossible
    in this interval (they count as 0). ``command_from_proc`` tells whether
    ``command`` came from ``/proc/PID/cmdline`` rather than taskstats; the
    row of a thread other than the leader starts with the thread's own name
    in braces.
    """

    pid: int
    tgid: int
    uid: int
    user: str
    comm: str
    command: str
    command_from_proc: bool
    threads: int
    cpu: float
    read_rate: float
    write_rate: float
    delays: tuple[float, ...]
    peak_rss: int
    switches: float
    flagged: tuple[str, ...]

    @property
    def active(self) -> bool:
        """Whether the task used CPU, did storage I/O or waited in this interval."""
        return bool(self.cpu or self.read_rate or self.write_rate or any(self.delays))

    def delay(self, kind: str) -> float:
        """Return the percentage of delay ``kind`` (one of :data:`DELAY_KINDS`)."""
        return self.delays[DELAY_KINDS.index(kind)]


@dataclass(frozen=True, slots=True)
class ExitEntry:
    """One process that exited, as the exits pane shows it.

    ``status`` is the raw wait status; ``exit_code`` is set for a normal
    exit and ``signal`` for a death by signal. ``lifetime`` and ``cpu_time``
    are in seconds. ``read_bytes``/``write_bytes`` are storage I/O over the
    process's life (see the module's limitations for multi-threaded ones).
    """

    time: float
    pid: int
    uid: int
    user: str
    command: str
    status: int
    exit_code: int | None
    signal: int | None
    core_dumped: bool
    lifetime: float | None
    cpu_time: float
    read_bytes: int
    write_bytes: int

    def describe_status(self) -> str:
        """Return ``"exit 0"``, ``"signal 9"`` or ``"signal 11 (core)"``."""
        if self.signal is not None:
            return f"signal {self.signal}" + (" (core)" if self.core_dumped else "")
        return f"exit {self.exit_code}"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The result of one reading.

    ``time`` is the wall-clock time (seconds since the epoch) at which the
    reading began. ``interval`` is the wall time since the previous reading in seconds,
    ``None`` for the first reading (whose rows carry zeros). ``threads`` is
    ``None`` unless thread rows were asked for. ``exits`` are the process
    exits read in this interval and ``recent_exits`` the bounded history,
    newest first; ``exits_lost`` counts exit records the kernel dropped.
    """

    time: float
    interval: float | None
    processes: tuple[TaskRow, ...]
    threads: tuple[TaskRow, ...] | None
    exits: tuple[ExitEntry, ...]
    recent_exits: tuple[ExitEntry, ...]
    exits_lost: int
    process_count: int
    thread_count: int


class _Thread:
    """What the sampler remembers of one thread between readings."""

    __slots__ = ("comm", "counters", "cpu", "flagged", "hiwater", "start", "tgid", "uid")

    def __init__(self, tgid: int, start: int, record: TaskStats) -> None:
        self.tgid = tgid
        self.start = start
        self.flagged: tuple[str, ...] = ()
        self.update(record, _counters(record))

    def update(self, record: TaskStats, counters: tuple[int, ...]) -> None:
        """Take the ``counters`` and identity of ``record``."""
        self.counters = counters
        self.cpu = counters[_CPU]
        self.hiwater = record.hiwater_rss or 0
        self.comm = printable(record.ac_comm or "")
        self.uid = record.ac_uid or 0


# Control characters (newlines, escape sequences) in a command line would
# break a table or drive the terminal: each becomes a space.
_CONTROL = dict.fromkeys([*range(32), *range(127, 160)], " ")


def printable(text: str) -> str:
    """Return ``text`` with every control character replaced by a space."""
    return text.translate(_CONTROL)


# The counters kept per thread, in the order of the _CPU.._NIVCSW indexes.
_read_counters = attrgetter(
    "cpu_run_virtual_total",
    "cpu_delay_total",
    "blkio_delay_total",
    "swapin_delay_total",
    "freepages_delay_total",
    "thrashing_delay_total",
    "compact_delay_total",
    "wpcopy_delay_total",
    "irq_delay_total",
    "read_bytes",
    "write_bytes",
    "nvcsw",
    "nivcsw",
)


def _counters(record: TaskStats) -> tuple[int, ...]:
    values: tuple[int | None, ...] = _read_counters(record)
    if None in values:  # fields an old kernel's struct does not have
        return tuple(value or 0 for value in values)
    return values  # type: ignore[return-value]


def _start_time(record: TaskStats) -> int:
    return record.ac_btime64 or record.ac_btime or 0


def _difference(new: tuple[int, ...], old: tuple[int, ...]) -> list[int]:
    delta = list(map(sub, new, old))
    if min(delta) < 0:  # a delay total wrapped to 0: count it as 0
        delta = [value if value > 0 else 0 for value in delta]
    return delta


class _Interval:
    """The per-process sums of one interval, being built."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        # A delay delta above this is impossible (rule 6); the slack covers
        # the time the sweep itself takes between the first and last thread.
        self.limit_ns = None if seconds is None else int((seconds * 1.1 + 0.25) * 1e9)
        self.sums: dict[int, list[int]] = {}
        self.flagged: dict[int, set[str]] = {}
        self.thread_deltas: dict[int, list[int]] = {}

    def started_within(self, record: TaskStats) -> bool:
        """Whether the task of ``record`` started during this interval."""
        elapsed = record.ac_etime
        if self.seconds is None or elapsed is None:
            return False
        return elapsed <= self.seconds * 1e6 + _NEW_TASK_SLACK_US

    def add(self, tid: int, tgid: int, delta: list[int]) -> tuple[str, ...]:
        """Add one thread's delta to its process; return the rejected delay kinds."""
        rejected: tuple[str, ...] = ()
        limit = self.limit_ns
        if limit is not None and max(delta[_DELAY_FIRST : _DELAY_LAST + 1]) > limit:
            for index in range(_DELAY_FIRST, _DELAY_LAST + 1):
                if delta[index] > limit:
                    delta[index] = 0
                    rejected += (DELAY_KINDS[index - _DELAY_FIRST],)
            self.flagged.setdefault(tgid, set()).update(rejected)

        total = self.sums.get(tgid)
        self.sums[tgid] = list(delta) if total is None else list(map(add, total, delta))
        self.thread_deltas[tid] = delta
        return rejected


class Sampler:
    """Takes successive readings from a :class:`TaskSource` and computes rates.

    ``max_exits`` bounds the recent-exits history; ``clock`` (monotonic
    seconds) and ``wall_clock`` (seconds since the epoch) are replaceable
    for tests; ``user_name`` turns a uid into a name.
    """

    def __init__(
        self,
        source: TaskSource,
        *,
        max_exits: int = 200,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        user_name: Callable[[int], str] | None = None,
    ) -> None:
        self._source = source
        self._clock = clock
        self._wall_clock = wall_clock
        self._user_name = user_name or UserNames()
        self._threads: dict[int, _Thread] = {}
        self._vanished: dict[int, tuple[_Thread, int]] = {}
        self._cmdlines: dict[int, tuple[int, str | None]] = {}
        self._exited_io: dict[int, list[int]] = {}
        self._recent: collections.deque[ExitEntry] = collections.deque(maxlen=max_exits)
        self._last_time: float | None = None
        self._last_interval = _Interval(None)
        self._members: dict[int, list[int]] = {}  # live threads, leader first
        self._group_cpu: dict[int, int] = {}
        self._dirty: set[int] = set()  # processes that lost a thread: read them
        self._idle_rows: dict[int, TaskRow] = {}  # rows of quiet processes
        self._readings = 0

    def sample(self, *, threads: bool = False) -> Snapshot:
        """Take one reading and return the figures since the previous one.

        With ``threads`` the snapshot also holds one row per thread.
        """
        # 1. Time the interval; close the accounts of threads that exited.
        now, wall = self._clock(), self._wall_clock()
        seconds = None if self._last_time is None else max(now - self._last_time, 1e-6)
        interval = _Interval(seconds)
        exits = self._take_exits(interval)

        # 2. Sweep the threads that may have run; diff them against the last reading.
        plan, quiet = self._plan()
        listing = {tid: tgid for tgid, tids in plan.items() for tid in tids}
        records = self._source.read_threads(listing.keys())
        self._diff_threads(listing, records, interval)
        self._update_members(plan, quiet, records)

        # 3. Build the rows.
        processes = self._process_rows(interval, quiet)
        thread_rows = self._thread_rows(interval) if threads else None
        self._last_interval = interval
        self._last_time = now
        self._readings += 1
        return Snapshot(
            time=wall,
            interval=seconds,
            processes=processes,
            threads=thread_rows,
            exits=exits,
            recent_exits=tuple(reversed(self._recent)),
            exits_lost=self._source.exits_lost(),
            process_count=len(processes),
            thread_count=len(self._threads),
        )

    def thread_rows(self) -> tuple[TaskRow, ...]:
        """Return one row per thread for the interval of the last reading.

        This is what ``sample(threads=True)`` would have returned, for a view
        that switches to threads between readings. Empty before the first
        reading.
        """
        return self._thread_rows(self._last_interval)

    def _plan(self) -> tuple[dict[int, list[int]], set[int]]:
        """Return the threads to read, by process, and the quiet processes.

        Rule 7: a multi-threaded process whose summed CPU time has not moved
        since the last reading has no thread that ran, started or ended, so
        its threads are neither listed nor read again.
        """
        source = self._source
        tgids = source.list_processes()
        members, dirty = self._members, self._dirty
        several = [t for t in tgids if len(members.get(t, ())) > 1 and t not in dirty]
        group_cpu = dict(source.read_process_cpu(several)) if several else {}

        plan: dict[int, list[int]] = {}
        quiet: set[int] = set()
        for tgid in tgids:
            cpu = group_cpu.get(tgid)
            if cpu and cpu == self._group_cpu.get(tgid):
                quiet.add(tgid)
            else:
                plan[tgid] = list(source.list_threads(tgid))
        self._group_cpu = group_cpu
        dirty.clear()
        return plan, quiet

    def _diff_threads(
        self,
        listing: Mapping[int, int],
        records: Mapping[int, TaskStats],
        interval: _Interval,
    ) -> None:
        known = self._threads
        for tid, record in records.items():
            # Rule 4: a thread that has not run has nothing new to say,
            # except the leader, whose peak RSS also moves with other threads.
            thread = known.get(tid)
            cpu = record.cpu_run_virtual_total
            tgid = listing.get(tid, tid)
            if thread is not None and thread.cpu == cpu and thread.tgid == tgid:
                if tid == tgid:
                    thread.hiwater = record.hiwater_rss or 0
                continue

            # Rule 2: is it the task we saw last time?
            start = _start_time(record)
            if thread is None or abs(start - thread.start) > _SAME_START_S or cpu < thread.cpu:
                known[tid] = thread = _Thread(tgid, start, record)
                if interval.started_within(record):
                    thread.flagged = interval.add(tid, tgid, list(thread.counters))
                continue

            counters = _counters(record)
            delta = _difference(counters, thread.counters)
            thread.update(record, counters)
            thread.tgid = tgid
            thread.flagged = interval.add(tid, tgid, delta)

    def _update_members(
        self,
        plan: dict[int, list[int]],
        quiet: set[int],
        records: Mapping[int, TaskStats],
    ) -> None:
        """Record which threads each process has now; set vanished ones aside."""
        # 1. Processes read in this sweep: their members are the threads answered.
        members, known = self._members, self._threads
        vanished: list[int] = []
        for tgid in [tgid for tgid in members if tgid not in quiet]:
            vanished.extend(tid for tid in members.pop(tgid) if tid not in records)
            self._idle_rows.pop(tgid, None)
        for tgid, tids in plan.items():
            present = [tid for tid in tids if tid in records]
            if present:
                if tgid in present and present[0] != tgid:
                    present.remove(tgid)
                    present.insert(0, tgid)
                members[tgid] = present

        # 2. Rule 5: keep vanished threads a little while for their exit records.
        for tid in vanished:
            thread = known.pop(tid, None)
            if thread is not None:
                self._vanished[tid] = (thread, self._readings)
        cutoff = self._readings - _VANISHED_READINGS
        for tid in [tid for tid, (_, seen) in self._vanished.items() if seen < cutoff]:
            del self._vanished[tid]

        # 3. Drop cached command lines and exit sums of processes now gone.
        for tgid in [tgid for tgid in self._cmdlines if tgid not in members]:
            del self._cmdlines[tgid]
        for tgid in [tgid for tgid in self._exited_io if tgid not in members]:
            del self._exited_io[tgid]

    def _take_exits(self, interval: _Interval) -> tuple[ExitEntry, ...]:
        entries: list[ExitEntry] = []
        for event in self._source.read_exits():
            record = event.stats
            tid = event.pid
            thread = self._threads.pop(tid, None)
            if thread is None and tid in self._vanished:
                thread = self._vanished.pop(tid)[0]
            tgid = event.tgid or record.ac_tgid or (thread.tgid if thread else tid)
            self._dirty.add(tgid)

            # Close the thread's account (rule 5), or count it in full when
            # it was born and died within the interval.
            counters = _counters(record)
            if thread is not None and abs(_start_time(record) - thread.start) <= _SAME_START_S:
                interval.add(tid, tgid, _difference(counters, thread.counters))
            elif interval.started_within(record):
                interval.add(tid, tgid, list(counters))
            io = self._exited_io.setdefault(tgid, [0, 0])
            io[0] += counters[_READ]
            io[1] += counters[_WRITE]

            if _ends_process(event, tid, tgid):
                entries.append(self._exit_entry(event, tgid))
        self._recent.extend(entries)
        return tuple(entries)

    def _exit_entry(self, event: ExitRecord, tgid: int) -> ExitEntry:
        record = event.stats
        status = record.ac_exitcode or 0
        signal = status & 0x7F
        read, write = self._exited_io.pop(tgid, [0, 0])
        cached = self._cmdlines.pop(tgid, None)
        command = cached[1] if cached and cached[1] else f"[{printable(record.ac_comm or '?')}]"
        cpu = (event.group_stats or record).cpu_run_virtual_total
        lifetime = record.ac_tgetime or record.ac_etime
        uid = record.ac_uid or 0
        return ExitEntry(
            time=self._wall_clock(),
            pid=tgid,
            uid=uid,
            user=self._user_name(uid),
            command=command,
            status=status,
            exit_code=None if signal else (status >> 8) & 0xFF,
            signal=signal or None,
            core_dumped=bool(status & 0x80),
            lifetime=None if lifetime is None else lifetime / 1e6,
            cpu_time=cpu / 1e9,
            read_bytes=read,
            write_bytes=write,
        )

    def _process_rows(self, interval: _Interval, quiet: set[int]) -> tuple[TaskRow, ...]:
        rows = []
        zero = [0] * _N_COUNTERS
        known, idle_rows = self._threads, self._idle_rows
        for tgid, tids in self._members.items():
            # A quiet process looks as it did when it last was idle.
            cached = idle_rows.get(tgid) if tgid in quiet else None
            if cached is not None:
                rows.append(cached)
                continue

            threads = [known[tid] for tid in tids if tid in known]
            if not threads:
                continue
            leader = threads[0]
            command, from_proc = self._command(tgid, leader)
            sums = interval.sums.get(tgid)
            row = self._row(
                pid=tgid,
                leader=leader,
                command=command,
                from_proc=from_proc,
                threads=len(threads),
                peak_rss=max(thread.hiwater for thread in threads),
                sums=zero if sums is None else sums,
                flagged=interval.flagged.get(tgid, ()),
                seconds=interval.seconds,
            )
            rows.append(row)
            if sums is None and interval.seconds is not None:
                idle_rows[tgid] = row
        return tuple(rows)

    def _thread_rows(self, interval: _Interval) -> tuple[TaskRow, ...]:
        rows = []
        zero = [0] * _N_COUNTERS
        for tid, thread in self._threads.items():
            leader = self._threads.get(thread.tgid, thread)
            command, from_proc = self._command(thread.tgid, leader)
            if tid != thread.tgid:
                command = f"{{{thread.comm}}} {command}"
            rows.append(
                self._row(
                    pid=tid,
                    leader=thread,
                    command=command,
                    from_proc=from_proc,
                    threads=1,
                    peak_rss=thread.hiwater,
                    sums=interval.thread_deltas.get(tid, zero),
                    flagged=thread.flagged if tid in interval.thread_deltas else (),
                    seconds=interval.seconds,
                )
            )
        return tuple(rows)

    def _row(
        self,
        *,
        pid: int,
        leader: _Thread,
        command: str,
        from_proc: bool,
        threads: int,
        peak_rss: int,
        sums: Sequence[int],
        flagged: Iterable[str],
        seconds: float | None,
    ) -> TaskRow:
        per_ns = 0.0 if seconds is None else 100.0 / (seconds * 1e9)
        per_s = 0.0 if seconds is None else 1.0 / seconds
        return TaskRow(
            pid=pid,
            tgid=leader.tgid,
            uid=leader.uid,
            user=self._user_name(leader.uid),
            comm=leader.comm,
            command=command,
            command_from_proc=from_proc,
            threads=threads,
            cpu=sums[_CPU] * per_ns,
            read_rate=sums[_READ] * per_s,
            write_rate=sums[_WRITE] * per_s,
            delays=tuple(sums[i] * per_ns for i in range(_DELAY_FIRST, _DELAY_LAST + 1)),
            peak_rss=peak_rss,
            switches=(sums[_NVCSW] + sums[_NIVCSW]) * per_s,
            flagged=tuple(kind for kind in DELAY_KINDS if kind in flagged),
        )

    def _command(self, tgid: int, leader: _Thread) -> tuple[str, bool]:
        """Return the process's command line (read once) and whether /proc gave it."""
        cached = self._cmdlines.get(tgid)
        if cached is None or cached[0] != leader.start:
            cmdline = self._source.read_cmdline(tgid)
            cached = (leader.start, printable(cmdline) if cmdline else None)
            self._cmdlines[tgid] = cached
        if cached[1]:
            return cached[1], True
        return f"[{leader.comm}]", False


def _ends_process(event: ExitRecord, tid: int, tgid: int) -> bool:
    """Whether ``event`` is the exit of the last thread of its process."""
    if event.group_stats is not None:
        return True
    flag = event.stats.ac_flag
    if event.stats.version >= 12 and flag is not None:
        return bool(flag & _AGROUP)
    # Before struct version 12 there is no AGROUP flag: take the leader's exit.
    return tid == tgid
