"""``python -m modelcat.demo``: the demo (``make demo``)."""

import sys

from modelcat.demo import main

sys.exit(main())
