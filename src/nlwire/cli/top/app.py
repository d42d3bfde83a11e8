"""The Textual application of ``nlwire top``.

Layout, top to bottom: the header (tasks, CPU, memory, pressure), a banner
when delay accounting is off, a message line for errors, the task table,
the recent-exits pane, a prompt line for filters, and a status line that
says the sort order, the active filters and the main keys.

Every text is shown as plain text, never as markup: a command line such as
``[kworker/0:1]`` or a filter typed by the user shows as it is.

The table is drawn as text by :mod:`nlwire.cli.top.columns`, the same code
the batch mode uses; columns that do not fit the terminal's width are
hidden, lowest priority first, so the view works in 80x24 over ssh.

The app samples on a timer in the event loop: a reading of 10 000 threads
takes some tens of milliseconds, during which keys wait.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Static

from nlwire.cli.top import columns as cols
from nlwire.cli.top.batch import ViewOptions, visible_rows
from nlwire.taskstats.monitor import Sampler, Snapshot, TaskRow
from nlwire.taskstats.system import SystemMonitor, SystemSnapshot

INTERVALS = (0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)


def exits_height(screen_height: int) -> int:
    """Return the height of the exits pane: 6 lines in 24, a quarter when taller."""
    return max(6, min(14, screen_height // 4))


BANNER = (
    "Delay accounting is OFF: only CPU-wait is measured, other delays show -. "
    "Press D to turn it on (root; tasks started after that report every delay)."
)

KEYS_HELP = """\
Keys
  < >      sort by the column left / right of the current one (all columns,
           also those hidden in a narrow terminal; the status line names it)
  r        reverse the sort order
  /        filter by text (command line or pid); empty clears
  u        filter by user (name or uid); empty clears
  o        only active tasks (used CPU, did I/O or waited)
  t  H     threads view on / off
  x        exits pane on / off
  p space  pause / resume
  + -      longer / shorter interval;  d  type an interval
  D        turn delay accounting on (root)
  Up Down PgUp PgDn Home End   scroll the table
  ?  h     this help;  q  quit
