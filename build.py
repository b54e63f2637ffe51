#!/usr/bin/env python3
"""Build every environment under params/ into output/ (see README.md); all logic is in templates/cli.py."""
import sys

from templates.cli import main

if __name__ == "__main__":
    sys.exit(main())
