#!/usr/bin/env python3
"""Build every environment under params/ into output/ (see README.md); all logic is in templates/cli.py."""
import gc
import os
import sys

# Start-up cost, settled before anything heavy is imported. Measured with valgrind (callgrind, instructions
# of `python build.py -q`, every environment: 1,588 M without either setting, 1,504 M with both):
# * A build is a short-lived process that allocates many objects (importing troposphere/awacs/pydantic, then
#   the templates) and frees them at exit: the cyclic garbage collector only costs time here, about 3.3 % of
#   the build's instructions (53 M), mostly during the imports. templates/compiler.py also pauses it around each
#   compile, for library callers; under this CLI it is then already off. The long-running subcommands
#   (deploy polls CloudFormation for minutes, via boto3) get it back in templates.cli.main.
gc.disable()
# * pydantic scans the entry points of every distribution in the venv for plugins when it first builds a
#   model (about 2.1 % of the build's instructions, 34 M); no plugin is used here. setdefault: an explicit
#   PYDANTIC_DISABLE_PLUGINS in the environment still wins.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from templates.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
