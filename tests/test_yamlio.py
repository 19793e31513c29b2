"""The fast reader of files in dumps()'s shape must agree with libyaml's reader on every
text it accepts, and leave every other text to it: generated documents, mutated ones, and
the shapes a hand edit produces."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelreg import yamlio

ROOT = Path(__file__).resolve().parent.parent
NOWHERE = Path("<test>")


def same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down (1, 1.0 and True are not the same
    value in a registry file) and NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[key], b[key]) for key in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def slow(text: str) -> tuple[str, Any]:
    """What libyaml's reader makes of ``text``: ("value", data) or ("error", None)."""
    try:
        return "value", yamlio._build(text)
    except (yamlio._InvalidYamlError, yaml.YAMLError, RecursionError):
        return "error", None


def fast(text: str) -> tuple[str, Any]:
    try:
        return "value", yamlio._read_canonical(text)
    except yamlio._NotCanonicalError:
        return "declined", None


def assert_agrees(text: str) -> str:
    """The fast reader declines ``text`` or reads exactly what libyaml reads; returns
    which it did."""
    outcome, value = fast(text)
    if outcome == "value":
        expected_outcome, expected = slow(text)
        assert expected_outcome == "value", f"fast reader accepted what libyaml refuses: {text!r}"
        assert same(value, expected), f"{text!r}: {value!r} != {expected!r}"
    return outcome


# -- the files modelreg writes are read by the fast path ------------------------------


def test_every_file_modelreg_wrote_in_the_example_takes_the_fast_path() -> None:
    files = sorted((ROOT / "registry_example" / "models").rglob("*.yaml"))
    assert len(files) > 10
    for path in files:
        assert assert_agrees(path.read_text(encoding="utf-8")) == "value", path


def test_loads_answers_from_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(text: str) -> Any:
        raise AssertionError("libyaml was used for a canonical file")

    monkeypatch.setattr(yamlio, "_build", refuse)
    text = yamlio.dumps({"name": "m", "version": 3, "tags": {"a": "1"}, "history": [{"x": 1}]})
    assert yamlio.loads(text.encode(), NOWHERE) == {
        "name": "m",
        "version": 3,
        "tags": {"a": "1"},
        "history": [{"x": 1}],
    }


# -- generated documents ----------------------------------------------------------------

# Text that exercises quoting: YAML's indicators, keywords, numbers in disguise, spaces
# at the ends, line breaks, and characters outside ASCII.
TRICKY = [
    "", " ", "null", "Null", "~", "true", "yes", "No", "on", "0", "-1", "007", "0x1F", "1_000",
    "1e3", ".5", "-.inf", ".NaN", "1:20", "2025-01-01", "2025-01-01T00:00:00Z", "a: b", "a #b",
    "#x", "- x", "-x", "? x", "[1]", "{a: 1}", "&a", "*a", "!x", "|", ">", "'q'", '"q"', "%x",
    "@x", "`x", "...", "---", "a\nb", "a\n", "\na", "a\n\n", " lead", "trail ", "tab\there",
    "é ü 中", "\u2028", "\x85", "<<", "a'b", 'a"b', "089", "00", "1\u0663", "\u0663", "12\u00b2",
    "1.5e+3", "6.02E-23", "0b101", "0o17", "1:30", "1_000.5", "190:20:30.15", "3bee", "0xBEEF",
    "0.722", "1.", "00.5", "1.2.3", "1.\u0663",
]  # fmt: skip
tricky_text = st.one_of(st.text(max_size=12), st.sampled_from(TRICKY))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    tricky_text,
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(tricky_text, st.integers(-5, 5)), inner, max_size=5),
    ),
    max_leaves=25,
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(tricky_text, documents, min_size=1, max_size=6))
def test_generated_documents_read_the_same_both_ways(data: dict[Any, Any]) -> None:
    text = yamlio.dumps(data)
    assert_agrees(text)
    assert slow(text)[0] == "value"


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.from_regex(r"[a-z_]{1,10}", fullmatch=True),
        st.one_of(
            st.from_regex(r"[a-zA-Z0-9@._/-]{1,20}", fullmatch=True),
            st.integers(0, 10**6),
            st.floats(0, 1),
            st.dictionaries(st.from_regex(r"[a-z]{1,8}", fullmatch=True), st.integers(0, 9)),
        ),
        min_size=1,
    )
)
def test_registry_shaped_documents_take_the_fast_path(data: dict[str, Any]) -> None:
    assert assert_agrees(yamlio.dumps(data)) == "value"


