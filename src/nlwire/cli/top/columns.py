"""The columns of ``nlwire top`` and the text layout both front ends share.

The batch renderer and the Textual app draw the same tables from the same
:class:`Column` list, so a figure looks the same in a log and on screen.
When the terminal is narrow, columns with the highest ``priority`` number
are hidden first; the command column takes whatever width is left.

Cell conventions: percentages have one decimal; rates and sizes use binary
prefixes (``K`` = 1024); ``-`` marks a delay that cannot be measured because
delay accounting is off; ``!bug`` marks a delay the kernel reported as longer
than the interval, which is impossible and therefore not shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nlwire.taskstats.monitor import ExitEntry, Snapshot, TaskRow
    from nlwire.taskstats.system import SystemSnapshot

COMMAND_MIN_WIDTH = 16
BUG_MARK = "!bug"
OFF_MARK = "-"


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its key (for ``--sort``), title, width and how to fill it.

    ``value`` gives the sort value of a row and ``text`` its cell;
    ``width`` 0 means "the rest of the line" (the command).
    """

    key: str
    title: str
    width: int
    priority: int
    value: Callable[[Any], Any]
    text: Callable[[Any, bool], str]
    description: str
    left: bool = False


def format_percent(value: float) -> str:
    """Return a percentage as ``0.0`` .. ``999.9`` (whole numbers above)."""
    return f"{value:.1f}" if value < 999.95 else f"{value:.0f}"


def format_bytes(value: float) -> str:
    """Return a byte count or rate with a binary prefix, at most 5 characters."""
    for unit in ("", "K", "M", "G", "T"):
        if value < 999.5:
            return f"{value:.0f}{unit}" if unit == "" or value >= 9.95 else f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.0f}P"


def format_count(value: float) -> str:
    """Return a rate of events with a decimal ``k``/``M`` suffix."""
    if value < 9999.5:
        return f"{value:.0f}"
    if value < 999_500:
        return f"{value / 1000:.0f}k"
    return f"{value / 1e6:.1f}M"


def format_duration(seconds: float | None) -> str:
    """Return a duration as ``0.12s``, ``42.0s``, ``3m04s``, ``5h02m`` or ``12d03h``."""
    if seconds is None:
        return "?"
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def _delay_column(
    key: str, kind: str, title: str, priority: int, what: str, *, always: bool = False
) -> Column:
    def text(row: TaskRow, delayacct: bool) -> str:
        if kind in row.flagged:
            return BUG_MARK
        if not (delayacct or always):
            return OFF_MARK
        return format_percent(row.delay(kind))

    return Column(
        key=key,
        title=title,
        width=max(5, len(title)),
        priority=priority,
        value=lambda row: row.delay(kind),
        text=text,
        description=f"Percentage of the interval spent {what}.",
    )


#: The columns of the task table, left to right.
TASK_COLUMNS: tuple[Column, ...] = (
    Column(
        "pid", "PID", 7, 0, lambda r: r.pid, lambda r, d: str(r.pid),
        "Process id (thread id in thread view).",
    ),
    Column(
        "user", "USER", 8, 3, lambda r: r.user, lambda r, d: r.user[:8],
        "Owner of the task (ac_uid), by name.", left=True,
    ),
    Column(
        "cpu", "CPU%", 5, 0, lambda r: r.cpu, lambda r, d: format_percent(r.cpu),
        "CPU time used in the interval, percent of one CPU (all threads summed, so a "
        "process can exceed 100).",
    ),
    Column(
        "read", "READ/s", 6, 1, lambda r: r.read_rate, lambda r, d: format_bytes(r.read_rate),
        "Bytes per second read from storage (block devices); page-cache hits are "
        "not counted.",
    ),
    Column(
        "write", "WRITE/s", 7, 1, lambda r: r.write_rate,
        lambda r, d: format_bytes(r.write_rate),
        "Bytes per second the task caused to be written to storage (counted when "
        "pages are dirtied or written directly).",
    ),
    _delay_column("cpuwait", "cpu", "CPUW%", 1,
                  "runnable but waiting for a CPU (measured even with delay accounting off)",
                  always=True),
    _delay_column("iowait", "blkio", "IOW%", 1, "waiting for synchronous block I/O"),
    _delay_column("swapin", "swapin", "SWAP%", 4, "waiting for pages to be swapped in"),
    _delay_column("reclaim", "freepages", "RECL%", 5, "in direct memory reclaim"),
    _delay_column("thrash", "thrashing", "THRSH%", 6,
                  "waiting for pages evicted recently (thrashing)"),
    _delay_column("compact", "compact", "CMPCT%", 7, "in direct memory compaction"),
    _delay_column("wpcopy", "wpcopy", "WPCPY%", 7,
                  "copying pages on write-protect (copy-on-write) faults"),
    _delay_column("irq", "irq", "IRQ%", 5, "in IRQ and softirq handlers while it ran"),
    Column(
        "rss", "MAXRSS", 6, 2, lambda r: r.peak_rss, lambda r, d: format_bytes(r.peak_rss * 1024),
        "Peak resident memory (hiwater_rss) over the task's life; 0 for kernel threads.",
    ),
    Column(
        "csw", "CSW/s", 6, 5, lambda r: r.switches, lambda r, d: format_count(r.switches),
        "Context switches per second, voluntary plus involuntary.",
    ),
    Column(
        "threads", "THR", 4, 8, lambda r: r.threads, lambda r, d: str(r.threads),
        "Number of threads of the process (1 in thread view).",
    ),
    Column(
        "command", "COMMAND", 0, 0, lambda r: r.command, lambda r, d: r.command,
        "Command line from /proc/PID/cmdline, read once when the process appears; "
        "[name] (taskstats ac_comm) for kernel threads or when unreadable. In thread "
        "view, other threads than the leader show their own name first, in braces.",
        left=True,
    ),
)  # fmt: skip

