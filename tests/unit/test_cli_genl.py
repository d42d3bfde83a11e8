"""``nlwire genl`` against a fake kernel that answers with captured replies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlwire.cli.genl import describe_attribute_policy
from nlwire.cli.main import main
from nlwire.genl import Controller
from nlwire.socket import NetlinkSocket
from nlwire.socket.fake import FakeTransport, ack, done, reply
from nlwire.wire import Message, MessageFlags, iter_attributes, parse_messages
from nlwire.wire.capture import read_capture

DATA = Path(__file__).parent.parent / "data" / "decode"


def captured_replies(name: str) -> list[Message]:
    """The kernel's messages in a golden capture (everything after our request)."""
    datagrams = read_capture((DATA / name).read_bytes())
    return [message for d in datagrams[1:] for message in parse_messages(d.data)]


FAMILIES = [m for m in captured_replies("genl-ctrl-dump.hex") if m.type == 16]
POLICY = [m for m in captured_replies("genl-ctrl-policy.hex") if m.type == 16]


def family_name(message: Message) -> str:
    for type_, start, end in iter_attributes(message.raw, 20):
        if type_ == 2:
            return bytes(message.raw[start : end - 1]).decode()
    raise AssertionError("no family name")


def fake_kernel(request: Message) -> list[bytes]:
    """Answer GETFAMILY (dump or by name) and GETPOLICY (nlctrl) like the kernel did."""
    cmd = request.raw[16]
    if cmd == 3 and request.flags & MessageFlags.DUMP:
        answers = [reply(request, 16, bytes(m.payload), MessageFlags.MULTI) for m in FAMILIES]
        return [*answers, done(request)]
    if cmd == 3:
        wanted = bytes(request.raw[24:]).split(b"\0", 1)[0].decode()
        for message in FAMILIES:
            if family_name(message) == wanted:
                return [reply(request, 16, bytes(message.payload)), ack(request)]
        return [ack(request, -2)]
    if cmd == 10:
        answers = [reply(request, 16, bytes(m.payload), MessageFlags.MULTI) for m in POLICY]
        return [*answers, done(request)]
    return [ack(request, -95)]


@pytest.fixture(autouse=True)
def fake_controller(monkeypatch: pytest.MonkeyPatch) -> None:
    def open_fake(netns: str | None) -> Controller:
        return Controller(sock=NetlinkSocket(16, transport=FakeTransport(fake_kernel)))

    monkeypatch.setattr("nlwire.cli.genl.open_controller", open_fake)
    monkeypatch.setenv("NLWIRE_DEBUG", "0")  # restored after main() sets it


def test_list_text_has_a_row_per_family(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["genl", "list"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "ID", "VERSION", "HDRSIZE", "MAXATTR", "OPS", "GROUPS"]
    assert len(lines) == 1 + len(FAMILIES)
    assert lines[1].split() == ["nlctrl", "16", "2", "0", "0", "2", "notify"]
    assert any(line.split()[0] == "TASKSTATS" for line in lines)


def test_list_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["genl", "list", "--json"]) == 0

    families = json.loads(capsys.readouterr().out)
    assert [f["name"] for f in families] == [family_name(m) for m in FAMILIES]
    nlctrl = families[0]
    assert {key: nlctrl[key] for key in ("id", "version", "hdrsize", "maxattr")} == {
        "id": 16,
        "version": 2,
        "hdrsize": 0,
        "maxattr": 0,
    }
    assert [(op["id"], op["flags"]) for op in nlctrl["ops"]] == [(3, 14), (10, 12)]
    assert nlctrl["mcast_groups"] == [{"name": "notify", "id": 16}]


def test_show_names_operations_and_flags(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["genl", "show", "nlctrl"]) == 0

    out = capsys.readouterr().out
    assert out.startswith("nlctrl: id 16, version 2, hdrsize 0, maxattr 0\n")
    assert "CTRL_CMD_GETFAMILY" in out
    assert "do dump has-policy" in out
    assert "   16  notify" in out


def test_show_policy_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["genl", "show", "nlctrl", "--policy"]) == 0
    out = capsys.readouterr().out
    assert "op 3 CTRL_CMD_GETFAMILY: do policy 0, dump policy 0" in out
    assert "attr   2: nul-string max length 15" in out
    assert "attr   1: u16 range 0..65535" in out

    assert main(["genl", "show", "nlctrl", "--policy", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["name"] == "nlctrl"
    assert result["policy"]["policies"]["0"]["2"] == {"max_length": 15, "type": "NUL_STRING"}


def test_show_unknown_family_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["genl", "show", "no-such-family"]) == 1

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "nlwire: no generic netlink family 'no-such-family' in this kernel/namespace\n"
    )


def test_debug_prints_every_message_in_the_documented_layout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--debug", "genl", "show", "nlctrl"]) == 0

    err = capsys.readouterr().err.splitlines()
    heads = [line for line in err if line.startswith((">>> ", "<<< "))]
    assert heads[0].startswith(">>> send NETLINK_GENERIC 32 bytes: type=nlctrl(16) ")
    assert "flags=REQUEST|ACK" in heads[0]
    assert heads[1].startswith("<<< recv NETLINK_GENERIC ")
    assert heads[2].startswith("<<< recv NETLINK_GENERIC 52 bytes: type=ERROR(2) flags=0 ")
    assert err[1] == (
        '    {"header": {"cmd": "GETFAMILY", "version": 2, "reserved": 0}, '
        '"attrs": {"family_name": "nlctrl"}}'
    )
    assert err[2].startswith("    0000  20 00 00 00 10 00 05 00  ")


def test_debug_output_decodes_back_to_the_same_messages(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["--debug", "genl", "show", "TASKSTATS"]) == 0
    debug = capsys.readouterr().err
    (tmp_path / "debug.txt").write_text(debug)

    assert main(["decode", "--offline", str(tmp_path / "debug.txt")]) == 0

    assert capsys.readouterr().out == debug


@pytest.mark.parametrize(
    ("details", "text"),
    [
        ({"type": "U32", "min_value_u": 0, "max_value_u": 7}, "u32 range 0..7"),
        ({"type": "S16", "min_value_s": -3}, "s16 min range -3"),
        ({"type": "BINARY", "min_length": 4, "max_length": 16}, "binary length 4..16"),
        (
            {"type": "NESTED", "policy_idx": 2, "policy_maxtype": 9},
            "nested -> policy 2 (maxtype 9)",
        ),
        ({"type": "BITFIELD32", "bitfield32_mask": 7}, "bitfield32 bitfield32 mask 0x7"),
        ({"type": "UINT", "mask": 255}, "uint mask 0xff"),
        ({"type": "FLAG", "future_field": 1}, "flag future_field=1"),
    ],
)
def test_attribute_policy_text(details: dict[str, object], text: str) -> None:
    assert describe_attribute_policy(details) == text
