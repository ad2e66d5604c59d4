"""``python -m modelcat``: the ``modelcat`` command."""

from modelcat.cli.main import program

program()
