"""The filter language: what each filter matches, the exact errors, and its properties.

The MLflow tables were recorded by running MLflow 3.17.2 (its SQLite store and its file
store gave the same results) on the same models, versions and tags as the fixtures below.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelreg.errors import FilterSyntaxError, InvalidInputError
from modelreg.filters import (
    MAX_DEPTH,
    And,
    Comparison,
    Expr,
    Field,
    InList,
    IsNull,
    Kind,
    Like,
    Not,
    Or,
    compile_filter,
    evaluate,
    matches,
    names_required,
    parse,
    parse_order_clause,
    to_string,
)


def millis(text: str) -> int:
    """Epoch milliseconds of an ISO date-time (naive means UTC)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def version(name: str, number: int, created: str, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "name": name,
        "version": number,
        "current_stage": "None",
        "description": None,
        "user_id": None,
        "source": f"s3://models/{name}/{number}",
        "run_id": None,
        "run_link": None,
        "status": "READY",
        "creation_timestamp": millis(created),
        "last_updated_timestamp": millis(created) + 1000,
        "tags": {},
        "aliases": [],
        "metrics": {},
        "params": {},
    }
    record.update(fields)
    return record


VERSIONS = [
    version(
        "churn-predictor",
        1,
        "2025-12-01",
        current_stage="Archived",
        source="s3://models/churn/1",
        run_id="run-a",
        user_id="alice",
        tags={"team": "payments", "my key": "v", "q": "it's"},
        metrics={"accuracy": 0.81, "loss": 0.42},
        params={"lr": "0.01", "optimizer": "adam"},
    ),
    version(
        "churn-predictor",
        2,
        "2026-01-02T09:30:00",
        current_stage="Production",
        source="s3://models/churn/2",
        run_id="run-b",
        user_id="bob",
        description="better features",
        tags={"team": "payments", "q": "a\\b"},
        aliases=["champion"],
        metrics={"accuracy": 0.93},
        params={"lr": 0.001, "optimizer": "sgd"},
    ),
    version(
        "churn-predictor",
        3,
        "2026-02-01",
        current_stage="Staging",
        source="s3://models/churn/3",
        user_id="alice",
        description="try 50% dropout",
        tags={"team": "Payments", "q": "50%"},
        aliases=["challenger"],
        metrics={"accuracy": 0.95, "loss": 0.2},
        params={"lr": "1e-3"},
    ),
    version(
        "Churn-Legacy",
        1,
        "2024-06-01",
        current_stage="Production",
        source="/data/legacy 100%/model",
        run_id="run-a",
        aliases=["champion", "old"],
    ),
    version(
        "fraud-detector",
        1,
        "2025-03-01",
        source="s3://models/fraud/1",
        run_id="run-c",
        user_id="carol",
        tags={"env": "prod", "q": 'say "hi"'},
        metrics={"accuracy": 0.7},
        params={"optimizer": "adam", "layers": 3},
    ),
    version(
        "fraud-detector",
        2,
        "2025-09-15T12:00:00+02:00",
        current_stage="Production",
        source="s3://models/fraud/2",
        run_id="run-d",
        user_id="carol",
        run_link="https://ci.example.com/run/d",
        tags={"env": "staging", "team": "risk"},
        aliases=["champion"],
        metrics={"accuracy": 0.88},
        params={"layers": "three"},
    ),
    version(
        "fraud_detector",
        1,
        "2025-11-30",
        current_stage="Archived",
        source="s3://models/fraud_x/1",
        run_id="run-e",
    ),
    version(
        "fraud_detector",
        2,
        "2026-01-01T00:00:00",
        source="s3://models/fraud_x/2",
        run_id="run-e",
        tags={"team": ""},
    ),
]

MODELS = [
    {
        "name": "churn-predictor",
        "description": "predicts churn",
        "user_id": "alice",
        "creation_timestamp": millis("2025-11-01"),
        "last_updated_timestamp": millis("2026-02-01"),
        "tags": {"team": "payments"},
        "aliases": {"champion": 2, "challenger": 3},
    },
    {
        "name": "Churn-Legacy",
        "description": None,
        "user_id": None,
        "creation_timestamp": millis("2024-06-01"),
        "last_updated_timestamp": millis("2024-06-01"),
        "tags": {"team": "growth", "my key": "v"},
        "aliases": {"champion": 1, "old": 1},
    },
    {
        "name": "fraud-detector",
        "description": "flags fraud",
        "user_id": "carol",
        "creation_timestamp": millis("2025-03-01"),
        "last_updated_timestamp": millis("2025-09-15"),
        "tags": {},
        "aliases": {"champion": 2},
    },
    {
        "name": "fraud_detector",
        "description": None,
        "user_id": "dave",
        "creation_timestamp": millis("2025-11-30"),
        "last_updated_timestamp": millis("2026-01-01"),
        "tags": {"team": "risk"},
        "aliases": {},
    },
]

