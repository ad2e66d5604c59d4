"""modelcat as a package: a wheel built from the source installs into a fresh environment,
and its ``python -m modelcat.demo`` finds the mirror it ships and shows history, run twice
into one data directory from a directory that is not the checkout."""

from __future__ import annotations

import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from modelcat.demo import DEMO_MIRROR
from tests.support import REPO

pytestmark = pytest.mark.slow  # builds a wheel and a fresh environment

SOURCES = ("pyproject.toml", "README.md", "LICENSE", "crawler", "transforms", "modelcat")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh environment with the wheel installed; its dependencies come from ours."""
    work = tmp_path_factory.mktemp("package")
    source = work / "source"
    source.mkdir()
    for name in SOURCES:
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy2
        copy(REPO / name, source / name, **_ignore(REPO / name))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(work / "dist"), str(source)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    (wheel,) = (work / "dist").glob("modelcat-*.whl")
    environment = work / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(environment)], check=True)
    python = environment / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", str(wheel)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    # Our environment's packages, as a plain path: its .pth files (the editable install of
    # this checkout among them) are not run, so modelcat comes from the wheel.
    (purelib,) = environment.glob("lib/python*/site-packages")
    (purelib / "dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return python


def _ignore(path: Path) -> dict:
    return {"ignore": shutil.ignore_patterns("__pycache__")} if path.is_dir() else {}


def test_the_wheel_carries_the_demo_mirror_and_the_license(installed: Path) -> None:
    located = subprocess.run(
        [str(installed), "-c", "import modelcat.demo as d; print(d.DEMO_MIRROR)"],
        capture_output=True, text=True, check=True, cwd=installed.parent,
    ).stdout.strip()  # fmt: skip
    mirror = Path(located)
    assert mirror.is_relative_to(installed.parents[1])  # installed, not this checkout
    shipped = sorted(p.relative_to(mirror) for p in mirror.rglob("*") if p.is_file())
    bundled = sorted(p.relative_to(DEMO_MIRROR) for p in DEMO_MIRROR.rglob("*") if p.is_file())
    assert shipped == bundled
    assert Path("llms.txt") in shipped
    assert len(shipped) > 189
    (wheel,) = installed.parents[2].glob("dist/modelcat-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert any(name.endswith("licenses/LICENSE") for name in archive.namelist())
    version = subprocess.run(
        [str(installed.with_name("modelcat")), "--version"],
        capture_output=True, text=True, check=True, cwd=installed.parent,
    )  # fmt: skip
    assert version.stdout.startswith("modelcat ")


def test_the_installed_demo_shows_history_and_runs_again(installed: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    data_dir = tmp_path / "demo-data"
    for attempt in (1, 2):
        demo = subprocess.run(
            [str(installed), "-m", "modelcat.demo", "--data-dir", str(data_dir)],
            capture_output=True, text=True, cwd=elsewhere, timeout=600, check=False,
        )  # fmt: skip
        assert demo.returncode == 0, demo.stdout + demo.stderr
        assert "Traceback" not in demo.stderr
        out = demo.stdout
        changes = out.split("== what refresh 2 found different:", 1)[1].split("==", 1)[0]
        assert "price_changed" in changes
        assert "model_removed" in changes
        now, then = out.split("== the price now:", 1)[1].split("== and as the catalog stood")
        assert "0.700000000" in now
        assert "0.800000000" in then
        # Each demo is two runs; the first of a second demo sees the bundled pages again.
        summaries = [line for line in out.splitlines() if line.startswith("  changes:")]
        first = "189 model_added" if attempt == 1 else "1 model_added, 2 price_changed"
        assert first in summaries[0], summaries
        assert "1 model_removed, 2 price_changed" in summaries[1]
        report = tmp_path / "demo-data-report"
        assert f"report: {report / 'index.html'}" in out
        for shipped in ("index.html", "assets/style.css", "assets/cost.js", "changes.xml"):
            assert (report / shipped).is_file(), shipped
    assert not list(elsewhere.iterdir())  # the demo wrote nothing where it was run
