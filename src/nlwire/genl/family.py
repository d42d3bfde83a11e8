"""What the controller says about a family, as plain typed values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from nlwire.genl.schema import OpFlags
from nlwire.wire import Attrs, Record, plain


class Operation(NamedTuple):
    """One command a family accepts, with what it allows and needs."""

    id: int
    flags: OpFlags

    def to_dict(self) -> dict[str, Any]:
        """Plain data: ``id``, ``flags`` (number) and ``flag_names``."""
        names = [flag.name for flag in OpFlags if flag in self.flags and flag.name]
        return {"id": self.id, "flags": int(self.flags), "flag_names": names}


class MulticastGroup(NamedTuple):
    """A multicast group of a family: join it by ``id``."""

    name: str
    id: int

    def to_dict(self) -> dict[str, Any]:
        """Plain data: ``name`` and ``id``."""
        return {"name": self.name, "id": self.id}


class Family(NamedTuple):
    """A generic netlink family as the controller describes it."""

    name: str
    id: int
    version: int
    hdrsize: int
    maxattr: int
    ops: tuple[Operation, ...]
    mcast_groups: tuple[MulticastGroup, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain data, the layout of ``nlwire genl list --json``."""
        return {
            "name": self.name,
            "id": self.id,
            "version": self.version,
            "hdrsize": self.hdrsize,
            "maxattr": self.maxattr,
            "ops": [op.to_dict() for op in self.ops],
            "mcast_groups": [group.to_dict() for group in self.mcast_groups],
        }


def family_from_attrs(attrs: Attrs) -> Family:
    """Build a :class:`Family` from a ``CTRL_CMD_NEWFAMILY`` message's attributes."""
    ops = tuple(
        Operation(op.get("id", 0), OpFlags(op.get("flags", 0))) for op in attrs.get("ops", [])
    )
    groups = tuple(
        MulticastGroup(group.get("name", ""), group.get("id", 0))
        for group in attrs.get("mcast_groups", [])
    )
    return Family(
        attrs.get("family_name", ""),
        attrs.get("family_id", 0),
        attrs.get("version", 0),
        attrs.get("hdrsize", 0),
        attrs.get("maxattr", 0),
        ops,
        groups,
    )


class FamilyPolicy:
    """A family's attribute policies from ``CTRL_CMD_GETPOLICY``.

    ``policies`` maps a policy index to ``{attribute type: policy}``, each
    policy a dict of ``NL_POLICY_TYPE_ATTR_*`` names (``type``,
    ``min_length``, ``policy_idx`` for nests, …). ``ops`` maps an operation
    id to the policy index its ``do`` and ``dump`` handlers use.
    """

    __slots__ = ("family_id", "ops", "policies")

    def __init__(self) -> None:
        self.family_id = 0
        self.policies: dict[int, dict[int, dict[str, Any]]] = {}
        self.ops: dict[int, dict[str, int]] = {}

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {
            "family_id": self.family_id,
            "policies": {
                str(k): {str(a): v for a, v in p.items()} for k, p in self.policies.items()
            },
            "ops": {str(k): v for k, v in self.ops.items()},
        }


def policy_from_records(records: Sequence[Record]) -> FamilyPolicy:
    """Merge the messages of a ``CTRL_CMD_GETPOLICY`` dump into one policy."""
    result = FamilyPolicy()
    for record in records:
        attrs = record.attrs
        result.family_id = attrs.get("family_id", result.family_id)
        for index, table in attrs.get("policy", {}).items():
            merged = result.policies.setdefault(index, {})
            for attr_type, policy in table.items():
                merged[attr_type] = plain(policy)
        for op, which in attrs.get("op_policy", {}).items():
            result.ops[op] = plain(which)
    return result
