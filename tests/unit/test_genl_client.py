"""The controller and a family client against a fake nlctrl kernel."""

from __future__ import annotations

import enum
import errno
import struct

import pytest

from nlwire.errors import NetlinkError
from nlwire.genl import (
    CTRL,
    CTRL_SPEC,
    GENL_ID_CTRL,
    Controller,
    CtrlCmd,
    FamilyNotFound,
    GenlClient,
    OpFlags,
    genl_header,
)
from nlwire.socket import NETLINK_GENERIC, NetlinkSocket
from nlwire.socket.fake import FakeTransport, ack, done, reply
from nlwire.wire import NUL_STRING, U32, AttrSet, Message, MessageFlags

ECHO_ID = 0x1F


class EchoAttr(enum.IntEnum):
    TEXT = 1
    COUNT = 2


class EchoCmd(enum.IntEnum):
    SAY = 1
    LIST = 2


ECHO = AttrSet("echo", EchoAttr, {EchoAttr.TEXT: NUL_STRING, EchoAttr.COUNT: U32})

FAMILIES = {
    "nlctrl": {
        "family_id": GENL_ID_CTRL,
        "family_name": "nlctrl",
        "version": 2,
        "ops": [{"id": 3, "flags": 0xE}],
        "mcast_groups": [{"name": "notify", "id": 16}],
    },
    "echo": {
        "family_id": ECHO_ID,
        "family_name": "echo",
        "version": 1,
        "maxattr": 2,
        "ops": [{"id": 1, "flags": OpFlags.CMD_CAP_DO}, {"id": 2, "flags": 0x4}],
        "mcast_groups": [{"name": "events", "id": 40}],
    },
}


def family_message(req: Message, name: str, flags: int = 0) -> bytes:
    body = bytes((CtrlCmd.NEWFAMILY, 2, 0, 0)) + CTRL.encode(FAMILIES[name])
    return reply(req, GENL_ID_CTRL, body, flags)


def kernel(req: Message) -> list[bytes]:
    """nlctrl (GETFAMILY by name or dump) and a small 'echo' family."""
    if req.type == GENL_ID_CTRL:
        attrs = CTRL_SPEC.decode(req).attrs
        if req.flags & MessageFlags.DUMP == MessageFlags.DUMP:
            return [*(family_message(req, n, MessageFlags.MULTI) for n in FAMILIES), done(req)]
        name = attrs["family_name"]
        if name not in FAMILIES:
            return [ack(req, -errno.ENOENT)]
        return [family_message(req, name), ack(req)]
    cmd, version = bytes(req.payload[:2])
    text = ECHO.decode(req.payload[4:]).get("text", "")
    answer = bytes((cmd, version, 0, 0)) + ECHO.encode({"text": text.upper(), "count": cmd})
    if req.flags & MessageFlags.DUMP == MessageFlags.DUMP:
        flags = MessageFlags.MULTI
        return [reply(req, ECHO_ID, answer, flags), reply(req, ECHO_ID, answer, flags), done(req)]
    return [reply(req, ECHO_ID, answer), ack(req)]


class EchoClient(GenlClient):
    """A family client the way family packages write them."""

    FAMILY = "echo"
    VERSION = 1
    ATTRS = ECHO
    COMMANDS = EchoCmd

    def say(self, text: str) -> str:
        (record,) = self.request(EchoCmd.SAY, {"text": text})
        answer: str = record.attrs["text"]
        return answer


def fake_socket() -> NetlinkSocket:
    return NetlinkSocket(NETLINK_GENERIC, transport=FakeTransport(kernel))


def sent_by(sock: NetlinkSocket) -> list[bytes]:
    """Every datagram the socket sent to the fake kernel."""
    fake = sock._sock
    assert isinstance(fake, FakeTransport)
    return fake.sent


def test_get_family_by_name() -> None:
    with Controller(sock=fake_socket()) as ctrl:
        family = ctrl.get_family("echo")
        (sent,) = sent_by(ctrl.sock)
    assert family.id == ECHO_ID and family.version == 1 and family.maxattr == 2
    assert [op.id for op in family.ops] == [1, 2]
    assert family.ops[0].flags == OpFlags.CMD_CAP_DO
    assert family.to_dict()["ops"][1]["flag_names"] == ["CMD_CAP_DUMP"]
    assert sent[16:20] == bytes((CtrlCmd.GETFAMILY, 2, 0, 0))
    assert sent[20:] == CTRL.encode({"family_name": "echo"})


def test_unknown_family_is_family_not_found() -> None:
    with Controller(sock=fake_socket()) as ctrl:
        with pytest.raises(FamilyNotFound) as caught:
            ctrl.get_family("nosuch")
        assert isinstance(caught.value, FileNotFoundError)
        assert isinstance(caught.value, NetlinkError)
        assert caught.value.errno == errno.ENOENT
        assert "'nosuch'" in str(caught.value)


def test_list_families_and_multicast_group() -> None:
    with Controller(sock=fake_socket()) as ctrl:
        assert [f.name for f in ctrl.list_families()] == ["nlctrl", "echo"]
        assert ctrl.get_multicast_group("echo", "events") == 40
        with pytest.raises(KeyError, match="no multicast group 'nope'"):
            ctrl.get_multicast_group("echo", "nope")


def test_family_client_resolves_its_id_and_speaks_its_commands() -> None:
    with EchoClient(sock=fake_socket()) as client:
        assert client.family.id == ECHO_ID
        assert client.say("hi") == "HI"
        sent = sent_by(client.sock)[-1]
        assert struct.unpack_from("=H", sent, 4)[0] == ECHO_ID
        assert sent[16:20] == bytes((EchoCmd.SAY, 1, 0, 0))
        records = client.dump(EchoCmd.LIST)
        assert [r.header["cmd"] for r in records if r.header] == [EchoCmd.LIST] * 2
        assert client.sock.type_names[ECHO_ID] == "echo"


def test_client_on_a_shared_socket_leaves_it_open() -> None:
    sock = fake_socket()
    with EchoClient(sock=sock) as client:
        client.say("x")
    assert not sock.closed
    with Controller(sock=sock) as ctrl:
        assert ctrl.get_family("nlctrl").id == GENL_ID_CTRL
    sock.close()


def test_client_of_a_missing_family_closes_the_socket_it_opened(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[FakeTransport] = []

    def fake_open(protocol: int, netns: object) -> FakeTransport:
        opened.append(FakeTransport(kernel))
        return opened[-1]

    monkeypatch.setattr("nlwire.socket.core._open", fake_open)

    class Missing(EchoClient):
        FAMILY = "missing"

    with pytest.raises(FamilyNotFound):
        Missing()
    assert opened and opened[0].closed


def test_genl_header_names_commands() -> None:
    header = genl_header(EchoCmd).decode(bytes((2, 1, 0, 0)))
    assert header["cmd"] is EchoCmd.LIST and header["version"] == 1
    assert genl_header().decode(bytes((9, 1, 0, 0)))["cmd"] == 9


def test_debug_output_decodes_family_messages(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NLWIRE_DEBUG", "1")
    with EchoClient(sock=fake_socket()) as client:
        client.say("hi")
    err = capsys.readouterr().err
    assert f">>> send NETLINK_GENERIC 28 bytes: type=echo({ECHO_ID}) flags=REQUEST|ACK" in err
    assert '{"cmd": "SAY", "version": 1, "reserved": 0}, "attrs": {"text": "hi"}}' in err
    assert '"attrs": {"text": "HI", "count": 1}}' in err
    assert '"attrs": {"family_name": "echo"}}' in err
