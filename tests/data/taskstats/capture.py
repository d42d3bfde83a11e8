"""Capture real TASKSTATS replies from this kernel as golden test data.

Run as root from the repository root::

    .venv/bin/python tests/data/taskstats/capture.py

It writes ``golden.json`` next to itself: for each capture the whole netlink
message as hex and the expected decoding. The expected values are read here
field by field at the offsets of the kernel header (a plain offset table,
independent of nlwire's decoder), so the unit tests cross-check the two.
It uses nothing from nlwire: a raw socket, hand-packed requests.

It temporarily turns ``kernel.task_delayacct`` on (so the delay categories
are filled) and restores it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
NLM_F_REQUEST, NLM_F_ACK = 1, 4

# Offsets from the v16 kernel header (x86_64): name -> (offset, struct code).
OFFSETS = {
    "version": (0, "H"), "ac_exitcode": (4, "I"), "ac_flag": (8, "B"), "ac_nice": (9, "b"),
    "cpu_count": (16, "Q"), "cpu_delay_total": (24, "Q"), "blkio_count": (32, "Q"),
    "blkio_delay_total": (40, "Q"), "swapin_count": (48, "Q"),
    "swapin_delay_total": (56, "Q"), "cpu_run_real_total": (64, "Q"),
    "cpu_run_virtual_total": (72, "Q"), "ac_comm": (80, "32s"), "ac_sched": (112, "B"),
    "ac_uid": (120, "I"), "ac_gid": (124, "I"), "ac_pid": (128, "I"), "ac_ppid": (132, "I"),
    "ac_btime": (136, "I"), "ac_etime": (144, "Q"), "ac_utime": (152, "Q"),
    "ac_stime": (160, "Q"), "ac_minflt": (168, "Q"), "ac_majflt": (176, "Q"),
    "coremem": (184, "Q"), "virtmem": (192, "Q"), "hiwater_rss": (200, "Q"),
    "hiwater_vm": (208, "Q"), "read_char": (216, "Q"), "write_char": (224, "Q"),
    "read_syscalls": (232, "Q"), "write_syscalls": (240, "Q"), "read_bytes": (248, "Q"),
    "write_bytes": (256, "Q"), "cancelled_write_bytes": (264, "Q"), "nvcsw": (272, "Q"),
    "nivcsw": (280, "Q"), "ac_utimescaled": (288, "Q"), "ac_stimescaled": (296, "Q"),
    "cpu_scaled_run_real_total": (304, "Q"), "freepages_count": (312, "Q"),
    "freepages_delay_total": (320, "Q"), "thrashing_count": (328, "Q"),
    "thrashing_delay_total": (336, "Q"), "ac_btime64": (344, "Q"),
    "compact_count": (352, "Q"), "compact_delay_total": (360, "Q"), "ac_tgid": (368, "I"),
    "ac_tgetime": (376, "Q"), "ac_exe_dev": (384, "Q"), "ac_exe_inode": (392, "Q"),
    "wpcopy_count": (400, "Q"), "wpcopy_delay_total": (408, "Q"), "irq_count": (416, "Q"),
    "irq_delay_total": (424, "Q"),
}  # fmt: skip
for _i, _cat in enumerate(
    ("cpu", "blkio", "swapin", "freepages", "thrashing", "compact", "wpcopy", "irq")
):
    OFFSETS[f"{_cat}_delay_max"] = (432 + 16 * _i, "Q")
    OFFSETS[f"{_cat}_delay_min"] = (440 + 16 * _i, "Q")


def decode_by_offsets(data: bytes) -> dict[str, object]:
    """Read every v16 field of a 560-byte struct at its header offset."""
    out: dict[str, object] = {}
    for name, (offset, code) in OFFSETS.items():
        value = struct.unpack_from("=" + code, data, offset)[0]
        if name == "ac_comm":
            value = value.split(b"\0", 1)[0].decode()
        out[name] = value
    return out


def open_socket() -> socket.socket:
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind((0, 0))
    return sock


def attr(type_: int, value: bytes) -> bytes:
    length = 4 + len(value)
    return struct.pack("=HH", length, type_) + value + b"\0" * (-length % 4)


def request(family: int, cmd: int, attrs: bytes, seq: int, flags: int = NLM_F_REQUEST) -> bytes:
    return struct.pack("=IHHIIBBH", 20 + len(attrs), family, flags, seq, 0, cmd, 1, 0) + attrs


def messages(data: bytes) -> list[bytes]:
    out, offset = [], 0
    while offset + 16 <= len(data):
        length = struct.unpack_from("=I", data, offset)[0]
        out.append(data[offset : offset + length])
        offset += (length + 3) & ~3
    return out


def family_id(sock: socket.socket) -> int:
    sock.send(request(GENL_ID_CTRL, 3, attr(2, b"TASKSTATS\0"), 1))
    reply = messages(sock.recv(65536))[0]
    offset = 20
    while offset < len(reply):
        length, type_ = struct.unpack_from("=HH", reply, offset)
        if type_ == 1:
            return int(struct.unpack_from("=H", reply, offset + 4)[0])
        offset += (length + 3) & ~3
    raise SystemExit("TASKSTATS family not found")


def top_attrs(message: bytes) -> list[tuple[int, bytes]]:
    out, offset = [], 20
    while offset + 4 <= len(message):
        length, type_ = struct.unpack_from("=HH", message, offset)
        out.append((type_ & 0x3FFF, message[offset + 4 : offset + length]))
        offset += (length + 3) & ~3
    return out


def expected(message: bytes) -> dict[str, object]:
    """The expected decoding: ids and stats of each aggregate, by offsets."""
    out: dict[str, object] = {}
    for type_, nest in top_attrs(message):
        if type_ not in (4, 5):
            continue
        ident = struct.unpack_from("=I", nest, 4)[0]
        stats = nest[12 : 12 + 560]
        key, stats_key = ("pid", "stats") if type_ == 4 else ("tgid", "group_stats")
        out[key] = ident
        out[stats_key] = decode_by_offsets(stats)
    return out


def query(sock: socket.socket, family: int, attr_type: int, ident: int, seq: int) -> bytes:
    sock.send(request(family, 1, attr(attr_type, struct.pack("=I", ident)), seq))
    return messages(sock.recv(65536))[0]


THREADS = (
    "import threading,time,sys\n"
    "ts=[threading.Thread(target=time.sleep,args=(float(sys.argv[1]),)) for _ in range(3)]\n"
    "[t.start() for t in ts]\n"
    "sum(range(200000))\n"
    "open('/etc/hostname','rb').read()\n"
    "[t.join() for t in ts]\n"
    "sys.exit(3)\n"
)


def capture_exit(family: int, cpus: str) -> bytes:
    """Register for exits, run a 4-thread process, return its AGGR_TGID record."""
    with open_socket() as sock:
        mask = attr(3, cpus.encode() + b"\0")
        sock.send(request(family, 1, mask, 10, NLM_F_REQUEST | NLM_F_ACK))
        sock.recv(65536)
        child = subprocess.Popen([sys.executable, "-c", THREADS, "0.2"])
        child.wait()
        sock.settimeout(5.0)
        try:
            while True:
                for message in messages(sock.recv(65536)):
                    types = [t for t, _ in top_attrs(message)]
                    if 5 in types and expected(message).get("tgid") == child.pid:
                        return message
        finally:
            sock.send(request(family, 1, attr(4, cpus.encode() + b"\0"), 11))


def capture_cgroupstats(family: int, path: str) -> tuple[bytes, list[int]]:
    with open_socket() as sock:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            sock.send(request(family, 4, attr(1, struct.pack("=I", fd)), 20))
            message = messages(sock.recv(65536))[0]
        finally:
            os.close(fd)
    value = top_attrs(message)[0][1]
    return message, list(struct.unpack("=5Q", value[:40]))


def main() -> None:
    sysctl = Path("/proc/sys/kernel/task_delayacct")
    old = sysctl.read_text().strip()
    sysctl.write_text("1\n")
    try:
        captures = run_captures()
    finally:
        sysctl.write_text(old + "\n")
    (HERE / "golden.json").write_text(json.dumps(captures, indent=1) + "\n")
    print(f"wrote {len(captures)} captures to {HERE / 'golden.json'}")


def run_captures() -> dict[str, object]:
    captures: dict[str, object] = {}
    cpus = f"0-{os.cpu_count() - 1}" if (os.cpu_count() or 1) > 1 else "0"
    with open_socket() as sock:
        family = family_id(sock)

        # A stopped process: its numbers cannot move while we read them.
        sleeper = subprocess.Popen(["sleep", "30"])
        time.sleep(0.1)
        os.kill(sleeper.pid, signal.SIGSTOP)
        message = query(sock, family, 1, sleeper.pid, 2)
        captures["pid_reply"] = {"hex": message.hex(), "expected": expected(message)}

        # A multi-threaded process: a TGID query.
        threads = subprocess.Popen([sys.executable, "-c", THREADS, "2"])
        time.sleep(0.5)
        message = query(sock, family, 2, threads.pid, 3)
        captures["tgid_reply"] = {"hex": message.hex(), "expected": expected(message)}
        sleeper.kill()
        threads.kill()
        sleeper.wait()
        threads.wait()

    message = capture_exit(family, cpus)
    captures["exit_aggr_tgid"] = {"hex": message.hex(), "expected": expected(message)}
    message, values = capture_cgroupstats(family, "/sys/fs/cgroup/cpu")
    captures["cgroupstats"] = {"hex": message.hex(), "expected": values}
    return captures


if __name__ == "__main__":
    main()
