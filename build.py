#!/usr/bin/env python3
"""`python build.py ...` is the `stackloom` command run from the project folder (see README.md); all logic is in
stackloom/cli/main.py, whose `run` also settles the start-up cost (the garbage collector, interpreter teardown)."""

from stackloom.cli.main import run

if __name__ == "__main__":
    run()