C1, C2, C3 = "churn-predictor/1", "churn-predictor/2", "churn-predictor/3"
L1 = "Churn-Legacy/1"
FD1, FD2 = "fraud-detector/1", "fraud-detector/2"
FX1, FX2 = "fraud_detector/1", "fraud_detector/2"
ALL_VERSIONS = {C1, C2, C3, L1, FD1, FD2, FX1, FX2}
CHURN = {C1, C2, C3}


def matching_versions(text: str) -> set[str]:
    predicate = compile_filter(parse(text, "version"))
    return {f"{r['name']}/{r['version']}" for r in VERSIONS if predicate(r)}


def matching_models(text: str) -> set[str]:
    predicate = compile_filter(parse(text, "model"))
    return {r["name"] for r in MODELS if predicate(r)}


# --- MLflow compatibility: the same filter finds the same versions as in MLflow ---------

MLFLOW_VERSION_SEARCHES = [
    ("name='churn-predictor'", CHURN),
    ('name = "churn-predictor"', CHURN),
    ("name LIKE '%churn%'", CHURN),
    ("name ILIKE '%CHURN%'", CHURN | {L1}),
    ("name LIKE 'fraud_detector'", {FD1, FD2, FX1, FX2}),
    ("name LIKE 'churn'", set()),
    ("name LIKE 'Churn%'", {L1}),
    ("name LIKE 'CHURN%'", set()),
    ("name LIKE '%'", ALL_VERSIONS),
    ("name LIKE 'fraud\\_detector'", set()),
    ("name LIKE 'churn-predictor '", set()),
    ("name ILIKE 'FRAUD%'", {FD1, FD2, FX1, FX2}),
    ("name ILIKE '%legacy'", {L1}),
    ('name LIKE "%churn%"', CHURN),
    ("tags.`team` = 'payments'", {C1, C2}),
    ("tag.\"my key\" = 'v'", {C1}),
    ("tags.\"my key\" = 'v'", {C1}),
    ("tags.`my key` LIKE 'v'", {C1}),
    ("tags.team != 'payments'", {C3, FD2, FX2}),
    ("tags.team LIKE 'Pay%'", {C3}),
    ("tags.team ILIKE 'pay%'", CHURN),
    ("tags.team ILIKE 'PAYMENTS'", CHURN),
    ("tags.team = ''", {FX2}),
    ("tags.team LIKE '%'", {C1, C2, C3, FD2, FX2}),
    ("tags.team != 'payments' AND tags.team != 'risk'", {C3, FX2}),
    ("tags.team = 'payments' AND tags.env = 'prod'", set()),
    ("tags.mlflow.x = 'a'", set()),
    ('tags.q = "it\'s"', {C1}),
    ("tags.q LIKE 'it%'", {C1}),
    ("tags.q = 'a\\b'", {C2}),
    ("tags.q = 'a\\\\b'", set()),
    ("tags.q LIKE 'a\\b'", {C2}),
    ("tags.q LIKE '50%'", {C3}),
    ("tags.q LIKE '50\\%'", set()),
    ("tags.q = 'say \"hi\"'", {FD1}),
    ("version_number = '3'", {C3}),
    ("version_number = 3", {C3}),
    ("version_number = -1", set()),
    ("version_number >= '2'", {C2, C3, FD2, FX2}),
    ("version_number > 1", {C2, C3, FD2, FX2}),
    ("version_number != 1", {C2, C3, FD2, FX2}),
    ("version_number >= 2 AND name = 'churn-predictor'", {C2, C3}),
    ("name = 'churn-predictor' and version_number = 1", {C1}),
    ("run_id IN ('run-a','run-b')", {C1, C2, L1}),
    ("run_id NOT IN ('run-a')", {C2, FD1, FD2, FX1, FX2}),
    ("run_id = 'run-a'", {C1, L1}),
    ('run_id = "run-a"', {C1, L1}),
    ("run_id != 'run-a'", {C2, FD1, FD2, FX1, FX2}),
    ("run_id = 'run-a' AND run_id = 'run-b'", set()),
    ("source_path = 's3://models/churn/1'", {C1}),
    ("source_path LIKE '%100%'", {L1}),
    ("source_path LIKE '%100\\%%'", set()),
    ("name IN ('churn-predictor', 'fraud-detector')", CHURN | {FD1, FD2}),
    ('name IN ("churn-predictor")', CHURN),
    ("name IN ('churn-predictor',)", CHURN),
    ("name NOT IN ('churn-predictor')", {L1, FD1, FD2, FX1, FX2}),
    ("attribute.name = 'churn-predictor'", CHURN),
    ("name LIKE 'churn%' AND name LIKE '%predictor'", CHURN),
    ("name = 'churn-predictor' AND tags.team = 'payments' AND tags.team = 'Payments'", set()),
]


