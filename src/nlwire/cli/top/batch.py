"""``nlwire top --batch``: the monitor's readings as text tables or JSON lines.

One report per interval: the header lines, the task table (all columns,
nothing cut) and the processes that exited in the interval. With ``--json``
each report is one JSON document on one line, for scripts and logs. The
first reading only sets the baseline; the first report comes one interval
later, so every report holds real rates.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from nlwire.cli.top import columns as cols

if TYPE_CHECKING:
    from nlwire.taskstats.monitor import ExitEntry, Sampler, Snapshot, TaskRow
    from nlwire.taskstats.system import SystemMonitor, SystemSnapshot


@dataclass(frozen=True, slots=True)
class ViewOptions:
    """What to show: sort order, filters and process or thread rows."""

    sort: str = "cpu"
    reverse: bool = True
    text: str = ""
    user: str = ""
    only_active: bool = False
    threads: bool = False


def visible_rows(snapshot: Snapshot, options: ViewOptions) -> list[TaskRow]:
    """Return the snapshot's rows filtered and sorted as ``options`` say."""
    rows = snapshot.threads if options.threads and snapshot.threads is not None else None
    chosen = cols.filter_rows(
        rows if rows is not None else snapshot.processes,
        text=options.text,
        user=options.user,
        only_active=options.only_active,
    )
    return cols.sort_rows(chosen, options.sort, options.reverse)


def text_report(snapshot: Snapshot, system: SystemSnapshot, options: ViewOptions) -> str:
    """Return one report as text: header, task table, exits of the interval."""
    delayacct = bool(system.delayacct)
    lines = cols.header_lines(snapshot, system)
    lines.append("")
    lines.append(cols.title_line(cols.TASK_COLUMNS, None))
    lines.extend(
        cols.row_line(row, cols.TASK_COLUMNS, None, delayacct)
        for row in visible_rows(snapshot, options)
    )
    if snapshot.exits or snapshot.exits_lost:
        lines.append("")
        lines.append(
            f"Exited in this interval: {len(snapshot.exits)}"
            f" (exit records lost so far: {snapshot.exits_lost})"
        )
        if snapshot.exits:
            lines.extend(cols.exit_lines(snapshot.exits, None))
    return "\n".join(lines) + "\n\n"


def json_report(
    snapshot: Snapshot, system: SystemSnapshot, options: ViewOptions
) -> dict[str, object]:
    """Return one report as a JSON-ready document."""
    from nlwire.taskstats.monitor import FIGURE_SOURCES

    return {
        "time": round(snapshot.time, 3),
        "interval_s": None if snapshot.interval is None else round(snapshot.interval, 4),
        "delayacct": system.delayacct,
        "processes": snapshot.process_count,
        "threads": snapshot.thread_count,
        "view": "threads" if options.threads else "processes",
        "system": _system_document(system),
        "rows": [row_document(row) for row in visible_rows(snapshot, options)],
        "exits": [exit_document(entry) for entry in snapshot.exits],
        "exits_lost": snapshot.exits_lost,
        "sources": FIGURE_SOURCES,
    }


def row_document(row: TaskRow) -> dict[str, object]:
    """Return a task row as JSON-ready values, with units in the key names."""
    from nlwire.taskstats.monitor import DELAY_KINDS

    return {
        "pid": row.pid,
        "tgid": row.tgid,
        "uid": row.uid,
        "user": row.user,
        "comm": row.comm,
        "command": row.command,
        "command_from_proc": row.command_from_proc,
        "threads": row.threads,
        "cpu_percent": round(row.cpu, 2),
        "read_bytes_per_s": round(row.read_rate, 1),
        "write_bytes_per_s": round(row.write_rate, 1),
        "delay_percent": {
            kind: round(value, 2) for kind, value in zip(DELAY_KINDS, row.delays, strict=True)
        },
        "peak_rss_kib": row.peak_rss,
        "context_switches_per_s": round(row.switches, 1),
        "flagged": list(row.flagged),
    }


def exit_document(entry: ExitEntry) -> dict[str, object]:
    """Return an exit entry as JSON-ready values, with units in the key names."""
    return {
        "time": round(entry.time, 3),
        "pid": entry.pid,
        "uid": entry.uid,
        "user": entry.user,
        "command": entry.command,
        "status": entry.status,
        "exit_code": entry.exit_code,
        "signal": entry.signal,
        "core_dumped": entry.core_dumped,
        "lifetime_s": None if entry.lifetime is None else round(entry.lifetime, 6),
        "cpu_s": round(entry.cpu_time, 6),
        "read_bytes": entry.read_bytes,
        "write_bytes": entry.write_bytes,
    }


def _system_document(system: SystemSnapshot) -> dict[str, object]:
    pressure: dict[str, object] = {}
    for name, reading in system.pressure.items():
        pressure[name] = None if reading is None else {"some": reading.some, "full": reading.full}
    memory = None
    if system.memory is not None:
        memory = {
            "total_kib": system.memory.total,
            "free_kib": system.memory.free,
            "available_kib": system.memory.available,
            "swap_total_kib": system.memory.swap_total,
            "swap_free_kib": system.memory.swap_free,
        }
    return {
        "cpu_percent": {name: round(value, 2) for name, value in system.cpu.items()},
        "memory": memory,
        "pressure_avg10": pressure,
    }


def run_batch(
    sampler: Sampler,
    system: SystemMonitor,
    options: ViewOptions,
    *,
    out: TextIO,
    delay: float,
    iterations: int | None,
    as_json: bool,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Print ``iterations`` reports (forever when ``None``), ``delay`` s apart.

    Returns the exit status (0).
    """
    # The baseline: rates need two readings.
    sampler.sample()
    system.sample()
    deadline = clock()
    done = 0
    while iterations is None or done < iterations:
        # Sleep to a fixed schedule so that slow readings do not drift it.
        deadline += delay
        sleep(max(0.0, deadline - clock()))
        snapshot = sampler.sample(threads=options.threads)
        reading = system.sample()
        if as_json:
            document = json_report(snapshot, reading, options)
            out.write(json.dumps(document, separators=(",", ":")) + "\n")
        else:
            out.write(text_report(snapshot, reading, options))
        out.flush()
        done += 1
    return 0
