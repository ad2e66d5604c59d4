"""The page archive gives back exactly the bytes a hash names, or says it cannot; the
validator store loads whatever it finds without failing. Real files in a temporary directory."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transforms.pages.archive import CorruptBody, PageArchive, Validator, Validators

EXAMPLES = int(os.environ.get("MODELCAT_HYPOTHESIS_EXAMPLES", "60"))
ARCHIVE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
PAGE = b"---\nmodel_id: m\n---\n# M\n\n| Input Price | $0.8 |\n" * 40


def sha(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@ARCHIVE
@given(body=st.binary(max_size=70_000) | st.just(PAGE))
def test_what_is_put_is_given_back(tmp_path: Path, body: bytes) -> None:
    archive = PageArchive(tmp_path)
    archive.put(sha(body), body)
    assert archive.get(sha(body)) == body
    assert archive.intact(sha(body))


@ARCHIVE
@given(data=st.data())
def test_a_damaged_body_is_never_given_back_as_other_bytes(tmp_path: Path, data) -> None:
    archive = PageArchive(tmp_path / str(data.draw(st.integers(0, 10**9))))
    archive.put(sha(PAGE), PAGE)
    path = archive.path(sha(PAGE))
    frame = bytearray(path.read_bytes())
    damage = data.draw(st.sampled_from(["flip", "truncate", "append"]))
    if damage == "flip":
        at = data.draw(st.integers(0, len(frame) - 1))
        frame[at] ^= data.draw(st.integers(1, 255))
    elif damage == "truncate":
        frame = frame[: data.draw(st.integers(0, len(frame) - 1))]
    else:
        frame += data.draw(st.binary(min_size=1, max_size=64))
    path.write_bytes(bytes(frame))
    try:
        assert archive.get(sha(PAGE)) == PAGE  # damage zstd can undo is no damage
    except CorruptBody:
        assert not archive.intact(sha(PAGE))
        archive.put(sha(PAGE), PAGE)  # a fetch puts it back
        assert archive.get(sha(PAGE)) == PAGE


@pytest.mark.parametrize(
    ("frame", "problem"),
    [
        (pa.Codec("zstd").compress(PAGE.replace(b"$0.8", b"$7.7"), asbytes=True), "SHA-256"),
        (b"# not zstd\n", "damaged"),
        (b"", "SHA-256"),  # decodes, to nothing
        (b"\x28\xb5\x2f\xfd\xe4" + b"\xff" * 8, "damaged"),  # claims 2**64 - 1 bytes
    ],
    ids=["valid zstd of another page", "not zstd", "empty", "absurd size"],
)
def test_what_a_damaged_body_raises(tmp_path: Path, frame: bytes, problem: str) -> None:
    archive = PageArchive(tmp_path)
    archive.put(sha(PAGE), PAGE)
    archive.path(sha(PAGE)).write_bytes(frame)
    with pytest.raises(CorruptBody, match=problem):
        archive.get(sha(PAGE))
    with pytest.raises(FileNotFoundError):
        archive.get(sha(b"never stored"))


def test_a_stream_compressed_body_reads_too(tmp_path: Path) -> None:
    """A frame without its size (zstd's streaming mode, or ``zstd`` on a pipe) still reads."""
    archive = PageArchive(tmp_path)
    archive.path(sha(PAGE)).parent.mkdir(parents=True)
    with pa.output_stream(archive.path(sha(PAGE)), compression="zstd") as stream:
        stream.write(PAGE)
    assert archive.get(sha(PAGE)) == PAGE


GOOD = {
    "etag": '"abc"',
    "last_modified": None,
    "content_sha256": "0" * 64,
    "content_type": "model-detail-page",
    "links": ["http://x/a.md"],
    "problems": [],
}


@pytest.mark.parametrize(
    ("text", "entries", "dropped", "unreadable"),
    [
        (json.dumps({"u": GOOD}), 1, 0, None),
        (json.dumps({"u": {**GOOD, "later": 1}}), 1, 0, None),  # a field it does not know
        ("{not json", 0, 0, "not JSON"),
        ("[]", 0, 0, "a JSON list"),
        ('"text"', 0, 0, "a JSON str"),
        (json.dumps({"u": GOOD})[:-9], 0, 0, "not JSON"),  # truncated
        ("\xff\xfe", 0, 0, "not JSON"),
        ("[" * 100_000, 0, 0, "not JSON"),
        (json.dumps({"u": GOOD, "v": {"etag": 7}}), 1, 1, None),
        (json.dumps({"u": GOOD, "v": {**GOOD, "content_sha256": "xyz"}}), 1, 1, None),
        (json.dumps({"u": GOOD, "v": {**GOOD, "links": "http://x/a.md"}}), 1, 1, None),
        (json.dumps({"u": GOOD, "v": {**GOOD, "problems": [None]}}), 1, 1, None),
        (json.dumps({"u": GOOD, "v": None}), 1, 1, None),
    ],
)
def test_the_validator_store_loads_what_it_can(
    tmp_path: Path, text: str, entries: int, dropped: int, unreadable: str | None
) -> None:
    path = tmp_path / "validators.json"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    store = Validators.load(path)
    assert (len(store.entries), store.dropped) == (entries, dropped)
    assert (store.unreadable or "").startswith(unreadable or "")
    assert bool(store.unreadable) == bool(unreadable)
    assert all(isinstance(v, Validator) for v in store.entries.values())


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@ARCHIVE
@given(value=st.dictionaries(st.text(), JSON | st.just(GOOD)) | JSON)
def test_any_json_loads_as_a_store_of_whole_validators(tmp_path: Path, value: object) -> None:
    path = tmp_path / "validators.json"
    path.write_text(json.dumps(value))
    store = Validators.load(path)
    good = sum(entry == GOOD for entry in value.values()) if isinstance(value, dict) else 0
    assert len(store.entries) == good
    store.save(tmp_path / "again.json")
    again = Validators.load(tmp_path / "again.json")
    assert (again.entries, again.dropped, again.unreadable) == (store.entries, 0, None)
