"""Generic netlink clients: a base for family clients, and the controller.

A family client subclasses :class:`GenlClient`, names its family and
version, declares its attribute set and exposes typed methods built on
:meth:`GenlClient.request` and :meth:`GenlClient.dump`. The family id is
resolved once, when the client is created.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, ClassVar, Self

from nlwire.errors import NetlinkNotFoundError
from nlwire.genl.family import Family, FamilyPolicy, family_from_attrs, policy_from_records
from nlwire.genl.schema import CTRL, CTRL_SPEC, GENL_ID_CTRL, CtrlCmd, genl_header
from nlwire.socket import NETLINK_GENERIC, NetlinkSocket
from nlwire.wire import AttrSet, MessageFlags, MessageSpec, Record


class FamilyNotFound(NetlinkNotFoundError):
    """The kernel has no generic netlink family of that name (ENOENT)."""

    def __str__(self) -> str:
        return self.message or "no such generic netlink family"


class GenlClient:
    """Base class of generic netlink family clients.

    Subclasses set ``FAMILY`` (the name), ``VERSION``, ``ATTRS`` (the
    attribute set of the family's messages) and optionally ``COMMANDS``
    (an ``IntEnum`` of commands, for readable debug output). Pass ``sock``
    to share one socket between clients, or ``netns`` to open one inside a
    network namespace. Raises :class:`FamilyNotFound` when the family is
    not there (its module not loaded, or not allowed in this namespace).
    """

    FAMILY: ClassVar[str]
    VERSION: ClassVar[int] = 1
    ATTRS: ClassVar[AttrSet]
    COMMANDS: ClassVar[type[enum.IntEnum] | None] = None

    def __init__(
        self,
        *,
        sock: NetlinkSocket | None = None,
        netns: str | int | None = None,
        rcvbuf: int | None = None,
    ) -> None:
        self.sock = sock or NetlinkSocket(NETLINK_GENERIC, netns=netns, rcvbuf=rcvbuf)
        self._owns_socket = sock is None
        try:
            self.family = self._resolve()
        except BaseException:
            self.close()
            raise
        self.spec = MessageSpec(self.FAMILY, self.ATTRS, genl_header(self.COMMANDS))
        self.sock.specs[self.family.id] = self.spec
        self.sock.type_names[self.family.id] = self.FAMILY

    def _resolve(self) -> Family:
        return Controller(sock=self.sock).get_family(self.FAMILY)

    def close(self) -> None:
        """Close the socket if this client opened it."""
        if self._owns_socket:
            self.sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def pack(self, cmd: int, attrs: Mapping[str, Any] | bytes = b"") -> bytes:
        """The payload of one request: the genl header and ``attrs``."""
        body = attrs if isinstance(attrs, bytes) else self.ATTRS.encode(attrs)
        return bytes((cmd, self.VERSION, 0, 0)) + body

    def request(
        self, cmd: int, attrs: Mapping[str, Any] | bytes = b"", flags: int = MessageFlags.ACK
    ) -> list[Record]:
        """Send command ``cmd`` with ``attrs``; return the decoded replies."""
        messages = self.sock.request(self.family.id, self.pack(cmd, attrs), flags, spec=self.spec)
        return [self.spec.decode(message) for message in messages]

    def dump(self, cmd: int, attrs: Mapping[str, Any] | bytes = b"") -> list[Record]:
        """Dump command ``cmd``; return every decoded reply."""
        messages = self.sock.dump(self.family.id, self.pack(cmd, attrs), spec=self.spec)
        return [self.spec.decode(message) for message in messages]


class Controller(GenlClient):
    """The generic netlink controller (``nlctrl``): families, groups, policies."""

    FAMILY = "nlctrl"
    VERSION = 2
    ATTRS = CTRL
    COMMANDS = CtrlCmd

    def _resolve(self) -> Family:
        return Family("nlctrl", GENL_ID_CTRL, self.VERSION, 0, 0, (), ())

    def get_family(self, name: str) -> Family:
        """Describe the family called ``name``; raises :class:`FamilyNotFound`."""
        try:
            records = self.request(CtrlCmd.GETFAMILY, {"family_name": name})
        except FileNotFoundError as exc:
            raise FamilyNotFound(
                exc.errno or 2, f"no generic netlink family {name!r} in this kernel/namespace"
            ) from None
        return family_from_attrs(records[0].attrs)

    def list_families(self) -> list[Family]:
        """Every family the kernel has, in the order it lists them."""
        return [family_from_attrs(record.attrs) for record in self.dump(CtrlCmd.GETFAMILY)]

    def get_multicast_group(self, family: str, group: str) -> int:
        """The id of multicast group ``group`` of ``family``; ``KeyError`` if none."""
        for candidate in self.get_family(family).mcast_groups:
            if candidate.name == group:
                return candidate.id
        raise KeyError(f"generic netlink family {family!r} has no multicast group {group!r}")

    def get_policy(self, family: str, op: int | None = None) -> FamilyPolicy:
        """The attribute policies of ``family`` (of one ``op`` if given).

        Raises :class:`FamilyNotFound`, or :class:`NetlinkError` on kernels
        without ``CTRL_CMD_GETPOLICY`` (before 5.8; EOPNOTSUPP).
        """
        attrs: dict[str, Any] = {"family_name": family}
        if op is not None:
            attrs["op"] = op
        try:
            records = self.dump(CtrlCmd.GETPOLICY, attrs)
        except FileNotFoundError as exc:
            raise FamilyNotFound(
                exc.errno or 2, f"no generic netlink family {family!r} in this kernel/namespace"
            ) from None
        return policy_from_records(records)


__all__ = ["CTRL_SPEC", "Controller", "FamilyNotFound", "GenlClient"]