@pytest.mark.parametrize(("text", "expected"), MLFLOW_VERSION_SEARCHES)
def test_version_filters_match_mlflow(text: str, expected: set[str]) -> None:
    assert matching_versions(text) == expected


MLFLOW_MODEL_SEARCHES = [
    ("name='churn-predictor'", {"churn-predictor"}),
    ("name LIKE 'fraud%'", {"fraud-detector", "fraud_detector"}),
    ("name ILIKE 'churn%'", {"churn-predictor", "Churn-Legacy"}),
    ("tags.team = 'payments'", {"churn-predictor"}),
    ("tags.team != 'payments'", {"Churn-Legacy", "fraud_detector"}),
    ("tag.`my key` = 'v'", {"Churn-Legacy"}),
    ("tags.\"my key\" = 'v'", {"Churn-Legacy"}),
    ("name IN ('churn-predictor', 'fraud-detector')", {"churn-predictor", "fraud-detector"}),
    ("name NOT IN ('churn-predictor', 'fraud-detector')", {"Churn-Legacy", "fraud_detector"}),
    ("name != 'churn-predictor'", {"Churn-Legacy", "fraud-detector", "fraud_detector"}),
    ("tags.team LIKE '%'", {"Churn-Legacy", "churn-predictor", "fraud_detector"}),
    ("attribute.name = 'fraud-detector'", {"fraud-detector"}),
]


@pytest.mark.parametrize(("text", "expected"), MLFLOW_MODEL_SEARCHES)
def test_model_filters_match_mlflow(text: str, expected: set[str]) -> None:
    assert matching_models(text) == expected


# --- what modelreg adds ------------------------------------------------------------------

