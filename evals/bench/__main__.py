"""``python -m evals.bench`` (and ``python -m evals.bench _worker ...``): see cli.py."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
