"""``python -m modelcat.demo``: the demo (``make demo``)."""

import sys

from modelcat.demo.walkthrough import main

sys.exit(main())
