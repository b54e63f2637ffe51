"""The compiler's errors, in a module of their own that imports nothing: the CLI catches them without importing
the compiler (commands such as `lint` or `status` never build, and need not pay troposphere's import)."""


class WiringError(Exception):
    """A nested stack parameter is unwired or wired to something that does not exist (a compiler bug), or an
    addon's outputs collide with what the compiler already wires (templates/addons.py)."""


class QuotaError(Exception):
    """A template exceeds a CloudFormation quota: it would be rejected at deploy time."""
