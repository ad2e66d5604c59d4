"""The page archive gives back exactly the bytes a hash names, or says it cannot; the
validator store loads whatever it finds without failing. Real files in a temporary directory."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.archive import replace_frame
from tests.support.limits import file_size_limit
from transforms.pages.archive import (
    CorruptBody,
    PageArchive,
    Validator,
    Validators,
    pack_record,
    read_pack,
)

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
    assert PageArchive(tmp_path).get(sha(body)) == body  # read back from the pack alone


def test_a_writer_appends_to_one_pack_and_stores_a_body_once(tmp_path: Path) -> None:
    archive = PageArchive(tmp_path)
    bodies = [PAGE + str(i).encode() for i in range(50)]
    for body in [*bodies, *bodies]:
        archive.put(sha(body), body)
    (pack,) = (tmp_path / "packs").iterdir()
    assert [s for s, _ in read_pack(pack).records] == [sha(body) for body in bodies]
    again = PageArchive(tmp_path)  # a later run: a new pack only for what is new
    again.put(sha(bodies[0]), bodies[0])
    again.put(sha(b"new"), b"new")
    assert len(list((tmp_path / "packs").iterdir())) == 2
    assert sorted(PageArchive(tmp_path).hashes()) == sorted(map(sha, [*bodies, b"new"]))


@ARCHIVE
@given(data=st.data())
def test_a_damaged_pack_never_gives_back_other_bytes(
    tmp_path_factory: pytest.TempPathFactory, data
) -> None:
    """Any damage to a pack file: each body reads back exactly, or is not given at all."""
    root = tmp_path_factory.mktemp("archive")  # an archive of its own for each example
    bodies = [PAGE, PAGE[:100], b"", b"x" * 5000]
    writer = PageArchive(root)
    for body in bodies:
        writer.put(sha(body), body)
    sealed = data.draw(st.sampled_from(["by its writer", "after the damage", "never"]))
    if sealed == "by its writer":
        writer.seal()  # as a run ends: a seal must not vouch for a pack changed since
        assert all(PageArchive(root).intact(sha(body)) for body in bodies)
    (path,) = (root / "packs").glob("*.pack")
    pack = bytearray(path.read_bytes())
    damage = data.draw(st.sampled_from(["flip", "truncate", "append"]))
    if damage == "flip":
        at = data.draw(st.integers(0, len(pack) - 1))
        pack[at] ^= data.draw(st.integers(1, 255))
    elif damage == "truncate":
        pack = pack[: data.draw(st.integers(0, len(pack) - 1))]
    else:
        pack += data.draw(st.binary(min_size=1, max_size=64))
    path.write_bytes(bytes(pack))
    if sealed == "after the damage":  # as the next run ends: only what reads back is sealed
        PageArchive(root).seal()
    for reader in (writer, PageArchive(root)):  # what it wrote, and what a later run finds
        for body in bodies:
            try:
                assert reader.get(sha(body)) == body  # damage zstd can undo is no damage
            except (CorruptBody, FileNotFoundError):
                assert not reader.intact(sha(body))
    fetch = PageArchive(root)
    for body in bodies:
        fetch.put(sha(body), body)  # a fetch puts back what is lost
    for reader in (fetch, PageArchive(root)):
        assert [reader.get(sha(body)) for body in bodies] == bodies
    PageArchive(root).prune(map(sha, bodies))  # and pruning drops the damaged copies
    assert [PageArchive(root).get(sha(body)) for body in bodies] == bodies
    assert all(read_pack(p).whole for p in (root / "packs").glob("*.pack"))
    assert_sealed(root)


def assert_sealed(root: Path) -> None:
    """Every pack is sealed with the SHA-256 of its bytes, and every seal is a pack's."""
    packs = sorted((root / "packs").glob("*.pack"))
    seals = sorted((root / "packs").glob("*.sha256*"))
    assert seals == [pack.with_name(pack.name + ".sha256") for pack in packs]
    for pack, seal in zip(packs, seals, strict=True):
        assert seal.read_text(encoding="ascii") == sha(pack.read_bytes()) + "\n"


