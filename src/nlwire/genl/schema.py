"""Generic netlink's own messages: the header and the controller family.

Every generic netlink message carries ``struct genlmsghdr`` after the
netlink header::

     0     1         2           4
    +-----+---------+-----------+---- attributes…
    | cmd | version | reserved  |
    +-----+---------+-----------+----

The controller (``nlctrl``, fixed id 16) maps family names to the ids the
kernel assigned at run time and describes each family.
"""

from __future__ import annotations

import enum
from typing import Final

from nlwire.wire import (
    NUL_STRING,
    S64,
    U16,
    U32,
    U64,
    Array,
    AttrSet,
    Enum,
    Flags,
    Keyed,
    MessageSpec,
    Nested,
    StructType,
)

GENL_ID_CTRL: Final = 16
GENL_HDRLEN: Final = 4


def genl_header(commands: type[enum.IntEnum] | None = None) -> StructType:
    """The ``genlmsghdr`` layout, naming ``cmd`` with ``commands`` when given."""
    cmd: tuple[str, str] | tuple[str, str, type[enum.IntEnum]]
    cmd = ("cmd", "B", commands) if commands else ("cmd", "B")
    return StructType("genlmsghdr", [cmd, ("version", "B"), ("reserved", "H")])


class CtrlCmd(enum.IntEnum):
    """Controller commands (``CTRL_CMD_*``)."""

    NEWFAMILY = 1  # CTRL_CMD_NEWFAMILY
    DELFAMILY = 2  # CTRL_CMD_DELFAMILY
    GETFAMILY = 3  # CTRL_CMD_GETFAMILY
    NEWOPS = 4  # CTRL_CMD_NEWOPS
    DELOPS = 5  # CTRL_CMD_DELOPS
    GETOPS = 6  # CTRL_CMD_GETOPS
    NEWMCAST_GRP = 7  # CTRL_CMD_NEWMCAST_GRP
    DELMCAST_GRP = 8  # CTRL_CMD_DELMCAST_GRP
    GETMCAST_GRP = 9  # CTRL_CMD_GETMCAST_GRP
    GETPOLICY = 10  # CTRL_CMD_GETPOLICY


class CtrlAttr(enum.IntEnum):
    """Controller attributes (``CTRL_ATTR_*``)."""

    FAMILY_ID = 1  # CTRL_ATTR_FAMILY_ID
    FAMILY_NAME = 2  # CTRL_ATTR_FAMILY_NAME
    VERSION = 3  # CTRL_ATTR_VERSION
    HDRSIZE = 4  # CTRL_ATTR_HDRSIZE
    MAXATTR = 5  # CTRL_ATTR_MAXATTR
    OPS = 6  # CTRL_ATTR_OPS
    MCAST_GROUPS = 7  # CTRL_ATTR_MCAST_GROUPS
    POLICY = 8  # CTRL_ATTR_POLICY
    OP_POLICY = 9  # CTRL_ATTR_OP_POLICY
    OP = 10  # CTRL_ATTR_OP


class CtrlOpAttr(enum.IntEnum):
    """One operation of a family (``CTRL_ATTR_OP_*``)."""

    ID = 1  # CTRL_ATTR_OP_ID
    FLAGS = 2  # CTRL_ATTR_OP_FLAGS


class OpFlags(enum.IntFlag):
    """What an operation allows and needs (``GENL_*`` op flags)."""

    ADMIN_PERM = 0x01  # GENL_ADMIN_PERM: needs CAP_NET_ADMIN in the initial user ns
    CMD_CAP_DO = 0x02  # GENL_CMD_CAP_DO
    CMD_CAP_DUMP = 0x04  # GENL_CMD_CAP_DUMP
    CMD_CAP_HASPOL = 0x08  # GENL_CMD_CAP_HASPOL
    UNS_ADMIN_PERM = 0x10  # GENL_UNS_ADMIN_PERM: CAP_NET_ADMIN in the netns's user ns


class CtrlMcastAttr(enum.IntEnum):
    """One multicast group of a family (``CTRL_ATTR_MCAST_GRP_*``)."""

    NAME = 1  # CTRL_ATTR_MCAST_GRP_NAME
    ID = 2  # CTRL_ATTR_MCAST_GRP_ID


class CtrlPolicyAttr(enum.IntEnum):
    """Which policy an operation uses (``CTRL_ATTR_POLICY_*``)."""

    DO = 1  # CTRL_ATTR_POLICY_DO
    DUMP = 2  # CTRL_ATTR_POLICY_DUMP


