"""``nlwire decode`` on golden captures, hex variants, pcaps and bad input."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlwire.cli.main import main
from nlwire.genl import CTRL_SPEC
from nlwire.wire import pack_attribute, pack_message, parse_messages
from nlwire.wire.capture import read_capture

DATA = Path(__file__).parent.parent / "data" / "decode"
DUMP = DATA / "genl-ctrl-dump.hex"
EXTACK = DATA / "genl-extack.hex"


def decode_json(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, Any]]:
    assert main(["decode", "--offline", "--json", *argv]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def taskstats_id() -> int:
    """The TASKSTATS id in the golden dump (the kernel that captured it chose it)."""
    for datagram in read_capture(DUMP.read_bytes())[1:]:
        for message in parse_messages(datagram.data):
            attrs = CTRL_SPEC.decode(message).attrs
            if message.type == 16 and attrs.get("family_name") == "TASKSTATS":
                return int(attrs["family_id"])
    raise AssertionError("no TASKSTATS in the golden dump")


def taskstats_get(family_id: int) -> str:
    """A TASKSTATS_CMD_GET for pid 1, as hex."""
    payload = bytes((1, 1, 0, 0)) + pack_attribute(1, struct.pack("=I", 1))
    return pack_message(family_id, 0x5, 9, 0, payload).hex()


def test_golden_family_dump_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    records = decode_json(capsys, str(DUMP))

    first, last = records[0], records[-1]
    assert first["direction"] == "send"
    assert first["type"] == {"number": 16, "name": "nlctrl", "source": "static"}
    assert first["flags"] == {"value": 0x301, "names": ["REQUEST", "0x300"]}
    assert first["body"]["header"]["cmd"] == "GETFAMILY"
    assert last["type"]["name"] == "DONE"
    assert last["body"] == {"done": True}

    replies = records[1:-1]
    assert {r["direction"] for r in replies} == {"recv"}
    assert all(r["flags"]["names"] == ["MULTI"] for r in replies)
    names = {r["body"]["attrs"]["family_name"]: r["body"]["attrs"]["family_id"] for r in replies}
    assert names["nlctrl"] == 16
    assert names["TASKSTATS"] == taskstats_id()
    nlctrl = replies[0]["body"]["attrs"]
    assert nlctrl["mcast_groups"] == [{"id": 16, "name": "notify"}]
    assert all(r["protocol"] == {"number": 16, "name": "NETLINK_GENERIC"} for r in records)


def test_golden_extack_error(capsys: pytest.CaptureFixture[str]) -> None:
    request, error = decode_json(capsys, str(EXTACK))

    assert request["body"]["attrs"]["family_name"] == "x" * 40
    assert error["type"]["name"] == "ERROR"
    assert error["flags"]["names"] == ["ACK_TLVS"]
    assert error["body"]["error"] == 22
    assert error["body"]["extack"]["msg"] == "Attribute failed policy validation"
    assert error["body"]["extack"]["offs"] == 20
    assert error["body"]["request"] == {"type": 16, "seq": request["seq"]}


def test_text_output_is_the_debug_layout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", "--offline", str(EXTACK)]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert (
        lines[0]
        == ">>> send NETLINK_GENERIC 68 bytes: type=nlctrl(16) flags=REQUEST|ACK seq=2 port=0"
    )
    assert lines[1].startswith('    {"header": {"cmd": "GETFAMILY", "version": 2, "reserved": 0}')
    assert (
        lines[2] == "    0000  44 00 00 00 10 00 05 00  02 00 00 00 00 00 00 00  D..............."
    )
    assert lines[7].startswith("<<< recv NETLINK_GENERIC 156 bytes: type=ERROR(2) flags=0x200")


def test_family_ids_are_named_from_the_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    family_id = taskstats_id()
    path = tmp_path / "both.hex"
    path.write_text(DUMP.read_text() + "\n" + taskstats_get(family_id) + "\n")

    records = decode_json(capsys, str(path))

    assert records[-1]["type"] == {"number": family_id, "name": "TASKSTATS", "source": "input"}
    assert records[-1]["body"]["header"] == {
        "cmd": "TASKSTATS_CMD_GET",
        "version": 1,
        "reserved": 0,
    }
    assert records[-1]["body"]["attrs"] == {"pid": 1}


def test_family_ids_from_the_running_kernel_are_marked_as_guesses(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("nlwire.cli.decode._KernelFamilies._ask", lambda self: {40: "TASKSTATS"})
    path = tmp_path / "one.hex"
    path.write_text(taskstats_get(40))

    assert main(["decode", str(path)]) == 0
    out = capsys.readouterr().out
    assert "type=TASKSTATS?(40)" in out
    assert out.splitlines()[-1].startswith(
        "# type names marked '?' are generic netlink family ids"
    )

    assert main(["decode", "--json", str(path)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["type"] == {"number": 40, "name": "TASKSTATS", "source": "guess"}


def test_offline_leaves_unknown_ids_unnamed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "one.hex"
    path.write_text(taskstats_get(40))

    assert main(["decode", "--offline", str(path)]) == 0

    assert capsys.readouterr().out.startswith(">>> send NETLINK_GENERIC 28 bytes: type=?(40) ")


def test_pcap_of_the_golden_dump_decodes_the_same(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    datagrams = read_capture(DUMP.read_bytes())
    pcap = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 253)
    for index, datagram in enumerate(datagrams):
        packet_type = 7 if index == 0 else 6
        packet = struct.pack(">HHH8sH", packet_type, 824, 0, b"", 16) + datagram.data
        pcap += struct.pack("<IIII", 1700000000, index, len(packet), len(packet)) + packet
    (tmp_path / "dump.pcap").write_bytes(pcap)

    from_hex = decode_json(capsys, str(DUMP))
    from_pcap = decode_json(capsys, str(tmp_path / "dump.pcap"))

    assert from_pcap[0]["where"] == "packet 1 at byte 24"
    assert from_pcap[1]["time"] == pytest.approx(1700000000.000001)
    strip = ("where", "time")
    assert [{k: v for k, v in r.items() if k not in strip} for r in from_pcap] == [
        {k: v for k, v in r.items() if k not in strip} for r in from_hex
    ]


def test_stdin_and_route_protocol(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    getlink = pack_message(18, 0x301, 1, 0, bytes(16))
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(getlink.hex().encode())))

    assert main(["decode", "--protocol", "route"]) == 0

    out = capsys.readouterr().out
    assert out.startswith(">>> send NETLINK_ROUTE 32 bytes: type=RTM_GETLINK(18) ")
    assert '"header": {"family": 0, "type": 0, "index": 0, "flags": 0, "change": 0}' in out


def test_short_fixed_header_is_shown_as_bytes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "rtgenmsg.hex"
    path.write_text(pack_message(18, 0x301, 1, 0, b"\x00\x00\x00\x00").hex())

    assert main(["decode", "-p", "0", "--json", str(path)]) == 0

    assert json.loads(capsys.readouterr().out)["body"] == {"payload": "00000000"}


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("1c000000 10000500", "line 1: 8 stray bytes after the last netlink message"),
        (
            "40000000 10000500 00000000 00000000",
            "line 1: netlink message at byte 0 claims 64 bytes",
        ),
        ("10 00 00 00 gg", "line 1, column 13: 'g' is not a hex digit"),
        ("", "no netlink messages in the input"),
    ],
)
def test_malformed_input_is_one_line_with_the_place(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, error: str
) -> None:
    path = tmp_path / "bad.hex"
    path.write_text(text)

    assert main(["decode", "--offline", str(path)]) == 1

    captured = capsys.readouterr()
    assert captured.err.startswith(f"nlwire: {path}: {error}")
    assert captured.err.count("\n") == 1


def test_good_datagrams_are_printed_before_the_bad_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "half.hex"
    path.write_text(taskstats_get(40) + "\n\n" + "ff000000 10000500 00000000 00000000\n")

    assert main(["decode", "--offline", str(path)]) == 1

    captured = capsys.readouterr()
    assert captured.out.startswith(">>> send NETLINK_GENERIC 28 bytes")
    assert captured.err == (
        f"nlwire: {path}: line 3: netlink message at byte 0 claims 255 bytes, "
        "16 remain (minimum 16)\n"
    )


def test_undecodable_body_is_shown_and_fails(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad_id = pack_attribute(1, b"\x10\x00\x00\x00")  # CTRL_ATTR_FAMILY_ID is a u16
    path = tmp_path / "bad-body.hex"
    path.write_text(pack_message(16, 0x5, 3, 0, bytes((3, 2, 0, 0)) + bad_id).hex())

    assert main(["decode", "--offline", str(path)]) == 1

    captured = capsys.readouterr()
    assert "    undecodable: u16 attribute of 4 bytes (expected 2)" in captured.out
    assert captured.err == (
        f"nlwire: {path}: line 1: nlctrl (type 16): undecodable: u16 attribute of 4 bytes "
        "(expected 2)\n"
    )


def test_missing_file_and_bad_protocol(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "missing.hex"
    assert main(["decode", str(missing)]) == 1
    assert (
        capsys.readouterr().err == f"nlwire: {missing}: cannot read: No such file or directory\n"
    )

    with pytest.raises(SystemExit) as exit_info:
        main(["decode", "--protocol", "ethernet", str(missing)])
    assert exit_info.value.code == 2
    assert "'ethernet' is not a netlink protocol" in capsys.readouterr().err


def test_extack_offset_is_named_as_a_request_attribute(capsys: pytest.CaptureFixture[str]) -> None:
    _, error = decode_json(capsys, str(EXTACK))
    assert error["body"]["extack"]["attr_path"] == ["family_name"]

    assert main(["decode", "--offline", str(EXTACK)]) == 0
    out = capsys.readouterr().out
    assert out.endswith("    extack offset 20 is attribute family_name of the request\n")


def test_capped_error_finds_its_request_in_the_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    request = read_capture(EXTACK.read_bytes())[0].data
    tlvs = pack_attribute(1, b"too long\0") + pack_attribute(2, struct.pack("=I", 20))
    error = pack_message(2, 0x300, 2, 77, struct.pack("=i", -22) + request[:16] + tlvs)
    path = tmp_path / "capped.hex"
    path.write_text(f"{request.hex()}\n\n{error.hex()}\n")

    _, record = decode_json(capsys, str(path))

    assert record["flags"]["names"] == ["CAPPED", "ACK_TLVS"]
    assert record["body"]["extack"] == {
        "msg": "too long",
        "offs": 20,
        "attr_path": ["family_name"],
    }


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.binary(max_size=64)),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from(["route", "generic", "netfilter", "9"]),
)
def test_any_framed_input_is_decoded_or_reported_never_crashes(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    messages: list[tuple[int, int, bytes]],
    protocol: str,
) -> None:
    data = b"".join(pack_message(type_, flags, 1, 0, body) for type_, flags, body in messages)
    path = tmp_path / "random.hex"
    path.write_text(data.hex())

    status = main(["decode", "--offline", "--protocol", protocol, "--json", str(path)])

    captured = capsys.readouterr()
    assert status in (0, 1)
    assert "internal error" not in captured.err
    assert captured.err.count("\n") == status
    assert len(captured.out.splitlines()) == len(messages)
