"""``nlwire taskstats``: per-task accounting and delay accounting from the kernel.

::

    nlwire taskstats pid PID [--json]        one thread
    nlwire taskstats tgid TGID [--json]      one process (summed over threads)
    nlwire taskstats listen [--cpus LIST] [--json]
    nlwire taskstats cgroup PATH [--json]    task states of a cgroup v1 directory
    nlwire taskstats delayacct [on|off]      the kernel.task_delayacct switch

``pid``/``tgid --json`` print one object: every decoded field under its
kernel name (``version`` included) plus ``implausible_delays``, the names of
delay fields larger than the task's elapsed time (not to be taken as true).
``listen --json`` prints one object per line: ``pid``, ``tgid``, ``cpu``,
``stats`` and ``group_stats`` (the AGGR_TGID record, or null).

Only the standard library is imported here at start-up; the library is
imported by the function that runs the command.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any

from nlwire.cli.common import CliError, print_json, print_json_line, warn

if TYPE_CHECKING:
    from nlwire.taskstats import ExitListener, ExitRecord, TaskStats
    from nlwire.taskstats.procfs import ProcessInfo

# Delay categories: kernel prefix, getdelays' heading, what the task waited for.
_DELAYS = (
    ("cpu", "CPU", "a CPU (run queue)"),
    ("blkio", "IO", "synchronous block I/O"),
    ("swapin", "SWAP", "swap-in"),
    ("freepages", "RECLAIM", "memory reclaim"),
    ("thrashing", "THRASHING", "refaulted pages"),
    ("compact", "COMPACT", "memory compaction"),
    ("wpcopy", "WPCOPY", "write-protect copy"),
    ("irq", "IRQ", "IRQ/softirq"),
)


def register(subparsers: Any) -> None:
    """Add the ``taskstats`` subcommand and its five actions to ``subparsers``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "taskstats",
        help="per-task accounting and delay accounting (needs CAP_NET_ADMIN)",
        description="Read the kernel's per-task accounting and delay accounting "
        "over the TASKSTATS generic netlink family.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    for name, what in (("pid", "one thread"), ("tgid", "one process, summed over threads")):
        sub = actions.add_parser(name, help=f"stats of {what}")
        sub.add_argument("id", type=_task_id, metavar=name.upper())
        sub.add_argument("--json", action="store_true", help="print one JSON object")
        sub.set_defaults(func=run)

    listen = actions.add_parser("listen", help="one record per exiting task")
    listen.add_argument("--cpus", metavar="LIST", help="CPU list such as 0-3,8 (default: all)")
    listen.add_argument("--json", action="store_true", help="one JSON object per line")
    listen.set_defaults(func=run)

    cgroup = actions.add_parser("cgroup", help="task states of a cgroup v1 directory")
    cgroup.add_argument("path", metavar="PATH")
    cgroup.add_argument("--json", action="store_true", help="print one JSON object")
    cgroup.set_defaults(func=run)

    delayacct = actions.add_parser("delayacct", help="show or set kernel.task_delayacct")
    delayacct.add_argument("state", nargs="?", choices=("on", "off"))
    delayacct.set_defaults(func=run)