class PolicyAttr(enum.IntEnum):
    """One attribute's policy (``NL_POLICY_TYPE_ATTR_*``)."""

    TYPE = 1  # NL_POLICY_TYPE_ATTR_TYPE
    MIN_VALUE_S = 2  # NL_POLICY_TYPE_ATTR_MIN_VALUE_S
    MAX_VALUE_S = 3  # NL_POLICY_TYPE_ATTR_MAX_VALUE_S
    MIN_VALUE_U = 4  # NL_POLICY_TYPE_ATTR_MIN_VALUE_U
    MAX_VALUE_U = 5  # NL_POLICY_TYPE_ATTR_MAX_VALUE_U
    MIN_LENGTH = 6  # NL_POLICY_TYPE_ATTR_MIN_LENGTH
    MAX_LENGTH = 7  # NL_POLICY_TYPE_ATTR_MAX_LENGTH
    POLICY_IDX = 8  # NL_POLICY_TYPE_ATTR_POLICY_IDX
    POLICY_MAXTYPE = 9  # NL_POLICY_TYPE_ATTR_POLICY_MAXTYPE
    BITFIELD32_MASK = 10  # NL_POLICY_TYPE_ATTR_BITFIELD32_MASK
    PAD = 11  # NL_POLICY_TYPE_ATTR_PAD
    MASK = 12  # NL_POLICY_TYPE_ATTR_MASK


class AttributeType(enum.IntEnum):
    """The value type an attribute policy asks for (``NL_ATTR_TYPE_*``)."""

    INVALID = 0  # NL_ATTR_TYPE_INVALID
    FLAG = 1  # NL_ATTR_TYPE_FLAG
    U8 = 2  # NL_ATTR_TYPE_U8
    U16 = 3  # NL_ATTR_TYPE_U16
    U32 = 4  # NL_ATTR_TYPE_U32
    U64 = 5  # NL_ATTR_TYPE_U64
    S8 = 6  # NL_ATTR_TYPE_S8
    S16 = 7  # NL_ATTR_TYPE_S16
    S32 = 8  # NL_ATTR_TYPE_S32
    S64 = 9  # NL_ATTR_TYPE_S64
    BINARY = 10  # NL_ATTR_TYPE_BINARY
    STRING = 11  # NL_ATTR_TYPE_STRING
    NUL_STRING = 12  # NL_ATTR_TYPE_NUL_STRING
    NESTED = 13  # NL_ATTR_TYPE_NESTED
    NESTED_ARRAY = 14  # NL_ATTR_TYPE_NESTED_ARRAY
    BITFIELD32 = 15  # NL_ATTR_TYPE_BITFIELD32
    SINT = 16  # NL_ATTR_TYPE_SINT
    UINT = 17  # NL_ATTR_TYPE_UINT


CTRL_OP = AttrSet(
    "ctrl-op", CtrlOpAttr, {CtrlOpAttr.ID: U32, CtrlOpAttr.FLAGS: Flags(U32, OpFlags)}
)
CTRL_MCAST_GROUP = AttrSet(
    "ctrl-mcast-group", CtrlMcastAttr, {CtrlMcastAttr.NAME: NUL_STRING, CtrlMcastAttr.ID: U32}
)
POLICY = AttrSet(
    "policy",
    PolicyAttr,
    {
        PolicyAttr.TYPE: Enum(U32, AttributeType),
        PolicyAttr.MIN_VALUE_S: S64,
        PolicyAttr.MAX_VALUE_S: S64,
        PolicyAttr.MIN_VALUE_U: U64,
        PolicyAttr.MAX_VALUE_U: U64,
        PolicyAttr.MIN_LENGTH: U32,
        PolicyAttr.MAX_LENGTH: U32,
        PolicyAttr.POLICY_IDX: U32,
        PolicyAttr.POLICY_MAXTYPE: U32,
        PolicyAttr.BITFIELD32_MASK: U32,
        PolicyAttr.MASK: U64,
    },
)
CTRL_OP_POLICY = AttrSet(
    "ctrl-op-policy", CtrlPolicyAttr, {CtrlPolicyAttr.DO: U32, CtrlPolicyAttr.DUMP: U32}
)
CTRL = AttrSet(
    "ctrl",
    CtrlAttr,
    {
        CtrlAttr.FAMILY_ID: U16,
        CtrlAttr.FAMILY_NAME: NUL_STRING,
        CtrlAttr.VERSION: U32,
        CtrlAttr.HDRSIZE: U32,
        CtrlAttr.MAXATTR: U32,
        CtrlAttr.OPS: Array(Nested(CTRL_OP)),
        CtrlAttr.MCAST_GROUPS: Array(Nested(CTRL_MCAST_GROUP)),
        CtrlAttr.POLICY: Keyed(Keyed(Nested(POLICY))),
        CtrlAttr.OP_POLICY: Keyed(Nested(CTRL_OP_POLICY)),
        CtrlAttr.OP: U32,
    },
)
CTRL_SPEC = MessageSpec("nlctrl", CTRL, genl_header(CtrlCmd))
