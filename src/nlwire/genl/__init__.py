"""Generic netlink: the controller and a base for family clients."""

from nlwire.genl.client import Controller, FamilyNotFound, GenlClient
from nlwire.genl.family import Family, FamilyPolicy, MulticastGroup, Operation
from nlwire.genl.schema import (
    CTRL,
    CTRL_SPEC,
    GENL_HDRLEN,
    GENL_ID_CTRL,
    AttributeType,
    CtrlAttr,
    CtrlCmd,
    OpFlags,
    genl_header,
)

__all__ = [
    "CTRL",
    "CTRL_SPEC",
    "GENL_HDRLEN",
    "GENL_ID_CTRL",
    "AttributeType",
    "Controller",
    "CtrlAttr",
    "CtrlCmd",
    "Family",
    "FamilyNotFound",
    "FamilyPolicy",
    "GenlClient",
    "MulticastGroup",
    "OpFlags",
    "Operation",
    "genl_header",
]
