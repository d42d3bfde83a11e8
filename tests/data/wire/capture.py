"""Capture real kernel errors with extended ACKs as golden test data.

Run as root from the repository root::

    .venv/bin/python tests/data/wire/capture.py

It writes ``extack.json`` next to itself: requests to the ``ethtool``
generic netlink family that this kernel rejects, each with the request as
sent (hex), the kernel's answer exactly as received (hex) and what the
answer must decode to.

The expected values are facts, not nlwire's output: the errno and message
text come from the kernel source (net/ethtool/netlink.c, lib/nlattr.c),
the offsets from the layout of the request this script builds by hand
(16-byte netlink header, 4-byte genl header, then attributes), and the
policy from the type of ``ETHTOOL_A_HEADER_DEV_INDEX`` (``NLA_U32``).

The requests go through nlwire's socket with a recording transport, as the
family id must be resolved first; one error is captured with
``NETLINK_CAP_ACK`` turned off, so the kernel echoes the whole request.
"""

from __future__ import annotations

import json
import platform
import struct
from pathlib import Path
from typing import Any

from nlwire.errors import NetlinkError
from nlwire.genl import Controller
from nlwire.socket import NETLINK_CAP_ACK, NETLINK_GENERIC, SOL_NETLINK, NetlinkSocket
from nlwire.socket.fake import RecordingTransport

HERE = Path(__file__).parent

ETHTOOL_MSG_LINKINFO_GET = 2
ETHTOOL_A_LINKINFO_HEADER = 1
ETHTOOL_A_HEADER_DEV_INDEX = 1
ETHTOOL_A_HEADER_DEV_NAME = 2
NLA_F_NESTED = 0x8000
NL_ATTR_TYPE_U32 = 4
NO_SUCH_DEVICE = "nosuchdev0"


def attribute(type_: int, value: bytes) -> bytes:
    length = 4 + len(value)
    return struct.pack("=HH", length, type_) + value + b"\0" * (-length % 4)


def linkinfo_request(header: bytes) -> bytes:
    """The genl payload: LINKINFO_GET, version 1, then the header nest (if any)."""
    nest = attribute(ETHTOOL_A_LINKINFO_HEADER | NLA_F_NESTED, header) if header else b""
    return bytes((ETHTOOL_MSG_LINKINFO_GET, 1, 0, 0)) + nest


def capture(payload: bytes, *, capped: bool) -> tuple[bytes, bytes]:
    """Send ``payload`` to ethtool; return the request and the error datagram."""
    recorder = RecordingTransport(NETLINK_GENERIC)
    with NetlinkSocket(NETLINK_GENERIC, transport=recorder) as sock:
        family = Controller(sock=sock).get_family("ethtool").id
        if not capped:
            recorder.sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 0)
        try:
            sock.request(family, payload)
        except NetlinkError:
            pass
        else:
            raise SystemExit("the kernel accepted a request meant to fail")
    return recorder.sent[-1], recorder.received[-1]


def main() -> None:
    """Capture each error and write ``extack.json``."""
    dev_name = attribute(ETHTOOL_A_HEADER_DEV_NAME, NO_SUCH_DEVICE.encode() + b"\0")
    short_index = attribute(ETHTOOL_A_HEADER_DEV_INDEX, b"\1\0")
    inner_offset = 16 + 4 + 4  # nlmsghdr, genlmsghdr, the header nest's nlattr
    cases = {
        "no_device_capped": (
            linkinfo_request(dev_name),
            True,
            {"errno": 19, "message": "no device matches name", "offset": inner_offset,
             "attr_path": [ETHTOOL_A_LINKINFO_HEADER, ETHTOOL_A_HEADER_DEV_NAME]},
        ),
        "no_device_uncapped": (
            linkinfo_request(dev_name),
            False,
            {"errno": 19, "message": "no device matches name", "offset": inner_offset,
             "attr_path": [ETHTOOL_A_LINKINFO_HEADER, ETHTOOL_A_HEADER_DEV_NAME]},
        ),
        "bad_length_policy": (
            linkinfo_request(short_index),
            True,
            {"errno": 22, "message": "invalid attribute length", "offset": inner_offset,
             "attr_path": [ETHTOOL_A_LINKINFO_HEADER, ETHTOOL_A_HEADER_DEV_INDEX],
             "policy_type": NL_ATTR_TYPE_U32},
        ),
        "missing_header": (
            linkinfo_request(b""),
            True,
            {"errno": 22, "message": None, "offset": None, "attr_path": [],
             "missing_type": ETHTOOL_A_LINKINFO_HEADER, "missing_nest": None},
        ),
    }  # fmt: skip
    document: dict[str, Any] = {"kernel": platform.release()}
    for name, (payload, capped, expected) in cases.items():
        request, answer = capture(payload, capped=capped)
        document[name] = {
            "request": request.hex(),
            "datagram": answer.hex(),
            "capped": capped,
            "expected": expected,
        }
    (HERE / "extack.json").write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    main()
