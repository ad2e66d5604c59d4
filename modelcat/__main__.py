"""``python -m modelcat``: the ``modelcat`` command."""

import sys

from modelcat.cli.main import main

sys.exit(main())
