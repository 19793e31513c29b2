"""The one typed document reader: each kind of field read well, missing and wrong, and
every error a CorruptFileError (exit 7) naming the file and the field's place."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from modelreg.docread import DocReader
from modelreg.errors import CorruptFileError

FILE = Path("/registry/registry.yaml")


def problem_of(read: Callable[[], object]) -> str:
    with pytest.raises(CorruptFileError) as caught:
        read()
    assert caught.value.path == FILE
    assert caught.value.exit_code == 7
    assert str(caught.value) == f"{FILE}: {caught.value.problem}"
    return caught.value.problem


def reader(doc: dict[str, object], where: str = "rules") -> DocReader:
    return DocReader(doc, FILE, where)


# (read a field, a valid document and its value, a wrong value and the problem it gives)
KINDS: list[tuple[str, Callable[[DocReader], object], object, object, str]] = [
    ("text", lambda r: r.text("k"), "abc", 5, "must be text"),
    ("nonblank text", lambda r: r.text("k", nonblank=True), "a", " ", "must be a non-empty string"),
    ("integer", lambda r: r.integer("k"), 3, True, "must be an integer"),
    (
        "whole number >= 0",
        lambda r: r.integer("k", minimum=0),
        0,
        -1,
        "must be a whole number >= 0",
    ),
    ("number", lambda r: r.number("k"), 2.5, "2.5", "must be a number"),
    ("number >= 1", lambda r: r.number("k", minimum=1), 1, 0.5, "must be a number >= 1"),
    ("number > 0", lambda r: r.number("k", above=0), 0.1, 0, "must be a number > 0"),
    ("flag", lambda r: r.flag("k"), False, "no", "must be true or false"),
    ("strings", lambda r: r.strings("k"), ["a", "b"], ["a", 1], "must be a list of strings"),
    (
        "nonblank strings",
        lambda r: r.strings("k", nonblank=True),
        ["a"],
        [],
        "must be a non-empty list of strings",
    ),
    (
        "stage names",
        lambda r: r.stage_names("k"),
        ["None", "Prod"],
        ["None", ""],
        "must be a list of stage names",
    ),
]


@pytest.mark.parametrize(
    ("kind", "read", "good", "bad", "problem"), KINDS, ids=[k[0] for k in KINDS]
)
def test_each_kind_reads_a_valid_value_and_names_a_wrong_or_missing_one(
    kind: str, read: Callable[[DocReader], object], good: object, bad: object, problem: str
) -> None:
    value = read(reader({"k": good}))
    assert value == good
    assert type(value) is (float if kind.startswith("number") else type(good))
    assert problem_of(lambda: read(reader({"k": bad}))) == f"'rules.k' {problem}"
    assert problem_of(lambda: read(reader({}))) == "missing required key 'rules.k'"


def test_a_default_stands_for_a_missing_key_and_is_checked_too() -> None:
    read = reader({})
    assert read.text("k", "d") == "d"
    assert read.integer("k", 7) == 7
    assert read.number("k", 1) == 1.0
    assert read.flag("k", True) is True
    assert read.strings("k", ["a"]) == ["a"]
    assert read.optional_text("k") is None
    assert read.optional_integer("k") is None
    assert problem_of(lambda: read.strings("k", [], nonblank=True)) == (
        "'rules.k' must be a non-empty list of strings"
    )


def test_null_is_a_wrong_value_in_hand_written_files() -> None:
    read = reader({"k": None})
    assert problem_of(lambda: read.integer("k", 0)) == "'rules.k' must be an integer"
    assert problem_of(lambda: read.flag("k", False)) == "'rules.k' must be true or false"
    assert read.optional_text("k", "default") is None


def test_files_modelreg_writes_show_the_value_found_and_read_null_as_the_default() -> None:
    read = DocReader({"n": None, "s": 5, "t": None}, FILE, show_found=True, null_is_default=True)
    assert read.integer("n", 0) == 0
    assert read.text("t", "None") == "None"
    assert problem_of(lambda: read.text("s")) == "'s' must be text, not 5"
    assert problem_of(lambda: read.text("t")) == "'t' must be text, not null"
    assert problem_of(lambda: read.text("gone")) == "missing required key 'gone'"


def test_optional_fields_take_null_and_refuse_the_wrong_type() -> None:
    read = reader({"t": None, "i": None, "bad_t": 1, "bad_i": 1.5})
    assert read.optional_text("t") is None
    assert read.optional_integer("i") is None
    assert problem_of(lambda: read.optional_text("bad_t")) == "'rules.bad_t' must be text"
    assert problem_of(lambda: read.optional_integer("bad_i")) == "'rules.bad_i' must be an integer"


def test_mappings_of_text_and_of_numbers_name_the_item() -> None:
    read = DocReader(
        {"tags": {"a": "b", 1: "c"}, "metrics": {"acc": 0.9, "n": 3}}, FILE, show_found=True
    )
    assert read.text_mapping("tags") == {"a": "b", "1": "c"}
    assert read.number_mapping("metrics") == {"acc": 0.9, "n": 3}
    assert read.text_mapping("absent") == {}
    bad = DocReader({"tags": {"a": 5}, "metrics": {"acc": True}}, FILE, show_found=True)
    assert problem_of(lambda: bad.text_mapping("tags")) == "'tags.a' must be text (quote it), not 5"
    assert problem_of(lambda: bad.number_mapping("metrics")) == (
        "'metrics.acc' must be a number, not True"
    )
    assert problem_of(lambda: bad.text_mapping("metrics")) == (
        "'metrics.acc' must be text (quote it), not True"
    )


def test_mappings_and_sections_locate_nested_keys() -> None:
    read = reader({"stages": {"Production": {"approvals": "two"}}, "list": [1], "text": "x"})
    production = read.section("stages").section("Production")
    assert production.where == "rules.stages.Production"
    assert problem_of(lambda: production.integer("approvals", minimum=0)) == (
        "'rules.stages.Production.approvals' must be a whole number >= 0"
    )
    assert read.mapping("absent") == {}
    assert read.sequence("absent") == []
    assert read.sequence("list") == [1]
    assert problem_of(lambda: read.mapping("list")) == "'rules.list' must be a mapping"
    assert problem_of(lambda: read.sequence("text")) == "'rules.text' must be a list"


def test_falsy_is_empty_reads_any_empty_value_as_none() -> None:
    read = reader({"a": [], "b": "", "c": {}, "d": "x"})
    assert read.mapping("a", falsy_is_empty=True) == {}
    assert read.sequence("b", falsy_is_empty=True) == []
    assert read.sequence("c", falsy_is_empty=True) == []
    assert problem_of(lambda: read.mapping("a")) == "'rules.a' must be a mapping"
    assert problem_of(lambda: read.mapping("d", falsy_is_empty=True)) == (
        "'rules.d' must be a mapping"
    )


def test_of_refuses_a_value_that_is_not_a_mapping_at_its_place() -> None:
    assert DocReader.of({"a": 1}, FILE, "rules").integer("a") == 1
    assert problem_of(lambda: DocReader.of([1], FILE, "rules")) == "'rules' must be a mapping"
    assert problem_of(
        lambda: DocReader.of("x", FILE, "hooks[2]", problem="must be a hook", labelled=True)
    ) == ("hooks[2]: must be a hook")


def test_labelled_items_name_the_item_then_the_key() -> None:
    read = DocReader({"timeout": "5"}, FILE, "hooks[0] ('a')", labelled=True)
    assert problem_of(lambda: read.number("timeout", 1, minimum=0.001)) == (
        "hooks[0] ('a').timeout: must be a number >= 0.001"
    )
    assert problem_of(lambda: read.text("command")) == "hooks[0] ('a').command: is required"
    assert problem_of(lambda: read.strings("to", [], single=True, nonblank=True)) == (
        "hooks[0] ('a').to: must be a non-empty list of strings"
    )
    assert DocReader({"to": "x@y"}, FILE, "h", labelled=True).strings("to", single=True) == ["x@y"]


def test_unknown_keys_are_named_with_their_place() -> None:
    reader({"from": 1, "approval": 1}).known_keys(("from", "approval"))
    assert problem_of(lambda: reader({"from": 1, "aproval": 1}).known_keys(("from",))) == (
        "unknown key 'rules.aproval'; known keys are: from"
    )
    assert problem_of(lambda: DocReader({"x": 1}, FILE).known_keys(("a", "b"))) == (
        "unknown key 'x'; known keys are: a, b"
    )


def test_stages_are_matched_in_any_case_and_listed_once() -> None:
    stages = ("None", "Staging", "Production")
    read = reader({"k": ["None", "none"]})
    assert read.known_stage("from", "production", stages) == "Production"
    assert problem_of(lambda: read.known_stage("from", "Prod", stages)) == (
        "'rules.from' names unknown stage 'Prod'; the stages are: None, Staging, Production"
    )
    assert problem_of(lambda: read.stage_names("k")) == "'rules.k' lists a stage twice"
    assert reader({}).stage_names("k", ["None"]) == ["None"]