EXTENDED_VERSION_SEARCHES = [
    # boolean structure and precedence: NOT > AND > OR
    ("name = 'churn-predictor' OR name = 'Churn-Legacy'", CHURN | {L1}),
    ("NOT name = 'churn-predictor'", ALL_VERSIONS - CHURN),
    ("NOT NOT name = 'Churn-Legacy'", {L1}),
    ("name = 'fraud-detector' OR name = 'fraud_detector' AND version = 1", {FD1, FD2, FX1}),
    ("(name = 'fraud-detector' OR name = 'fraud_detector') AND version = 1", {FD1, FX1}),
    ("NOT (name = 'fraud-detector' OR name LIKE 'churn%') AND version = 1", {L1, FX1}),
    # keywords ignore case; == and <> are = and !=
    ("name == 'Churn-Legacy' Or version In (3) aNd NOT alias Is Null", {L1, C3}),
    ("name <> 'churn-predictor' AND name not like 'fraud%'", {L1}),
    # a missing value never matches, not even !=, NOT IN, NOT LIKE; NOT is plain negation
    ("tags.team IS NULL", {L1, FD1, FX1}),
    ("tags.team IS NOT NULL", {C1, C2, C3, FD2, FX2}),
    ("NOT tags.team = 'payments'", ALL_VERSIONS - {C1, C2}),
    ("tags.team NOT LIKE 'pay%'", {C3, FD2, FX2}),
    ("NOT tags.team LIKE 'pay%'", ALL_VERSIONS - {C1, C2}),
    ("tags.team IN ('payments', 'risk')", {C1, C2, FD2}),
    ("tags.team NOT IN ('payments', 'risk')", {C3, FX2}),
    ("tags.q = 'it''s'", {C1}),
    # None attributes count as missing
    ("user_id = 'alice'", {C1, C3}),
    ("user_id != 'alice'", {C2, FD1, FD2}),
    ("NOT user_id = 'alice'", ALL_VERSIONS - {C1, C3}),
    ("user_id IS NULL", {L1, FX1, FX2}),
    ("run_id IS NULL", {C3}),
    ("run_link LIKE 'https://%'", {FD2}),
    ("description LIKE '%50%%'", {C3}),
    ("description ILIKE '%FEATURES'", {C2}),
    ("description IS NOT NULL", {C2, C3}),
    ("status = 'READY'", ALL_VERSIONS),
    # numbers
    ("version IN (1, '2')", ALL_VERSIONS - {C3}),
    ("version_number IN ('1','2')", ALL_VERSIONS - {C3}),
    ("version > 2.5", {C3}),
    ("version = 3.0", {C3}),
    ("version NOT IN (1)", {C2, C3, FD2, FX2}),
    ("metrics.accuracy >= 0.9", {C2, C3}),
    ("metric.accuracy < 0.85", {C1, FD1}),
    ("metrics.accuracy != 0.81", {C2, C3, FD1, FD2}),
    ("metrics.accuracy = '0.93'", {C2}),
    ("metrics.accuracy IN (0.7, 0.95)", {FD1, C3}),
    ("metrics.loss IS NULL", ALL_VERSIONS - {C1, C3}),
    ("metrics.accuracy > -1e3 AND metrics.loss < .3", {C3}),
    # params: numbers when both sides are numeric, text otherwise
    ("params.lr = 0.01", {C1}),
    ("params.lr = '0.001'", {C2, C3}),
    ("param.lr < 0.005", {C2, C3}),
    ("params.lr IN ('0.01', 0.001)", {C1, C2, C3}),
    ("params.optimizer = 'adam'", {C1, FD1}),
    ("params.optimizer LIKE 'a%'", {C1, FD1}),
    ("params.layers = 3", {FD1}),
    ("params.layers = 'three'", {FD2}),
    ("params.layers != 3", {FD2}),
    ("params.layers LIKE '3'", {FD1}),
    ("params.layers > 2", {FD1}),
    ("params.nothing IS NULL", ALL_VERSIONS),
    # stages ignore case
    ("stage = 'production'", {C2, L1, FD2}),
    ("current_stage = 'PRODUCTION'", {C2, L1, FD2}),
    ("stage IN ('staging', 'archived')", {C1, C3, FX1}),
    ("stage != 'none'", ALL_VERSIONS - {FD1, FX2}),
    ("stage LIKE 'prod%'", {C2, L1, FD2}),
    # aliases are a set
    ("alias = 'champion'", {C2, L1, FD2}),
    ("alias != 'champion'", {C1, C3, FD1, FX1, FX2}),
    ("alias IS NULL", {C1, FD1, FX1, FX2}),
    ("alias IS NOT NULL", {C2, C3, L1, FD2}),
    ("alias IN ('challenger', 'old')", {C3, L1}),
    ("alias NOT IN ('challenger', 'old')", ALL_VERSIONS - {C3, L1}),
    ("alias LIKE 'ch%'", {C2, C3, L1, FD2}),
    ("alias NOT LIKE 'ch%'", {C1, FD1, FX1, FX2}),
    ("alias ILIKE 'OLD'", {L1}),
    # timestamps: epoch milliseconds or ISO dates (naive = UTC)
    ("creation_timestamp > '2026-01-01'", {C2, C3}),
    ("creation_timestamp >= '2026-01-01'", {C2, C3, FX2}),
    ("creation_timestamp = '2026-01-01 00:00'", {FX2}),
    ("creation_timestamp > '2026-01-02T10:00:00+02:00'", {C2, C3}),
    ("creation_timestamp < '2026-01-02T09:30:00.001Z'", ALL_VERSIONS - {C3}),
    ("creation_timestamp < 1735689600000", {L1}),
    ("creation_timestamp < '1735689600000'", {L1}),
    ("creation_timestamp = '2025-09-15T10:00:00Z'", {FD2}),
    ("creation_timestamp IN ('2024-06-01', '2025-03-01')", {L1, FD1}),
    # source and its MLflow name
    ("source IN ('s3://models/churn/1', '/data/legacy 100%/model')", {C1, L1}),
]


@pytest.mark.parametrize(("text", "expected"), EXTENDED_VERSION_SEARCHES)
def test_version_filter_extensions(text: str, expected: set[str]) -> None:
    assert matching_versions(text) == expected


EXTENDED_MODEL_SEARCHES = [
    ("alias = 'champion'", {"churn-predictor", "Churn-Legacy", "fraud-detector"}),
    ("alias IS NULL", {"fraud_detector"}),
    ("alias IN ('old', 'challenger')", {"churn-predictor", "Churn-Legacy"}),
    ("alias != 'champion'", {"fraud_detector"}),
    ("description LIKE '%fraud%'", {"fraud-detector"}),
    ("description IS NULL", {"Churn-Legacy", "fraud_detector"}),
    ("tags.team IS NULL", {"fraud-detector"}),
    ("tags.team IN ('growth', 'risk')", {"Churn-Legacy", "fraud_detector"}),
    ("user_id = 'alice' OR user_id = 'dave'", {"churn-predictor", "fraud_detector"}),
    ("creation_timestamp >= '2025-03-01'", {"churn-predictor", "fraud-detector", "fraud_detector"}),
    ("last_updated_timestamp < '2025-01-01'", {"Churn-Legacy"}),
    ("NOT (name LIKE 'churn%' OR name LIKE 'Churn%')", {"fraud-detector", "fraud_detector"}),
]


@pytest.mark.parametrize(("text", "expected"), EXTENDED_MODEL_SEARCHES)
def test_model_filter_extensions(text: str, expected: set[str]) -> None:
    assert matching_models(text) == expected


