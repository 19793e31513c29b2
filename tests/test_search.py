"""Ordering and paging of search results.

The MLflow orders were recorded by running MLflow 3.17.2 (SQLite store) on the same
names and versions.
"""

from __future__ import annotations

import base64
import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelreg.errors import FilterSyntaxError, InvalidInputError
from modelreg.filters import Field
from modelreg.search import (
    MODEL_VERSIONS_DEFAULT_MAX_RESULTS,
    MODEL_VERSIONS_DEFAULT_ORDER_BY,
    MODEL_VERSIONS_MAX_RESULTS_THRESHOLD,
    REGISTERED_MODELS_DEFAULT_MAX_RESULTS,
    REGISTERED_MODELS_DEFAULT_ORDER_BY,
    REGISTERED_MODELS_MAX_RESULTS_THRESHOLD,
    OrderKey,
    Page,
    _digest,
    parse_order_by,
    search,
)

# the versions of the MLflow comparison: name -> how many versions
MLFLOW_VERSIONS = {
    "churn-predictor": 3,
    "Churn-Legacy": 1,
    "fraud-detector": 2,
    "fraud_detector": 2,
}


def record(name: str, number: int, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": name,
        "version": number,
        "current_stage": "None",
        "creation_timestamp": 1_000 * number,
        "last_updated_timestamp": 1_000 * number,
        "tags": {},
        "aliases": [],
        "metrics": {},
        "params": {},
    }
    base.update(fields)
    return base


def ids(records: list[dict[str, Any]]) -> list[str]:
    return [f"{r['name']}/{r['version']}" for r in records]


@pytest.fixture
def mlflow_versions() -> list[dict[str, Any]]:
    # created in this order, one per second, as in the MLflow run
    records, clock = [], 0
    for name, count in MLFLOW_VERSIONS.items():
        for number in range(1, count + 1):
            clock += 1000
            records.append(
                record(name, number, creation_timestamp=clock, last_updated_timestamp=clock)
            )
    return records


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        (
            None,  # MLflow's default: last_updated_timestamp DESC, name ASC, version DESC
            "fraud_detector/2 fraud_detector/1 fraud-detector/2 fraud-detector/1 "
            "Churn-Legacy/1 churn-predictor/3 churn-predictor/2 churn-predictor/1",
        ),
        (
            ["name"],
            "Churn-Legacy/1 churn-predictor/3 churn-predictor/2 churn-predictor/1 "
            "fraud-detector/2 fraud-detector/1 fraud_detector/2 fraud_detector/1",
        ),
        (
            ["version_number"],
            "Churn-Legacy/1 churn-predictor/1 fraud-detector/1 fraud_detector/1 "
            "churn-predictor/2 fraud-detector/2 fraud_detector/2 churn-predictor/3",
        ),
        (
            ["version_number DESC"],
            "churn-predictor/3 churn-predictor/2 fraud-detector/2 fraud_detector/2 "
            "Churn-Legacy/1 churn-predictor/1 fraud-detector/1 fraud_detector/1",
        ),
        (
            ["creation_timestamp"],
            "churn-predictor/1 churn-predictor/2 churn-predictor/3 Churn-Legacy/1 "
            "fraud-detector/1 fraud-detector/2 fraud_detector/1 fraud_detector/2",
        ),
        (
            ["name DESC", "version_number ASC"],
            "fraud_detector/1 fraud_detector/2 fraud-detector/1 fraud-detector/2 "
            "churn-predictor/1 churn-predictor/2 churn-predictor/3 Churn-Legacy/1",
        ),
        (
            ["`name` desc", "version_number asc"],
            "fraud_detector/1 fraud_detector/2 fraud-detector/1 fraud-detector/2 "
            "churn-predictor/1 churn-predictor/2 churn-predictor/3 Churn-Legacy/1",
        ),
    ],
)
def test_version_order_matches_mlflow(
    mlflow_versions: list[dict[str, Any]], order_by: list[str] | None, expected: str
) -> None:
    assert ids(search(mlflow_versions, order_by=order_by)) == expected.split()


