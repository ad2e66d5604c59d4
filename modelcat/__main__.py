"""``python -m modelcat``: the ``modelcat`` command."""

import sys

from modelcat.cli import main

sys.exit(main())
