"""nlwire: Linux netlink for Python.

A sans-IO codec (:mod:`nlwire.wire`), sockets (:mod:`nlwire.socket`), generic
netlink (:mod:`nlwire.genl`) and families such as :mod:`nlwire.taskstats`.

The library logs through the ``nlwire`` logger, which has a ``NullHandler``:
it is silent unless the application configures logging.
"""

import logging

__version__ = "0.1.0"

logging.getLogger("nlwire").addHandler(logging.NullHandler())