def test_evaluate_and_matches_agree_with_compiled_filters() -> None:
    expr = parse("stage = 'production' AND metrics.accuracy > 0.9")
    assert [evaluate(expr, record) for record in VERSIONS] == [
        False,
        True,
        False,
        False,
        False,
        False,
        False,
        False,
    ]
    assert matches("alias = 'champion'", MODELS[0], "model")
    assert not matches("alias = 'old'", MODELS[0], "model")


@pytest.mark.parametrize("blank", [None, "", "   \n\t"])
def test_matches_treats_no_filter_as_match_all(blank: str | None) -> None:
    assert all(matches(blank, record) for record in VERSIONS)


def test_a_record_without_optional_keys_counts_as_missing() -> None:
    bare = {"name": "m", "version": 1}
    assert matches("tags.team IS NULL AND alias IS NULL AND metrics.x IS NULL", bare)
    assert not matches("tags.team != 'a' OR run_id != 'x' OR metrics.x != 1", bare)
    assert matches("params.p IS NULL AND description IS NULL", bare)


def test_parse_builds_the_canonical_tree() -> None:
    assert parse("version_number >= 2 AND tag.`team` <> 'x' OR NOT stage IS NULL") == Or(
        (
            And(
                (
                    Comparison(Field("version"), ">=", 2),
                    Comparison(Field("tags", "team"), "!=", "x"),
                )
            ),
            Not(IsNull(Field("current_stage"))),
        )
    )
    assert parse("source_path NOT ILIKE '%x%'") == Like(Field("source"), "%x%", True, True)
    assert parse("metrics.a IN (1, 2.5, '3')") == InList(Field("metrics", "a"), (1, 2.5, "3"))


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("name='a'", "name = 'a'"),
        ("version_number == '3'", "version = '3'"),
        ('tag."my key" <> "it\'s"', "tags.`my key` != 'it''s'"),
        ("tags.`a``b` = 'x'", "tags.`a``b` = 'x'"),
        ("tags.mlflow.source.name = 'x'", "tags.mlflow.source.name = 'x'"),
        (
            "name = 'a' AND (name = 'b' AND name = 'c')",
            "name = 'a' AND (name = 'b' AND name = 'c')",
        ),
        (
            "(name = 'a' OR name = 'b') AND NOT (name = 'c' OR name = 'd')",
            "(name = 'a' OR name = 'b') AND NOT (name = 'c' OR name = 'd')",
        ),
        (
            "NOT (name = 'a' AND name = 'b') OR name = 'c'",
            "NOT (name = 'a' AND name = 'b') OR name = 'c'",
        ),
        ("not not stage is not null", "NOT NOT current_stage IS NOT NULL"),
        ("run_id in ('a','b',)", "run_id IN ('a', 'b')"),
        ("metrics.x > 1e-3", "metrics.x > 0.001"),
    ],
)
def test_to_string_is_canonical(text: str, canonical: str) -> None:
    expr = parse(text)
    assert to_string(expr) == canonical
    assert parse(canonical) == expr


def test_model_filters_refuse_version_fields() -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        parse("name = 'a' AND version_number = 1", "model")
    assert str(caught.value) == (
        "field 'version_number' is only available when searching model versions; valid "
        "fields for models: name, description, user_id, alias, creation_timestamp, "
        "last_updated_timestamp, tags.<key>\n"
        "    name = 'a' AND version_number = 1\n"
        "                   ^^^^^^^^^^^^^^"
    )
    for text in ("stage = 'x'", "metrics.a > 1", "params.p = 'x'", "run_id = 'x'"):
        with pytest.raises(FilterSyntaxError, match="only available when searching model versions"):
            parse(text, "model")


# --- errors: exact message, source and caret ----------------------------------------------

VERSION_FIELDS = (
    "name, version, version_number, stage, current_stage, run_id, run_link, model_id, source, "
    "source_path, description, user_id, status, alias, creation_timestamp, "
    "last_updated_timestamp, tags.<key>, metrics.<key>, params.<key>, datasets.<name>[.<field>]"
)

