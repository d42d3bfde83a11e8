"""``nlwire genl``: the generic netlink families of the running kernel.

::

    nlwire genl list [--json]                   every family: id, version, ops, groups
    nlwire genl show NAME [--policy] [--json]   one family in detail

Both open their socket in the namespace given by the global ``-n NAME``.
Only the standard library is imported here at start-up; the library is
imported by the function that runs the command.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import closing
from typing import TYPE_CHECKING, Any

from nlwire.cli.common import CliError, print_json

if TYPE_CHECKING:
    from nlwire.genl import Controller, Family, FamilyPolicy


def register(subparsers: Any) -> None:
    """Add the ``genl`` subcommand and its ``list``/``show`` actions to ``subparsers``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "genl",
        help="list and describe generic netlink families",
        description="Ask the generic netlink controller (nlctrl) about the kernel's families.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    listing = actions.add_parser("list", help="every family: name, id, version, ops, groups")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(func=run_list)

    show = actions.add_parser("show", help="one family: operations, groups, policies")
    show.add_argument("name", metavar="NAME", help="family name, such as nlctrl or TASKSTATS")
    show.add_argument(
        "--policy", action="store_true", help="also show the attribute policies (GETPOLICY)"
    )
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.set_defaults(func=run_show)


def open_controller(netns: str | None) -> Controller:
    """Open the controller, in namespace ``netns`` when given.

    Turns a missing namespace or a missing privilege into one clear
    :class:`CliError` line.
    """
    from nlwire.errors import NlwireError
    from nlwire.genl import Controller

    if netns is None:
        return Controller()
    try:
        return Controller(netns=netns)
    except NlwireError:
        raise
    except FileNotFoundError:
        raise CliError(
            f"network namespace {netns!r} does not exist (see: ip netns list)"
        ) from None
    except PermissionError:
        raise CliError(
            f"entering network namespace {netns!r} needs CAP_SYS_ADMIN (run as root)"
        ) from None
    except ValueError as exc:
        raise CliError(str(exc)) from None


def run_list(args: argparse.Namespace) -> int:
    """List every family (``nlwire genl list``)."""
    with closing(open_controller(args.netns)) as ctrl:
        families = ctrl.list_families()
    if args.json:
        print_json([family.to_dict() for family in families])
        return 0

    rows = [
        (f.name, f.id, f.version, f.hdrsize, f.maxattr, len(f.ops), _group_names(f))
        for f in families
    ]
    _print_table(("NAME", "ID", "VERSION", "HDRSIZE", "MAXATTR", "OPS", "GROUPS"), rows)
    return 0


def run_show(args: argparse.Namespace) -> int:
    """Describe one family (``nlwire genl show NAME``)."""
    with closing(open_controller(args.netns)) as ctrl:
        family = ctrl.get_family(args.name)
        policy = _get_policy(ctrl, family.name) if args.policy else None
    if args.json:
        result = family.to_dict()
        if policy is not None:
            result["policy"] = policy.to_dict()
        print_json(result)
        return 0

    out = sys.stdout
    out.write(_describe_family(family))
    if policy is not None:
        out.write(_describe_policy(policy, _command_names(family.name)))
    return 0


def _get_policy(ctrl: Controller, name: str) -> FamilyPolicy:
    from nlwire.errors import NetlinkError

    try:
        return ctrl.get_policy(name)
    except NetlinkError as exc:
        if exc.errno == 95:  # EOPNOTSUPP: before Linux 5.8, or a family with no policy
            raise CliError(
                f"the kernel gives no attribute policy for {name!r} "
                f"(CTRL_CMD_GETPOLICY needs Linux 5.8 or later): {exc}"
            ) from None
        raise


# -- text output --------------------------------------------------------------


def _group_names(family: Family) -> str:
    return ",".join(group.name for group in family.mcast_groups) or "-"


