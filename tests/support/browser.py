"""What the browser tests need from this machine: Debian's Chromium (driven by Playwright
with ``executable_path``, no browser download) and axe-core, fetched from the npm registry
with npm at a pinned version and checked against its SHA-256 before use.

Where either cannot be had the tests skip, saying why (``pytest -ra`` lists the reason);
``.ci/run`` installs Chromium on a fresh machine.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

AXE_VERSION = "4.14.1"
AXE_SHA256 = "e6b0ce02b84d892e2e33e403485e7f3d6c29e2be6df65daf44d89ba564139745"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "modelcat-tests"
ARTEFACTS = Path(__file__).resolve().parents[2] / ".artefacts"


def chromium() -> str:
    """The system's Chromium, or a loud skip."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip(
        "BROWSER TESTS SKIPPED: no chromium on PATH (Debian: apt-get install chromium; "
        ".ci/run installs it when run as root)"
    )


def axe_source() -> str:
    """axe.min.js of the pinned axe-core, from the npm registry (cached), or a loud skip."""
    tarball = CACHE / f"axe-core-{AXE_VERSION}.tgz"
    if not tarball.is_file() or _sha256(tarball) != AXE_SHA256:
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("ACCESSIBILITY AUDIT SKIPPED: npm is missing, axe-core cannot be had")
        CACHE.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [npm, "pack", f"axe-core@{AXE_VERSION}", "--pack-destination", str(CACHE)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0 or not tarball.is_file():
            pytest.skip(f"ACCESSIBILITY AUDIT SKIPPED: npm pack axe-core failed: {result.stderr}")
    digest = _sha256(tarball)
    assert digest == AXE_SHA256, f"axe-core {AXE_VERSION} is not the tarball pinned: {digest}"
    with tarfile.open(tarball) as archive:
        member = archive.extractfile("package/axe.min.js")
        assert member is not None
        return member.read().decode("utf-8")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
