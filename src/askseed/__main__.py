"""`python -m askseed ...`: the same as the `askseed` command."""

import sys

from askseed.ui.cli import main

if __name__ == "__main__":
    sys.exit(main())
