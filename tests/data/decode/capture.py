"""Capture the golden inputs of the ``nlwire decode`` tests from the running kernel.

Run as ``.venv/bin/python tests/data/decode/capture.py`` (no root needed).
It talks to the generic netlink controller over a plain socket and writes
each datagram, sent and received, as ``xxd -p``-style hex with a blank
line between datagrams:

* ``genl-ctrl-dump.hex``: a ``CTRL_CMD_GETFAMILY`` dump and its replies;
* ``genl-ctrl-policy.hex``: a ``CTRL_CMD_GETPOLICY`` dump of ``nlctrl``;
* ``genl-extack.hex``: a ``CTRL_CMD_GETFAMILY`` whose family name is too
  long, and the kernel's error with an extended ACK (message, offset, policy).
"""

from __future__ import annotations

import socket
import struct
from pathlib import Path

HERE = Path(__file__).parent
NETLINK_GENERIC = 16
SOL_NETLINK = 270
NETLINK_EXT_ACK = 11
GENL_ID_CTRL = 16
CTRL_CMD_GETPOLICY = 10
CTRL_ATTR_FAMILY_NAME = 2
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 0x1, 0x4, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3


def request(seq: int, flags: int, attrs: bytes = b"", cmd: int = 3) -> bytes:
    payload = bytes((cmd, 2, 0, 0)) + attrs
    return struct.pack("=IHHII", 16 + len(payload), GENL_ID_CTRL, flags, seq, 0) + payload


def exchange(sock: socket.socket, data: bytes) -> list[bytes]:
    sock.send(data)
    datagrams = []
    while True:
        reply = sock.recv(1 << 16)
        datagrams.append(reply)
        offset = 0
        while offset < len(reply):
            length, type_ = struct.unpack_from("=IH", reply, offset)
            if type_ in (NLMSG_ERROR, NLMSG_DONE):
                return datagrams
            offset += (length + 3) & ~3


def as_hex(datagrams: list[bytes], comment: str) -> str:
    blocks = []
    for data in datagrams:
        lines = [data[i : i + 30].hex() for i in range(0, len(data), 30)]
        blocks.append("\n".join(lines))
    return f"# {comment}\n" + "\n\n".join(blocks) + "\n"


def main() -> None:
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC) as sock:
        sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        sock.bind((0, 0))
        dump = request(1, NLM_F_REQUEST | NLM_F_DUMP)
        text = as_hex([dump, *exchange(sock, dump)], "CTRL_CMD_GETFAMILY dump and replies")
        (HERE / "genl-ctrl-dump.hex").write_text(text)

        nlctrl = struct.pack("=HH", 11, CTRL_ATTR_FAMILY_NAME) + b"nlctrl\0\0"
        policy = request(3, NLM_F_REQUEST | NLM_F_DUMP, nlctrl, cmd=CTRL_CMD_GETPOLICY)
        text = as_hex([policy, *exchange(sock, policy)], "CTRL_CMD_GETPOLICY dump of nlctrl")
        (HERE / "genl-ctrl-policy.hex").write_text(text)

        name = b"x" * 40 + b"\0"  # longer than GENL_NAMSIZ: fails the policy
        long_name = struct.pack("=HH", 4 + len(name), CTRL_ATTR_FAMILY_NAME) + name + b"\0" * 3
        bad = request(2, NLM_F_REQUEST | NLM_F_ACK, long_name)
        text = as_hex([bad, *exchange(sock, bad)], "GETFAMILY with a 40-character name: EINVAL")
        (HERE / "genl-extack.hex").write_text(text)


if __name__ == "__main__":
    main()
