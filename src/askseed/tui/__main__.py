"""`python -m askseed.tui [--seeds DIR] [--index DIR]`: the same as `askseed chat`."""

from __future__ import annotations

import sys

from askseed.cli import main

if __name__ == "__main__":
    sys.exit(main(["chat", *sys.argv[1:]]))