ERRORS = [
    (
        "nmae = 'churn'",
        f"unknown field 'nmae' (did you mean 'name'?); valid fields: {VERSION_FIELDS}",
        "^^^^",
    ),
    (
        "(name = 'a' OR version = 2",
        "expected ')' to close the '(' opened here",
        "^",
    ),
    (
        "version > 1 AND (name = 'a' OR (version = 2)",
        "expected ')' to close the '(' opened here",
        "                ^",
    ),
    (
        "name > 3",
        "cannot compare text field 'name' with '>'; text takes =, !=, IN, LIKE, ILIKE and IS NULL",
        "     ^",
    ),
    (
        "name >= 'a'",
        "cannot compare text field 'name' with '>='; text takes =, !=, IN, LIKE, ILIKE and IS NULL",
        "     ^^",
    ),
    (
        "tags.team < 'x'",
        "cannot compare tag 'tags.team' with '<'; text takes =, !=, IN, LIKE, ILIKE and IS NULL",
        "          ^",
    ),
    (
        "metrics.acc LIKE 'x'",
        "cannot use LIKE on numeric field 'metrics.acc'; "
        "numbers take =, !=, <, <=, >, >=, IN and IS NULL",
        "            ^^^^",
    ),
    (
        "version_number NOT ILIKE '1%'",
        "cannot use NOT ILIKE on numeric field 'version_number'; "
        "numbers take =, !=, <, <=, >, >=, IN and IS NULL",
        "               ^^^^^^^^^",
    ),
    (
        "metrics.acc = 'high'",
        "expected a number for numeric field 'metrics.acc', found 'high'",
        "              ^^^^^^",
    ),
    (
        "tags.team = 3",
        "expected a quoted string for tag 'tags.team', found 3",
        "            ^",
    ),
    (
        "name IN ('a', 1)",
        "expected a quoted string for text field 'name', found 1",
        "              ^",
    ),
    (
        "creation_timestamp > 'yesterday'",
        "expected epoch milliseconds or an ISO date such as '2026-01-01' or "
        "'2026-01-01T10:00:00Z' for timestamp field 'creation_timestamp', found 'yesterday'",
        "                     ^^^^^^^^^^^",
    ),
    (
        "creation_timestamp > '2026-02-30'",
        "expected epoch milliseconds or an ISO date such as '2026-01-01' or "
        "'2026-01-01T10:00:00Z' for timestamp field 'creation_timestamp', found '2026-02-30'",
        "                     ^^^^^^^^^^^^",
    ),
    (
        "params.lr <= 'fast'",
        "'<=' on param 'params.lr' needs a number, found 'fast'",
        "             ^^^^^^",
    ),
    (
        "name = 'churn' garbage",
        "expected AND, OR or the end of the filter, found 'garbage'",
        "               ^^^^^^^",
    ),
    (
        "name = 'churn')",
        "expected AND, OR or the end of the filter, found ')'",
        "              ^",
    ),
    (
        "name = 'churn",
        "unterminated string: expected a closing '",
        "       ^^^^^^",
    ),
    (
        "name =",
        "expected a value: a 'quoted string' or a number, found the end of the filter",
        "      ^",
    ),
    (
        "name = AND version = 1",
        "expected a value: a 'quoted string' or a number, found 'AND'",
        "       ^^^",
    ),
    (
        "name IN ()",
        "empty IN list: expected at least one value",
        "        ^^",
    ),
    (
        "name IN ('a' 'b')",
        "expected ',' or ')' in the IN list, found 'b'",
        "             ^^^",
    ),
    (
        "name IN 'a'",
        "expected '(' after IN, found 'a'",
        "        ^^^",
    ),
    (
        "tags.`team = 'x'",
        "unterminated quoted key: expected a closing `",
        "     ^^^^^^^^^^^",
    ),
    (
        "tags.`` = 'x'",
        "empty key",
        "     ^^",
    ),
    (
        "tags = 'x'",
        "expected '.' and a key after 'tags', as in tags.my_key, found '='",
        "     ^",
    ),
    (
        "tags.'team' = 'x'",
        "expected a key: a name, a `back-ticked` key or a \"double-quoted\" key, found 'team'",
        "     ^^^^^^",
    ),
    (
        "name = 'a' AND",
        f"expected a field name, one of: {VERSION_FIELDS}, found the end of the filter",
        "              ^",
    ),
    (
        "name = 'a' AND OR name = 'b'",
        f"expected a field name, one of: {VERSION_FIELDS}, found 'OR'",
        "               ^^",
    ),
    (
        "name NOT = 'a'",
        "expected IN, LIKE or ILIKE after NOT, found '='",
        "         ^",
    ),
    (
        "name IS 'a'",
        "expected NULL or NOT NULL after IS, found 'a'",
        "        ^^^",
    ),
    (
        "name LIKE 3",
        "expected a quoted pattern after LIKE",
        "          ^",
    ),
    (
        "name ~ 'a'",
        "expected an operator after 'name': =, !=, <, <=, >, >=, [NOT] IN, [NOT] LIKE, "
        "[NOT] ILIKE or IS [NOT] NULL, found '~'",
        "     ^",
    ),
    (
        "version > 1e999",
        "number out of range",
        "          ^^^^^",
    ),
    (
        "   ",
        "empty filter: expected a condition such as name = 'my-model'",
        "^^^",
    ),
]


