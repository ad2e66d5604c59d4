"""The benchmark's server: ``modelcat.demo.mirror`` in a child process of its own.

In its own process the server never competes with the harness for a GIL, and its CPU time
is its own (``MirrorProcess.pid``). A harness reads ``stats()`` (the mirror's counters, at
``STATS_PATH``) before and after a phase and takes the difference.

``with MirrorProcess(root) as server: server.url("/llms.txt"); server.stats()``
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

STATS_PATH = "/__stats"


class MirrorProcess:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.process: subprocess.Popen[str] | None = None
        self.base = ""

    def start(self) -> MirrorProcess:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "modelcat.demo.mirror",
                str(self.root),
                "--stats-path",
                STATS_PATH,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        said = self.process.stdout.readline().strip()
        if not said.startswith("http://"):
            self.stop()
            raise RuntimeError(f"the mirror server did not start (said {said!r})")
        self.base = "http://" + urlsplit(said).netloc
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def url(self, path: str = "/llms.txt") -> str:
        return self.base + path

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url(STATS_PATH), timeout=10) as response:
            return json.load(response)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def __enter__(self) -> MirrorProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
