"""The ``TASKSTATS`` messages in the :mod:`nlwire.wire` schema vocabulary.

The client and the listener decode replies with the fast, purpose-built
parser in :mod:`nlwire.taskstats.messages`; this schema is what the debug
dumper (``NLWIRE_DEBUG=1`` / ``nlwire --debug``) shows each message with,
and what ``nlwire decode`` can use. Requests and replies share attribute
numbers with different meanings (3 is ``REGISTER_CPUMASK`` in a request,
``STATS`` in a reply); the set below is the reply's, and a value that is not
a struct taskstats is shown as bytes.
"""

from __future__ import annotations

from typing import Any

from nlwire.errors import DecodeError
from nlwire.genl import genl_header
from nlwire.taskstats.messages import FAMILY_NAME, Command, TypeAttr
from nlwire.taskstats.stats import decode_taskstats
from nlwire.wire import U32, AttrSet, Codec, MessageSpec, Nested

__all__ = ["AGGREGATE", "TASKSTATS", "TASKSTATS_SPEC"]


class StatsCodec(Codec):
    """``struct taskstats`` as a mapping of its present fields (bytes if it is none)."""

    kind = "struct taskstats"

    def decode(self, data: memoryview, parent: Any = None) -> Any:
        """Return the decoded fields, or the raw bytes when they are no struct."""
        try:
            return decode_taskstats(data).as_dict()
        except DecodeError:
            return bytes(data)


#: Inside ``AGGR_PID``/``AGGR_TGID``: the id, the stats and NULL padding.
AGGREGATE = AttrSet(
    "taskstats_aggregate",
    TypeAttr,
    {TypeAttr.PID: U32, TypeAttr.TGID: U32, TypeAttr.STATS: StatsCodec()},
)

#: The top level of a reply or an exit record.
TASKSTATS = AttrSet(
    "taskstats",
    TypeAttr,
    {
        TypeAttr.PID: U32,
        TypeAttr.TGID: U32,
        TypeAttr.STATS: StatsCodec(),
        TypeAttr.AGGR_PID: Nested(AGGREGATE, nested_flag=False),
        TypeAttr.AGGR_TGID: Nested(AGGREGATE, nested_flag=False),
    },
)

#: One message of the family, for the debug dumper.
TASKSTATS_SPEC = MessageSpec(FAMILY_NAME, TASKSTATS, genl_header(Command))
