"""A version's data sets as an MLflow run's dataset inputs, and back (no MLflow needed:
the stores themselves are tested in test_mlflow_io.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelreg.datasets import NAME_RE, Dataset
from modelreg.mlflow_datasets import (
    CONTEXT_TAG,
    DIGEST_TAG,
    GIT_COMMIT_TAG,
    SIZE_TAG,
    SOURCE_TAG,
    SOURCE_TYPE_TAG,
    RunInput,
    dataset_of,
    datasets_of_run,
    run_input_of,
    run_inputs_of,
    valid_name,
)

ROOT = Path("/work/project/registry")
SHA = "sha256:" + "0123456789abcdef" * 4
S3 = "s3://bucket/eval/2026-12.parquet"


def test_a_modelreg_digest_is_cut_to_mlflows_36_characters_and_kept_whole_in_a_tag() -> None:
    dataset = Dataset("train", "../data/train.csv", SHA, 12, "c" * 40, "local")
    got = run_input_of(dataset, None, ROOT)
    assert got == RunInput(
        name="train",
        digest=SHA[:36],
        source_type="local",
        source=json.dumps({"uri": "/work/project/data/train.csv"}),
        tags=(
            (DIGEST_TAG, SHA),
            (GIT_COMMIT_TAG, "c" * 40),
            (SIZE_TAG, "12"),
            (SOURCE_TAG, "../data/train.csv"),
            (SOURCE_TYPE_TAG, "local"),
        ),
    )
    assert len(got.digest) == 36
    assert dataset_of("train", got) == dataset


def test_remote_sources_take_the_shape_of_mlflows_own_dataset_sources() -> None:
    web = Dataset("web", "https://example.com/d.csv", SHA, None, None, "https")
    got = run_input_of(web, None, ROOT)
    # MLflow's HTTPDatasetSource: type "http" for https too, the URL under "url".
    assert (got.source_type, got.source) == ("http", '{"url": "https://example.com/d.csv"}')
    # A content digest of ours always comes with where the content is: MLflow shows one
    # source for all inputs of one name and digest in an experiment.
    assert got.tag_dict == {
        DIGEST_TAG: SHA,
        SOURCE_TAG: "https://example.com/d.csv",
        SOURCE_TYPE_TAG: "https",
    }

    bucket = Dataset("eval", S3, None, None, None, "s3")
    got = run_input_of(bucket, None, ROOT)
    assert (got.source_type, got.source) == ("s3", json.dumps({"uri": S3}))
    # No digest: MetaDataset's digest of the name and source (8 hex digits), so that two
    # sources under one name stay two datasets in MLflow; the tag says there was none.
    assert len(got.digest) == 8 and got.tag_dict == {DIGEST_TAG: ""}
    other = run_input_of(Dataset("eval", S3 + ".old", None, None, None, "s3"), None, ROOT)
    assert other.digest != got.digest
    assert dataset_of("eval", got) == bucket


def test_an_input_imported_from_mlflow_goes_back_exactly_and_without_modelreg_tags() -> None:
    schema = '{"mlflow_tensorspec": {"features": "[]", "targets": null}}'
    inputs = [
        RunInput.of(
            "train",
            "92a7ac9c",
            "local",
            '{"uri": "data/train.csv"}',  # relative to where the run ran: kept as it is
            schema,
            '{"features_size": 6}',
            {CONTEXT_TAG: "training"},
        ),
        RunInput.of("reference", "6e76136c", "http", '{"url": "https://example.com/r.csv"}'),
        RunInput.of("eval", "abc123", "s3", json.dumps({"uri": S3}), tags={CONTEXT_TAG: "eval"}),
        RunInput.of("eval", "def456", "s3", json.dumps({"uri": S3}), tags={CONTEXT_TAG: "test"}),
        # Sources in other shapes (MLflow's sources all write JSON): kept as MLflow's text.
        RunInput.of("delta", "d1", "delta_table", '{"path": "/t", "delta_table_version": 3}'),
        RunInput.of("spaced", "d3", "s3", '{"uri":"s3://b/k"}'),
        RunInput.of("holdout set (2026)", "d4", "s3", json.dumps({"uri": S3})),
    ]
    datasets, kept = datasets_of_run(inputs)
    assert datasets == {
        "train": Dataset("train", "data/train.csv", "mlflow:92a7ac9c", None, None, "local"),
        "reference": Dataset(
            "reference", "https://example.com/r.csv", "mlflow:6e76136c", None, None, "http"
        ),
        "eval-eval": Dataset("eval-eval", S3, "mlflow:abc123", None, None, "s3"),
        "eval-test": Dataset("eval-test", S3, "mlflow:def456", None, None, "s3"),
        "delta": Dataset(
            "delta",
            '{"path": "/t", "delta_table_version": 3}',
            "mlflow:d1",
            None,
            None,
            "delta_table",
        ),
        "spaced": Dataset("spaced", '{"uri":"s3://b/k"}', "mlflow:d3", None, None, "s3"),
        "holdout-set-2026": Dataset("holdout-set-2026", S3, "mlflow:d4", None, None, "s3"),
    }
    assert kept == {
        "train": {
            "tags": {CONTEXT_TAG: "training"},
            "schema": schema,
            "profile": '{"features_size": 6}',
        },
        "eval-eval": {"name": "eval", "tags": {CONTEXT_TAG: "eval"}},
        "eval-test": {"name": "eval", "tags": {CONTEXT_TAG: "test"}},
        "holdout-set-2026": {"name": "holdout set (2026)"},
    }
    back = run_inputs_of(datasets, kept, ROOT)
    assert sorted(back, key=repr) == sorted(inputs, key=repr)


def test_inputs_with_one_name_are_told_apart_by_context_then_by_number() -> None:
    def named(name: str, digest: str, context: str | None) -> RunInput:
        tags = {CONTEXT_TAG: context} if context else {}
        return RunInput.of(name, digest, "s3", json.dumps({"uri": S3}), tags=tags)

    inputs = [
        named("data", "4", "training"),
        named("data", "3", "training"),
        named("data", "2", None),
        named("data-training", "1", None),
        named("data", "5", "testing"),
    ]
    datasets, kept = datasets_of_run(inputs)
    digests = {name: dataset.digest for name, dataset in datasets.items()}
    assert digests == {
        "data": "mlflow:2",  # no context: the name as it is
        "data-training": "mlflow:1",  # its own name, taken first
        "data-training-2": "mlflow:3",  # then by digest
        "data-training-3": "mlflow:4",
        "data-testing": "mlflow:5",
    }
    assert kept["data-training-3"] == {"name": "data", "tags": {CONTEXT_TAG: "training"}}
    assert "data-training" not in kept
    # The same inputs in another order get the same names.
    assert datasets_of_run(inputs[::-1]) == (datasets, kept)
    # Long names and contexts still make valid names.
    long = [named("n" * 300, "1", "c" * 300), named("n" * 300, "2", "c" * 300)]
    names = sorted(datasets_of_run(long)[0])
    assert names == ["n" * 59 + "-" + "c" * 38 + "-2", "n" * 59 + "-" + "c" * 40]
    assert all(NAME_RE.fullmatch(name) for name in names)


@pytest.mark.parametrize(
    ("mlflow_name", "name"),
    [
        ("train", "train"),
        ("holdout set (2026)", "holdout-set-2026"),
        ("s3://bucket/x.csv", "s3-bucket-x-csv"),
        ("-x-", "x"),
        ("модель", "dataset"),
        ("", "dataset"),
        ("a" * 300, "a" * 100),
    ],
)
def test_an_mlflow_name_becomes_a_valid_data_set_name(mlflow_name: str, name: str) -> None:
    assert valid_name(mlflow_name) == name
    assert NAME_RE.fullmatch(valid_name(mlflow_name))


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
_source = st.one_of(
    st.from_regex(r"(\.\./)?[a-z]{1,8}(/[a-z]{1,8}){0,2}\.csv", fullmatch=True),
    st.from_regex(r"/[a-z]{1,8}/[a-z]{1,8}", fullmatch=True),
    st.from_regex(r"(s3|gs|https?|hf|file)://[a-z]{1,8}/[a-z.]{1,8}", fullmatch=True),
    st.sampled_from(['{"uri": "s3://b/k"}', '{"path": "/t"}', "{not json"]),
)
_digest = st.one_of(
    st.none(),
    st.from_regex(r"sha256:[0-9a-f]{64}", fullmatch=True),
    st.from_regex(r"md5:[0-9a-f]{32}(\.dir)?", fullmatch=True),
    st.from_regex(r"mlflow:[0-9a-z]{1,36}", fullmatch=True),
    _text.filter(bool),
)


@settings(max_examples=60, deadline=None)
@given(
    source=_source,
    digest=_digest,
    size=st.one_of(st.none(), st.integers(0, 2**63)),
    git_commit=st.one_of(st.none(), st.from_regex(r"[0-9a-f]{40}", fullmatch=True)),
    source_type=st.one_of(
        st.none(), st.sampled_from(["local", "dvc", "s3", "https", "http", "delta", "code"])
    ),
)
def test_every_data_set_survives_a_trip_through_mlflows_fields(
    source: str,
    digest: str | None,
    size: int | None,
    git_commit: str | None,
    source_type: str | None,
) -> None:
    dataset = Dataset("train", source, digest, size, git_commit, source_type)
    got = run_input_of(dataset, None, ROOT)
    assert len(got.digest) <= 36  # what MLflow's stores accept
    assert all(len(value) <= 500 for _, value in got.tags)
    assert dataset_of("train", got) == dataset
    back, kept = datasets_of_run([got])
    assert back == {"train": dataset} and kept == {}


def test_check_artifacts_does_not_compare_mlflows_digest_with_the_files_sha256(
    tmp_path: Path,
) -> None:
    from modelreg import Registry
    from modelreg.artifacts.verify import verify_datasets

    registry = Registry.init(tmp_path / "registry")
    (registry.root / "train.csv").write_text("x,y\n1,2\n")
    registry.create_registered_model("m")
    # As imported from MLflow: a local path as the run logged it, MLflow's own digest
    # (of the data it loaded, not of the file's bytes).
    imported = Dataset("train", "train.csv", "mlflow:92a7ac9c", None, None, "local")
    mv = registry.create_model_version("m", "s3://m/1", datasets={"train": imported})
    assert verify_datasets(mv, registry.root, {}) == []


@pytest.mark.parametrize("text", ["²", "-1", "1e3", "", "9" * 30])
def test_a_size_tag_that_is_not_a_byte_count_is_no_size(text: str) -> None:
    found = RunInput.of("d", "x", "s3", json.dumps({"uri": S3}), tags={SIZE_TAG: text})
    assert dataset_of("d", found).size is None