# -- mutated documents --------------------------------------------------------------------

SAMPLE = ROOT / "registry_example" / "models" / "churn-predictor" / "versions" / "1.yaml"
# Characters with a meaning in YAML, and some without.
ALPHABET = [*" -:#'\"|>&*!{}[],?%@`\n\t\\.0a~", "  ", ": ", "- ", "\n  ", "|-\n  x"]


def mutate(text: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(text) + 1)
        kind = rng.random()
        if kind < 0.4:
            text = text[:at] + rng.choice(ALPHABET) + text[at:]
        elif kind < 0.7:
            text = text[:at] + text[at + rng.randint(1, 3) :]
        else:
            text = text[:at] + rng.choice(ALPHABET) + text[at + 1 :]
    return text


def canonical_samples() -> list[str]:
    texts = [SAMPLE.read_text(encoding="utf-8")]
    texts.append(
        yamlio.dumps(
            {
                "description": "line one\nline two\n\n",
                "notes": "a\n  indented\nb",
                "list": ["x", 1, None, {"k": [1, {"deep": "v"}]}, []],
                "empty": {},
                "quoted": ["null", "1", "a: b", " lead", "it's"],
                7: "int key",
            }
        )
    )
    return texts


@pytest.mark.parametrize("seed", range(4))
def test_mutated_documents_are_read_the_same_or_left_to_libyaml(seed: int) -> None:
    rng = random.Random(seed)
    outcomes = {"value": 0, "declined": 0}
    for text in canonical_samples():
        for _ in range(1500):
            outcomes[assert_agrees(mutate(text, rng))] += 1
    # Both paths were exercised: many mutations are still canonical, many are not.
    assert outcomes["value"] > 100
    assert outcomes["declined"] > 100


# -- learnt shapes -----------------------------------------------------------------------


@pytest.fixture
def no_shapes(monkeypatch: pytest.MonkeyPatch) -> None:
    """None learnt yet: this test learns its own."""
    monkeypatch.setattr(yamlio, "_shapes", {})
    monkeypatch.setattr(yamlio, "_sightings", {})


class CountedReader(yamlio._CanonicalReader):
    made = 0

    def __init__(self, lines: list[str]) -> None:
        CountedReader.made += 1
        super().__init__(lines)


def version_like(number: int) -> dict[str, Any]:
    return {
        "name": f"model-{number}",
        "version": number,
        "description": None,
        "tags": {"team": "vision", "validated": "true"},
        "metrics": {"accuracy": 0.5 + number / 100},
        "params": {},
        "history": [{"timestamp": "2025-01-08T00:03:43.325Z", "version": number}],
    }


