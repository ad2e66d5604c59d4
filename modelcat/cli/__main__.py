"""``python -m modelcat.cli``: the ``modelcat`` command."""

import sys

from modelcat.cli.main import main

sys.exit(main())
