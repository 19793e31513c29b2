"""A search parses only the version files that hold the text its filter requires
(``filters.file_prefilter``): never leaving out a file whose version matches, however its
YAML is written, and never deciding from what a file held before it changed."""

from __future__ import annotations

import marshal
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelreg import Registry, index, yamlio
from modelreg.errors import CorruptFileError
from modelreg.filters import Comparison, Field, FilePrefilter, Like, file_prefilter, parse
from modelreg.store import Identity

NAME = "churn"
TEAMS = ["growth", "vision", "growth", "vision", "growth", "search"]


def could_match(prefilter: FilePrefilter, data: bytes) -> bool:
    return not prefilter.refuses(prefilter.held(data))


def prefilter_of(text: str) -> FilePrefilter:
    prefilter = file_prefilter(parse(text))
    assert prefilter is not None
    return prefilter


@pytest.mark.parametrize(
    "text",
    [
        "metrics.accuracy > 0.5",
        "params.depth = '3'",
        "tags.team != 'growth'",
        "NOT tags.team = 'growth'",
        "tags.team NOT IN ('growth', 'vision')",
        "tags.team NOT LIKE 'growth'",
        "tags.team ILIKE 'growth'",  # either case: not the bytes as written
        "tags.team IS NOT NULL",
        "tags.team LIKE '%'",
        "tags.team LIKE '%_%'",
        "tags.team = 'two words'",  # YAML may fold the space into a line break
        'tags.team = "it\'s"',  # doubled in single quotes
        "tags.team IN ('growth', 'two words')",
        "tags.team = 'growth' OR metrics.accuracy > 0.5",
        "tags.`mlflow.prompt.is_prompt` = 'false'",  # a version without it matches
        "source = ''",
        # from the model's folder and files, or a default when the file has none
        "name = 'growth'",
        "alias = 'champion'",
        "current_stage = 'Production'",
        "status = 'READY'",
    ],
)
def test_a_filter_that_requires_no_text_reads_every_file(text: str) -> None:
    assert file_prefilter(parse(text)) is None


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("tags.team = 'growth'", {b"growth"}),
        ('tag.team = "growth"', {b"growth"}),
        ("tags.team IN ('growth', 'vision')", {b"growth", b"vision"}),
        ("run_id LIKE 'abc%defg_h'", {b"defg"}),
        ("description LIKE '%retrained%'", {b"retrained"}),
        ("tags.team = 'growth' AND metrics.accuracy > 0.5", {b"growth"}),
        ("tags.team = 'growth' OR user_id = 'ann@example.com'", {b"growth", b"ann@example.com"}),
        ("tags.team = 'growth' AND source = 's3://b/1'", {b"growth", b"s3://b/1"}),
    ],
)
def test_the_texts_a_filter_requires(text: str, needles: set[bytes]) -> None:
    assert prefilter_of(text).needles == needles


def test_and_requires_every_text_or_any() -> None:
    both = prefilter_of("tags.team = 'growth' AND tags.stage = 'beta'")
    either = prefilter_of("tags.team = 'growth' OR tags.stage = 'beta'")
    assert could_match(both, b"team: growth\nstage: beta\n")
    assert not could_match(both, b"team: growth\nstage: alpha\n")
    assert could_match(either, b"team: vision\nstage: beta\n")
    assert not could_match(either, b"team: vision\nstage: alpha\n")
    # A backslash may be an escape that writes a character otherwise: always parsed.
    assert could_match(both, b'team: "gro\\x77th"\nstage: beta\n')


def test_what_is_known_of_only_some_texts_decides_nothing() -> None:
    prefilter = prefilter_of("tags.team = 'growth' AND tags.stage = 'beta'")
    assert not prefilter.refuses({b"growth": False})
    assert prefilter.refuses({b"growth": False, b"beta": True})


# -- no file whose version matches is ever refused ------------------------------------------

# Characters YAML writes in other forms: white space and line breaks it folds, quotes it
# doubles or escapes, escapes, characters it must escape, and text it reads as non-strings.
TRICKY = st.text(
    alphabet=st.sampled_from(
        list("ab-_.:/@#%&*!|>'\"\\ \t\n\r{}[],?=~é€\x85\u2028\u2029\ufeff\x07\x1b0123456789")
    ),
    min_size=1,
    max_size=24,
)
STYLES = [None, "'", '"', "|", ">"]


