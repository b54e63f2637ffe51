"""stackloom: the tool around the compiler in `templates/` (params, output, deploy, diff, audit, reports, local endpoint, CLI)."""

__version__ = "0.1.0"
