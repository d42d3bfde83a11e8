"""Naming message types per netlink protocol, for decoders and debug output.

A message type number means nothing without its protocol: 16 is
``RTM_NEWLINK`` on ``NETLINK_ROUTE`` and the controller on
``NETLINK_GENERIC``. :class:`MessageNames` answers "what is type T of
protocol P, and how is its body laid out" for:

* ``NETLINK_ROUTE``: the ``RTM_*`` names (numbers from the kernel's
  ``include/uapi/linux/rtnetlink.h``), with the fixed header of link,
  address, route, neighbour, rule and traffic-control messages;
* ``NETLINK_NETFILTER``: subsystem and message names (``type`` is
  ``subsystem << 8 | message``) for ctnetlink and nf_tables, and the
  ``nfgenmsg`` header;
* ``NETLINK_GENERIC``: the controller (``nlctrl``, fixed id 16), and
  families whose ids were learned: from ``CTRL_CMD_NEWFAMILY`` messages fed
  to :meth:`MessageNames.learn`, or from an optional resolver (a callable
  that a caller with I/O, such as the CLI, backs with the live kernel).
  Names from the resolver are marked as guesses: ids are assigned at run
  time, so the capture's kernel may have given the id to another family.

Attributes are named only where a :class:`MessageSpec` is registered for a
generic family (``generic_specs``); everywhere else they show as
``"#<type>"`` with their raw bytes. Nothing here does I/O.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from nlwire.wire.attrs import NLA_TYPE_MASK, iter_attributes
from nlwire.wire.header import MIN_TYPE, NLMSG_HDRLEN, Message, MessageType
from nlwire.wire.schema import EMPTY_SET, MessageSpec, StructType

NETLINK_ROUTE: Final = 0
NETLINK_NETFILTER: Final = 12
NETLINK_GENERIC: Final = 16
GENL_ID_CTRL: Final = 16

#: Where a name came from: the kernel ABI, the decoded input, or a guess.
SOURCE_STATIC: Final = "static"
SOURCE_INPUT: Final = "input"
SOURCE_GUESS: Final = "guess"


@dataclass(frozen=True, slots=True)
class MessageKind:
    """What a message type is: its name, how to decode it, and how sure we are.

    ``name`` is ``None`` when the type is unknown; ``spec`` is ``None`` when
    the body layout is unknown (decode it as raw bytes); ``source`` is one
    of ``"static"``, ``"input"`` or ``"guess"``.
    """

    name: str | None
    spec: MessageSpec | None
    source: str = SOURCE_STATIC

    @property
    def guessed(self) -> bool:
        """Whether the name is a guess (a generic family id resolved elsewhere)."""
        return self.source == SOURCE_GUESS


# -- NETLINK_ROUTE ------------------------------------------------------------

_RTM_GROUPS: dict[int, tuple[str, str]] = {
    # base type: (object, which of NEW/DEL/GET/SET exist)
    16: ("LINK", "NDGS"),
    20: ("ADDR", "NDG"),
    24: ("ROUTE", "NDG"),
    28: ("NEIGH", "NDG"),
    32: ("RULE", "NDG"),
    36: ("QDISC", "NDG"),
    40: ("TCLASS", "NDG"),
    44: ("TFILTER", "NDG"),
    48: ("ACTION", "NDG"),
    52: ("PREFIX", "N"),
    56: ("MULTICAST", "  G"),
    60: ("ANYCAST", "  G"),
    64: ("NEIGHTBL", "N GS"),
    68: ("NDUSEROPT", "N"),
    72: ("ADDRLABEL", "NDG"),
    76: ("DCB", "  GS"),
    80: ("NETCONF", "NDG"),
    84: ("MDB", "NDG"),
    88: ("NSID", "NDG"),
    92: ("STATS", "N GS"),
    96: ("CACHEREPORT", "N"),
    100: ("CHAIN", "NDG"),
    104: ("NEXTHOP", "NDG"),
    108: ("LINKPROP", "NDG"),
    112: ("VLAN", "NDG"),
    116: ("NEXTHOPBUCKET", "NDG"),
    120: ("TUNNEL", "NDG"),
}
_VERBS = {"N": "NEW", "D": "DEL", "G": "GET", "S": "SET"}


def _route_names() -> dict[int, str]:
    names = {}
    for base, (obj, verbs) in _RTM_GROUPS.items():
        for position, letter in enumerate(verbs):
            if letter != " ":
                names[base + position] = f"RTM_{_VERBS[letter]}{obj}"
    return names


RTM_NAMES: Final = _route_names()

_IFINFOMSG = StructType(
    "ifinfomsg",
    [("family", "B"), ("", "x"), ("type", "H"), ("index", "i"), ("flags", "I"), ("change", "I")],
)
_IFADDRMSG = StructType(
    "ifaddrmsg",
    [("family", "B"), ("prefixlen", "B"), ("flags", "B"), ("scope", "B"), ("index", "I")],
)
_RTMSG = StructType(
    "rtmsg",
    [
        ("family", "B"),
        ("dst_len", "B"),
        ("src_len", "B"),
        ("tos", "B"),
        ("table", "B"),
        ("protocol", "B"),
        ("scope", "B"),
        ("type", "B"),
        ("flags", "I"),
    ],
)
_NDMSG = StructType(
    "ndmsg",
    [("family", "B"), ("", "3x"), ("ifindex", "i"), ("state", "H"), ("flags", "B"), ("type", "B")],
)
_FIB_RULE_HDR = StructType(
    "fib_rule_hdr",
    [
        ("family", "B"),
        ("dst_len", "B"),
        ("src_len", "B"),
        ("tos", "B"),
        ("table", "B"),
        ("", "2x"),
        ("action", "B"),
        ("flags", "I"),
    ],
)
_TCMSG = StructType(
    "tcmsg",
    [
        ("family", "B"),
        ("", "3x"),
        ("ifindex", "i"),
        ("handle", "I"),
        ("parent", "I"),
        ("info", "I"),
    ],
)
_ROUTE_HEADERS = {
    16: _IFINFOMSG,
    20: _IFADDRMSG,
    24: _RTMSG,
    28: _NDMSG,
    32: _FIB_RULE_HDR,
    36: _TCMSG,
    40: _TCMSG,
    44: _TCMSG,
}


def _route_kind(type_: int) -> MessageKind:
    name = RTM_NAMES.get(type_)
    header = _ROUTE_HEADERS.get(type_ & ~3)
    spec = MessageSpec(name, EMPTY_SET, header) if name and header else None
    return MessageKind(name, spec)


# -- NETLINK_NETFILTER --------------------------------------------------------

NFNL_SUBSYSTEMS: Final = {
    0: "NONE",
    1: "CTNETLINK",
    2: "CTNETLINK_EXP",
    3: "QUEUE",
    4: "ULOG",
    5: "OSF",
    6: "IPSET",
    7: "ACCT",
    8: "CTNETLINK_TIMEOUT",
    9: "CTHELPER",
    10: "NFTABLES",
    11: "NFT_COMPAT",
    12: "HOOK",
}
_CT_MESSAGES = [
    "IPCTNL_MSG_CT_NEW",
    "IPCTNL_MSG_CT_GET",
    "IPCTNL_MSG_CT_DELETE",
    "IPCTNL_MSG_CT_GET_CTRZERO",
    "IPCTNL_MSG_CT_GET_STATS_CPU",
    "IPCTNL_MSG_CT_GET_STATS",
    "IPCTNL_MSG_CT_GET_DYING",
    "IPCTNL_MSG_CT_GET_UNCONFIRMED",
]
_EXP_MESSAGES = [
    "IPCTNL_MSG_EXP_NEW",
    "IPCTNL_MSG_EXP_GET",
    "IPCTNL_MSG_EXP_DELETE",
    "IPCTNL_MSG_EXP_GET_STATS_CPU",
]
_NFT_MESSAGES = [
    "NEWTABLE",
    "GETTABLE",
    "DELTABLE",
    "NEWCHAIN",
    "GETCHAIN",
    "DELCHAIN",
    "NEWRULE",
    "GETRULE",
    "DELRULE",
    "NEWSET",
    "GETSET",
    "DELSET",
    "NEWSETELEM",
    "GETSETELEM",
    "DELSETELEM",
    "NEWGEN",
    "GETGEN",
    "TRACE",
    "NEWOBJ",
    "GETOBJ",
    "DELOBJ",
    "GETOBJ_RESET",
    "NEWFLOWTABLE",
    "GETFLOWTABLE",
    "DELFLOWTABLE",
    "GETRULE_RESET",
    "DESTROYTABLE",
    "DESTROYCHAIN",
    "DESTROYRULE",
    "DESTROYSET",
    "DESTROYSETELEM",
    "DESTROYOBJ",
    "DESTROYFLOWTABLE",
    "GETSETELEM_RESET",
]
_NF_MESSAGES: dict[int, list[str]] = {
    1: _CT_MESSAGES,
    2: _EXP_MESSAGES,
    10: [f"NFT_MSG_{name}" for name in _NFT_MESSAGES],
}
NFGENMSG: Final = StructType(
    "nfgenmsg", [("family", "B"), ("version", "B"), ("res_id_be16", "2s")]
)


def _netfilter_kind(type_: int) -> MessageKind:
    if type_ in (16, 17):  # NFNL_MSG_BATCH_BEGIN / _END (res_id holds a subsystem)
        name = "NFNL_MSG_BATCH_BEGIN" if type_ == 16 else "NFNL_MSG_BATCH_END"
        return MessageKind(name, MessageSpec(name, EMPTY_SET, NFGENMSG))
    subsystem, message = type_ >> 8, type_ & 0xFF
    if subsystem not in NFNL_SUBSYSTEMS:
        return MessageKind(None, None)
    names = _NF_MESSAGES.get(subsystem, [])
    if message < len(names):
        name = names[message]
    else:
        name = f"NFNL_SUBSYS_{NFNL_SUBSYSTEMS[subsystem]}/{message}"
    return MessageKind(name, MessageSpec(name, EMPTY_SET, NFGENMSG))


# -- NETLINK_GENERIC ----------------------------------------------------------

GENLMSGHDR: Final = StructType("genlmsghdr", [("cmd", "B"), ("version", "B"), ("reserved", "H")])
_CTRL_CMD_NEWFAMILY: Final = 1
_CTRL_ATTR_FAMILY_ID: Final = 1
_CTRL_ATTR_FAMILY_NAME: Final = 2

Resolver = Callable[[int], str | None]


class MessageNames:
    """Names and body layouts of message types, per protocol.

    ``generic_specs`` maps generic netlink family names to the spec their
    messages decode with (e.g. ``{"nlctrl": CTRL_SPEC}``); ``resolver``
    names a generic family id that neither the fixed ids nor :meth:`learn`
    know (its answers are marked as guesses and remembered).
    """

    def __init__(
        self,
        generic_specs: Mapping[str, MessageSpec] | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self.generic_specs = dict(generic_specs or {})
        self.resolver = resolver
        self._generic: dict[int, tuple[str, str]] = {GENL_ID_CTRL: ("nlctrl", SOURCE_STATIC)}
        self._resolved: set[int] = set()

    def add_generic(self, family_id: int, name: str, source: str = SOURCE_INPUT) -> None:
        """Record that generic netlink family ``name`` has id ``family_id``."""
        self._generic[family_id] = (name, source)

    def learn(self, protocol: int, message: Message) -> None:
        """Learn a family id from a controller reply (``CTRL_CMD_NEWFAMILY``).

        Other messages are ignored, and so are replies that do not frame:
        learning must never make decoding fail.
        """
        if protocol != NETLINK_GENERIC or message.type != GENL_ID_CTRL:
            return
        data = message.raw
        if len(data) < NLMSG_HDRLEN + 4 or data[NLMSG_HDRLEN] != _CTRL_CMD_NEWFAMILY:
            return
        found = _family_id_and_name(data, NLMSG_HDRLEN + 4)
        if found is not None and self._generic.get(found[0], ("",))[0] != found[1]:
            self.add_generic(*found)

    def kind(self, protocol: int, type_: int) -> MessageKind:
        """Describe message type ``type_`` of netlink protocol ``protocol``."""
        if type_ < MIN_TYPE:
            return MessageKind(_control_name(type_), None)
        if protocol == NETLINK_ROUTE:
            return _route_kind(type_)
        if protocol == NETLINK_NETFILTER:
            return _netfilter_kind(type_)
        if protocol == NETLINK_GENERIC:
            return self._generic_kind(type_)
        return MessageKind(None, None)

    def _generic_kind(self, family_id: int) -> MessageKind:
        known = self._generic.get(family_id)
        if known is None and self.resolver is not None and family_id not in self._resolved:
            self._resolved.add(family_id)
            name = self.resolver(family_id)
            if name is not None:
                known = (name, SOURCE_GUESS)
                self._generic[family_id] = known
        if known is None:
            return MessageKind(None, MessageSpec("genl", EMPTY_SET, GENLMSGHDR))
        name, source = known
        spec = self.generic_specs.get(name) or MessageSpec(name, EMPTY_SET, GENLMSGHDR)
        return MessageKind(name, spec, source)


def _control_name(type_: int) -> str | None:
    try:
        return MessageType(type_).name
    except ValueError:
        return None


def _family_id_and_name(data: memoryview, start: int) -> tuple[int, str] | None:
    family_id, name = None, None
    try:
        for type_, value_start, value_end in iter_attributes(data, start):
            value = bytes(data[value_start:value_end])
            if type_ & NLA_TYPE_MASK == _CTRL_ATTR_FAMILY_ID and len(value) == 2:
                family_id = int.from_bytes(value, sys.byteorder)
            elif type_ & NLA_TYPE_MASK == _CTRL_ATTR_FAMILY_NAME:
                name = value.split(b"\0", 1)[0].decode("utf-8", "replace")
    except ValueError:  # DecodeError: the reply does not frame
        return None
    if family_id is None or not name:
        return None
    return family_id, name