def test_a_body_is_put_only_under_its_own_hash(tmp_path: Path) -> None:
    archive = PageArchive(tmp_path)
    with pytest.raises(ValueError, match="not the SHA-256"):
        archive.put(sha(b"another page"), PAGE)
    assert not archive.holds(sha(b"another page"))


@pytest.mark.parametrize("seal", ["missing", "wrong", "not text", "of another pack"])
def test_a_pack_whose_seal_does_not_hold_is_checked_a_body_at_a_time(
    tmp_path: Path, seal: str
) -> None:
    for body in (PAGE, b"second"):  # two runs, a sealed pack each
        writer = PageArchive(tmp_path)
        writer.put(sha(body), body)
        writer.seal()
    first, second = sorted((tmp_path / "packs").glob("*.pack"))
    sealed = first.with_name(first.name + ".sha256")
    if seal == "missing":
        sealed.unlink()
    elif seal == "wrong":
        sealed.write_text("0" * 64 + "\n", encoding="ascii")
    elif seal == "not text":
        sealed.write_bytes(b"\xff\xfe")
    else:
        sealed.write_bytes(second.with_name(second.name + ".sha256").read_bytes())
    assert PageArchive(tmp_path).intact(sha(PAGE))  # the body reads back: it is intact
    replace_frame(tmp_path, sha(PAGE), b"garbage")
    assert not PageArchive(tmp_path).intact(sha(PAGE))
    assert PageArchive(tmp_path).intact(sha(b"second"))
    PageArchive(tmp_path).prune([sha(PAGE), sha(b"second")])
    assert_sealed(tmp_path)


def test_an_unfinished_record_is_not_in_the_archive(tmp_path: Path) -> None:
    """A crash mid-write leaves a record cut short at the end of a pack: the bodies before it
    read, it does not, and the next writer's pack is its own."""
    archive = PageArchive(tmp_path)
    archive.put(sha(PAGE), PAGE)
    (path,) = (tmp_path / "packs").iterdir()
    with path.open("ab") as pack:
        pack.write(pack_record(sha(b"cut"), pa.Codec("zstd").compress(b"cut", asbytes=True))[:-3])
    after = PageArchive(tmp_path)
    assert after.get(sha(PAGE)) == PAGE
    assert not after.holds(sha(b"cut"))
    after.put(sha(b"cut"), b"cut")
    assert PageArchive(tmp_path).get(sha(b"cut")) == b"cut"


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
    PageArchive(tmp_path).put(sha(PAGE), PAGE)
    replace_frame(tmp_path, sha(PAGE), frame)
    archive = PageArchive(tmp_path)
    with pytest.raises(CorruptBody, match=problem):
        archive.get(sha(PAGE))
    with pytest.raises(FileNotFoundError):
        archive.get(sha(b"never stored"))


def test_a_stream_compressed_body_reads_too(tmp_path: Path) -> None:
    """A frame without its size (zstd's streaming mode, or ``zstd`` on a pipe) still reads."""
    PageArchive(tmp_path).put(sha(PAGE), PAGE)
    streamed = pa.BufferOutputStream()
    with pa.CompressedOutputStream(streamed, "zstd") as stream:
        stream.write(PAGE)
    replace_frame(tmp_path, sha(PAGE), streamed.getvalue().to_pybytes())
    assert PageArchive(tmp_path).get(sha(PAGE)) == PAGE


def loose(root: Path, body: bytes) -> Path:
    """A body as versions before packs archived it: a zstd file named by its hash."""
    path = root / sha(body)[:2] / f"{sha(body)}.zst"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pa.Codec("zstd").compress(body, asbytes=True))
    return path