MODELS = [
    {"name": "fraud_detector", "creation_timestamp": 1, "last_updated_timestamp": 40},
    {"name": "churn-predictor", "creation_timestamp": 2, "last_updated_timestamp": 10},
    {"name": "Churn-Legacy", "creation_timestamp": 3, "last_updated_timestamp": 20},
    {"name": "fraud-detector", "creation_timestamp": 4, "last_updated_timestamp": 30},
]


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        (None, "Churn-Legacy churn-predictor fraud-detector fraud_detector"),
        (["name DESC"], "fraud_detector fraud-detector churn-predictor Churn-Legacy"),
        # MLflow's SQL store orders registered models by last update for "timestamp"
        (["timestamp DESC"], "fraud_detector fraud-detector Churn-Legacy churn-predictor"),
        (["last_updated_timestamp"], "churn-predictor Churn-Legacy fraud-detector fraud_detector"),
        (["creation_timestamp DESC"], "fraud-detector Churn-Legacy churn-predictor fraud_detector"),
    ],
)
def test_model_order(order_by: list[str] | None, expected: str) -> None:
    found = search(MODELS, order_by=order_by, kind="model")
    assert [m["name"] for m in found] == expected.split()


def test_defaults_are_mlflows() -> None:
    assert MODEL_VERSIONS_DEFAULT_MAX_RESULTS == 10_000
    assert MODEL_VERSIONS_MAX_RESULTS_THRESHOLD == 200_000
    assert REGISTERED_MODELS_DEFAULT_MAX_RESULTS == 100
    assert REGISTERED_MODELS_MAX_RESULTS_THRESHOLD == 1_000
    assert MODEL_VERSIONS_DEFAULT_ORDER_BY == (
        "last_updated_timestamp DESC",
        "name ASC",
        "version_number DESC",
    )
    assert REGISTERED_MODELS_DEFAULT_ORDER_BY == ("name ASC",)
    assert [str(key) for key in parse_order_by(None)] == [
        "last_updated_timestamp DESC",
        "name ASC",
        "version DESC",
    ]
    assert [str(key) for key in parse_order_by([], "model")] == ["name ASC"]


def test_default_page_sizes() -> None:
    versions = [record(f"m{i % 7}", i) for i in range(10_001)]
    page = search(versions)
    assert len(page) == 10_000
    assert page.token is not None
    models = [{"name": f"m{i:03}"} for i in range(101)]
    page = search(models, kind="model")
    assert [m["name"] for m in page] == [f"m{i:03}" for i in range(100)]
    assert page.token is not None


@pytest.mark.parametrize(
    ("max_results", "kind", "message"),
    [
        (0, "version", "Invalid value for max_results. It must be a positive integer, but got 0"),
        (-5, "model", "Invalid value for max_results. It must be a positive integer, but got -5"),
        (
            True,
            "version",
            "Invalid value for max_results. It must be a positive integer, but got True",
        ),
        (
            2.5,
            "version",
            "Invalid value for max_results. It must be a positive integer, but got 2.5",
        ),
        (
            200_001,
            "version",
            "Invalid value for request parameter max_results. It must be at most 200000, "
            "but got value 200001",
        ),
        (
            1_001,
            "model",
            "Invalid value for request parameter max_results. It must be at most 1000, "
            "but got value 1001",
        ),
    ],
)
def test_max_results_is_validated(max_results: Any, kind: Any, message: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        search([], max_results=max_results, kind=kind)
    assert str(caught.value) == message


def test_max_results_at_the_limits_is_accepted() -> None:
    assert search([record("a", 1)], max_results=200_000) == [record("a", 1)]
    assert search([{"name": "a"}], max_results=1_000, kind="model") == [{"name": "a"}]
    assert search([{"name": "a"}], max_results=1, kind="model").token is None


# --- ordering by any field -----------------------------------------------------------------


@pytest.fixture
def scored() -> list[dict[str, Any]]:
    return [
        record("b", 1, metrics={"acc": 0.5}, tags={"team": "x"}, params={"lr": "0.1"}),
        record("a", 1, metrics={}, tags={"team": "y"}, params={"lr": "fast"}),
        record("a", 2, metrics={"acc": 0.9}, tags={}, params={"lr": 0.01}),
        record("c", 1, metrics={"acc": 0.7}, tags={"team": "x"}, params={}),
        record("b", 2, metrics={"acc": float("nan")}, params={"lr": "1e-3"}),
        record("c", 2, metrics={"acc": 0.5}, tags={"team": "Z"}, params={"lr": "adam"}),
    ]


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        # missing values (and NaN) last both ways; ties by name ASC, then version DESC
        (["metrics.acc"], "b/1 c/2 c/1 a/2 a/1 b/2"),
        (["metrics.acc DESC"], "a/2 c/1 b/1 c/2 a/1 b/2"),
        (["tags.team"], "c/2 b/1 c/1 a/1 a/2 b/2"),
        (["tags.team DESC"], "a/1 b/1 c/1 c/2 a/2 b/2"),
        # params: numbers first (as numbers), then text; DESC is the exact reverse
        (["params.lr"], "b/2 a/2 b/1 c/2 a/1 c/1"),
        (["params.lr DESC"], "a/1 c/2 b/1 a/2 b/2 c/1"),
        (["name DESC"], "c/2 c/1 b/2 b/1 a/2 a/1"),
        (["name", "version"], "a/1 a/2 b/1 b/2 c/1 c/2"),
        (["tags.team", "name DESC"], "c/2 c/1 b/1 a/1 b/2 a/2"),
    ],
)
def test_order_by_any_field(
    scored: list[dict[str, Any]], order_by: list[str], expected: str
) -> None:
    assert ids(search(scored, order_by=order_by)) == expected.split()


