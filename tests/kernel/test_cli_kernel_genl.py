"""``nlwire genl``, ``--debug``, ``-n`` and ``decode`` against the running kernel.

The commands run as the installed ``nlwire`` script in a subprocess, the way
a user runs them, and are checked against the library's own answers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nlwire.genl import Controller
from nlwire.wire import pack_attribute, pack_message

NLWIRE = Path(sys.executable).parent / "nlwire"

pytestmark = pytest.mark.skipif(not NLWIRE.exists(), reason="the nlwire script is not installed")


def nlwire(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed command; never raises on a non-zero exit."""
    return subprocess.run(
        [str(NLWIRE), *argv], capture_output=True, text=True, check=False, env=env
    )


def test_genl_list_json_matches_the_controller(netns: str) -> None:
    result = nlwire("-n", netns, "genl", "list", "--json")

    assert result.returncode == 0, result.stderr
    with Controller(netns=netns) as ctrl:
        expected = [family.to_dict() for family in ctrl.list_families()]
    assert json.loads(result.stdout) == expected
    by_name = {family["name"]: family for family in expected}
    assert by_name["nlctrl"]["id"] == 16
    assert by_name["nlctrl"]["mcast_groups"] == [{"name": "notify", "id": 16}]


def test_genl_list_in_the_initial_namespace_has_taskstats() -> None:
    result = nlwire("genl", "list", "--json")

    assert result.returncode == 0, result.stderr
    families = {family["name"]: family for family in json.loads(result.stdout)}
    with Controller() as ctrl:
        taskstats = ctrl.get_family("TASKSTATS")
    assert families["TASKSTATS"]["id"] == taskstats.id
    assert families["TASKSTATS"]["version"] == 1
    assert {op["id"] for op in families["TASKSTATS"]["ops"]} >= {1, 4}


def test_netns_option_opens_the_socket_in_that_namespace(netns: str) -> None:
    inside = json.loads(nlwire("-n", netns, "genl", "list", "--json").stdout)
    outside = json.loads(nlwire("genl", "list", "--json").stdout)

    # Families that are not netns-aware exist only in the initial namespace.
    inside_names = {family["name"] for family in inside}
    outside_names = {family["name"] for family in outside}
    assert inside_names < outside_names
    assert "nlctrl" in inside_names


def test_genl_show_text_in_a_namespace(netns: str) -> None:
    result = nlwire("-n", netns, "genl", "show", "nlctrl", "--policy")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("nlctrl: id 16, version 2")
    assert "CTRL_CMD_GETFAMILY" in result.stdout
    assert "policy 0:" in result.stdout


def test_debug_prints_send_and_receive_blocks(netns: str) -> None:
    result = nlwire("--debug", "-n", netns, "genl", "show", "nlctrl")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("nlctrl: id 16")
    lines = result.stderr.splitlines()
    assert lines[0].startswith(
        ">>> send NETLINK_GENERIC 32 bytes: type=nlctrl(16) flags=REQUEST|ACK"
    )
    assert lines[1] == (
        '    {"header": {"cmd": "GETFAMILY", "version": 2, "reserved": 0}, '
        '"attrs": {"family_name": "nlctrl"}}'
    )
    assert lines[2].startswith("    0000  20 00 00 00 10 00 05 00")
    heads = [line for line in lines if line.startswith(("<<< ", ">>> "))]
    assert heads[1].startswith("<<< recv NETLINK_GENERIC ")
    assert "type=nlctrl(16)" in heads[1]
    assert "type=ERROR(2)" in heads[2]


def test_nlwire_debug_variable_works_like_the_option(netns: str) -> None:
    env = dict(os.environ, NLWIRE_DEBUG="1")
    result = nlwire("-n", netns, "genl", "list", env=env)

    assert result.returncode == 0, result.stderr
    assert (
        ">>> send NETLINK_GENERIC 20 bytes: type=nlctrl(16) flags=REQUEST|0x300" in result.stderr
    )
    assert "type=DONE(3)" in result.stderr


def test_debug_output_decodes_back_to_itself(netns: str, tmp_path: Path) -> None:
    debug = nlwire("--debug", "-n", netns, "genl", "show", "TASKSTATS").stderr
    (tmp_path / "debug.txt").write_text(debug)

    result = nlwire("decode", "--offline", str(tmp_path / "debug.txt"))

    assert result.returncode == 0, result.stderr
    assert result.stdout == debug


def test_missing_namespace_is_one_line() -> None:
    result = nlwire("-n", "nlwire-test-does-not-exist", "genl", "list")

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "nlwire: network namespace 'nlwire-test-does-not-exist' does not exist "
        "(see: ip netns list)\n"
    )


def test_unknown_family_is_one_line(netns: str) -> None:
    result = nlwire("-n", netns, "genl", "show", "no-such-family")

    assert result.returncode == 1
    assert result.stderr == (
        "nlwire: no generic netlink family 'no-such-family' in this kernel/namespace\n"
    )


def test_decode_names_ids_from_the_running_kernel_as_guesses(tmp_path: Path) -> None:
    with Controller() as ctrl:
        family_id = ctrl.get_family("TASKSTATS").id
    get = pack_message(family_id, 0x5, 1, 0, bytes((1, 1, 0, 0)) + pack_attribute(1, b"\1\0\0\0"))
    (tmp_path / "get.hex").write_text(get.hex())

    result = nlwire("decode", str(tmp_path / "get.hex"))

    assert result.returncode == 0, result.stderr
    assert f"type=TASKSTATS?({family_id})" in result.stdout
    assert "# type names marked '?'" in result.stdout


def test_genl_list_imports_no_decoder_modules() -> None:
    code = (
        "import sys, io, contextlib\n"
        "from nlwire.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['genl', 'list'])\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith(('nlwire', 'textual')))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    modules = set(result.stdout.split())

    assert "nlwire.genl" in modules
    assert not {"nlwire.wire.capture", "nlwire.wire.families", "nlwire.taskstats"} & modules
    assert not any(name.startswith("textual") for name in modules)
