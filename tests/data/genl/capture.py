"""Capture generic netlink controller dumps from this kernel as golden data.

Run as root from the repository root::

    .venv/bin/python tests/data/genl/capture.py

It writes two files next to itself:

* ``family_dump.json``: a ``CTRL_CMD_GETFAMILY`` dump (every family);
* ``policy_dump.json``: a ``CTRL_CMD_GETPOLICY`` dump of the ``netdev``
  family (attribute policies, nested policy references, op policies).

Each file holds the request exactly as sent (hex), every datagram the kernel
answered with, exactly as received (hex), and the expected decoding. The
expected decoding does not come from nlwire's decoder: it is parsed from
iproute2's ``genl ctrl list`` / ``genl ctrl policy`` output, run at the same
moment, so the unit tests check nlwire against another implementation.

The requests go through nlwire's own socket (a recording transport wraps
the kernel socket), so the datagrams are what nlwire really reads.
"""

from __future__ import annotations

import json
import platform
import re
import subprocess
from pathlib import Path
from typing import Any

from nlwire.genl import Controller
from nlwire.socket import NETLINK_GENERIC, NetlinkSocket
from nlwire.socket.fake import RecordingTransport

HERE = Path(__file__).parent
POLICY_FAMILY = "netdev"


def capture(run: Any) -> tuple[bytes, list[bytes]]:
    """Run ``run(controller)`` on a recording socket; return request and replies."""
    recorder = RecordingTransport(NETLINK_GENERIC)
    with NetlinkSocket(NETLINK_GENERIC, transport=recorder) as sock:
        run(Controller(sock=sock))
    assert len(recorder.sent) == 1, "expected exactly one request"
    return recorder.sent[0], recorder.received


def genl(*args: str) -> str:
    return subprocess.run(["genl", *args], check=True, capture_output=True, text=True).stdout


def families_from_iproute2(text: str) -> list[dict[str, Any]]:
    """Parse ``genl ctrl list`` into the layout of ``Family.to_dict()``.

    iproute2 prints an operation's capabilities only for families of
    version 2 and above; elsewhere the expected ``flags`` are ``None``.
    """
    families: list[dict[str, Any]] = []
    section = ""
    for line in text.splitlines():
        if match := re.match(r"Name: (\S+)", line):
            families.append({"name": match[1], "ops": [], "mcast_groups": []})
            continue
        family = families[-1] if families else {}
        if match := re.search(
            r"ID: (0x[0-9a-f]+)\s+Version: (0x[0-9a-f]+)\s+header size: (\d+)\s+"
            r"max attribs: (\d+)",
            line,
        ):
            family.update(
                id=int(match[1], 16),
                version=int(match[2], 16),
                hdrsize=int(match[3]),
                maxattr=int(match[4]),
            )
        elif "commands supported" in line:
            section = "ops"
        elif "multicast groups" in line:
            section = "groups"
        elif match := re.search(r"#\d+:\s+ID-(0x[0-9a-f]+)\s+name: (\S+)", line):
            family["mcast_groups"].append({"name": match[2], "id": int(match[1], 16)})
        elif section == "ops" and (match := re.search(r"#\d+:\s+ID-(0x[0-9a-f]+)", line)):
            family["ops"].append({"id": int(match[1], 16), "flags": None})
        elif match := re.search(r"Capabilities \((0x[0-9a-f]+)\)", line):
            family["ops"][-1]["flags"] = int(match[1], 16)
    return families


def policy_from_iproute2(text: str) -> dict[str, Any]:
    """Parse ``genl ctrl policy`` into the layout of ``FamilyPolicy.to_dict()``.

    Types iproute2 does not know are printed as ``unknown``; those are left
    out of the expected policy (the test checks only what iproute2 saw).
    """
    ops: dict[str, dict[str, int]] = {}
    policies: dict[str, dict[str, dict[str, Any]]] = {}
    for line in text.splitlines():
        if match := re.search(r"op (\d+) policies:(.*)", line):
            which = dict(re.findall(r"(do|dump)=(\d+)", match[2]))
            ops[match[1]] = {key: int(value) for key, value in which.items()}
        elif match := re.search(r"policy\[(\d+)\]:attr\[(\d+)\]: type=(\S+)(.*)", line):
            policies.setdefault(match[1], {})[match[2]] = policy_details(match[3], match[4])
        elif line.strip():
            raise ValueError(f"unexpected genl ctrl policy line: {line!r}")
    return {"policies": policies, "ops": ops}


def policy_details(kind: str, rest: str) -> dict[str, Any]:
    details: dict[str, Any] = {} if kind == "unknown" else {"type": kind}
    signed = kind.startswith("S")
    if match := re.search(r"range:\[(-?\d+),(-?\d+)\]", rest):
        suffix = "s" if signed else "u"
        details[f"min_value_{suffix}"] = int(match[1])
        details[f"max_value_{suffix}"] = int(match[2])
    if match := re.search(r"min len:(\d+)", rest):
        details["min_length"] = int(match[1])
    if match := re.search(r"max len:(\d+)", rest):
        details["max_length"] = int(match[1])
    if match := re.search(r"policy:(\d+) maxattr:(\d+)", rest):
        details["policy_idx"] = int(match[1])
        details["policy_maxtype"] = int(match[2])
    return details


def write(
    name: str, description: str, request: bytes, replies: list[bytes], expected: Any
) -> None:
    document = {
        "description": description,
        "kernel": platform.release(),
        "request": request.hex(),
        "datagrams": [datagram.hex() for datagram in replies],
        "expected": expected,
    }
    (HERE / name).write_text(json.dumps(document, indent=1) + "\n")


def main() -> None:
    """Capture both dumps and write them next to this script."""
    request, replies = capture(lambda ctrl: ctrl.list_families())
    expected = families_from_iproute2(genl("ctrl", "list"))
    write(
        "family_dump.json",
        "CTRL_CMD_GETFAMILY dump; expected = iproute2 'genl ctrl list'",
        request,
        replies,
        expected,
    )

    request, replies = capture(lambda ctrl: ctrl.get_policy(POLICY_FAMILY))
    expected = policy_from_iproute2(genl("ctrl", "policy", "name", POLICY_FAMILY))
    write(
        "policy_dump.json",
        f"CTRL_CMD_GETPOLICY dump of {POLICY_FAMILY}; expected = iproute2 'genl ctrl policy'",
        request,
        replies,
        {"family": POLICY_FAMILY, **expected},
    )


if __name__ == "__main__":
    main()
