"""`python -m legato.cli`: the `legato` command."""

import sys

from legato.cli import main

if __name__ == "__main__":
    sys.exit(main())
