"""Naming network namespaces, without entering any (no root needed)."""

from __future__ import annotations

import pytest

from nlwire.socket import NetlinkSocket, netns_path, socket_in_netns


def test_names_live_under_run_netns_and_paths_are_kept() -> None:
    assert netns_path("blue") == "/run/netns/blue"
    assert netns_path("/proc/1/ns/net") == "/proc/1/ns/net"
    assert netns_path("./relative/ns") == "./relative/ns"


@pytest.mark.parametrize("bad", ["", ".", ".."])
def test_names_that_are_not_namespaces_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a network namespace name"):
        netns_path(bad)


def test_missing_namespace_is_file_not_found_before_any_socket_is_made() -> None:
    made: list[object] = []

    def make() -> object:
        made.append(object())
        raise AssertionError("must not be called")

    with pytest.raises(FileNotFoundError):
        socket_in_netns("nlwire-no-such-namespace", make)  # type: ignore[arg-type]
    assert made == []
    with pytest.raises(FileNotFoundError):
        NetlinkSocket(0, netns="nlwire-no-such-namespace")
