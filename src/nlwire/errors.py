"""The exceptions nlwire raises, all in one tree.

::

    Exception
     └── NlwireError
          ├── NetlinkError (also OSError)    the kernel answered with an error;
          │                                  EPERM/EACCES, ENOENT, EEXIST and ESRCH
          │                                  come as subclasses that are also
          │                                  PermissionError, FileNotFoundError,
          │                                  FileExistsError, ProcessLookupError
          ├── DecodeError (also ValueError)  bytes that do not parse
          ├── DumpInterrupted                a dump changed while it was read
          ├── Overrun (also OSError)         ENOBUFS: the kernel dropped messages
          └── ProtocolError                  a reply that breaks the conversation
               ├── SequenceMismatch          wrong sequence number
               └── PortMismatch              addressed to another port id

Usage errors (a bad argument to an API) are plain ``ValueError`` or
``TypeError``.
"""

from __future__ import annotations

import errno as _errno
import os
from collections.abc import Sequence
from typing import NamedTuple


class NlwireError(Exception):
    """Base class of every error nlwire raises on its own account."""


class MissingAttribute(NamedTuple):
    """The attribute the kernel said was missing (``NLMSGERR_ATTR_MISS_*``).

    ``type`` is the attribute type number; ``nest_path`` names the nest it
    was missing from, resolved against the request where that was possible.
    """

    type: int
    nest_path: tuple[str, ...] = ()
    name: str | None = None


class NetlinkError(NlwireError, OSError):
    """The kernel answered a request with a negative error code.

    It is an :class:`OSError`, so ``except PermissionError`` catches EPERM and
    EACCES and ``err.errno`` holds the code. The extended ACK, when the
    kernel sent one, is in ``message`` (its text), ``attr_path`` (the request
    attribute it objected to, as names or ``"#type"`` strings), ``offset``
    (that attribute's byte offset in the request), ``missing`` and
    ``policy`` (the raw policy nest, when reported).
    """

    def __init__(
        self,
        code: int,
        message: str | None = None,
        *,
        request: bytes | None = None,
        offset: int | None = None,
        attr_path: Sequence[str] = (),
        missing: MissingAttribute | None = None,
        policy: bytes | None = None,
    ) -> None:
        super().__init__(code, _strerror(code))
        self.message = message
        self.request = request
        self.offset = offset
        self.attr_path = tuple(attr_path)
        self.missing = missing
        self.policy = policy

    def __new__(cls, code: int, *args: object, **kwargs: object) -> NetlinkError:
        # Like OSError, pick the subclass that matches the errno, so that
        # ``except PermissionError`` catches a NetlinkError for EPERM.
        chosen = _BY_ERRNO.get(code, cls) if cls is NetlinkError else cls
        return OSError.__new__(chosen, code, _strerror(code))

    def __str__(self) -> str:
        text = f"[Errno {self.errno}] {self.strerror}"
        if self.message:
            text += f": {self.message}"
        if self.attr_path:
            text += f" (at {'/'.join(self.attr_path)})"
        if self.missing is not None:
            text += f" (missing attribute {self.missing.name or self.missing.type})"
        return text

    @property
    def errno_name(self) -> str:
        """The symbolic errno name, such as ``"EPERM"``."""
        return _errno.errorcode.get(self.errno or 0, str(self.errno))


def _strerror(code: int) -> str:
    # A hostile or broken peer can send any 32-bit code; os.strerror
    # overflows on some of them.
    try:
        return os.strerror(code)
    except (OverflowError, ValueError):
        return f"Unknown error {code}"


class NetlinkPermissionError(NetlinkError, PermissionError):
    """A :class:`NetlinkError` for EPERM or EACCES."""


class NetlinkNotFoundError(NetlinkError, FileNotFoundError):
    """A :class:`NetlinkError` for ENOENT (no such object)."""


class NetlinkExistsError(NetlinkError, FileExistsError):
    """A :class:`NetlinkError` for EEXIST."""


class NetlinkProcessLookupError(NetlinkError, ProcessLookupError):
    """A :class:`NetlinkError` for ESRCH (no such process or task)."""


_BY_ERRNO: dict[int, type[NetlinkError]] = {
    _errno.EPERM: NetlinkPermissionError,
    _errno.EACCES: NetlinkPermissionError,
    _errno.ENOENT: NetlinkNotFoundError,
    _errno.EEXIST: NetlinkExistsError,
    _errno.ESRCH: NetlinkProcessLookupError,
}


class DecodeError(NlwireError, ValueError):
    """Bytes that are not valid netlink: truncated, overlong or badly nested."""


class DumpInterrupted(NlwireError):
    """The kernel set ``NLM_F_DUMP_INTR``: the data changed during the dump.

    ``messages`` holds what was read anyway; it may be inconsistent.
    """

    def __init__(self, messages: Sequence[object] = ()) -> None:
        super().__init__("the dump was interrupted by a change; its contents may be inconsistent")
        self.messages = list(messages)


class Overrun(NlwireError, OSError):
    """ENOBUFS: the socket's receive buffer filled up and messages were lost.

    The socket stays usable; the count of lost messages is not known to the
    kernel, only that some were lost.
    """

    def __init__(self) -> None:
        super().__init__(_errno.ENOBUFS, "receive buffer overrun: the kernel dropped messages")

    def __str__(self) -> str:
        return "receive buffer overrun: the kernel dropped messages"


class ProtocolError(NlwireError):
    """A message broke the request/reply conversation."""


class SequenceMismatch(ProtocolError):
    """A reply carried a sequence number that matches no pending request."""


class PortMismatch(ProtocolError):
    """A reply was addressed to a different port id than this socket's."""
