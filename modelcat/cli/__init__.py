"""The command line: ``modelcat`` and its commands (``main``)."""

from modelcat.cli.main import main

__all__ = ["main"]