def _print_table(heads: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    cells = [heads, *[tuple(str(value) for value in row) for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(heads))]
    for row in cells:
        # Text columns left-aligned, numbers right-aligned; the last is left ragged.
        parts = [
            value.rjust(width) if value.isdigit() and i else value.ljust(width)
            for i, (value, width) in enumerate(zip(row, widths, strict=True))
        ]
        sys.stdout.write("  ".join(parts).rstrip() + "\n")


def _describe_family(family: Family) -> str:
    names = _command_names(family.name)
    lines = [
        f"{family.name}: id {family.id}, version {family.version}, "
        f"hdrsize {family.hdrsize}, maxattr {family.maxattr}",
        f"operations ({len(family.ops)}):",
    ]
    for op in family.ops:
        flags = " ".join(_op_flag_words(int(op.flags))) or "-"
        lines.append(f"  {op.id:>3}  {names.get(op.id, ''):<22} {flags}")
    lines.append(f"multicast groups ({len(family.mcast_groups)}):")
    lines += [f"  {group.id:>3}  {group.name}" for group in family.mcast_groups]
    return "\n".join(lines) + "\n"


_OP_FLAG_WORDS = (
    (0x02, "do"),
    (0x04, "dump"),
    (0x08, "has-policy"),
    (0x01, "admin-perm"),
    (0x10, "netns-admin-perm"),
)


def _op_flag_words(flags: int) -> list[str]:
    words = [word for bit, word in _OP_FLAG_WORDS if flags & bit]
    rest = flags & ~sum(bit for bit, _ in _OP_FLAG_WORDS)
    if rest:
        words.append(f"{rest:#x}")
    return words


def _command_names(family: str) -> dict[int, str]:
    """Command names for families nlwire knows (the controller, taskstats)."""
    if family == "nlctrl":
        from nlwire.genl import CtrlCmd

        return {int(cmd): f"CTRL_CMD_{cmd.name}" for cmd in CtrlCmd}
    if family == "TASKSTATS":
        from nlwire.taskstats.messages import Command

        return {int(cmd): cmd.name for cmd in Command}
    return {}


def _describe_policy(policy: FamilyPolicy, names: dict[int, str]) -> str:
    lines = ["operation policies:"]
    for op, which in sorted(policy.ops.items()):
        parts = [f"{kind} policy {index}" for kind, index in sorted(which.items())]
        label = f"{op} {names.get(op, '')}".rstrip()
        lines.append(f"  op {label}: {', '.join(parts) or 'none'}")
    for index, table in sorted(policy.policies.items()):
        lines.append(f"policy {index}:")
        for attr_type, details in sorted(table.items()):
            lines.append(f"  attr {attr_type:>3}: {describe_attribute_policy(details)}")
    return "\n".join(lines) + "\n"


def describe_attribute_policy(details: dict[str, Any]) -> str:
    """One attribute's policy as text, e.g. ``u32 range 0..4294967295``."""
    words = [str(details.get("type", "?")).lower().replace("_", "-")]
    for low, high, label in (
        ("min_value_u", "max_value_u", "range"),
        ("min_value_s", "max_value_s", "range"),
        ("min_length", "max_length", "length"),
    ):
        words += _bounds(details.get(low), details.get(high), label)
    if "policy_idx" in details:
        nested = f"-> policy {details['policy_idx']}"
        if "policy_maxtype" in details:
            nested += f" (maxtype {details['policy_maxtype']})"
        words.append(nested)
    for key, label in (("mask", "mask"), ("bitfield32_mask", "bitfield32 mask")):
        if key in details:
            words.append(f"{label} {int(details[key]):#x}")
    known = {"type", "min_value_u", "max_value_u", "min_value_s", "max_value_s"}
    known |= {"min_length", "max_length", "policy_idx", "policy_maxtype", "mask"}
    known |= {"bitfield32_mask", "pad"}
    words += [f"{key}={value}" for key, value in details.items() if key not in known]
    return " ".join(words)


def _bounds(low: Any, high: Any, label: str) -> list[str]:
    if low is not None and high is not None:
        return [f"{label} {low}..{high}"]
    if low is not None:
        return [f"min {label} {low}"]
    if high is not None:
        return [f"max {label} {high}"]
    return []