def test_ties_are_broken_deterministically() -> None:
    same = [record(name, n, last_updated_timestamp=5) for name in "bca" for n in (1, 3, 2)]
    expected = ["a/3", "a/2", "a/1", "b/3", "b/2", "b/1", "c/3", "c/2", "c/1"]
    for _ in range(5):
        random.shuffle(same)
        assert ids(search(same)) == expected
        assert ids(search(same, order_by=["stage"])) == expected


def test_filter_and_order_together(scored: list[dict[str, Any]]) -> None:
    found = search(scored, "metrics.acc >= 0.5", order_by=["metrics.acc DESC"])
    assert ids(found) == ["a/2", "c/1", "b/1", "c/2"]
    assert search(scored, "   ") == search(scored, None) == search(scored, "")


@pytest.mark.parametrize(
    ("order_by", "kind", "message"),
    [
        (
            ["name sideways"],
            "version",
            "expected ASC, DESC or the end of the order_by clause, found 'sideways'\n"
            "    name sideways\n"
            "         ^^^^^^^^",
        ),
        (
            ["name", "version_number DESC", " version ASC"],
            "version",
            "order_by names 'version' twice\n     version ASC\n     ^^^^^^^^^^^",
        ),
        (
            ["alias"],
            "model",
            "cannot order by 'alias': a version or model can carry several aliases\n"
            "    alias\n"
            "    ^^^^^",
        ),
        (
            ["timestamp"],
            "version",
            "unknown field 'timestamp' (did you mean 'creation_timestamp'?); valid fields: "
            "name, version, version_number, stage, current_stage, run_id, run_link, model_id, "
            "source, source_path, description, user_id, status, alias, creation_timestamp, "
            "last_updated_timestamp, tags.<key>, metrics.<key>, params.<key>, "
            "datasets.<name>[.<field>]\n"
            "    timestamp\n"
            "    ^^^^^^^^^",
        ),
        (
            ["metrics.acc"],
            "model",
            "field 'metrics.acc' is only available when searching model versions; valid "
            "fields for models: name, description, user_id, alias, creation_timestamp, "
            "last_updated_timestamp, tags.<key>\n"
            "    metrics.acc\n"
            "    ^^^^^^^^^^^",
        ),
    ],
)
def test_bad_order_by_points_at_the_clause(order_by: list[str], kind: Any, message: str) -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        search([], order_by=order_by, kind=kind)
    assert str(caught.value) == message


def test_order_keys_print_as_clauses_that_parse_back() -> None:
    keys = parse_order_by(["tag.`my key` desc", "metric.acc", "stage"])
    assert [str(key) for key in keys] == [
        "tags.`my key` DESC",
        "metrics.acc ASC",
        "current_stage ASC",
        "name ASC",
        "version DESC",
    ]
    assert parse_order_by([str(key) for key in keys]) == keys
    assert keys[0] == OrderKey(Field("tags", "my key"), ascending=False)


def test_a_single_clause_string_is_one_clause() -> None:
    assert parse_order_by("name DESC", "model") == [OrderKey(Field("name"), False)]


# --- paging ------------------------------------------------------------------------------