def _task_id(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a task id") from None
    if not 0 < value <= 0xFFFFFFFF:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive 32-bit task id")
    return value


def run(args: argparse.Namespace) -> int:
    """Run the chosen ``taskstats`` action; return the exit status."""
    action = args.action
    if action in ("pid", "tgid"):
        return _run_query(args)
    if action == "listen":
        return _run_listen(args)
    if action == "cgroup":
        return _run_cgroup(args)
    return _run_delayacct(args)


# -- pid / tgid ---------------------------------------------------------------


def _run_query(args: argparse.Namespace) -> int:
    from nlwire.taskstats import TaskstatsClient

    with TaskstatsClient(netns=args.netns) as client:
        if args.action == "pid":
            stats = client.stats_for_pid(args.id)
        else:
            stats = client.stats_for_tgid(args.id)
    if args.json:
        record = stats.as_dict()
        record["implausible_delays"] = list(stats.implausible_delays())
        print_json(record)
        return 0
    sys.stdout.write(format_stats(stats, args.action, args.id, _proc_info(args)))
    _note_delayacct()
    return 0


def _proc_info(args: argparse.Namespace) -> ProcessInfo | None:
    """For a TGID reply, the gaps the kernel leaves, read from /proc."""
    if args.action != "tgid":
        return None
    from nlwire.taskstats.procfs import process_info

    try:
        return process_info(args.id)
    except ProcessLookupError:
        return None


def _note_delayacct() -> None:
    from nlwire.taskstats import delayacct_enabled

    try:
        enabled = delayacct_enabled()
    except OSError:
        return
    if not enabled:
        warn(
            "delay accounting is off (kernel.task_delayacct=0): delays other than CPU "
            "read 0 for tasks started while it was off; 'nlwire taskstats delayacct on'"
        )


def format_stats(stats: TaskStats, kind: str, ident: int, proc: ProcessInfo | None = None) -> str:
    """Render one record as text grouped like ``getdelays -d -i``."""
    lines = [_title(stats, kind, ident, proc)]
    lines += _identity(stats, kind, proc)
    lines += _times(stats)
    lines += _delay_table(stats)
    lines += _memory(stats, kind, proc)
    lines += _io(stats, kind, proc)
    lines.append("context switches")
    lines.append(f"  voluntary {_n(stats.nvcsw)}  involuntary {_n(stats.nivcsw)}")
    return "\n".join(lines) + "\n"


def _title(stats: TaskStats, kind: str, ident: int, proc: ProcessInfo | None) -> str:
    comm = stats.ac_comm or (f"{proc.comm}, from /proc" if proc else "")
    name = f" ({comm})" if comm else ""
    return f"{kind} {ident}{name}  taskstats version {stats.version}"


def _identity(stats: TaskStats, kind: str, proc: ProcessInfo | None) -> list[str]:
    if kind == "tgid":
        lines = ["  the kernel leaves comm, ids, memory and I/O zero in a TGID reply"]
        if proc is not None:
            lines.append(
                f"  from /proc: uid {proc.uid}  gid {proc.gid}  ppid {proc.ppid}  "
                f"threads {proc.threads}"
            )
        return lines
    flags = stats.ac_flag or 0
    return [
        f"  uid {stats.ac_uid}  gid {stats.ac_gid}  ppid {stats.ac_ppid}  tgid {stats.ac_tgid}"
        f"  nice {stats.ac_nice}  policy {stats.ac_sched}  flags {flags:#04x}",
        f"  started {_started(stats)}",
    ]


def _started(stats: TaskStats) -> str:
    seconds = stats.ac_btime64 or stats.ac_btime
    if not seconds:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))


def _times(stats: TaskStats) -> list[str]:
    elapsed = "summed over threads" if not stats.ac_pid else "elapsed"
    return [
        "times",
        f"  {elapsed} {_us(stats.ac_etime)}  user {_us(stats.ac_utime)}  "
        f"system {_us(stats.ac_stime)}",
        f"  on CPU {_ns(stats.cpu_run_virtual_total)} (exact)  "
        f"user+system {_ns(stats.cpu_run_real_total)} (tick based)",
    ]


def _delay_table(stats: TaskStats) -> list[str]:
    flagged = set(stats.implausible_delays())
    lines = [
        f"{'delays':<11}{'count':>10}{'total':>14}{'average':>12}{'max':>12}{'min':>12}",
    ]
    for prefix, heading, _waited in _DELAYS:
        count = stats.get(f"{prefix}_count")
        total = stats.get(f"{prefix}_delay_total")
        if not isinstance(count, int) or not isinstance(total, int):
            continue
        average = total / count if count else 0.0
        high, low = stats.get(f"{prefix}_delay_max"), stats.get(f"{prefix}_delay_min")
        row = (
            f"  {heading:<9}{count:>10}{_ms(total):>14}{_ms(average):>12}"
            f"{_ms(high):>12}{_ms(low):>12}"
        )
        if flagged & {f"{prefix}_delay_total", f"{prefix}_delay_max"}:
            row += "  IMPLAUSIBLE: larger than the elapsed time"
        lines.append(row)
    return lines


