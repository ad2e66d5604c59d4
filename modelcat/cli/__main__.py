"""``python -m modelcat.cli``: the ``modelcat`` command."""

from modelcat.cli.main import program

program()
