"""nlwire: Linux netlink for Python.

A sans-IO codec (:mod:`nlwire.wire`), sockets (:mod:`nlwire.socket`), generic
netlink (:mod:`nlwire.genl`) and families such as :mod:`nlwire.taskstats`.
"""

__version__ = "0.1.0"