"""


def help_text() -> str:
    """Return the help screen: keys, then every column and its meaning."""
    lines = [KEYS_HELP, "Columns"]
    for column in cols.TASK_COLUMNS:
        lines.append(f"  {column.title:<8} {column.description}")
    lines.append("")
    lines.append(f"  {cols.OFF_MARK:<8} delay accounting is off, this delay is not measured")
    lines.append(
        f"  {cols.BUG_MARK:<8} the kernel reported more delay than the interval "
        "(a kernel bug); the value is rejected"
    )
    lines.append("\nPress any key to close.")
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    """The help text; any key closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Static { width: 100%; height: 100%; overflow-y: auto;
                          background: $panel; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        """Build the screen."""
        yield Static(Text(help_text()), id="help")

    def on_key(self) -> None:
        """Close on any key."""
        self.dismiss()


class TaskTable(Widget):
    """The task table, drawn as aligned text that fits the widget's width."""

    DEFAULT_CSS = "TaskTable { height: 1fr; }"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rows: list[TaskRow] = []
        self.sort_key = "cpu"
        self.delayacct = True
        self.top = 0
        self.columns: list[cols.Column] = list(cols.TASK_COLUMNS)
        self.lines: list[str] = []

    def show(self, rows: list[TaskRow], sort_key: str, delayacct: bool) -> None:
        """Show ``rows`` (already sorted and filtered)."""
        self.rows = rows
        self.sort_key = sort_key
        self.delayacct = delayacct
        self.refresh()

    def scroll_rows(self, amount: int) -> None:
        """Move the view by ``amount`` rows (clamped)."""
        limit = max(0, len(self.rows) - max(1, self.size.height - 1))
        self.top = min(max(0, self.top + amount), limit)
        self.refresh()

    def render(self) -> Text:
        """Draw the titles and the rows that fit."""
        width = max(self.size.width, 20)
        self.columns = cols.fit_columns(cols.TASK_COLUMNS, width)
        title = cols.title_line(self.columns, width)
        room = max(0, self.size.height - 1)
        self.top = min(self.top, max(0, len(self.rows) - room))
        shown = self.rows[self.top : self.top + room]
        self.lines = [title] + [
            cols.row_line(row, self.columns, width, self.delayacct) for row in shown
        ]

        text = Text(title.ljust(width), style="reverse")
        start, end = self._sort_span(width)
        if end > start:
            text.stylize("bold reverse underline", start, end)
        for line in self.lines[1:]:
            text.append("\n")
            text.append(line, style="red" if cols.BUG_MARK in line else "")
        return text

    def _sort_span(self, width: int) -> tuple[int, int]:
        position = 0
        for column in self.columns:
            size = column.width or (width - position)
            if column.key == self.sort_key:
                return position, position + size
            position += size + 1
        return 0, 0


class TopApp(App[None]):
    """``nlwire top``: live per-process CPU, I/O, memory and delays.

    ``set_delayacct`` turns delay accounting on (the ``D`` key); ``notice``
    is shown on the message line at start (warnings of the task source).
    """

    TITLE = "nlwire top"
    AUTO_FOCUS = None  # keys go to the app until the prompt line opens
    CSS = """
    Screen { layout: vertical; }
    #header { height: auto; }
    #banner { height: auto; background: $warning 40%; color: $text; display: none; }
    #message { height: auto; color: $error; display: none; }
    #exits { height: 6; border-top: solid $secondary; }
    #prompt { height: 1; border: none; padding: 0; display: none; }
    #status { height: 1; background: $primary-background; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "quit"),
        Binding("question_mark,h", "help", "help"),
        Binding("greater_than_sign", "sort(1)", "sort right"),
        Binding("less_than_sign", "sort(-1)", "sort left"),
        Binding("r", "reverse", "reverse"),
        Binding("slash", "prompt('text')", "filter"),
        Binding("u", "prompt('user')", "user"),
        Binding("d", "prompt('interval')", "interval"),
        Binding("o", "only_active", "active"),
        Binding("t,H", "threads", "threads"),
        Binding("x", "exits", "exits"),
        Binding("p,space", "pause", "pause"),
        Binding("plus,equals_sign", "interval(1)", "slower"),
        Binding("minus", "interval(-1)", "faster"),
        Binding("D", "delayacct", "delay acct"),
        Binding("down", "scroll(1)", show=False),
        Binding("up", "scroll(-1)", show=False),
        Binding("pagedown", "scroll(10000)", show=False),
        Binding("pageup", "scroll(-10000)", show=False),
        Binding("home", "scroll(-1000000000)", show=False),
        Binding("end", "scroll(1000000000)", show=False),
    ]

    def __init__(
        self,
        sampler: Sampler,
        system: SystemMonitor,
        *,
        set_delayacct: Callable[[bool], None],
        options: ViewOptions,
        interval: float,
        notice: str = "",
    ) -> None:
        super().__init__()
        self.notice = notice
        self.sampler = sampler
        self.system = system
        self.set_delayacct = set_delayacct
        self.options = options
        self.interval = interval
        self.paused = False
        self.prompt_mode = ""
        self.snapshot: Snapshot | None = None
        self.reading: SystemSnapshot | None = None
        self._timer: Timer | None = None
        self.failure: Exception | None = None

    def compose(self) -> ComposeResult:
        """Build the widgets, top to bottom."""
        yield Static(id="header")
        yield Static(Text(BANNER), id="banner")
        yield Static(id="message")
        yield TaskTable(id="table")
        yield Static(id="exits")
        yield Input(id="prompt")
        yield Static(id="status")

    def on_mount(self) -> None:
        """Take the baseline reading, show the start-up notice, start the timer."""
        self.take_reading()
        self.show_message(self.notice)
        self._schedule()

    def on_resize(self) -> None:
        """Redraw what depends on the width."""
        self.redraw()

    # Sampling -------------------------------------------------------------

    def take_reading(self) -> None:
        """Read the kernel and /proc once and redraw.

        A failure ends the app and is kept in :attr:`failure`, for the
        command to report as one line once the terminal is restored.
        """
        try:
            self.snapshot = self.sampler.sample(threads=self.options.threads)
            self.reading = self.system.sample()
        except Exception as exc:  # noqa: BLE001 - reported by the caller, not lost
            self.failure = exc
            self.exit()
            return
        self.redraw()

    def _schedule(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(self.interval, self._tick)

    def _tick(self) -> None:
        if not self.paused:
            self.take_reading()
        self._schedule()

    # Drawing --------------------------------------------------------------

    def redraw(self) -> None:
        """Redraw every pane from the last reading."""
        if self.snapshot is None or self.reading is None:
            return
        snapshot, reading = self.snapshot, self.reading
        self.query_one("#header", Static).update(
            Text("\n".join(cols.header_lines(snapshot, reading, self.paused)))
        )
        self.query_one("#banner").display = reading.delayacct is False
        table = self.query_one(TaskTable)
        table.show(
            visible_rows(snapshot, self.options), self.options.sort, bool(reading.delayacct)
        )
        self._draw_exits(snapshot)
        self.query_one("#status", Static).update(Text(self.status_line()))

    def _draw_exits(self, snapshot: Snapshot) -> None:
        pane = self.query_one("#exits", Static)
        width = max(20, self.size.width)
        height = exits_height(self.size.height)
        pane.styles.height = height
        room = height - 3  # the border, the title and the column titles
        lines = [cols.exits_title(snapshot)]
        lines.extend(cols.exit_lines(snapshot.recent_exits, width, limit=room))
        pane.update(Text("\n".join(lines)))

    def status_line(self) -> str:
        """Return the status line: sort, filters, view and the main keys."""
        title = cols.column_by_key(self.options.sort).title
        parts = [f"sort {title} {'v' if self.options.reverse else '^'}"]
        if self.options.text:
            parts.append(f"filter '{self.options.text}'")
        if self.options.user:
            parts.append(f"user {self.options.user}")
        if self.options.only_active:
            parts.append("active only")
        parts.append("threads" if self.options.threads else "processes")
        if self.paused:
            parts.append("PAUSED")
        parts.append("? help  q quit")
        return "  ".join(parts)

    def show_message(self, text: str) -> None:
        """Show ``text`` on the message line (an empty text hides it)."""
        message = self.query_one("#message", Static)
        message.update(Text(text))
        message.display = bool(text)

    # Actions --------------------------------------------------------------

    def _set_options(self, **changes: Any) -> None:
        self.options = dataclasses.replace(self.options, **changes)
        self.query_one(TaskTable).top = 0
        self.redraw()

    def action_help(self) -> None:
        """Show the help screen."""
        self.push_screen(HelpScreen())

    def action_sort(self, step: int) -> None:
        """Sort by the column ``step`` places from the current one.

        Every column takes its turn, also those hidden in a narrow terminal
        (the status line names the sort column).
        """
        keys = list(cols.SORT_KEYS)
        current = keys.index(self.options.sort)
        key = keys[(current + step) % len(keys)]
        self._set_options(sort=key, reverse=key not in ("pid", "user", "command"))

    def action_reverse(self) -> None:
        """Reverse the sort order."""
        self._set_options(reverse=not self.options.reverse)

    def action_only_active(self) -> None:
        """Toggle showing only tasks that were active in the interval."""
        self._set_options(only_active=not self.options.only_active)

    def action_threads(self) -> None:
        """Toggle thread rows, built at once from the last reading."""
        snapshot = self.snapshot
        if not self.options.threads and snapshot is not None and snapshot.threads is None:
            self.snapshot = dataclasses.replace(snapshot, threads=self.sampler.thread_rows())
        self._set_options(threads=not self.options.threads)

    def action_exits(self) -> None:
        """Show or hide the exits pane."""
        pane = self.query_one("#exits")
        pane.display = not pane.display

    def action_pause(self) -> None:
        """Pause or resume sampling."""
        self.paused = not self.paused
        self.redraw()

    def action_interval(self, step: int) -> None:
        """Move to the next longer (1) or shorter (-1) interval."""
        longer = [value for value in INTERVALS if value > self.interval]
        shorter = [value for value in INTERVALS if value < self.interval]
        if step > 0 and longer:
            self.interval = longer[0]
        elif step < 0 and shorter:
            self.interval = shorter[-1]
        self.show_message(f"interval {self.interval:g}s")
        self._schedule()

    def action_scroll(self, amount: int) -> None:
        """Scroll the table; 10000 means a page."""
        table = self.query_one(TaskTable)
        page = max(1, table.size.height - 2)
        if abs(amount) == 10000:
            amount = page if amount > 0 else -page
        table.scroll_rows(amount)

    def action_delayacct(self) -> None:
        """Turn delay accounting on, or say why it could not be."""
        try:
            self.set_delayacct(True)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            self.show_message(f"cannot turn delay accounting on: {reason} (needs root)")
            return
        self.show_message("delay accounting is on: tasks started from now on report every delay")
        self.reading = self.system.sample()
        self.redraw()

    def action_prompt(self, mode: str) -> None:
        """Open the prompt line for a filter text, a user or an interval."""
        prompt = self.query_one("#prompt", Input)
        placeholders = {
            "text": "filter by command line or pid (empty: no filter), Enter",
            "user": "show only user (name or uid; empty: everyone), Enter",
            "interval": f"interval in seconds (now {self.interval:g}), Enter",
        }
        current = {"text": self.options.text, "user": self.options.user}.get(mode, "")
        self.prompt_mode = mode
        prompt.placeholder = placeholders[mode]
        prompt.value = current
        prompt.display = True
        prompt.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Apply what was typed in the prompt line."""
        value = event.value.strip()
        event.input.display = False
        self.set_focus(None)
        if self.prompt_mode == "text":
            self._set_options(text=value)
        elif self.prompt_mode == "user":
            self._set_options(user=value)
        elif self.prompt_mode == "interval":
            self._apply_interval(value)
        self.prompt_mode = ""

    def _apply_interval(self, value: str) -> None:
        try:
            seconds = float(value)
        except ValueError:
            self.show_message(f"not a number of seconds: {value!r}")
            return
        if not 0.1 <= seconds <= 3600:
            self.show_message("the interval must be between 0.1 and 3600 seconds")
            return
        self.interval = seconds
        self.show_message(f"interval {seconds:g}s")
        self._schedule()

    def on_key(self, event: Any) -> None:
        """Escape closes the prompt line without applying it."""
        prompt = self.query_one("#prompt", Input)
        if event.key == "escape" and prompt.display:
            prompt.display = False
            self.set_focus(None)
            event.stop()