def written(value: str, style: str | None, width: int, unicode: bool) -> bytes:
    doc = {"name": NAME, "version": 1, "source": "s3://b/1", "tags": {"team": value, "x": "y"}}
    if style == "modelreg":
        return yamlio.dumps(doc).encode()
    return yaml.safe_dump(doc, default_style=style, width=width, allow_unicode=unicode).encode()


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=TRICKY,
    style=st.sampled_from([*STYLES, "modelreg"]),
    width=st.integers(min_value=2, max_value=80),
    unicode=st.booleans(),
    data=st.data(),
)
def test_a_file_whose_version_matches_is_never_refused(
    value: str, style: str | None, width: int, unicode: bool, data: st.DataObject
) -> None:
    text = written(value, style, width, unicode)
    try:
        doc = yamlio.loads(text, Path("1.yaml"))
    except CorruptFileError:
        return  # not a file a search would read
    assert isinstance(doc, dict)
    # What the file holds as the parser reads it (PyYAML's emitter does not always write
    # what reads back the same: a lone U+0085 comes back a space).
    value = doc["tags"]["team"]
    if not isinstance(value, str) or not value:
        return
    team = Field("tags", "team")
    # The value itself, and LIKE patterns it matches: a part of it between wildcards.
    start = data.draw(st.integers(0, len(value) - 1))
    end = data.draw(st.integers(start + 1, len(value)))
    wildcard = data.draw(st.sampled_from(["%", "_"]))
    inner = value[start:end]
    pattern = ("%" if start else "") + inner + ("%" if end < len(value) else "")
    if wildcard == "_" and len(inner) > 1:
        pattern = pattern.replace(inner, inner[0] + "_" + inner[2:], 1)
    for expr in (Comparison(team, "=", value), Like(team, pattern)):
        prefilter = file_prefilter(expr)
        if prefilter is not None:
            assert could_match(prefilter, text), (expr, text)


# -- searches ----------------------------------------------------------------------------------


@pytest.fixture
def files(registry: Registry) -> list[Path]:
    """The files of a version of each team of TEAMS, in order, registered just now."""
    for number, team in enumerate(TEAMS, start=1):
        registry.register(
            NAME,
            f"s3://b/{number}",
            tags={"team": team},
            metrics={"accuracy": number / 10},
            create_model=True,
        )
    folder = registry.root / "models" / NAME / "versions"
    return [folder / f"{number}.yaml" for number in range(1, len(TEAMS) + 1)]