def all_pages(records: list[dict[str, Any]], size: int, **query: Any) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    page = search(records, max_results=size, **query)
    seen.extend(page)
    while page.token is not None:
        assert len(seen) <= len(records), "paging does not end"
        page = search(records, max_results=size, page_token=page.token, **query)
        assert page, "a token was handed out for an empty page"
        seen.extend(page)
    return seen


def many_versions(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        record(
            f"m{i % 5}",
            i // 5 + 1,
            last_updated_timestamp=rng.randrange(10),  # many ties
            metrics={"acc": rng.choice([0.1, 0.5, 0.9])} if rng.random() < 0.7 else {},
            tags={"team": rng.choice("xyz")} if rng.random() < 0.5 else {},
        )
        for i in range(count)
    ]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 50, 51])
@pytest.mark.parametrize(
    "order_by", [None, ["metrics.acc DESC"], ["tags.team", "version_number ASC"], ["name DESC"]]
)
def test_paging_visits_every_record_once_in_order(size: int, order_by: list[str] | None) -> None:
    records = many_versions(51)
    seen = all_pages(records, size, filter_string=None, order_by=order_by)
    assert ids(seen) == ids(search(records, order_by=order_by))
    assert len(set(ids(seen))) == 51


def test_paging_a_filtered_search() -> None:
    records = many_versions(60)
    seen = all_pages(records, 4, filter_string="metrics.acc >= 0.5 OR tags.team = 'x'")
    assert ids(seen) == ids(search(records, "metrics.acc >= 0.5 OR tags.team = 'x'"))


def test_the_last_page_has_no_token() -> None:
    records = many_versions(6)
    assert search(records, max_results=6).token is None
    first = search(records, max_results=5)
    assert first.token is not None
    last = search(records, max_results=5, page_token=first.token)
    assert len(last) == 1
    assert last.token is None


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 6),
    st.lists(st.integers(0, 3), min_size=1, max_size=12),
    st.sampled_from(
        [None, ["metrics.acc DESC"], ["tags.team DESC", "name"], ["creation_timestamp"]]
    ),
    st.randoms(use_true_random=False),
)
def test_paging_while_versions_are_registered(
    size: int, arrivals: list[int], order_by: list[str] | None, rng: random.Random
) -> None:
    """Every version present at the first page is seen exactly once, whatever arrives."""
    records = many_versions(20)
    originals = set(ids(records))
    counters = {f"m{i}": 100 for i in range(5)}
    seen: list[str] = []
    page = search(records, max_results=size, order_by=order_by)
    seen += ids(page)
    for count in arrivals:
        for _ in range(count):  # other processes register new versions between pages
            name = rng.choice(sorted(counters))
            counters[name] += 1
            records.append(
                record(
                    name,
                    counters[name],
                    creation_timestamp=rng.randrange(-5, 5000),
                    last_updated_timestamp=rng.randrange(-5, 20),
                    metrics={"acc": rng.random()},
                    tags={"team": rng.choice("wxyz")},
                )
            )
        if page.token is None:
            break
        page = search(records, max_results=size, order_by=order_by, page_token=page.token)
        seen += ids(page)
    while page.token is not None:
        assert len(seen) <= len(records), "paging does not end"
        page = search(records, max_results=size, order_by=order_by, page_token=page.token)
        seen += ids(page)
    assert len(seen) == len(set(seen)), "a version was returned twice"
    assert originals <= set(seen), "a version that existed from the start was skipped"


# --- tokens --------------------------------------------------------------------------------


def first_token(records: list[dict[str, Any]], **query: Any) -> str:
    token = search(records, max_results=2, **query).token
    assert token is not None
    return token


def test_a_token_of_another_search_is_refused() -> None:
    records = many_versions(10)
    token = first_token(records, filter_string="metrics.acc > 0")
    for other in (
        {"filter_string": "metrics.acc > 1"},
        {"filter_string": "metrics.acc > 0", "order_by": ["name"]},
        {"filter_string": None},
    ):
        with pytest.raises(InvalidInputError, match="belongs to a search with another filter"):
            search(records, page_token=token, **other)
    with pytest.raises(InvalidInputError, match="belongs to a search with another filter"):
        search([{"name": "m"}], page_token=first_token(records), kind="model")


