"""Naming message types per protocol (nlwire.wire.families)."""

from __future__ import annotations

import struct

from nlwire.genl import CTRL_SPEC
from nlwire.wire import pack_attribute, pack_message, parse_messages
from nlwire.wire.families import RTM_NAMES, MessageNames


def new_family(family_id: int, name: str) -> bytes:
    """A CTRL_CMD_NEWFAMILY reply announcing ``name`` with id ``family_id``."""
    attrs = pack_attribute(2, name.encode() + b"\0") + pack_attribute(
        1, struct.pack("=H", family_id)
    )
    return pack_message(16, 0, 1, 99, bytes((1, 2, 0, 0)) + attrs)


def test_route_names_follow_rtnetlink_h() -> None:
    assert RTM_NAMES[16] == "RTM_NEWLINK"
    assert RTM_NAMES[19] == "RTM_SETLINK"
    assert RTM_NAMES[26] == "RTM_GETROUTE"
    assert RTM_NAMES[58] == "RTM_GETMULTICAST"
    assert RTM_NAMES[67] == "RTM_SETNEIGHTBL"
    assert RTM_NAMES[104] == "RTM_NEWNEXTHOP"
    assert 23 not in RTM_NAMES  # there is no RTM_SETADDR


def test_route_kind_decodes_the_fixed_header() -> None:
    ifinfomsg = struct.pack("=BxHiII", 0, 772, 1, 0x49, 0)
    [message] = parse_messages(pack_message(16, 0, 1, 0, ifinfomsg))

    kind = MessageNames().kind(0, 16)

    assert kind.name == "RTM_NEWLINK"
    assert kind.spec is not None
    header = kind.spec.decode(message).header
    assert header is not None
    assert dict(header) == {"family": 0, "type": 772, "index": 1, "flags": 0x49, "change": 0}


def test_control_types_are_named_for_every_protocol() -> None:
    names = MessageNames()
    assert names.kind(0, 2).name == "ERROR"
    assert names.kind(16, 3).name == "DONE"
    assert names.kind(12, 9).name is None


def test_netfilter_subsystem_and_message() -> None:
    names = MessageNames()
    assert names.kind(12, (10 << 8) | 6).name == "NFT_MSG_NEWRULE"
    assert names.kind(12, (1 << 8) | 1).name == "IPCTNL_MSG_CT_GET"
    assert names.kind(12, (3 << 8) | 2).name == "NFNL_SUBSYS_QUEUE/2"
    assert names.kind(12, 16).name == "NFNL_MSG_BATCH_BEGIN"
    assert names.kind(12, 200 << 8).name is None


def test_generic_ids_learned_from_controller_replies() -> None:
    names = MessageNames({"nlctrl": CTRL_SPEC})
    [reply] = parse_messages(new_family(31, "TASKSTATS"))

    assert names.kind(16, 31).name is None
    names.learn(16, reply)
    kind = names.kind(16, 31)

    assert (kind.name, kind.source, kind.guessed) == ("TASKSTATS", "input", False)
    assert names.kind(16, 16).spec is CTRL_SPEC


def test_learning_ignores_other_protocols_and_requests() -> None:
    names = MessageNames()
    [reply] = parse_messages(new_family(31, "TASKSTATS"))
    names.learn(0, reply)  # NETLINK_ROUTE: type 16 is RTM_NEWLINK there
    request = bytearray(new_family(32, "other"))
    request[16] = 3  # CTRL_CMD_GETFAMILY: a request, not an announcement
    names.learn(16, parse_messages(bytes(request))[0])

    assert names.kind(16, 31).name is None
    assert names.kind(16, 32).name is None


def test_learning_a_malformed_reply_does_not_raise() -> None:
    broken = bytearray(new_family(31, "TASKSTATS"))
    broken[20:22] = struct.pack("=H", 200)  # first attribute runs past the message
    names = MessageNames()

    names.learn(16, parse_messages(bytes(broken))[0])

    assert names.kind(16, 31).name is None


def test_resolver_names_are_guesses_and_asked_once() -> None:
    asked: list[int] = []

    def resolver(family_id: int) -> str | None:
        asked.append(family_id)
        return {31: "TASKSTATS"}.get(family_id)

    names = MessageNames(resolver=resolver)

    assert names.kind(16, 31).guessed
    assert names.kind(16, 31).name == "TASKSTATS"
    assert names.kind(16, 40).name is None
    assert names.kind(16, 40).name is None
    assert asked == [31, 40]


def test_input_names_win_over_the_resolver() -> None:
    names = MessageNames(resolver=lambda family_id: "WRONG")
    names.learn(16, parse_messages(new_family(31, "TASKSTATS"))[0])

    assert names.kind(16, 31).name == "TASKSTATS"
