"""``python -m pipeline`` is the ``talks`` command."""
import sys

from .cli import main

sys.exit(main())
