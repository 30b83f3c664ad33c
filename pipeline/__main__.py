"""``python -m pipeline`` is the ``talks`` command."""
import sys

from pipeline.cli import main

sys.exit(main())
