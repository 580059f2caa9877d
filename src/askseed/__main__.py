"""`python -m askseed ...`: the same as the `askseed` command."""

from askseed.ui.cli import run

if __name__ == "__main__":
    run()