@pytest.fixture
def clone(
    registry: Registry, files: list[Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Registry:
    """The registry with ``files``, as a new clone sees it: its caches empty (in
    tmp_path/cache-clone)."""
    monkeypatch.setenv("MODELREG_CACHE_DIR", str(tmp_path / "cache-clone"))
    return Registry(registry.root)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The numbers of the version files this process read, in order: the files a read
    neither remembered nor found cached (and ``parse_version``'s)."""
    seen: list[int] = []
    real = index.VersionIndex._read_version

    def counting(
        self: index.VersionIndex, name: str, number: int, folder: Path | None
    ) -> tuple[str, bytes, Identity]:
        seen.append(number)
        return real(self, name, number, folder)

    monkeypatch.setattr(index.VersionIndex, "_read_version", counting)
    return seen


def versions(registry: Registry, text: str) -> list[int]:
    return sorted(int(mv.version) for mv in registry.search_model_versions(text))


def test_the_first_search_parses_only_the_files_that_hold_its_text(
    files: list[Path], clone: Registry, settle_now: None, parses: list[Path]
) -> None:
    parses.clear()
    assert versions(clone, "tags.team = 'growth'") == [1, 3, 5]
    assert sorted(parses) == [files[0], files[2], files[4]]
    # A search that requires no text parses the files the first left unparsed.
    parses.clear()
    assert versions(clone, "metrics.accuracy >= 0.4") == [4, 5, 6]
    assert sorted(parses) == [files[1], files[3], files[5]]


def test_the_search_repeated_reads_no_refused_file_until_it_changes(
    files: list[Path], clone: Registry, settle_now: None, reads: list[int]
) -> None:
    reads.clear()
    assert versions(clone, "tags.team = 'growth'") == [1, 3, 5]
    assert sorted(reads) == [1, 2, 3, 4, 5, 6]
    # In this process (from memory), and in the next (from the cache).
    for again in (clone, Registry(clone.root)):
        reads.clear()
        assert versions(again, "tags.team = 'growth'") == [1, 3, 5]
        assert reads == []
    # An edit in place (same inode, same size) gives the file a new identity: read again.
    text = files[3].read_text()
    with files[3].open("r+") as handle:
        handle.write(text.replace("team: vision", "team: growth"))
    reads.clear()
    assert versions(Registry(clone.root), "tags.team = 'growth'") == [1, 3, 4, 5]
    assert reads == [4]
    # A search for other texts parses the files refused before (and caches them): a
    # script looking up one text after another reads each file at most twice.
    reads.clear()
    assert versions(Registry(clone.root), "tags.team = 'search'") == [6]
    assert sorted(reads) == [2, 6]
    reads.clear()
    assert versions(Registry(clone.root), "tags.team = 'vision'") == [2]
    assert reads == []


def test_a_text_written_with_escapes_is_found(files: list[Path], clone: Registry) -> None:
    text = files[1].read_text()
    files[1].write_text(text.replace("team: vision", 'team: "gro\\x77th"'))
    assert versions(clone, "tags.team = 'growth'") == [1, 2, 3, 5]


def test_a_corrupt_file_is_reported_only_by_a_search_that_reads_it(
    files: list[Path], clone: Registry
) -> None:
    files[1].write_text("team: vision\n  - not: [yaml\n")
    files[3].write_text("team: growth\n  - not: [yaml\n")
    errors: list[CorruptFileError] = []
    found = clone.search_version_records(None, errors=errors)
    assert len(found) == 4 and sorted(error.path.name for error in errors) == ["2.yaml", "4.yaml"]
    from modelreg.search import Query

    errors.clear()
    found = clone.search_version_records(Query("tags.team = 'growth'"), errors=errors)
    assert sorted(int(record["version"]) for record in found) == [1, 3, 5]
    assert [error.path.name for error in errors] == ["4.yaml"]


def test_a_file_refused_while_fresh_is_read_again(clone: Registry, reads: list[int]) -> None:
    # Written just now: an edit within the same clock tick could keep its identity, so
    # what it held is not kept, in memory or in the cache (see index.SETTLE_SECONDS).
    for _ in range(3):  # from the third read on, a model is answered from memory
        reads.clear()
        assert versions(clone, "tags.team = 'growth'") == [1, 3, 5]
        assert sorted(reads) == [1, 2, 3, 4, 5, 6]


def test_a_cache_of_the_format_before_is_not_read(
    files: list[Path], clone: Registry, settle_now: None, parses: list[Path], tmp_path: Path
) -> None:
    # Format 5's readers would take an entry of what a refused file holds for a
    # version's fields: the format changed, so that neither reads the other's cache.
    assert versions(clone, "tags.team = 'growth'") == [1, 3, 5]
    (cache_file,) = (tmp_path / "cache-clone").glob(f"*/{NAME}.records.marshal")
    cached = marshal.loads(cache_file.read_bytes())  # noqa: S302 - the test's own cache
    assert cached["format"] == index.CACHE_FORMAT
    assert {type(hit[1]) for hit in cached["entries"].values()} == {dict, tuple}
    cache_file.write_bytes(marshal.dumps({**cached, "format": 5}))
    parses.clear()
    assert versions(Registry(clone.root), "tags.team = 'growth'") == [1, 3, 5]
    assert sorted(parses) == [files[0], files[2], files[4]]


def test_a_script_looking_up_one_text_after_another_reads_each_file_at_most_twice(
    clone: Registry, settle_now: None, reads: list[int]
) -> None:
    counts = []
    for team in ("growth", "vision", "search", "growth", "vision"):
        reads.clear()
        assert versions(clone, f"tags.team = '{team}'") == [
            number for number, each in enumerate(TEAMS, start=1) if each == team
        ]
        counts.append(len(reads))
    assert counts == [6, 3, 0, 0, 0]
