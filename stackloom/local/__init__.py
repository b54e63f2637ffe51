"""The local CloudFormation endpoint: moto in server mode on 127.0.0.1, patched where moto differs from AWS.

An optional extra (`pip install 'stackloom[local]'`, also in the test extra): this module imports no moto, so
`deploy --local` can say how to get it when it is missing.
"""
from __future__ import annotations

import importlib
import importlib.util

from stackloom.errors import UserError

INSTALL_HINT = "pip install 'stackloom[local]' (or the test extra; ./run setup installs it)"


def require() -> None:
    """Refuse, with the way to install it, when moto's server is not installed."""
    for module in ("moto", "flask"):
        if importlib.util.find_spec(module) is None:
            raise UserError(f"the local endpoint needs moto in server mode ({module} is missing): {INSTALL_HINT}")


def start(account_id: str | None = None):
    """A LocalEndpoint (a context manager) answering as `account_id`; the server module is imported here,
    only when asked for, because moto is an optional extra."""
    require()
    server = importlib.import_module("stackloom.local.endpoint")
    return server.LocalEndpoint(account_id=account_id)