@pytest.mark.parametrize(("text", "reason", "caret"), ERRORS)
def test_errors_say_what_was_expected_and_point_at_it(text: str, reason: str, caret: str) -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        parse(text)
    assert str(caught.value) == f"{reason}\n    {text}\n    {caret}"
    assert caught.value.reason == reason
    assert caught.value.source == text
    assert caught.value.span[0] == len(caret) - len(caret.lstrip(" "))


def test_filter_errors_are_invalid_input() -> None:
    with pytest.raises(InvalidInputError):
        parse("name > 3")
    assert FilterSyntaxError("x", "y", (0, 1)).exit_code == 2


@pytest.mark.parametrize(
    "text",
    [
        "(" * (MAX_DEPTH + 1) + "name = 'a'" + ")" * (MAX_DEPTH + 1),
        "NOT " * (MAX_DEPTH + 1) + "name = 'a'",
        "(NOT " * 60 + "name = 'a'" + ")" * 60,
    ],
)
def test_nesting_is_bounded_with_an_error(text: str) -> None:
    with pytest.raises(FilterSyntaxError, match="nested too deeply"):
        parse(text)


def test_nesting_up_to_the_bound_works() -> None:
    depth = MAX_DEPTH
    text = "(" * depth + "name = 'Churn-Legacy'" + ")" * depth
    assert matching_versions(text) == {L1}
    assert matching_versions("NOT " * depth + "name = 'Churn-Legacy'") == {L1}


def test_long_flat_chains_do_not_recurse() -> None:
    text = " OR ".join(f"name = 'm{i}'" for i in range(5000))
    assert isinstance(parse(text), Or)


def test_hand_built_nonsense_is_refused_when_compiled() -> None:
    with pytest.raises(InvalidInputError, match="cannot compare text field 'name' with '<'"):
        compile_filter(Comparison(Field("name"), "<", "a"))
    with pytest.raises(InvalidInputError, match="unknown field"):
        compile_filter(IsNull(Field("nope")))


def test_order_clauses() -> None:
    assert parse_order_clause("metrics.acc DESC") == (Field("metrics", "acc"), False)
    assert parse_order_clause("version_number asc") == (Field("version"), True)
    assert parse_order_clause("`name`") == (Field("name"), True)
    assert parse_order_clause("timestamp DESC", "model") == (
        Field("last_updated_timestamp"),
        False,
    )
    with pytest.raises(FilterSyntaxError) as caught:
        parse_order_clause("name sideways")
    assert str(caught.value) == (
        "expected ASC, DESC or the end of the order_by clause, found 'sideways'\n"
        "    name sideways\n"
        "         ^^^^^^^^"
    )


# --- properties -------------------------------------------------------------------------

_texts = st.text(max_size=8)
_keys = st.text(min_size=1, max_size=6)
_numbers = st.integers(-(10**12), 10**12) | st.floats(allow_nan=False, allow_infinity=False)
_numeric_texts = _numbers.map(str)
_dates = st.dates(date(1970, 1, 1), date(2100, 12, 31)).map(date.isoformat)
_ordering = st.sampled_from(["=", "!=", "<", "<=", ">", ">="])
_equality = st.sampled_from(["=", "!="])

_TEXT_FIELDS = st.sampled_from(
    [
        Field(name)
        for name in (
            "name",
            "run_id",
            "run_link",
            "source",
            "description",
            "user_id",
            "status",
            "current_stage",
            "alias",
        )
    ]
) | _keys.map(lambda key: Field("tags", key))
_NUMBER_FIELDS = st.just(Field("version")) | _keys.map(lambda key: Field("metrics", key))
_TIME_FIELDS = st.sampled_from([Field("creation_timestamp"), Field("last_updated_timestamp")])
_PARAM_FIELDS = _keys.map(lambda key: Field("params", key))


def _conditions(
    fields: st.SearchStrategy[Field],
    ops: st.SearchStrategy[str],
    values: st.SearchStrategy[Any],
    like: bool,
) -> st.SearchStrategy[Expr]:
    options: list[st.SearchStrategy[Expr]] = [
        st.builds(Comparison, fields, ops, values),
        st.builds(
            InList, fields, st.lists(values, min_size=1, max_size=3).map(tuple), st.booleans()
        ),
        st.builds(IsNull, fields, st.booleans()),
    ]
    if like:
        options.append(st.builds(Like, fields, _texts, st.booleans(), st.booleans()))
    return st.one_of(options)


_CONDITIONS = st.one_of(
    _conditions(_TEXT_FIELDS, _equality, _texts, like=True),
    _conditions(_NUMBER_FIELDS, _ordering, _numbers | _numeric_texts, like=False),
    _conditions(_TIME_FIELDS, _ordering, _numbers | _numeric_texts | _dates, like=False),
    _conditions(_PARAM_FIELDS, _equality, _texts | _numbers, like=True),
    st.builds(Comparison, _PARAM_FIELDS, _ordering, _numbers | _numeric_texts),
)