#: The columns of the exits pane, left to right.
EXIT_COLUMNS: tuple[Column, ...] = (
    Column(
        "time", "TIME", 8, 3, lambda e: e.time,
        lambda e, d: time.strftime("%H:%M:%S", time.localtime(e.time)),
        "Local time the exit record was read.",
    ),
    Column("pid", "PID", 7, 0, lambda e: e.pid, lambda e, d: str(e.pid), "Process id."),
    Column(
        "user", "USER", 8, 4, lambda e: e.user, lambda e, d: e.user[:8], "Owner.", left=True,
    ),
    Column(
        "status", "STATUS", 9, 0, lambda e: e.status, lambda e, d: e.describe_status(),
        "exit N for a normal exit, signal N when killed by a signal.", left=True,
    ),
    Column(
        "life", "LIFE", 7, 1, lambda e: e.lifetime or 0.0,
        lambda e, d: format_duration(e.lifetime), "How long the process lived.",
    ),
    Column(
        "cpu", "CPU", 7, 1, lambda e: e.cpu_time, lambda e, d: format_duration(e.cpu_time),
        "CPU time used over its life, all threads.",
    ),
    Column(
        "read", "READ", 5, 2, lambda e: e.read_bytes, lambda e, d: format_bytes(e.read_bytes),
        "Bytes read from storage over its life.",
    ),
    Column(
        "write", "WRITE", 5, 2, lambda e: e.write_bytes,
        lambda e, d: format_bytes(e.write_bytes), "Bytes written to storage over its life.",
    ),
    Column(
        "command", "COMMAND", 0, 0, lambda e: e.command, lambda e, d: e.command,
        "Command line (as last seen in /proc) or [name] from the exit record.", left=True,
    ),
)  # fmt: skip

SORT_KEYS = tuple(column.key for column in TASK_COLUMNS)


def column_by_key(key: str) -> Column:
    """Return the task column whose key is ``key``; :class:`KeyError` if none."""
    for column in TASK_COLUMNS:
        if column.key == key:
            return column
    raise KeyError(key)


def fit_columns(columns: Sequence[Column], width: int | None) -> list[Column]:
    """Return the columns that fit in ``width`` characters (all when ``None``).

    Columns are dropped from the highest priority number, rightmost first,
    until the fixed ones and one space between each leave the command at
    least :data:`COMMAND_MIN_WIDTH` characters.
    """
    chosen = list(columns)
    if width is None:
        return chosen
    while True:
        used = sum(c.width for c in chosen) + len(chosen) - 1 + COMMAND_MIN_WIDTH
        droppable = [c for c in chosen if c.priority > 0]
        if used <= width or not droppable:
            return chosen
        worst = max(droppable, key=lambda c: (c.priority, chosen.index(c)))
        chosen.remove(worst)


def format_line(cells: Sequence[str], columns: Sequence[Column], width: int | None) -> str:
    """Join ``cells`` aligned to ``columns``; cut the line at ``width``."""
    parts = []
    for cell, column in zip(cells, columns, strict=True):
        if column.width == 0:
            parts.append(cell)
        elif column.left:
            parts.append(cell[: column.width].ljust(column.width))
        else:
            parts.append(cell.rjust(column.width))
    line = " ".join(parts).rstrip()
    return line if width is None else line[:width]


