"""The sampler: rates, per-process sums, exits, pid reuse, rejected delays."""

from __future__ import annotations

import pytest
from test_monitor_fakes import SECOND_NS, FakeClock, FakeSource, make_sampler

from nlwire.cli.top.batch import row_document
from nlwire.taskstats.monitor import DELAY_KINDS, Snapshot, TaskRow


def by_pid(snapshot: Snapshot, pid: int, threads: bool = False) -> TaskRow:
    rows = snapshot.threads if threads else snapshot.processes
    assert rows is not None
    matches = [row for row in rows if row.pid == pid]
    assert len(matches) == 1, f"pid {pid} appears {len(matches)} times"
    return matches[0]


@pytest.fixture
def world() -> tuple[FakeSource, FakeClock]:
    source = FakeSource()
    source.add(10, cmdline="spinner --fast", ac_comm="spinner", ac_uid=1000)
    source.add(20, cmdline="/usr/bin/db", ac_comm="db", hiwater_rss=5000)
    source.add(21, tgid=20, ac_comm="db-io", hiwater_rss=7000)
    source.add(22, tgid=20, ac_comm="db-io", hiwater_rss=7000)
    return source, FakeClock()


def test_first_reading_has_no_interval_and_zero_rates(world: tuple[FakeSource, FakeClock]) -> None:
    source, clock = world
    source.advance(10, cpu_run_virtual_total=5 * SECOND_NS)
    snapshot = make_sampler(source, clock).sample()
    assert snapshot.interval is None
    assert by_pid(snapshot, 10).cpu == 0
    assert snapshot.process_count == 2
    assert snapshot.thread_count == 4


def test_cpu_percent_is_cpu_time_per_wall_interval(world: tuple[FakeSource, FakeClock]) -> None:
    source, clock = world
    sampler = make_sampler(source, clock)
    sampler.sample()
    clock.now += 2.0
    source.advance(10, cpu_run_virtual_total=SECOND_NS, nvcsw=30, nivcsw=10)
    row = by_pid(sampler.sample(), 10)
    assert row.cpu == pytest.approx(50.0)
    assert row.switches == pytest.approx(20.0)
    assert row.user == "user1000"
    assert row.command == "spinner --fast"
    assert row.command_from_proc


def test_multithreaded_process_sums_threads_and_takes_largest_peak_rss(
    world: tuple[FakeSource, FakeClock],
) -> None:
    source, clock = world
    sampler = make_sampler(source, clock)
    sampler.sample()
    clock.now += 1.0
    source.advance(21, write_bytes=3 << 20, blkio_delay_total=200_000_000, cpu_run_virtual_total=1)
    source.advance(22, write_bytes=1 << 20, blkio_delay_total=100_000_000, cpu_run_virtual_total=1)
    source.advance(20, read_bytes=4096, cpu_run_virtual_total=1)
    row = by_pid(sampler.sample(), 20)
    assert row.threads == 3
    assert row.write_rate == 4 << 20
    assert row.read_rate == 4096
    assert row.delay("blkio") == pytest.approx(30.0)
    assert row.peak_rss == 7000
    assert row.comm == "db"


def test_delay_longer_than_the_interval_is_rejected_and_flagged(
    world: tuple[FakeSource, FakeClock],
) -> None:
    source, clock = world
    sampler = make_sampler(source, clock)
    sampler.sample()
    clock.now += 1.0
    # The 6.18 oddity: one blkio sample of the whole uptime.
    source.advance(21, blkio_delay_total=1_538 * SECOND_NS, cpu_run_virtual_total=1)
    source.advance(22, blkio_delay_total=250_000_000, cpu_run_virtual_total=1)
    snapshot = sampler.sample(threads=True)
    row = by_pid(snapshot, 20)
    assert row.flagged == ("blkio",)
    assert row.delay("blkio") == pytest.approx(25.0)
    assert by_pid(snapshot, 21, threads=True).flagged == ("blkio",)
    assert by_pid(snapshot, 22, threads=True).flagged == ()

    clock.now += 1.0
    source.advance(21, blkio_delay_total=100_000_000, cpu_run_virtual_total=1)
    assert by_pid(sampler.sample(), 20).flagged == ()


def test_vanished_thread_gives_no_negative_rate_and_no_crash(
    world: tuple[FakeSource, FakeClock],
) -> None:
    source, clock = world
    sampler = make_sampler(source, clock)
    source.advance(21, write_bytes=10 << 20, cpu_run_virtual_total=SECOND_NS)
    sampler.sample()
    clock.now += 1.0
    source.hidden.add(21)  # listed, but ESRCH by the time it is queried
    source.advance(22, cpu_run_virtual_total=1)
    snapshot = sampler.sample()
    row = by_pid(snapshot, 20)
    assert row.threads == 2
    assert row.write_rate == 0
    assert all(value >= 0 for value in (row.cpu, row.read_rate, *row.delays))


