"""Generic netlink against the real kernel: the controller's family list and
policies compared with iproute2 and with a bare-socket decode, and the
kernel's extended ACKs turned into NetlinkError with attribute paths."""

from __future__ import annotations

import enum
import errno
import importlib.util
import shutil
import socket
import struct
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from nlwire.errors import NetlinkError
from nlwire.genl import Controller, FamilyNotFound, GenlClient
from nlwire.genl.schema import POLICY, AttributeType
from nlwire.wire import NUL_STRING, U32, AttrSet, Nested, pack_attribute, pack_nested

HAVE_GENL = shutil.which("genl") is not None


def iproute2_parsers() -> ModuleType:
    """The iproute2 output parsers of the golden capture script."""
    path = Path(__file__).parents[1] / "data/genl/capture.py"
    spec = importlib.util.spec_from_file_location("genl_capture", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def genl(*args: str) -> str:
    return subprocess.run(["genl", *args], check=True, capture_output=True, text=True).stdout


def bare_family_dump() -> dict[str, int]:
    """Family name -> id, read with a plain socket and struct, no nlwire."""
    found: dict[str, int] = {}
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16) as sock:
        sock.bind((0, 0))
        request = struct.pack("=IHHIIBBH", 20, 16, 0x301, 1, 0, 3, 2, 0)
        sock.send(request)
        while True:
            data = sock.recv(1 << 16)
            offset = 0
            while offset < len(data):
                length, type_ = struct.unpack_from("=IH", data, offset)
                if type_ == 3:  # NLMSG_DONE
                    return found
                found.update([bare_name_and_id(data[offset + 20 : offset + length])])
                offset += (length + 3) & ~3


def bare_name_and_id(attrs: bytes) -> tuple[str, int]:
    name, family_id, offset = "", -1, 0
    while offset + 4 <= len(attrs):
        length, type_ = struct.unpack_from("=HH", attrs, offset)
        value = attrs[offset + 4 : offset + length]
        if type_ == 1:
            family_id = struct.unpack("=H", value)[0]
        elif type_ == 2:
            name = value.rstrip(b"\0").decode()
        offset += (length + 3) & ~3
    return name, family_id


# -- the family list ----------------------------------------------------------------


def test_family_list_matches_a_bare_socket_decode() -> None:
    with Controller() as ctrl:
        families = ctrl.list_families()
    assert {family.name: family.id for family in families} == bare_family_dump()


@pytest.mark.skipif(not HAVE_GENL, reason="iproute2's genl is not installed")
def test_family_list_matches_genl_ctrl_list() -> None:
    want = iproute2_parsers().families_from_iproute2(genl("ctrl", "list"))
    with Controller() as ctrl:
        got = [family.to_dict() for family in ctrl.list_families()]
    for family in got:
        for op in family["ops"]:
            del op["flag_names"]
            if family["version"] < 2:  # iproute2 hides op flags below version 2
                op["flags"] = None
    assert got == want


def test_get_family_and_missing_family() -> None:
    with Controller() as ctrl:
        nlctrl = ctrl.get_family("nlctrl")
        assert (nlctrl.id, nlctrl.version) == (16, 2)
        assert ctrl.get_multicast_group("nlctrl", "notify") == 16
        with pytest.raises(FamilyNotFound) as caught:
            ctrl.get_family("nlwirenosuch")
    assert caught.value.errno == errno.ENOENT
    assert isinstance(caught.value, FileNotFoundError)


def test_families_in_a_netns_are_a_subset_of_the_host(netns: str) -> None:
    with Controller() as host, Controller(netns=netns) as inside:
        host_names = {family.name for family in host.list_families()}
        inside_names = {family.name for family in inside.list_families()}
    assert "nlctrl" in inside_names
    assert inside_names <= host_names


# -- policies -------------------------------------------------------------------------


@pytest.mark.parametrize("family", ["nlctrl", "netdev", "ethtool"])
def test_getpolicy_dump(family: str) -> None:
    with Controller() as ctrl:
        policy = ctrl.get_policy(family).to_dict()
        family_id = ctrl.get_family(family).id
    assert policy["family_id"] == family_id
    assert policy["ops"] and policy["policies"]
    if not HAVE_GENL:
        return
    want = iproute2_parsers().policy_from_iproute2(genl("ctrl", "policy", "name", family))
    assert policy["ops"] == want["ops"]
    for index, attributes in want["policies"].items():
        for attr_type, details in attributes.items():
            got = policy["policies"][index][attr_type]
            assert {key: got.get(key) for key in details} == details


def test_getpolicy_of_one_op() -> None:
    with Controller() as ctrl:
        policy = ctrl.get_policy("nlctrl", op=3)  # CTRL_CMD_GETFAMILY
    assert list(policy.ops) == [3]
    (index,) = {policy.ops[3]["do"]}
    assert policy.policies[index][2]["type"] == "NUL_STRING"


# -- errors with extended ACKs ----------------------------------------------------------


class HeaderAttr(enum.IntEnum):
    """``ETHTOOL_A_HEADER_*``."""

    DEV_INDEX = 1
    DEV_NAME = 2
    FLAGS = 3


class LinkinfoAttr(enum.IntEnum):
    """``ETHTOOL_A_LINKINFO_*`` (the header only)."""

    HEADER = 1


HEADER = AttrSet(
    "header",
    HeaderAttr,
    {HeaderAttr.DEV_INDEX: U32, HeaderAttr.DEV_NAME: NUL_STRING, HeaderAttr.FLAGS: U32},
)


class Ethtool(GenlClient):
    """Just enough of ethtool to be refused: ETHTOOL_MSG_LINKINFO_GET."""

    FAMILY = "ethtool"
    VERSION = 1
    ATTRS = AttrSet("linkinfo", LinkinfoAttr, {LinkinfoAttr.HEADER: Nested(HEADER)})

    def linkinfo(self, header: dict[str, Any] | None) -> None:
        self.request(2, {"header": header})


def test_unknown_device_error_names_the_nested_attribute(netns: str) -> None:
    with Ethtool(netns=netns) as client, pytest.raises(NetlinkError) as caught:
        client.linkinfo({"dev_name": "nosuchdev0"})
    error = caught.value
    assert error.errno == errno.ENODEV
    assert error.message == "no device matches name"
    assert error.attr_path == ("header", "dev_name")
    assert "(at header/dev_name)" in str(error)


def test_reserved_flag_error_names_the_nested_attribute(netns: str) -> None:
    with Ethtool(netns=netns) as client, pytest.raises(NetlinkError) as caught:
        client.linkinfo({"flags": 1 << 31})
    error = caught.value
    assert error.errno == errno.EINVAL
    assert error.message
    assert error.attr_path == ("header", "flags")


def test_wrong_length_reports_the_policy(netns: str) -> None:
    short_index = pack_nested(LinkinfoAttr.HEADER, pack_attribute(HeaderAttr.DEV_INDEX, b"\1\0"))
    with Ethtool(netns=netns) as client, pytest.raises(NetlinkError) as caught:
        client.request(2, short_index)
    error = caught.value
    assert error.errno == errno.EINVAL
    assert error.message == "invalid attribute length"
    assert error.attr_path == ("header", "dev_index")
    assert error.policy is not None
    assert POLICY.decode(error.policy)["type"] is AttributeType.U32


def test_missing_attribute_is_named(netns: str) -> None:
    with Ethtool(netns=netns) as client, pytest.raises(NetlinkError) as caught:
        client.linkinfo(None)
    error = caught.value
    assert error.errno == errno.EINVAL
    assert error.missing is not None
    assert (error.missing.type, error.missing.name) == (1, "header")
