"""Build or update the search index from corpus/ (thin entry point; see assistant.cli)."""

import sys

from assistant.cli import ingest_main

if __name__ == "__main__":
    sys.exit(ingest_main(sys.argv[1:]))
