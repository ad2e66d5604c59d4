"""Hostile input to the command line (issue 9 items 8 and 9), through the real installed
``modelcat`` command: a working directory full of look-alike modules, ``--set`` values
that would load code or write files, SQL that writes files, loads extensions, changes
settings or used to abort the process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from modelcat.demo import DEMO_MIRROR
from modelcat.demo.mirror import MirrorServer
from tests.support import FAST, modelcat, query

# The console script, as cron runs it: unlike ``python -m``, it puts no working directory on
# the path of the process it starts.
MODELCAT = Path(sys.executable).with_name("modelcat")


def hostile_directory(root: Path) -> Path:
    """A directory whose every importable name would leave a marker file if imported."""
    cwd = root / "cwd"
    for module in ("crawler/__init__.py", "evilmod.py", "scrapy_evil.py", "transforms/__init__.py"):
        path = cwd / module
        path.parent.mkdir(parents=True, exist_ok=True)
        marker = root / f"IMPORTED-{module.replace('/', '-')}"
        path.write_text(f"open({str(marker)!r}, 'w').close()\nclass Evil: pass\n")
    # scrapy crawl appends the directory of the nearest scrapy.cfg to sys.path.
    (cwd / "scrapy.cfg").write_text("[settings]\ndefault = scrapy_evil\n")
    return cwd


def markers(root: Path) -> list[str]:
    return sorted(path.name for path in root.glob("IMPORTED-*"))


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(MODELCAT), *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


def test_refresh_from_a_hostile_directory_runs_only_installed_code(tmp_path: Path) -> None:
    cwd = hostile_directory(tmp_path)
    with MirrorServer(DEMO_MIRROR) as server:
        result = run(
            cwd, "refresh", "--start-url", server.url(), "--data-dir", str(tmp_path / "d"), *FAST
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert markers(tmp_path) == []
    assert query(tmp_path / "d", "SELECT count(*) FROM models") == [(189,)]


@pytest.mark.parametrize(
    "setting",
    [
        'EXTENSIONS={"evilmod.Evil": 0}',
        'ITEM_PIPELINES={"evilmod.Evil": 1}',
        "LOG_FILE=/tmp/modelcat-hostile.log",
        "TELNETCONSOLE_ENABLED=True",
        "REMOTE_CONTROL_ENABLED=True",
        "ROBOTSTXT_OBEY=False",
        "RETRY_TIMES=many",
        "DOWNLOAD_TIMEOUT=-1",
    ],
)
def test_set_refuses_what_is_not_a_crawl_setting(tmp_path: Path, setting: str) -> None:
    cwd = hostile_directory(tmp_path)
    result = run(cwd, "refresh", "--start-url", "http://127.0.0.1:9/", "--set", setting)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--set" in result.stderr
    assert "Traceback" not in result.stderr
    assert markers(tmp_path) == []
    assert not (cwd / "data").exists()  # refused before anything ran


def test_set_names_what_it_accepts(tmp_path: Path) -> None:
    result = run(tmp_path, "refresh", "--set", "EXTENSIONS={}")
    assert result.returncode == 2
    for name in ("DOWNLOAD_TIMEOUT", "RETRY_TIMES", "DOWNLOAD_DELAY", "LOG_LEVEL"):
        assert name in result.stderr.replace("\n", " ").replace("│", " ")


# Statements a read-only catalog must refuse with one clear line: each writes a file, loads
# an extension or changes a setting. File logging used to abort the process (exit 134).
REFUSED = [
    "CALL enable_logging(storage='file', storage_path='x.log')",
    "CALL enable_logging(storage='file', storage_path='x.log'); SELECT 1",
    "PRAGMA enable_profiling='json'",
    "SET profiling_output='profile.json'",
    "SET threads=1000",
    "SET enable_external_access=true",
    "INSTALL httpfs",
    "LOAD httpfs",
    "CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')",
    "COPY models TO 'models.csv'",
    "SELECT * FROM read_csv('/etc/passwd')",
    "ATTACH 'other.duckdb' AS other",
]


@pytest.mark.parametrize("statement", REFUSED)
def test_sql_refuses_with_a_clear_error(published: Path, tmp_path: Path, statement: str) -> None:
    result = modelcat("sql", statement, "--data-dir", str(published), cwd=tmp_path)
    assert result.returncode == 1, (result.returncode, result.stderr[-500:])
    assert result.stderr.startswith("query failed:")
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # no file written where it ran
    assert query(published, "SELECT count(*) FROM models") == [(189,)]


@pytest.mark.parametrize(
    "statement",
    ["SELECT TIMESTAMP '294247-01-10 04:00:54'", "SELECT count(*) FROM duckdb_logs"],
)
def test_sql_answers_what_it_may(published: Path, tmp_path: Path, statement: str) -> None:
    result = modelcat("sql", statement, "--data-dir", str(published), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []


# A model id that would retitle the terminal, ring it, clear it and reverse what follows.
EVIL_ID = "o3\x1b]0;pwned\x07\x1b[2J\u202ex\x9b31m"
EVIL_SHOWN = "o3\\x1b]0;pwned\\x07\\x1b[2J\\u202ex\\x9b31m"
RAW = ("\x1b", "\x07", "\u202e", "\x9b")


def test_table_output_escapes_control_characters(
    mirror: Path, server: MirrorServer, data_dir: Path
) -> None:
    """Every table a command prints shows a hostile value escaped; CSV and JSON keep it."""
    page = mirror / "llms" / "models" / "o3.md"
    text = page.read_text().replace("- Model ID: o3", f"- Model ID: {EVIL_ID}")
    # An unreadable value the quality issue quotes as written.
    page.write_text(text.replace("- Context window: 200K", "- Context window: 2\x1b[2J\x07K"))
    crawl = modelcat(
        "refresh", "--start-url", server.url("/llms.txt"), "--data-dir", str(data_dir), *FAST
    )
    assert crawl.returncode == 0, crawl.stderr
    where = ["--data-dir", str(data_dir)]
    # Every command's table: sql, quality, changes (each model was added) and cost.
    tables = {
        "sql": modelcat("sql", "SELECT model_id FROM models WHERE model_id LIKE 'o3%'", *where),
        "quality": modelcat("quality", *where),
        "changes": modelcat("changes", *where),
        "cost": modelcat("cost", EVIL_ID, "--input-tokens", "1000", *where),
        "rank": modelcat("cost", "--rank", "--top", "500", "--input-tokens", "1", *where),
        "unknown": modelcat("cost", EVIL_ID + "?", "--input-tokens", "1", *where),
    }
    for name, result in tables.items():
        assert not any(c in result.stdout + result.stderr for c in RAW), name
    for name in ("sql", "changes", "cost", "rank"):
        assert EVIL_SHOWN in tables[name].stdout, (name, tables[name].stdout)
    assert "2\\x1b[2J\\x07K" in tables["quality"].stdout  # the unreadable context window
    assert EVIL_SHOWN in tables["unknown"].stderr
    # Data formats carry the value as it is.
    csv = modelcat("sql", "SELECT model_id FROM models", "-f", "csv", *where)
    assert EVIL_ID in csv.stdout.splitlines()
    data = modelcat("sql", "SELECT model_id FROM models", "-f", "json", *where)
    assert {"model_id": EVIL_ID} in json.loads(data.stdout)
    assert query(data_dir, "SELECT count(*) FROM models WHERE model_id = ?", [EVIL_ID]) == [(1,)]
