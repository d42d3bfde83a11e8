"""The Textual screen of ``nlwire top``, driven headless with Textual's Pilot.

Every test reads the screen as text, the way a person would see it, from a
fake kernel (see test_monitor_fakes).
"""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from test_monitor_fakes import SECOND_NS, FakeClock, FakeSource, make_sampler
from test_monitor_system import make_proc

pytest.importorskip("textual")

from nlwire.cli.top.app import TopApp
from nlwire.cli.top.batch import ViewOptions
from nlwire.taskstats.system import SystemMonitor


def screen_text(app: TopApp) -> str:
    """Return what the terminal shows, one line per row."""
    # The compositor's strips are exactly the cells Textual sends to the terminal.
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text.rstrip() for strip in strips)


def table_pids(app: TopApp) -> list[int]:
    from nlwire.cli.top.app import TaskTable

    return [int(line.split()[0]) for line in app.query_one(TaskTable).lines[1:]]


class World:
    """A fake kernel with three processes, a fixture /proc and an app on them."""

    def __init__(
        self, tmp_path: Path, *, delayacct: str = "1", permitted: bool = True, notice: str = ""
    ) -> None:
        self.source = FakeSource()
        self.clock = FakeClock()
        self.source.add(100, cmdline="alpha-spinner", ac_uid=0)
        self.source.add(200, cmdline="beta-writer --sync", ac_uid=1000)
        self.source.add(300, cmdline="gamma-pool", ac_uid=0, ac_comm="gamma")
        self.source.add(301, tgid=300, ac_comm="gamma-w1")
        self.proc = make_proc(tmp_path, cpu_line="cpu 10 0 10 80 0 0 0 0 0 0", delayacct=delayacct)
        self.permitted = permitted
        self.app = TopApp(
            make_sampler(self.source, self.clock),
            SystemMonitor(self.proc),
            set_delayacct=self.set_delayacct,
            options=ViewOptions(),
            interval=3600.0,  # the tests take readings themselves
            notice=notice,
        )

    def set_delayacct(self, enabled: bool) -> None:
        if not self.permitted:
            raise PermissionError(errno.EPERM, "setting kernel.task_delayacct needs CAP_SYS_ADMIN")
        make_proc(self.proc, cpu_line="cpu 10 0 10 80 0 0 0 0 0 0", delayacct="1")

    def step(self) -> None:
        """One second of activity: alpha spins, beta writes, gamma's worker waits."""
        self.clock.now += 1.0
        activity = {
            100: {"cpu_run_virtual_total": SECOND_NS * 9 // 10},
            200: {"cpu_run_virtual_total": SECOND_NS // 10, "write_bytes": 50 << 20},
            301: {"cpu_run_virtual_total": 1, "blkio_delay_total": SECOND_NS // 2},
        }
        for tid, deltas in activity.items():
            if tid in self.source.threads:
                self.source.advance(tid, **deltas)
        self.app.take_reading()


async def test_default_view_sorts_by_cpu_and_shows_rates(tmp_path: Path) -> None:
    world = World(tmp_path)
    async with world.app.run_test(size=(120, 30)) as pilot:
        world.step()
        await pilot.pause()
        assert table_pids(world.app) == [100, 200, 300]
        text = screen_text(world.app)
        assert "alpha-spinner" in text
        assert " 50M " in text  # beta's writes per second
        assert "3 processes, 4 threads" in text
        assert "delayacct on" in text
        assert "PSI some/full avg10%: cpu 1.00/-  io 12.50/4.25  mem n/a" in text


async def test_sort_keys_move_between_columns_and_reverse(tmp_path: Path) -> None:
    world = World(tmp_path)
    async with world.app.run_test(size=(120, 30)) as pilot:
        world.step()
        await pilot.press("greater_than_sign", "greater_than_sign")  # CPU% -> READ/s -> WRITE/s
        assert world.app.options.sort == "write"
        assert table_pids(world.app)[0] == 200
        assert "sort WRITE/s v" in screen_text(world.app)
        await pilot.press("r")
        assert table_pids(world.app)[-1] == 200
        await pilot.press(*["less_than_sign"] * 4)  # WRITE/s -> READ/s -> CPU% -> USER -> PID
        assert world.app.options.sort == "pid"
        assert table_pids(world.app) == [100, 200, 300]


async def test_filter_by_text_and_by_user(tmp_path: Path) -> None:
    world = World(tmp_path)
    async with world.app.run_test(size=(120, 30)) as pilot:
        world.step()
        await pilot.press("slash", *"[b]x", "enter")
        assert table_pids(world.app) == []
        assert "filter '[b]x'" in screen_text(world.app)
        await pilot.press("slash", "ctrl+u", *"gamma", "enter")
        assert table_pids(world.app) == [300]
        assert "filter 'gamma'" in screen_text(world.app)
        await pilot.press("slash", "ctrl+u", "enter")  # empty clears
        assert len(table_pids(world.app)) == 3
        await pilot.press("u", *"user1000", "enter")
        assert table_pids(world.app) == [200]


async def test_only_active_hides_idle_tasks(tmp_path: Path) -> None:
    world = World(tmp_path)
    async with world.app.run_test(size=(120, 30)) as pilot:
        world.step()
        world.clock.now += 1.0
        world.source.advance(100, cpu_run_virtual_total=SECOND_NS)
        world.app.take_reading()
        await pilot.press("o")
        assert table_pids(world.app) == [100]
        assert "active only" in screen_text(world.app)


async def test_threads_toggle_shows_each_thread(tmp_path: Path) -> None:
    world = World(tmp_path)
    async with world.app.run_test(size=(160, 30)) as pilot:
        world.step()
        await pilot.press("t")
        await pilot.pause()
        assert sorted(table_pids(world.app)) == [100, 200, 300, 301]
        assert "{gamma-w1} gamma-pool" in screen_text(world.app)
        await pilot.press("t")
        assert sorted(table_pids(world.app)) == [100, 200, 300]


async def test_exits_pane_lists_exited_processes_and_lost_records(tmp_path: Path) -> None:
    world = World(tmp_path)
    async with world.app.run_test(size=(120, 30)) as pilot:
        world.source.add(400, ac_comm="ip", cpu_run_virtual_total=1)  # no command line
        world.source.exit(400, status=0)
        world.source.exit(200, status=2 << 8)
        world.source.lost = 4
        world.step()
        await pilot.pause()
        text = screen_text(world.app)
        assert "Recent exits (2)  - 4 exit records LOST" in text
        assert "[ip]" in text  # brackets are text, not markup
        exit_line = next(line for line in text.splitlines() if "beta-writer" in line)
        assert "exit 2" in exit_line
        assert " 200 " in exit_line
        await pilot.press("x")
        assert "Recent exits" not in screen_text(world.app)


async def test_delay_accounting_off_banner_and_refused_switch(tmp_path: Path) -> None:
    world = World(tmp_path, delayacct="0", permitted=False)
    async with world.app.run_test(size=(100, 30)) as pilot:
        world.step()
        await pilot.pause()
        text = screen_text(world.app)
        assert "Delay accounting is OFF" in text
        assert "delayacct OFF" in text
        gamma = next(line for line in text.splitlines() if "gamma-pool" in line)
        assert " - " in gamma  # I/O wait is not measured, not shown as 0
        await pilot.press("D")
        await pilot.pause()
        assert "cannot turn delay accounting on" in screen_text(world.app)
        assert "Delay accounting is OFF" in screen_text(world.app)


async def test_delay_accounting_switch_turns_the_banner_off(tmp_path: Path) -> None:
    world = World(tmp_path, delayacct="0")
    async with world.app.run_test(size=(100, 30)) as pilot:
        world.step()
        await pilot.press("D")
        await pilot.pause()
        text = screen_text(world.app)
        assert "Delay accounting is OFF" not in text
        assert "delay accounting is on" in text
        assert "delayacct on" in text


async def test_fits_80_by_24_and_help_screen(tmp_path: Path) -> None:
    world = World(tmp_path)
    async with world.app.run_test(size=(80, 24)) as pilot:
        world.step()
        await pilot.pause()
        lines = screen_text(world.app).splitlines()
        assert len(lines) == 24
        assert all(len(line) <= 80 for line in lines)
        titles = next(line for line in lines if line.lstrip().startswith("PID"))
        for title in ("CPU%", "READ/s", "WRITE/s", "CPUW%", "IOW%", "MAXRSS", "COMMAND"):
            assert title in titles
        await pilot.press("question_mark")
        await pilot.pause()
        assert "sort by the column" in screen_text(world.app)
        await pilot.press("q")  # any key closes help
        await pilot.pause()
        assert "sort by the column" not in screen_text(world.app)


async def test_resize_hides_and_shows_columns(tmp_path: Path) -> None:
    world = World(tmp_path)
    async with world.app.run_test(size=(160, 30)) as pilot:
        world.step()
        await pilot.pause()
        assert "CMPCT%" in screen_text(world.app)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert "CMPCT%" not in screen_text(world.app)
        assert "COMMAND" in screen_text(world.app)


async def test_pause_and_interval_keys(tmp_path: Path) -> None:
    world = World(tmp_path)
    async with world.app.run_test(size=(100, 30)) as pilot:
        await pilot.press("p")
        assert world.app.paused
        assert "PAUSED" in screen_text(world.app)
        await pilot.press("d", *"2.5", "enter")
        assert world.app.interval == 2.5
        await pilot.press("plus")
        assert world.app.interval == 3.0
        await pilot.press("minus", "minus")
        assert world.app.interval == 1.0
        await pilot.press("d", *"abc", "enter")
        assert "not a number of seconds" in screen_text(world.app)


async def test_a_failed_reading_ends_the_app_and_keeps_the_error(tmp_path: Path) -> None:
    world = World(tmp_path)

    def broken(tids: object) -> dict[int, object]:
        raise PermissionError(1, "taskstats needs CAP_NET_ADMIN in the initial user namespace")

    async with world.app.run_test(size=(80, 24)) as pilot:
        world.source.read_threads = broken  # type: ignore[method-assign,assignment]
        world.step()
        await pilot.pause()
    assert isinstance(world.app.failure, PermissionError)


async def test_source_warnings_show_on_the_message_line(tmp_path: Path) -> None:
    world = World(tmp_path, notice="exit records are refused here: no exits will be shown")
    async with world.app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "exit records are refused here" in screen_text(world.app)


async def test_sort_reaches_columns_hidden_in_a_narrow_terminal(tmp_path: Path) -> None:
    world = World(tmp_path)
    async with world.app.run_test(size=(80, 24)) as pilot:
        world.step()
        await pilot.press(*["greater_than_sign"] * 6)  # CPU% -> ... -> SWAP% -> RECL%
        assert world.app.options.sort == "reclaim"
        text = screen_text(world.app)
        assert "sort RECL% v" in text
        titles = next(line for line in text.splitlines() if line.lstrip().startswith("PID"))
        assert "RECL%" not in titles  # the column itself stays hidden