def test_a_shape_read_twice_is_read_without_the_line_reader(
    no_shapes: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(yamlio, "_CanonicalReader", CountedReader)
    CountedReader.made = 0
    for number in (1, 2):
        assert yamlio._read_canonical(yamlio.dumps(version_like(number))) == version_like(number)
    assert CountedReader.made == 2
    for number in (3, 4):
        read = yamlio._read_canonical(yamlio.dumps(version_like(number)))
        assert same(read, version_like(number))
        assert read["tags"] is not yamlio._read_canonical(yamlio.dumps(version_like(3)))["tags"]
    assert CountedReader.made == 2  # the shape, not the lines
    longer = version_like(5)
    longer["tags"]["extra"] = "x"  # another shape: read by lines
    assert yamlio._read_canonical(yamlio.dumps(longer)) == longer
    assert CountedReader.made == 3


def test_a_file_of_no_learnt_shape_tries_a_few_shapes_of_its_length(no_shapes: None) -> None:
    for number in range(20):  # twenty shapes of three lines, each read twice
        for value in ("a", "b"):
            yamlio._read_canonical(f"k{number}: {value}\nother: 1\nlast: 2\n")
    assert len(yamlio._shapes[3]) == yamlio._MAX_SHAPES_OF_A_LENGTH
    assert yamlio._read_canonical("k19: c\nother: 1\nlast: 2\n") == {
        "k19": "c",
        "other": 1,
        "last": 2,
    }


# A shape with every kind of place a value takes: after a key, in a list, after a quoted
# key, in a list of mappings, and an empty mapping; {} marks where a value goes.
SHAPE = (
    "name: {}\nversion: {}\ntags:\n  team: {}\n  'quoted: key': {}\nparams: {}\n"
    "list:\n- {}\n- {}\nhistory:\n- action: {}\n  note: {}\n"
)
VALUES = [*TRICKY, *ALPHABET, "a: b", "- x", "|", "|-", "{}", "[]", "'q'", "x #y", "1 ", "~"]


def by_lines(text: str) -> tuple[str, Any]:
    """What the line reader alone makes of ``text``: no shape used, none learnt."""
    shapes, learn = yamlio._shapes, yamlio._learn
    yamlio._shapes, yamlio._learn = {}, lambda *args: None  # type: ignore[assignment]
    try:
        return fast(text)
    finally:
        yamlio._shapes, yamlio._learn = shapes, learn  # type: ignore[assignment]


@pytest.mark.parametrize("seed", range(3))
def test_a_learnt_shape_reads_any_values_as_the_line_reader_does(
    no_shapes: None, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """Text that matches a learnt shape, with any text where its values go (YAML's
    indicators, values that start a block or a nested entry, spaces, line breaks), is read
    exactly as the line reader reads it, and as libyaml does; or declined as the line
    reader declines it."""
    rng = random.Random(seed)
    places = SHAPE.count("{}")
    for plain in ("a", "b"):
        yamlio._read_canonical(SHAPE.format(*[plain] * places))
    assert sum(map(len, yamlio._shapes.values())) == 1
    monkeypatch.setattr(yamlio, "_CanonicalReader", CountedReader)
    outcomes = {"shape": 0, "lines": 0, "declined": 0}
    for _ in range(1500):
        values = [rng.choice(VALUES) if rng.random() < 0.15 else "v" for _ in range(places)]
        text = SHAPE.format(*values)
        CountedReader.made = 0
        outcome, value = fast(text)
        kind = "declined" if outcome == "declined" else "lines" if CountedReader.made else "shape"
        outcomes[kind] += 1
        lines_outcome, lines_value = by_lines(text)
        assert lines_outcome == outcome, text
        assert outcome == "declined" or same(lines_value, value), text
        assert_agrees(text)
    # Both ways through a shape: read by it, and declined by a value's checks.
    assert outcomes["shape"] > 100 and outcomes["declined"] > 100, outcomes


# -- hand edits ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb:\n  c: x\n",
        "a:\n- 1\n- x\n- - nested\n",
        "a:\n- k: 1\n  l:\n  - 2\n",
        "a:\n  - 1\n  - 2\n",
        "'quoted key': 'it''s'\n",
        'a: "double"\n',
        "a: |\n  one\n  two\n",
        "a: |-\n  one\n\n  two\nb: 1\n",
        "a: |+\n  one\n\n\nb: 1\n",
        "a: |+\n  one\n\n",
        "a: |\n    deeper\n  less\n",
        "- a\n- b\n",
        "a: -1\nb: -.5\nc: .5\nd: 1_000\ne: 0o17\nf: 0x1f\ng: 1e3\nh: .inf\n",
        "a: yes\nb: NO\nc: ~\nd: Null\ne: 2025-01-01\n",
        "1: a\n-2: b\ntrue: c\n",
        "a: b:c\nd: e#f\ng: [x\n",
        "a: x # comment\n",
        "# comment\na: 1\n",
        "a: 1\n\nb: 2\n",
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: 1\na: 2\n",
        "<<: {a: 1}\n",
        "a: {b: 1}\n",
        "a: 'multi\n  line'\n",
        "a: plain\n  continued\n",
        "a:\tb\n",
        "a: 1\r\nb: 2\r\n",
        "---\na: 1\n",
        "a: 1\n...\n",
        "a: 1\n---\nb: 2\n",
        "a:\n",
        "a: \n",
        "- \n",
        "a: 1",
        "\ufeffa: 1\n",
        "a: b\u2028c\n",
        "a:\n b: 1\n  c: 2\n",
        "a: |\n\n  leading blank\n",
        "a: |\n  x\n   \n  y\n",
        "a: |2\n   x\n",
        "? complex\n: key\n",
        "a: 'unterminated\n",
        'a: "esc\\n"\n',
        "- a: 1\n - b\n",
        "a:\n    - 1\n",
        "...: 1\n",
        "--- a: 1\n",
        "... a\n",
        "a:\n--- b\n",
        "<<: x\n",
        "a: 1 \nb:  \n  c: 2\n",
        "x" * 1100 + ": 1\n",
        "a: |\n  x\nb:\n- |\n  y\n",
    ],
)
def test_hand_edits_are_read_the_same_or_left_to_libyaml(text: str) -> None:
    assert_agrees(text)


