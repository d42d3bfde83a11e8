"""``nlwire decode``: decode captured netlink messages from a file or stdin.

::

    nlwire decode [FILE] [--protocol P] [--json] [--offline]

The input is detected by its first bytes: a pcap or pcapng capture of link
type 253 (``tcpdump -i nlmon0 -w FILE``), or else hex text: ``xxd -p``
output, bytes separated by spaces or commas, ``0x``-prefixed single bytes,
``#`` comments, blank lines between datagrams, or the ``nlwire --debug``
layout itself (see :mod:`nlwire.wire.capture`).

Plain hex does not say which netlink protocol it belongs to: ``--protocol``
says it (default: ``generic``). Captures and the debug layout carry their
protocol, which wins over ``--protocol``.

Generic netlink family ids are assigned at run time. Ids are named from
the controller replies in the input itself when it holds them; other ids
are looked up in the running kernel (in the ``-n`` namespace), unless
``--offline``, and such names are marked as guesses: ``type=TASKSTATS?(31)``
in text, ``"source": "guess"`` in JSON.

Only the standard library is imported here at start-up; the library is
imported by the function that runs the command.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, NamedTuple

from nlwire.cli.common import CliError, print_json_line, warn

if TYPE_CHECKING:
    from nlwire.wire import Message
    from nlwire.wire.capture import Datagram
    from nlwire.wire.families import MessageKind, MessageNames

_PROTOCOL_WORDS = {"route": 0, "netfilter": 12, "generic": 16}
DEFAULT_PROTOCOL = 16


def register(subparsers: Any) -> None:
    """Add the ``decode`` subcommand to ``subparsers``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "decode",
        help="decode netlink messages from hex text or a pcap/pcapng capture",
        description="Decode netlink messages from FILE (default: stdin): hex text "
        "(xxd -p style, or nlwire --debug output) or a pcap/pcapng capture of an "
        "nlmon device (link type 253).",
    )
    parser.add_argument("file", nargs="?", default="-", metavar="FILE", help="input (- = stdin)")
    parser.add_argument(
        "-p",
        "--protocol",
        type=parse_protocol,
        default=None,
        metavar="P",
        help="netlink protocol of plain hex input: route, generic, netfilter or a "
        "number (default: generic); captures carry their own",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per message")
    parser.add_argument(
        "--offline",
        action="store_true",
        help="never ask the running kernel to name generic netlink family ids",
    )
    parser.set_defaults(func=run)


def parse_protocol(text: str) -> int:
    """Parse ``--protocol``: a name (``route``, ``NETLINK_ROUTE``…) or a number 0-31."""
    word = text.lower().removeprefix("netlink_")
    if word in _PROTOCOL_WORDS:
        return _PROTOCOL_WORDS[word]
    if word.isdigit() and int(word) < 32:
        return int(word)
    raise argparse.ArgumentTypeError(
        f"{text!r} is not a netlink protocol (route, generic, netfilter or 0-31)"
    )


class _Decoded(NamedTuple):
    """One datagram's messages, ready to print."""

    datagram: Datagram
    protocol: int
    messages: list[Message]


def run(args: argparse.Namespace) -> int:
    """Decode the input and print every message; exit 1 on malformed input."""
    from nlwire.errors import DecodeError
    from nlwire.wire.capture import read_capture

    label = "<stdin>" if args.file == "-" else args.file
    data = _read_input(args.file, label)
    try:
        datagrams = read_capture(data)
    except DecodeError as exc:
        raise CliError(f"{label}: {exc}") from None
    if not datagrams:
        raise CliError(f"{label}: no netlink messages in the input")

    # 1. Frame every datagram, keeping the good ones before a malformed one.
    fallback = args.protocol if args.protocol is not None else DEFAULT_PROTOCOL
    decoded, failure = _frame(datagrams, fallback)

    # 2. Learn generic family ids from controller replies, then print.
    names = _message_names(args.netns, offline=args.offline)
    for item in decoded:
        for message in item.messages:
            names.learn(item.protocol, message)
    undecodable = _print_all(decoded, names, as_json=args.json)

    # 3. Report what could not be decoded, as one line.
    if failure is not None:
        raise CliError(f"{label}: {failure}")
    if undecodable:
        raise CliError(f"{label}: {undecodable[0]}" + _more(len(undecodable) - 1))
    return 0


def _read_input(path: str, label: str) -> bytes:
    try:
        if path == "-":
            return sys.stdin.buffer.read()
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise CliError(f"{label}: cannot read: {exc.strerror or exc}") from None


def _frame(datagrams: list[Datagram], fallback: int) -> tuple[list[_Decoded], str | None]:
    from nlwire.errors import DecodeError
    from nlwire.wire import parse_messages

    decoded: list[_Decoded] = []
    for datagram in datagrams:
        protocol = datagram.protocol if datagram.protocol is not None else fallback
        try:
            messages = parse_messages(datagram.data)
        except DecodeError as exc:
            return decoded, f"{datagram.where}: {exc}"
        decoded.append(_Decoded(datagram, protocol, messages))
    return decoded, None


def _more(count: int) -> str:
    return f" (and {count} more undecodable message{'s' if count > 1 else ''})" if count else ""


# -- naming -------------------------------------------------------------------


def _message_names(netns: str | None, *, offline: bool) -> MessageNames:
    from nlwire.genl import CTRL_SPEC
    from nlwire.taskstats.messages import TASKSTATS_SPEC
    from nlwire.wire.families import MessageNames

    resolver = None if offline else _KernelFamilies(netns).name_of
    return MessageNames({"nlctrl": CTRL_SPEC, "TASKSTATS": TASKSTATS_SPEC}, resolver)


class _KernelFamilies:
    """Names generic family ids by asking the running kernel, once, on demand.

    When the kernel cannot be asked (no permission to enter the namespace,
    no generic netlink) ids stay unnamed; decoding goes on without them.
    """

    def __init__(self, netns: str | None) -> None:
        self.netns = netns
        self._ids: dict[int, str] | None = None

    def name_of(self, family_id: int) -> str | None:
        """The name of generic family ``family_id`` in the running kernel, if any."""
        if self._ids is None:
            self._ids = self._ask()
        return self._ids.get(family_id)

    def _ask(self) -> dict[int, str]:
        from nlwire.cli.genl import open_controller
        from nlwire.errors import NlwireError

        try:
            ctrl = open_controller(self.netns)
            try:
                return {family.id: family.name for family in ctrl.list_families()}
            finally:
                ctrl.close()
        except (CliError, NlwireError, OSError, ValueError) as exc:
            warn(f"cannot ask the kernel for generic family names: {exc}")
            return {}


# -- output -------------------------------------------------------------------


def _print_all(decoded: list[_Decoded], names: MessageNames, *, as_json: bool) -> list[str]:
    """Print every message; return a description of each undecodable body."""
    undecodable: list[str] = []
    guessed = False
    requests: dict[int, Message] = {}
    for item in decoded:
        for message in item.messages:
            kind = names.kind(item.protocol, message.type)
            guessed |= kind.guessed
            if message.flags & 0x01:  # NLM_F_REQUEST: an error may point into it later
                requests[message.seq] = message
            path = _extack_path(item.protocol, message, names, requests)
            problem = _print_one(item, message, kind, path, as_json=as_json)
            if problem is not None:
                undecodable.append(f"{item.datagram.where}: {problem}")
    if guessed and not as_json:
        sys.stdout.write(
            "# type names marked '?' are generic netlink family ids looked up in the "
            "running kernel; the captured kernel may have numbered its families differently\n"
        )
    return undecodable


def _print_one(
    item: _Decoded,
    message: Message,
    kind: MessageKind,
    path: list[str] | None,
    *,
    as_json: bool,
) -> str | None:
    from nlwire.wire import MessageFlags, format_message

    direction = item.datagram.direction
    if direction is None:
        direction = "send" if message.flags & MessageFlags.REQUEST else "recv"
    body, problem = _describe(message, kind)
    if body is None:
        path = None
    if as_json:
        record = _json_record(item, message, kind, direction=direction, body=body)
        if path is not None:
            record["body"]["extack"]["attr_path"] = path
        if problem is not None:
            record["error"] = problem
        print_json_line(record)
        return problem

    name = (kind.name or "?") + ("?" if kind.guessed else "")
    text = format_message(
        message,
        direction=">>> send" if direction == "send" else "<<< recv",
        protocol=item.protocol,
        spec=_usable_spec(message, kind),
        type_name=name,
    )
    sys.stdout.write(text + "\n")
    if path is not None:
        offset = body["extack"]["offs"]
        sys.stdout.write(
            f"    extack offset {offset} is attribute {'/'.join(path)} of the request\n"
        )
    return problem


def _extack_path(
    protocol: int, message: Message, names: MessageNames, requests: dict[int, Message]
) -> list[str] | None:
    """Name the request attribute an error's extended ACK points at, if it can be told.

    The request comes from the error itself (the kernel echoes it in full
    unless the socket asked for capped ACKs) or else from the input.
    """
    from nlwire.errors import DecodeError
    from nlwire.wire import NLMSG_HDRLEN, MessageType, parse_ack, resolve_offset

    if message.type != MessageType.ERROR:
        return None
    try:
        ack = parse_ack(message.payload, message.flags)
        offset = ack.extack.get("offs")
    except DecodeError:
        return None
    request = ack.request if len(ack.request) > NLMSG_HDRLEN else None
    if request is None and ack.request_header[3] in requests:
        request = bytes(requests[ack.request_header[3]].raw)
    spec = names.kind(protocol, ack.request_header[1]).spec
    if offset is None or request is None or spec is None:
        return None
    return list(resolve_offset(request, offset, spec)) or None


def _usable_spec(message: Message, kind: MessageKind) -> Any:
    # A fixed header longer than the payload (a GET request that sends only
    # the one-byte rtgenmsg, say) is not an error: show the payload as bytes.
    from nlwire.wire import NLMSG_HDRLEN

    spec = kind.spec
    fixed = spec.fixed if spec is not None else None
    if fixed is not None and len(message.raw) - NLMSG_HDRLEN < fixed.size:
        return None
    return spec


def _describe(message: Message, kind: MessageKind) -> tuple[Any, str | None]:
    from nlwire.errors import DecodeError
    from nlwire.wire import plain
    from nlwire.wire.dump import describe

    try:
        return plain(describe(message, _usable_spec(message, kind))), None
    except DecodeError as exc:
        return None, f"{kind.name or 'message'} (type {message.type}): undecodable: {exc}"


def _json_record(
    item: _Decoded,
    message: Message,
    kind: MessageKind,
    *,
    direction: str,
    body: Any,
) -> dict[str, Any]:
    from nlwire.wire import protocol_name

    record: dict[str, Any] = {
        "where": item.datagram.where,
        "direction": direction,
        "protocol": {"number": item.protocol, "name": protocol_name(item.protocol)},
        "type": {"number": message.type, "name": kind.name, "source": kind.source},
        "flags": {"value": message.flags, "names": flag_names(message.type, message.flags)},
        "seq": message.seq,
        "port": message.port,
        "length": len(message.raw),
        "body": body,
    }
    if item.datagram.timestamp is not None:
        record["time"] = item.datagram.timestamp
    return record


_BASIC_FLAGS = (
    (0x01, "REQUEST"),
    (0x02, "MULTI"),
    (0x04, "ACK"),
    (0x08, "ECHO"),
    (0x10, "DUMP_INTR"),
    (0x20, "DUMP_FILTERED"),
)
_ACK_FLAGS = ((0x100, "CAPPED"), (0x200, "ACK_TLVS"))


def flag_names(type_: int, flags: int) -> list[str]:
    """Readable names of ``nlmsg_flags``; the upper byte only where it is unambiguous.

    The upper byte means different things for GET requests (ROOT, MATCH),
    NEW requests (REPLACE, EXCL, CREATE, APPEND) and DELETE requests, which
    the header alone does not tell apart, so there it is shown as a number;
    for ``NLMSG_ERROR`` it is CAPPED and ACK_TLVS.
    """
    from nlwire.wire import MessageType

    table = _BASIC_FLAGS + (_ACK_FLAGS if type_ == MessageType.ERROR else ())
    names = [name for bit, name in table if flags & bit]
    rest = flags & ~sum(bit for bit, _ in table)
    if rest:
        names.append(f"{rest:#x}")
    return names