def _memory(stats: TaskStats, kind: str, proc: ProcessInfo | None) -> list[str]:
    if kind == "tgid":
        if proc is None:
            return []
        return [
            "memory (from /proc)",
            f"  peak RSS {_n(proc.hiwater_rss_kib)} KiB  peak VM {_n(proc.hiwater_vm_kib)} KiB",
        ]
    return [
        "memory",
        f"  peak RSS {_n(stats.hiwater_rss)} KiB  peak VM {_n(stats.hiwater_vm)} KiB  "
        f"faults minor {_n(stats.ac_minflt)} major {_n(stats.ac_majflt)}",
        f"  RSS x CPU time {_n(stats.coremem)} MB*us  VM x CPU time {_n(stats.virtmem)} MB*us",
    ]


def _io(stats: TaskStats, kind: str, proc: ProcessInfo | None) -> list[str]:
    if kind == "tgid":
        if proc is None or proc.read_bytes is None:
            return []
        return [
            "I/O (from /proc, exact, includes reaped children)",
            f"  read {_n(proc.read_bytes)} B  write {_n(proc.write_bytes)} B  "
            f"cancelled write {_n(proc.cancelled_write_bytes)} B",
            f"  syscalls: read {_n(proc.read_char)} B in {_n(proc.read_syscalls)} calls, "
            f"write {_n(proc.write_char)} B in {_n(proc.write_syscalls)} calls",
        ]
    return [
        "I/O (rounded down to 1024 by the kernel)",
        f"  read {_n(stats.read_bytes)} B  write {_n(stats.write_bytes)} B  "
        f"cancelled write {_n(stats.cancelled_write_bytes)} B",
        f"  syscalls: read {_n(stats.read_char)} B in {_n(stats.read_syscalls)} calls, "
        f"write {_n(stats.write_char)} B in {_n(stats.write_syscalls)} calls",
    ]