def test_limits_are_libyamls_too() -> None:
    deep = "".join(f"{'  ' * level}a:\n" for level in range(yamlio.MAX_DEPTH + 2)) + (
        "  " * (yamlio.MAX_DEPTH + 2) + "b: 1\n"
    )
    assert slow(deep)[0] == "error"
    assert fast(deep)[0] == "declined"
    many = "".join(f"k{number}: {number}\n" for number in range(yamlio.MAX_VALUES // 2 + 10))
    assert slow(many)[0] == "error"
    assert fast(many)[0] == "declined"


# -- without PyYAML -----------------------------------------------------------------------


def pyyaml_type(text: str) -> str:
    tag: str = yaml.resolver.Resolver().resolve(yaml.ScalarNode, text, (True, False))
    return tag


NUMBERS_AND_WORDS = st.text(alphabet="0123456789+-._:xobeEaAfFiInNsStTyYlLuUrR~ ", max_size=12)


@settings(max_examples=2000, deadline=None)
@given(st.one_of(NUMBERS_AND_WORDS, st.sampled_from(TRICKY), st.text(max_size=8)))
def test_plain_scalars_get_pyyamls_types(text: str) -> None:
    expected = pyyaml_type(text)
    if expected not in yamlio._CONSTRUCT:
        expected = "tag:yaml.org,2002:str"  # timestamps and the rest stay text in modelreg
    if text.endswith("\n"):
        return  # not a plain scalar on one line: PyYAML's $ also matches before a final \n
    assert yamlio._implicit_tag(text) == expected, text


@pytest.mark.parametrize(
    "args",
    [
        ["resolve", "models:/m/1"],
        ["describe", "models:/m/1"],
        ["list", "m"],
        ["search", "metrics.acc > 0.1 AND tags.t = 'x'"],
    ],
)
def test_the_read_commands_do_not_import_pyyaml(tmp_path: Path, args: list[str]) -> None:
    import subprocess
    import sys

    from modelreg import Registry

    registry = Registry.init(tmp_path / "registry")
    registry.register("m", "s3://b/1", metrics={"acc": 0.5}, tags={"t": "x"}, create_model=True)
    code = (
        "import sys\n"
        "from modelreg.__main__ import main\n"
        f"sys.argv = ['modelreg', '--registry', {str(registry.root)!r}, *{args!r}]\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    print('yaml' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "s3://b/1" in done.stdout or "m" in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "False", "PyYAML was imported"


def test_reading_a_small_file_allocates_about_its_size(tmp_path: Path) -> None:
    # A read of at most MAX_FILE_BYTES + 1 bytes allocated 4 MB for every 1 KB version
    # file: a fifth of a first read after a clone.
    import tracemalloc

    path = tmp_path / "1.yaml"
    path.write_bytes(b"name: m\nversion: 1\n" * 50)
    tracemalloc.start()
    try:
        data, _ = yamlio.read_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert data == path.read_bytes()
    assert peak < 64 * 1024


def test_a_file_read_in_several_pieces_is_read_whole_up_to_the_limit(tmp_path: Path) -> None:
    # What fstat said is only where the reading starts: a file that grew since is read on
    # to its end, and never beyond the limit (the caller refuses a file over it).
    import os

    path = tmp_path / "grown.yaml"
    path.write_bytes(bytes(range(256)) * 1000)
    fd = os.open(path, os.O_RDONLY)
    try:
        assert yamlio._read_at_most(fd, 10, 1_000_000) == path.read_bytes()
    finally:
        os.close(fd)
    fd = os.open(path, os.O_RDONLY)
    try:
        assert yamlio._read_at_most(fd, 256_000, 1_001) == path.read_bytes()[:1_001]
    finally:
        os.close(fd)
