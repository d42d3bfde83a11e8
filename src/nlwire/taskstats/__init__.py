"""Per-task and delay accounting over the generic netlink family ``TASKSTATS``.

:class:`TaskStats` is one decoded ``struct taskstats`` (every field through
version 17, the kernel's names, units in :mod:`nlwire.taskstats.stats`).
"""

from nlwire.taskstats.stats import (
    FIELDS,
    CgroupStats,
    FieldInfo,
    TaskStats,
    decode_cgroupstats,
    decode_taskstats,
)

__all__ = [
    "FIELDS",
    "CgroupStats",
    "FieldInfo",
    "TaskStats",
    "decode_cgroupstats",
    "decode_taskstats",
]