def test_bodies_archived_one_file_each_read_and_move_into_a_pack(tmp_path: Path) -> None:
    old, gone, damaged = PAGE, PAGE[:200], PAGE[:300]
    for body in (old, gone, damaged):
        loose(tmp_path, body)
    loose(tmp_path, damaged).write_bytes(b"garbage")
    archive = PageArchive(tmp_path)
    assert archive.get(sha(old)) == old
    archive.put(sha(old), old)  # held already: not written again
    assert not (tmp_path / "packs").exists()
    assert archive.prune([sha(old), sha(damaged)]) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["packs"]
    after = PageArchive(tmp_path)
    assert sorted(after.hashes()) == [sha(old)]  # the damaged one is not carried
    assert after.get(sha(old)) == old


def test_prune_keeps_big_clean_packs_and_merges_the_rest(tmp_path: Path) -> None:
    big = [os.urandom(700_000) for _ in range(8)]  # incompressible: one pack over 4 MiB
    first = PageArchive(tmp_path)
    for body in big:
        first.put(sha(body), body)
    first.seal()
    small = [PAGE + bytes([i]) for i in range(3)]
    for body in small:  # three later runs, a small pack each
        PageArchive(tmp_path).put(sha(body), body)
    (big_pack,) = [p for p in (tmp_path / "packs").iterdir() if p.stat().st_size > 4 << 20]
    everything = [sha(body) for body in big + small]

    assert PageArchive(tmp_path).prune(everything) == 0
    packs = sorted((tmp_path / "packs").glob("*.pack"))
    assert len(packs) == 2  # the small ones merged into one
    assert big_pack in packs  # and the big one as it was
    assert PageArchive(tmp_path).prune(everything) == 0
    assert sorted((tmp_path / "packs").glob("*.pack")) == packs  # nothing left to do: nothing done

    assert PageArchive(tmp_path).prune(everything[1:]) == 1
    assert not big_pack.exists()  # it held a body no longer kept
    assert_sealed(tmp_path)
    archive = PageArchive(tmp_path)
    assert sorted(archive.hashes()) == sorted(everything[1:])
    assert [archive.get(sha(body)) for body in big[1:] + small] == big[1:] + small


@ARCHIVE
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["put", "prune"]), st.sets(st.integers(0, 11), max_size=6)),
        max_size=12,
    )
)
def test_puts_and_prunes_in_any_order_keep_exactly_the_bodies_kept(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, set[int]]]
) -> None:
    root = tmp_path_factory.mktemp("archive")
    bodies = [PAGE + str(i).encode() for i in range(12)]
    held: set[int] = set()
    for step, which in steps:
        archive = PageArchive(root)  # each step a run of its own
        if step == "put":
            for i in sorted(which):
                archive.put(sha(bodies[i]), bodies[i])
            held |= which
        else:
            assert archive.prune(sha(bodies[i]) for i in which) == len(held - which)
            held &= which
        after = PageArchive(root)
        assert sorted(after.hashes()) == sorted(sha(bodies[i]) for i in held)
        assert all(after.get(sha(bodies[i])) == bodies[i] for i in held)
    assert len(list(root.glob("packs/*.pack"))) <= 1 + sum(step == "put" for step, _ in steps)


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


def test_a_big_pack_from_before_seals_is_sealed_by_the_next_prune(tmp_path: Path) -> None:
    big = [os.urandom(700_000) for _ in range(8)]
    unsealed = PageArchive(tmp_path)
    for body in big:
        unsealed.put(sha(body), body)  # never sealed, as by a version before seals
    (before,) = (tmp_path / "packs").glob("*.pack")
    records = before.read_bytes()

    assert PageArchive(tmp_path).prune(map(sha, big)) == 0

    (after,) = (tmp_path / "packs").glob("*.pack")
    assert after != before
    assert after.read_bytes() == records
    assert_sealed(tmp_path)
    PageArchive(tmp_path).prune(map(sha, big))
    assert list((tmp_path / "packs").glob("*.pack")) == [after]  # sealed: kept as it is


