"""``python -m transforms.contract [README]``: rewrite the README's data contract block."""

import sys
from pathlib import Path

from transforms.contract.readme import write_readme_contract

write_readme_contract(Path(sys.argv[1] if len(sys.argv) > 1 else "README.md"))
