"""Per-task and delay accounting over the generic netlink family ``TASKSTATS``.

- :class:`TaskStats`: one decoded ``struct taskstats`` (every field through
  version 17 under the kernel's names; units in :mod:`nlwire.taskstats.stats`).
- :class:`TaskstatsClient`: stats of a thread or a process, pipelined
  sweeps over many tasks, cgroupstats.
- :class:`ExitListener`: one :class:`ExitRecord` per exiting task, with an
  exact count of records lost.
- :func:`delayacct_enabled` / :func:`set_delayacct`: the
  ``kernel.task_delayacct`` switch; :mod:`nlwire.taskstats.procfs` lists
  tasks and fills the gaps of TGID replies from ``/proc``, labelled as such.

Every request except cgroupstats needs ``CAP_NET_ADMIN`` in the initial
user namespace (:class:`TaskstatsPermissionError` otherwise).
"""

from nlwire.taskstats.client import TaskstatsClient
from nlwire.taskstats.errors import (
    ListenerError,
    NoSuchTask,
    TaskstatsPermissionError,
    TaskstatsUnavailable,
)
from nlwire.taskstats.listener import ExitListener, ExitRecord
from nlwire.taskstats.procfs import delayacct_enabled, set_delayacct
from nlwire.taskstats.stats import (
    FIELDS,
    CgroupStats,
    FieldInfo,
    TaskStats,
    decode_cgroupstats,
    decode_taskstats,
)

__all__ = [
    "CgroupStats",
    "ExitListener",
    "ExitRecord",
    "FIELDS",
    "FieldInfo",
    "ListenerError",
    "NoSuchTask",
    "TaskStats",
    "TaskstatsClient",
    "TaskstatsPermissionError",
    "TaskstatsUnavailable",
    "decode_cgroupstats",
    "decode_taskstats",
    "delayacct_enabled",
    "set_delayacct",
]