def title_line(columns: Sequence[Column], width: int | None) -> str:
    """Return the column titles as one line."""
    return format_line([c.title for c in columns], columns, width)


def row_line(row: Any, columns: Sequence[Column], width: int | None, delayacct: bool) -> str:
    """Return the cells of ``row`` (a task row or exit entry) as one line."""
    return format_line([c.text(row, delayacct) for c in columns], columns, width)


def sort_rows(rows: Sequence[TaskRow], key: str, reverse: bool) -> list[TaskRow]:
    """Return ``rows`` sorted by the column ``key``, ties broken by pid."""
    column = column_by_key(key)
    ordered = sorted(rows, key=lambda row: row.pid)
    return sorted(ordered, key=column.value, reverse=reverse)


def filter_rows(
    rows: Sequence[TaskRow], *, text: str = "", user: str = "", only_active: bool = False
) -> list[TaskRow]:
    """Return the rows matching every given filter.

    ``text`` matches the command line or pid (case-insensitive substring);
    ``user`` matches the user name or uid exactly; ``only_active`` keeps rows
    that used CPU, did I/O or waited in the interval (like ``iotop -o``).
    """
    needle = text.lower()
    kept = []
    for row in rows:
        if only_active and not row.active:
            continue
        if user and user not in (row.user, str(row.uid)):
            continue
        if needle and needle not in row.command.lower() and needle != str(row.pid):
            continue
        kept.append(row)
    return kept


def header_lines(snapshot: Snapshot, system: SystemSnapshot, paused: bool = False) -> list[str]:
    """Return the summary lines above the table: tasks, CPU, memory, pressure."""
    clock = time.strftime("%H:%M:%S", time.localtime(snapshot.time))
    interval = "-" if snapshot.interval is None else f"{snapshot.interval:.1f}s"
    delay = {True: "on", False: "OFF", None: "unknown"}[system.delayacct]
    first = (
        f"nlwire top {clock}  every {interval}  {snapshot.process_count} processes, "
        f"{snapshot.thread_count} threads  delayacct {delay}"
    )
    lines = [first + ("  PAUSED" if paused else "")]

    cpu = system.cpu
    if cpu:
        names = (("us", "user"), ("sy", "system"), ("ni", "nice"), ("id", "idle"),
                 ("wa", "iowait"), ("hi", "irq"), ("si", "softirq"), ("st", "steal"))  # fmt: skip
        lines.append("CPU: " + ", ".join(f"{cpu.get(long, 0.0):.1f} {short}"
                                         for short, long in names))  # fmt: skip
    else:
        lines.append("CPU: measuring...")

    lines.append(_memory_line(system))
    lines.append(_pressure_line(system))
    return lines


def _memory_line(system: SystemSnapshot) -> str:
    memory = system.memory
    if memory is None:
        return "Mem: unavailable"
    kib = 1024
    available = "?" if memory.available is None else format_bytes(memory.available * kib)
    return (
        f"Mem: {format_bytes(memory.total * kib)} total, {available} available, "
        f"{format_bytes(memory.free * kib)} free  Swap: {format_bytes(memory.swap_total * kib)}"
        f" total, {format_bytes(memory.swap_free * kib)} free"
    )


def _pressure_line(system: SystemSnapshot) -> str:
    parts = []
    for name, label in (("cpu", "cpu"), ("io", "io"), ("memory", "mem")):
        reading = system.pressure.get(name)
        if reading is None:
            parts.append(f"{label} n/a")
        else:
            full = "-" if reading.full is None else f"{reading.full:.2f}"
            parts.append(f"{label} {reading.some:.2f}/{full}")
    return "PSI some/full avg10%: " + "  ".join(parts)


def exits_title(snapshot: Snapshot) -> str:
    """Return the title of the exits pane, with the lost-record count if any."""
    title = f"Recent exits ({len(snapshot.recent_exits)})"
    if snapshot.exits_lost:
        title += f"  - {snapshot.exits_lost} exit records LOST (buffer overrun)"
    return title


def exit_lines(
    entries: Sequence[ExitEntry], width: int | None, limit: int | None = None
) -> list[str]:
    """Return the title line and one line per exit entry (newest first)."""
    columns = fit_columns(EXIT_COLUMNS, width)
    shown = entries if limit is None else entries[:limit]
    return [title_line(columns, width)] + [row_line(e, columns, width, True) for e in shown]