def test_reused_pid_starts_afresh(world: tuple[FakeSource, FakeClock]) -> None:
    source, clock = world
    sampler = make_sampler(source, clock)
    source.advance(10, cpu_run_virtual_total=50 * SECOND_NS, write_bytes=1 << 30)
    sampler.sample()

    # Same pid, a new task with smaller counters, started within the interval.
    clock.now += 1.0
    source.threads.pop(10)
    source.add(10, cmdline="newcomer", ac_btime64=5000, ac_btime=5000, ac_etime=400_000)
    source.advance(10, cpu_run_virtual_total=SECOND_NS // 4, write_bytes=1 << 20)
    row = by_pid(sampler.sample(), 10)
    assert row.cpu == pytest.approx(25.0)
    assert row.write_rate == 1 << 20
    assert row.command == "newcomer"


def test_new_thread_counts_in_full_only_if_born_in_the_interval(
    world: tuple[FakeSource, FakeClock],
) -> None:
    source, clock = world
    sampler = make_sampler(source, clock)
    sampler.sample()
    clock.now += 1.0
    source.add(23, tgid=20, ac_etime=300_000, cpu_run_virtual_total=SECOND_NS // 10)
    source.add(30, cmdline="old", cpu_run_virtual_total=90 * SECOND_NS)  # missed earlier
    snapshot = sampler.sample()
    assert by_pid(snapshot, 20).cpu == pytest.approx(10.0)
    assert by_pid(snapshot, 20).threads == 4
    assert by_pid(snapshot, 30).cpu == 0


def test_exit_record_closes_the_thread_account(world: tuple[FakeSource, FakeClock]) -> None:
    source, clock = world
    sampler = make_sampler(source, clock)
    sampler.sample()
    clock.now += 1.0
    source.advance(21, write_bytes=2 << 20, cpu_run_virtual_total=SECOND_NS // 2)
    source.exit(21, last=False)
    row = by_pid(sampler.sample(), 20)
    assert row.threads == 2
    assert row.write_rate == 2 << 20
    assert row.cpu == pytest.approx(50.0)


def test_process_exit_enters_recent_exits_with_its_status(
    world: tuple[FakeSource, FakeClock],
) -> None:
    source, clock = world
    sampler = make_sampler(source, clock)
    sampler.sample()
    clock.now += 1.0
    source.advance(10, cpu_run_virtual_total=3 * SECOND_NS, write_bytes=8192, ac_etime=1)
    source.exit(10, status=3 << 8)
    snapshot = sampler.sample()
    assert [row.pid for row in snapshot.processes] == [20]
    (entry,) = snapshot.exits
    assert entry.pid == 10
    assert entry.exit_code == 3
    assert entry.signal is None
    assert entry.describe_status() == "exit 3"
    assert entry.command == "spinner --fast"
    assert entry.cpu_time == pytest.approx(3.0)
    assert entry.write_bytes == 8192
    assert entry.lifetime == pytest.approx(3600.0, rel=1e-3)
    assert snapshot.recent_exits == (entry,)


def test_killed_process_reports_the_signal(world: tuple[FakeSource, FakeClock]) -> None:
    source, clock = world
    sampler = make_sampler(source, clock)
    sampler.sample()
    source.exit(10, status=9)
    (entry,) = sampler.sample().exits
    assert (entry.exit_code, entry.signal, entry.describe_status()) == (None, 9, "signal 9")


def test_multithreaded_exit_needs_the_last_thread_and_sums_its_io(
    world: tuple[FakeSource, FakeClock],
) -> None:
    source, clock = world
    sampler = make_sampler(source, clock)
    sampler.sample()
    source.advance(21, write_bytes=1 << 20)
    source.advance(22, write_bytes=2 << 20)
    source.exit(21, last=False)
    source.exit(22, last=False)
    source.exit(20, status=0)
    (entry,) = sampler.sample().exits
    assert entry.pid == 20
    assert entry.write_bytes == 3 << 20
    assert entry.describe_status() == "exit 0"


def test_recent_exits_are_bounded_newest_first_and_lost_is_reported() -> None:
    source, clock = FakeSource(), FakeClock()
    for pid in range(100, 105):
        source.add(pid, cmdline=f"job{pid}")
    sampler = make_sampler(source, clock, max_exits=3)
    sampler.sample()
    for pid in range(100, 105):
        source.exit(pid)
    source.lost = 7
    snapshot = sampler.sample()
    assert len(snapshot.exits) == 5
    assert [entry.pid for entry in snapshot.recent_exits] == [104, 103, 102]
    assert snapshot.exits_lost == 7


def test_short_lived_process_unseen_by_any_sweep_is_still_an_exit() -> None:
    source, clock = FakeSource(), FakeClock()
    sampler = make_sampler(source, clock)
    sampler.sample()
    source.add(500, ac_comm="true", ac_etime=2_000)
    source.exit(500, status=1 << 8)
    (entry,) = sampler.sample().exits
    assert (entry.pid, entry.command, entry.exit_code) == (500, "[true]", 1)


def test_command_line_is_read_once_per_process(world: tuple[FakeSource, FakeClock]) -> None:
    source, clock = world
    sampler = make_sampler(source, clock)
    for _ in range(5):
        sampler.sample()
        clock.now += 1.0
    assert source.cmdline_reads == 2


def test_kernel_thread_shows_comm_in_brackets() -> None:
    source, clock = FakeSource(), FakeClock()
    source.add(2, ac_comm="kthreadd")
    row = by_pid(make_sampler(source, clock).sample(), 2)
    assert (row.command, row.command_from_proc) == ("[kthreadd]", False)


def test_thread_rows_name_the_thread(world: tuple[FakeSource, FakeClock]) -> None:
    source, clock = world
    sampler = make_sampler(source, clock)
    sampler.sample()
    clock.now += 1.0
    source.advance(22, cpu_run_virtual_total=SECOND_NS)
    snapshot = sampler.sample(threads=True)
    assert snapshot.threads is not None
    assert {row.pid for row in snapshot.threads} == {10, 20, 21, 22}
    row = by_pid(snapshot, 22, threads=True)
    assert row.command == "{db-io} /usr/bin/db"
    assert row.cpu == pytest.approx(100.0)
    assert by_pid(snapshot, 21, threads=True).cpu == 0


def test_counter_that_wraps_counts_as_zero(world: tuple[FakeSource, FakeClock]) -> None:
    source, clock = world
    source.advance(10, cpu_delay_total=5 * SECOND_NS)
    sampler = make_sampler(source, clock)
    sampler.sample()
    clock.now += 1.0
    source.threads[10][1].cpu_delay_total = 0  # the kernel stores 0 on overflow
    source.advance(10, cpu_run_virtual_total=1)
    assert by_pid(sampler.sample(), 10).delays == (0.0,) * len(DELAY_KINDS)


def test_row_as_dict_is_json_ready(world: tuple[FakeSource, FakeClock]) -> None:
    source, clock = world
    sampler = make_sampler(source, clock)
    sampler.sample()
    clock.now += 1.0
    source.advance(10, cpu_delay_total=SECOND_NS // 10, cpu_run_virtual_total=1)
    document = row_document(by_pid(sampler.sample(), 10))
    assert document["delay_percent"] == dict.fromkeys(DELAY_KINDS, 0.0) | {"cpu": 10.0}
    assert document["command"] == "spinner --fast"


def test_quiet_multithreaded_process_is_neither_listed_nor_read() -> None:
    source, clock = FakeSource(), FakeClock()
    source.add(10, cmdline="single", cpu_run_virtual_total=5)
    source.add(50, cmdline="pool", cpu_run_virtual_total=7, hiwater_rss=900)
    for tid in range(51, 60):
        source.add(tid, tgid=50, cpu_run_virtual_total=3)
    sampler = make_sampler(source, clock)
    sampler.sample()
    sampler.sample()  # learns the process has ten threads and its CPU sum

    clock.now += 1.0
    source.listed.clear()
    source.read.clear()
    snapshot = sampler.sample()
    assert source.listed == [10]
    assert source.read == [[10]]
    row = by_pid(snapshot, 50)
    assert (row.threads, row.peak_rss, row.cpu) == (10, 900, 0)

    # One thread runs: the whole process is listed and read again.
    clock.now += 1.0
    source.advance(57, cpu_run_virtual_total=SECOND_NS // 5)
    row = by_pid(sampler.sample(), 50)
    assert 50 in source.listed
    assert sorted(source.read[-1]) == [10, *range(50, 60)]
    assert row.cpu == pytest.approx(20.0)
    assert row.threads == 10


def test_thread_exit_in_a_quiet_process_is_still_seen() -> None:
    source, clock = FakeSource(), FakeClock()
    source.add(50, cmdline="pool", cpu_run_virtual_total=7)
    source.add(51, tgid=50, cpu_run_virtual_total=3, write_bytes=0)
    source.add(52, tgid=50, cpu_run_virtual_total=3)
    sampler = make_sampler(source, clock)
    sampler.sample()
    sampler.sample()
    clock.now += 1.0
    source.advance(51, write_bytes=1 << 20)
    source.exit(51, last=False)
    row = by_pid(sampler.sample(), 50)
    assert row.threads == 2
    assert row.write_rate == 1 << 20


def test_control_characters_in_command_lines_become_spaces() -> None:
    source, clock = FakeSource(), FakeClock()
    source.add(7, cmdline="evil\x1b[2Jname\nnext", ac_comm="ev\til")
    row = by_pid(make_sampler(source, clock).sample(), 7)
    assert row.command == "evil [2Jname next"
    assert row.comm == "ev il"
