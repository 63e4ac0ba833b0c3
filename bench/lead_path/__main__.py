"""`python -m bench.lead_path`: see the package's docstring."""

import sys

from bench.lead_path.command import main

if __name__ == "__main__":
    sys.exit(main())