def test_a_reader_sees_a_sealed_pack_changed_after_it_checked_it(tmp_path: Path) -> None:
    writer = PageArchive(tmp_path)
    for body in (PAGE, b"second"):
        writer.put(sha(body), body)
    writer.seal()
    reader = PageArchive(tmp_path)  # a crawl asks all along
    assert reader.intact(sha(PAGE))
    assert reader.intact(sha(b"second"))
    replace_frame(tmp_path, sha(PAGE), b"garbage")
    assert not reader.intact(sha(PAGE))


# What the crawl child does with the archive: load the spider, ask whether bodies are intact.
CHILD_CHECKS = """
import sys
from pathlib import Path

import crawler.spiders.pipellm
from transforms.pages.archive import PageArchive

archive = PageArchive(Path(sys.argv[1]))
print(all(archive.intact(sha) for sha in sys.argv[2:]), "pyarrow" in sys.modules)
"""


def test_the_crawl_child_checks_sealed_packs_without_loading_pyarrow(tmp_path: Path) -> None:
    """pyarrow (with numpy, 0.1 s) loads at the first body compressed or read: a crawl child
    whose packs hold their seals never needs it, and starts crawling that much sooner."""
    bodies = [PAGE, b"second"]
    writer = PageArchive(tmp_path)
    for body in bodies:
        writer.put(sha(body), body)
    writer.seal()
    checks = [sys.executable, "-I", "-c", CHILD_CHECKS, str(tmp_path), *map(sha, bodies)]
    sealed = subprocess.run(checks, capture_output=True, text=True, check=True)
    assert sealed.stdout.split() == ["True", "False"]
    next((tmp_path / "packs").glob("*.sha256")).unlink()  # unsealed: each body is read
    unsealed = subprocess.run(checks, capture_output=True, text=True, check=True)
    assert unsealed.stdout.split() == ["True", "True"]


def test_the_packs_a_run_did_not_seal_are_sealed_if_every_record_reads_back(
    tmp_path: Path,
) -> None:
    bodies = [PAGE + bytes([i]) for i in range(3)]
    for body in bodies:  # three runs that never sealed their packs
        PageArchive(tmp_path).put(sha(body), body)
    _damaged, cut, whole = sorted((tmp_path / "packs").glob("*.pack"))
    replace_frame(tmp_path, sha(bodies[0]), b"garbage")
    cut.write_bytes(cut.read_bytes()[:-1])

    PageArchive(tmp_path).seal()  # a later run's

    assert [p.name for p in (tmp_path / "packs").glob("*.sha256")] == [whole.name + ".sha256"]
    reader = PageArchive(tmp_path)
    assert [reader.intact(sha(body)) for body in bodies] == [False, False, True]
    assert reader.get(sha(bodies[2])) == bodies[2]
    PageArchive(tmp_path).prune([sha(bodies[2])])
    assert_sealed(tmp_path)


def test_a_seal_that_cannot_be_written_costs_only_checks(tmp_path: Path) -> None:
    writer = PageArchive(tmp_path)
    writer.put(sha(PAGE), PAGE)
    with file_size_limit(10):  # a full disk: the seal's 65 bytes do not fit
        writer.seal()
        PageArchive(tmp_path).seal()  # a later run's, sealing the pack left unsealed
    assert list((tmp_path / "packs").glob("*.sha256*")) == []  # no seal, nor half of one
    assert PageArchive(tmp_path).intact(sha(PAGE))


def test_a_seal_vouches_only_for_the_records_its_pack_holds(tmp_path: Path) -> None:
    writer = PageArchive(tmp_path)
    writer.put(sha(PAGE), PAGE)  # the writer knows where the record lies
    (pack,) = (tmp_path / "packs").glob("*.pack")
    pack.write_bytes(b"")  # and the pack loses it
    PageArchive(tmp_path).seal()  # a later run's: nothing in it fails to read, so sealed
    assert pack.with_name(pack.name + ".sha256").exists()
    assert not writer.intact(sha(PAGE))