def test_the_same_search_written_differently_accepts_the_token() -> None:
    records = many_versions(10)
    token = first_token(records, filter_string="metrics.acc > 0", order_by=["name"])
    page = search(
        records,
        "metric.acc>0",
        order_by=["name ASC", "version_number DESC"],
        max_results=3,
        page_token=token,
    )
    assert ids(page) == ids(search(records, "metrics.acc > 0", order_by=["name"]))[2:5]


def edit_token(token: str, change: Any) -> str:
    payload = json.loads(base64.urlsafe_b64decode(token))
    change(payload)
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda token: "not a token!", "invalid page token: could not decode it"),
        (lambda token: token[:-4], "invalid page token: could not decode it"),
        (lambda token: "é" + token, "invalid page token: could not decode it"),
        (
            lambda token: base64.urlsafe_b64encode(b"\xff\xfe").decode(),
            "invalid page token: could not decode it",
        ),
        (
            lambda token: base64.urlsafe_b64encode(b"[1, 2]").decode(),
            "invalid page token: it was not returned by a search",
        ),
        (
            lambda token: base64.urlsafe_b64encode(b'{"offset": 10}').decode(),
            "invalid page token: it was not returned by a search",
        ),
        (
            lambda token: edit_token(token, lambda p: p["after"].__setitem__(0, -12345)),
            "invalid page token: it has been modified",
        ),
        (
            lambda token: edit_token(token, lambda p: p.__setitem__("q", "0" * 16)),
            "invalid page token: it has been modified",
        ),
    ],
)
def test_a_damaged_token_is_refused(damage: Any, message: str) -> None:
    records = many_versions(10)
    with pytest.raises(InvalidInputError) as caught:
        search(records, max_results=2, page_token=damage(first_token(records)))
    assert str(caught.value) == message


def test_a_token_with_values_of_the_wrong_type_is_refused() -> None:
    # a consistent but forged payload must not reach a comparison of str with int
    records = many_versions(10)
    token = first_token(records)
    payload = json.loads(base64.urlsafe_b64decode(token))
    payload["after"][0] = "yesterday"
    payload["c"] = _digest([payload["q"], payload["after"]])
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()
    with pytest.raises(InvalidInputError, match="it was not returned by a search"):
        search(records, max_results=2, page_token=forged)


def test_page_is_a_list_with_a_token() -> None:
    page = Page([1, 2], "next-page")
    assert page == [1, 2]
    assert isinstance(page, list)
    assert (page.token, Page().token) == ("next-page", None)
    assert repr(page) == "Page([1, 2], token='next-page')"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "B", "c-1"]),
            st.integers(1, 4),
            st.integers(0, 3),  # the time of the last change: many ties
            st.sampled_from([None, 0.5, 1, float("nan"), -0.0, 0.0]),
            st.sampled_from([None, "x", "y", ""]),
            st.sampled_from([None, "0.1", "2", "abc", "10"]),
        ),
        max_size=30,
        unique_by=lambda row: (row[0], row[1]),
    ),
    st.sampled_from(
        [
            None,
            ["metrics.acc DESC"],
            ["metrics.acc"],
            ["tags.team DESC", "metrics.acc"],
            ["params.lr", "name DESC"],
            ["params.lr DESC"],
            ["name DESC", "last_updated_timestamp"],
            ["version_number ASC"],
        ]
    ),
)
def test_the_sort_is_the_order_page_tokens_compare_by(
    rows: list[tuple[Any, ...]], order_by: list[str] | None
) -> None:
    """One sort by the first key and the ties sorted by the rest gives the order that
    `_compare` (which a page token's position is found by) defines, missing values, NaN
    and mixed parameters included."""
    from functools import cmp_to_key

    from modelreg.search import _Column, _compare

    records = [
        record(
            name,
            number,
            last_updated_timestamp=changed,
            metrics={} if acc is None else {"acc": acc},
            tags={} if team is None else {"team": team},
            params={} if lr is None else {"lr": lr},
        )
        for name, number, changed, acc, team, lr in rows
    ]
    columns = [_Column(key) for key in parse_order_by(order_by, "version")]

    def compare(left: dict[str, Any], right: dict[str, Any]) -> int:
        raws = [column.raw(left) for column in columns], [column.raw(right) for column in columns]
        return _compare(*raws, columns)

    expected = sorted(records, key=cmp_to_key(compare))
    assert ids(search(records, order_by=order_by, max_results=1000)) == ids(expected)
