"""The ``nlwire`` entry point: --version, usage errors, no tracebacks, cold start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nlwire import __version__
from nlwire.cli.main import main

NLWIRE = Path(sys.executable).parent / "nlwire"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])

    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"nlwire {__version__}\n"


@pytest.mark.parametrize(
    "argv",
    [[], ["no-such-command"], ["genl"], ["genl", "show"], ["decode", "--no-such-option"]],
    ids=["nothing", "unknown-command", "genl-without-action", "show-without-name", "bad-option"],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)

    assert exit_info.value.code == 2
    assert "usage: nlwire" in capsys.readouterr().err


def test_missing_namespace_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-n", "nlwire-no-such-namespace", "genl", "list"]) == 1

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "nlwire: network namespace 'nlwire-no-such-namespace' does not exist "
        "(see: ip netns list)\n"
    )


def test_bad_namespace_name_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-n", "..", "genl", "list"]) == 1

    assert capsys.readouterr().err == "nlwire: '..' is not a network namespace name\n"


@pytest.mark.skipif(not NLWIRE.exists(), reason="the nlwire script is not installed in this venv")
def test_installed_command_fails_without_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.hex"
    bad.write_text("ff000000 10000500 00000000 00000000\n")

    result = subprocess.run(
        [str(NLWIRE), "decode", "--offline", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr == (
        f"nlwire: {bad}: line 1: netlink message at byte 0 claims 255 bytes, "
        "16 remain (minimum 16)\n"
    )


def test_start_up_imports_only_the_cli_modules() -> None:
    # What ``nlwire --version`` and the parser of every command import: the
    # library and Textual must wait until a command runs.
    code = (
        "import sys\n"
        "from nlwire.cli.main import build_parser\n"
        "build_parser()\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    modules = result.stdout.split()

    nlwire_modules = {name for name in modules if name.startswith("nlwire")}
    assert nlwire_modules <= {"nlwire", "nlwire.cli", "nlwire.cli.main", "nlwire.cli.common"} | {
        f"nlwire.cli.{name}" for name in ("top", "taskstats", "genl", "decode")
    }
    assert not {"textual", "dataclasses", "ctypes", "socket"} & set(modules)
