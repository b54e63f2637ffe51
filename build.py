#!/usr/bin/env python3
"""Build every environment under params/ into output/ (see README.md); all logic is in stackloom/cli/main.py."""

import gc
import os
import sys

# Start-up cost, settled before anything heavy is imported. Measured with valgrind (callgrind, instructions
# of `python build.py -q`, every environment):
# * A build is a short-lived process that allocates many objects (importing troposphere/awacs, then
#   the templates) and frees them at exit: the cyclic garbage collector only costs time here, about 3.3 % of
#   the build's instructions (53 M), mostly during the imports. stackloom/build.py also pauses it around each
#   compile, for library callers; under this CLI it is then already off. The long-running subcommands
#   (deploy polls CloudFormation for minutes, via boto3) get it back in stackloom.cli.main.
gc.disable()

from stackloom.cli.main import main  # noqa: E402

if __name__ == "__main__":
    code = main()
    # * Finalising the interpreter (freeing every module, and the thousands of classes and validators
    #   troposphere defines) is ~25 ms of a ~160 ms build, and nothing is left for it to do: a command
    #   that returned has closed what it wrote (compiler.write replaces each file from a closed temporary),
    #   so only the standard streams may hold buffered text. Flush them and end the process here.
    #   A command that raises (a traceback, argparse's usage exit) still ends the normal way.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