def _n(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _us(value: int | None) -> str:
    return "-" if value is None else f"{value / 1e6:.6f} s"


def _ns(value: int | None) -> str:
    return "-" if value is None else f"{value / 1e9:.6f} s"


def _ms(value: int | float | str | None) -> str:
    if value is None or isinstance(value, str):
        return "-"
    return f"{value / 1e6:.3f}ms"


# -- listen -------------------------------------------------------------------


def _run_listen(args: argparse.Namespace) -> int:
    from nlwire.taskstats import ExitListener

    try:
        listener = ExitListener(args.cpus, netns=args.netns)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    received = [0]  # kept outside the loop so Ctrl-C does not lose the count
    _stop_on_sigterm()
    with listener:
        for text in listener.warnings:
            warn(text)
        try:
            _listen_loop(listener, args.json, received)
        except KeyboardInterrupt:
            pass
        finally:
            _summary(listener, received[0])
    return 0


def _stop_on_sigterm() -> None:
    """Make SIGTERM end ``listen`` like Ctrl-C: deregister, summary, exit 0."""
    import signal

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def _listen_loop(listener: ExitListener, as_json: bool, received: list[int]) -> None:
    reported = 0
    while True:
        for record in listener.poll(None):
            received[0] += 1
            if as_json:
                print_json_line(exit_record_json(record))
            else:
                sys.stdout.write(format_exit_record(record))
        sys.stdout.flush()
        if listener.lost != reported:
            warn(f"{listener.lost - reported} exit records lost ({listener.lost} so far)")
            reported = listener.lost


def _summary(listener: ExitListener, received: int) -> None:
    sys.stdout.flush()
    sys.stderr.write(
        f"nlwire: {received} exit records received, {listener.lost} lost, "
        f"{listener.overruns} receive buffer overruns\n"
    )


def exit_status(code: int | None) -> str:
    """Describe a raw wait status (``ac_exitcode``) in words."""
    if code is None:
        return "unknown"
    if code & 0x7F == 0:
        return f"exited {code >> 8}"
    signal_number = code & 0x7F
    core = ", core dumped" if code & 0x80 else ""
    return f"killed by signal {signal_number} ({_signal_name(signal_number)}){core}"


def _signal_name(number: int) -> str:
    import signal

    try:
        return signal.Signals(number).name
    except ValueError:
        return f"SIG{number}"


def format_exit_record(record: ExitRecord) -> str:
    """Render one exit record as a YAML-style document."""
    stats = record.stats
    lines = [
        "---",
        f"pid: {record.pid}",
        f"tgid: {stats.ac_tgid}",
        f"ppid: {stats.ac_ppid}",
        f"uid: {stats.ac_uid}",
        f"command: {stats.ac_comm}",
        f"status: {exit_status(stats.ac_exitcode)}",
        f"cpu: {record.cpu}",
        "time:",
        f"  elapsed_us: {stats.ac_etime}",
        f"  user_us: {stats.ac_utime}",
        f"  system_us: {stats.ac_stime}",
        f"  on_cpu_ns: {stats.cpu_run_virtual_total}",
        "memory:",
        f"  peak_rss_kib: {stats.hiwater_rss}",
        f"  peak_vm_kib: {stats.hiwater_vm}",
        f"  minor_faults: {stats.ac_minflt}",
        f"  major_faults: {stats.ac_majflt}",
        "io:",
        f"  read_bytes: {stats.read_bytes}",
        f"  write_bytes: {stats.write_bytes}",
        f"  read_char: {stats.read_char}",
        f"  write_char: {stats.write_char}",
    ]
    if record.group_stats is not None:
        group = record.group_stats
        lines += [
            "process:",
            f"  tgid: {record.tgid}",
            f"  threads_elapsed_us: {group.ac_etime}",
            f"  on_cpu_ns: {group.cpu_run_virtual_total}",
            f"  cpu_delay_ns: {group.cpu_delay_total}",
            f"  voluntary_switches: {group.nvcsw}",
        ]
    return "\n".join(lines) + "\n"


def exit_record_json(record: ExitRecord) -> dict[str, object]:
    """The JSON object of one exit record: ids, and each record under its kernel names."""
    group = record.group_stats
    return {
        "pid": record.pid,
        "tgid": record.tgid,
        "cpu": record.cpu,
        "stats": record.stats.as_dict(),
        "group_stats": group.as_dict() if group is not None else None,
    }


# -- cgroup, delayacct --------------------------------------------------------


def _run_cgroup(args: argparse.Namespace) -> int:
    from nlwire.taskstats import TaskstatsClient

    with TaskstatsClient(netns=args.netns) as client:
        try:
            stats = client.cgroupstats(args.path)
        except ValueError as exc:
            raise CliError(str(exc)) from None
        except NotADirectoryError:
            raise CliError(f"{args.path} is not a directory") from None
    if args.json:
        print_json(stats.as_dict())
    else:
        for name, value in stats.as_dict().items():
            sys.stdout.write(f"{name:<20}{value}\n")
    return 0


def _run_delayacct(args: argparse.Namespace) -> int:
    from nlwire.taskstats import delayacct_enabled, set_delayacct

    try:
        if args.state is not None:
            set_delayacct(args.state == "on")
        enabled = delayacct_enabled()
    except FileNotFoundError:
        raise CliError(
            "this kernel has no kernel.task_delayacct sysctl (boot with 'delayacct' instead)"
        ) from None
    sys.stdout.write(f"delay accounting is {'on' if enabled else 'off'}\n")
    if args.state is not None:
        sys.stdout.write("only tasks started from now on gain (or lose) delay data\n")
    elif not enabled:
        sys.stdout.write("delays other than CPU read 0 for tasks started while it is off\n")
    return 0