def _combine(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    operands = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.one_of(children.map(Not), operands.map(And), operands.map(Or))


EXPRESSIONS = st.recursive(_CONDITIONS, _combine, max_leaves=10)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EXPRESSIONS)
def test_printing_then_parsing_gives_the_same_tree(expr: Expr) -> None:
    text = to_string(expr)
    assert parse(text) == expr
    assert to_string(parse(text)) == text


@settings(max_examples=100, deadline=None)
@given(EXPRESSIONS)
def test_canonical_text_means_the_same(expr: Expr) -> None:
    predicate, again = compile_filter(expr), compile_filter(parse(to_string(expr)))
    for record in VERSIONS:
        assert predicate(record) == again(record)
        assert evaluate(Not(expr), record) == (not predicate(record))


_GRAMMAR_TOKENS = [
    "name",
    "version",
    "version_number",
    "stage",
    "alias",
    "creation_timestamp",
    "tags.team",
    "tag.`my key`",
    'tags."k"',
    "metrics.acc",
    "params.lr",
    "attribute.name",
    "tags.",
    "nmae",
    "=",
    "==",
    "!=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "IN",
    "NOT",
    "AND",
    "OR",
    "IS",
    "NULL",
    "LIKE",
    "ILIKE",
    "(",
    ")",
    ",",
    "'x'",
    "'%a_'",
    "'2026-01-01'",
    "'3'",
    '"y"',
    "3",
    "-1.5e3",
    "1e999",
    "'",
    '"',
    "`",
    "''",
    "\\",
    ";",
    "\n",
]
_SOUP = st.lists(st.sampled_from(_GRAMMAR_TOKENS), max_size=14)


@st.composite
def _near_filters(draw: st.DrawFn) -> str:
    """A valid filter, kept, cut short, with a piece cut out, or with a token spliced in."""
    text = to_string(draw(EXPRESSIONS))
    start = draw(st.integers(0, len(text)))
    end = draw(st.integers(start, len(text)))
    change = draw(st.sampled_from(["keep", "truncate", "cut", "splice"]))
    if change == "truncate":
        return text[:start]
    if change == "cut":
        return text[:start] + text[end:]
    if change == "splice":
        return text[:start] + " " + draw(st.sampled_from(_GRAMMAR_TOKENS)) + " " + text[start:]
    return text


_ARBITRARY = st.text(max_size=60) | _SOUP.map(" ".join) | _SOUP.map("".join) | _near_filters()


@settings(max_examples=600, deadline=None)
@given(_ARBITRARY, st.sampled_from(["version", "model"]))
def test_any_text_parses_or_raises_a_filter_syntax_error(text: str, kind: Kind) -> None:
    try:
        expr = parse(text, kind)
    except FilterSyntaxError as error:
        start, end = error.span
        assert 0 <= start < end <= len(text) + 1
        assert str(error).startswith(error.reason + "\n    ")
        return
    # whatever parses can be evaluated and printed
    records = VERSIONS if kind == "version" else MODELS
    predicate = compile_filter(expr)
    for record in records:
        predicate(record)
    assert parse(to_string(expr), kind) == expr


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("name = 'a'", {"a"}),
        ("name IN ('a', 'b')", {"a", "b"}),
        ("name = 'a' AND tags.x = '1'", {"a"}),
        ("name IN ('a', 'b') AND name = 'b'", {"b"}),
        ("name = 'a' OR name = 'b'", {"a", "b"}),
        ("name = 'a' OR tags.x = '1'", None),
        ("name != 'a'", None),
        ("name NOT IN ('a')", None),
        ("NOT name = 'a'", None),
        ("name LIKE 'a%'", None),
        ("tags.name = 'a'", None),
    ],
)
def test_names_required_by_a_filter(text: str, names: set[str] | None) -> None:
    expected = None if names is None else frozenset(names)
    assert names_required(parse(text)) == expected


_NAMES = st.sampled_from(["churn-predictor", "fraud-detector", "a", "b"])
_NAME_CONDITIONS = st.one_of(
    st.builds(Comparison, st.just(Field("name")), st.sampled_from(["=", "!="]), _NAMES),
    st.builds(
        InList,
        st.just(Field("name")),
        st.lists(_NAMES, min_size=1, max_size=3).map(tuple),
        st.booleans(),
    ),
)
_PINNING = st.recursive(st.one_of(_NAME_CONDITIONS, _CONDITIONS), _combine, max_leaves=8)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_PINNING)
def test_a_record_outside_the_required_names_never_matches(expr: Expr) -> None:
    # The property that lets a search skip every other model's folder.
    names = names_required(expr)
    if names is None:
        return
    for record in VERSIONS:
        if record["name"] not in names:
            assert not evaluate(expr, record), to_string(expr)
