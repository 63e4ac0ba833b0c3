"""`python -m bench.burst`: see the package's docstring."""

import sys

from bench.burst.command import main

if __name__ == "__main__":
    sys.exit(main())
