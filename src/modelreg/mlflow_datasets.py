"""A version's data sets as the dataset inputs of an MLflow run, and back.

MLflow records what a run trained on as its dataset inputs (``mlflow.log_input``): each a
dataset — name, digest, source type, source (a JSON text such as ``{"uri": "s3://..."}``
or ``{"url": "https://..."}``), schema, profile — with input tags such as
``mlflow.data.context`` (``training``, ``testing``). modelreg records a version's data
sets by name (:mod:`modelreg.datasets`). This module converts between the two, with no
MLflow import: :mod:`modelreg.mlflow_io` reads and writes the inputs.

**Import** (:func:`datasets_of_run`): a dataset's name becomes the data set's name (made
valid: other characters become ``-``); its digest is kept verbatim as ``mlflow:<digest>``;
its source is the URI or URL of a ``{"uri": ...}`` or ``{"url": ...}`` source, else the
source text as MLflow holds it; its source type is MLflow's. Two inputs with the same
name (MLflow allows it: the same name with different contexts, say) are told apart by
their context, ``eval-validation`` and ``eval-testing``, then by ``-2``, ``-3``... in a
deterministic order. What MLflow has and a data set has no field for — the MLflow name
when it differs, the input tags, the schema and the profile — goes into the version's
lineage under ``mlflow_datasets``, so that an export gives MLflow the same inputs again.

**Export** (:func:`run_inputs_of`): the other way, writing what MLflow can hold in its
own fields. MLflow's digest holds 36 characters (its ``datasets`` table's column, checked
by every store), so a modelreg digest (``sha256:<64 hex>``) goes there cut to 36
characters, and whole in the input tag ``modelreg.digest``, with ``modelreg.source``
and ``modelreg.source_type`` (within an experiment MLflow keeps one dataset per name and
digest, so an input of the same content may show another version's source). A data set
without a digest gets the digest MLflow's ``MetaDataset`` computes from the name and
source (an empty digest would make two remote sources one dataset) and
``modelreg.digest`` empty. A local path goes to MLflow as an absolute path (type
``local``), with the path as recorded here in ``modelreg.source`` (a path imported from
MLflow goes back as the run logged it); likewise ``modelreg.source_type``,
``modelreg.size`` and ``modelreg.git_commit`` carry what MLflow's fields cannot. Each
``modelreg.*`` tag is written only when it is needed, so an input imported from MLflow
goes back exactly as it came; an import reads them back, so a round trip keeps every
field of a data set exactly.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from modelreg.datasets import NAME_RE, Dataset
from modelreg.docread import Document
from modelreg.refs import artifact_location, local_artifact_path

CONTEXT_TAG = "mlflow.data.context"
DIGEST_TAG = "modelreg.digest"
SOURCE_TAG = "modelreg.source"
SOURCE_TYPE_TAG = "modelreg.source_type"
SIZE_TAG = "modelreg.size"
GIT_COMMIT_TAG = "modelreg.git_commit"
_OWN_TAGS = (DIGEST_TAG, SOURCE_TAG, SOURCE_TYPE_TAG, SIZE_TAG, GIT_COMMIT_TAG)
#: The lineage key of what MLflow had that a data set has no field for.
LINEAGE_KEY = "mlflow_datasets"
MLFLOW_DIGEST = "mlflow:"  # the prefix of a digest imported from MLflow
MAX_DIGEST_LENGTH = 36  # MLflow's datasets.digest column, checked by its stores
MAX_NAME_LENGTH = 100  # modelreg's (datasets.NAME_RE)
_HTTP = ("http", "https")


@dataclass(frozen=True)
class RunInput:
    """One dataset input of an MLflow run, field by field as MLflow holds it."""

    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None
    tags: tuple[tuple[str, str], ...] = ()  # sorted by key

    @classmethod
    def of(
        cls,
        name: object,
        digest: object,
        source_type: object,
        source: object,
        schema: object = None,
        profile: object = None,
        tags: Mapping[str, object] | None = None,
    ) -> RunInput:
        """An input from what a store returned (None and missing text become "")."""
        return cls(
            name=_str(name),
            digest=_str(digest),
            source_type=_str(source_type),
            source=_str(source),
            schema=_str(schema) or None,
            profile=_str(profile) or None,
            tags=tuple(sorted((str(key), _str(value)) for key, value in (tags or {}).items())),
        )

    @property
    def tag_dict(self) -> dict[str, str]:
        return dict(self.tags)

    @property
    def context(self) -> str:
        return self.tag_dict.get(CONTEXT_TAG, "")


def _str(value: object) -> str:
    return "" if value is None else str(value)


# -- import ------------------------------------------------------------------------------


def datasets_of_run(inputs: Sequence[RunInput]) -> tuple[dict[str, Dataset], Document]:
    """A run's dataset inputs as data sets by name, and the lineage entry that keeps
    what MLflow had beyond them ({} when nothing)."""
    keys = _keys(inputs)
    datasets: dict[str, Dataset] = {}
    extras: Document = {}
    for key, run_input in sorted(zip(keys, inputs, strict=True), key=lambda pair: pair[0]):
        datasets[key] = dataset_of(key, run_input)
        extra: Document = {}
        if run_input.name != key:
            extra["name"] = run_input.name
        tags = {k: v for k, v in run_input.tags if k not in _OWN_TAGS}
        if tags:
            extra["tags"] = dict(tags)
        for field in ("schema", "profile"):
            value = getattr(run_input, field)
            if value is not None:
                extra[field] = value
        if extra:
            extras[key] = extra
    return datasets, extras


def dataset_of(name: str, run_input: RunInput) -> Dataset:
    """One input as the data set ``name``: MLflow's fields, unless a ``modelreg.*`` tag
    of an export says what they stood for."""
    tags = run_input.tag_dict
    if DIGEST_TAG in tags:
        digest = tags[DIGEST_TAG] or None
    else:
        digest = MLFLOW_DIGEST + run_input.digest if run_input.digest else None
    source = tags.get(SOURCE_TAG, _source_text(run_input.source))
    source_type = tags.get(SOURCE_TYPE_TAG, run_input.source_type) or None
    size_text = tags.get(SIZE_TAG, "")
    size = int(size_text) if re.fullmatch(r"[0-9]{1,20}", size_text) else None
    return Dataset(name, source, digest, size, tags.get(GIT_COMMIT_TAG) or None, source_type)


def _source_text(source: str) -> str:
    """The URI of MLflow's ``{"uri": URI}`` (``{"url": URL}``) source; any other source
    as MLflow holds it (exactly: an export gives it back unchanged)."""
    try:
        parsed = json.loads(source)
    except ValueError:
        return source
    if isinstance(parsed, dict) and len(parsed) == 1:
        ((key, value),) = parsed.items()
        # Only when it gives the same text back: an export rewrites it from the URI.
        if key in ("uri", "url") and isinstance(value, str) and value:
            return value if _source_json(key, value) == source else source
    return source


def _source_json(key: str, value: str) -> str:
    """As MLflow's dataset sources write themselves (``json.dumps`` of their dict)."""
    return json.dumps({key: value})


def _keys(inputs: Sequence[RunInput]) -> list[str]:
    """The data-set name of each input: its name made valid; where names clash, with the
    context added; then ``-2``, ``-3``... (in the order of name, context, digest, source,
    so the same run always gives the same names)."""
    bases = [valid_name(run_input.name) for run_input in inputs]
    counts: dict[str, int] = {}
    for base in bases:
        counts[base] = counts.get(base, 0) + 1
    wanted = [
        _suffixed(base, valid_name(run_input.context))
        if counts[base] > 1 and run_input.context
        else base
        for base, run_input in zip(bases, inputs, strict=True)
    ]
    order = sorted(
        range(len(inputs)),
        key=lambda i: (
            wanted[i] != bases[i],  # a name kept as it is comes first
            wanted[i],
            inputs[i].context,
            inputs[i].digest,
            inputs[i].source,
        ),
    )
    claimed: set[str] = set()
    keys = [""] * len(inputs)
    for i in order:
        key, counter = wanted[i], 1
        while key in claimed:
            counter += 1
            key = _suffixed(wanted[i], str(counter))
        claimed.add(key)
        keys[i] = key
    return keys


def _suffixed(base: str, suffix: str) -> str:
    """``base-suffix``, within the length of a name (a long context is cut to 40)."""
    suffix = suffix[:40]
    return base[: MAX_NAME_LENGTH - len(suffix) - 1] + "-" + suffix


def valid_name(name: str) -> str:
    """``name`` as a data-set name: runs of other characters become ``-``, leading and
    trailing ``-`` go, cut to 100 characters; ``dataset`` (MLflow's default name) when
    nothing is left."""
    text = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:MAX_NAME_LENGTH]
    return text if NAME_RE.fullmatch(text) else "dataset"


# -- export ------------------------------------------------------------------------------


def run_inputs_of(datasets: Mapping[str, Dataset], extras: object, root: Path) -> list[RunInput]:
    """A version's data sets as dataset inputs of an MLflow run, by name. ``extras`` is
    the version's lineage entry ``mlflow_datasets`` (what an import kept); ``root`` the
    registry folder (a relative local path is relative to it)."""
    kept = extras if isinstance(extras, Mapping) else {}
    return [
        run_input_of(dataset, kept.get(name), root) for name, dataset in sorted(datasets.items())
    ]


def run_input_of(dataset: Dataset, extra: object, root: Path) -> RunInput:
    """One data set as an MLflow dataset input, with the ``modelreg.*`` tags an import
    needs to give it back exactly (and only those)."""
    kept = extra if isinstance(extra, Mapping) else {}
    name = kept.get("name") if isinstance(kept.get("name"), str) else None
    name = name or dataset.name
    source_type, source = _mlflow_source(dataset, root)
    kept_tags = kept.get("tags")
    tags = (
        {str(k): str(v) for k, v in kept_tags.items() if str(k) not in _OWN_TAGS}
        if isinstance(kept_tags, Mapping)
        else {}
    )
    digest = dataset.digest
    if digest is not None and digest.startswith(MLFLOW_DIGEST):
        mlflow_digest = digest.removeprefix(MLFLOW_DIGEST)
    elif digest is None:
        mlflow_digest = _meta_digest(name, source_type, source)
    else:
        mlflow_digest = digest[:MAX_DIGEST_LENGTH]
    plain = RunInput.of(name, mlflow_digest, source_type, source, tags=tags)
    back = dataset_of(dataset.name, plain)
    # A content digest of ours names the content, not where it is: MLflow may show another
    # version's source for the same name and digest, so the tags say ours.
    ours = digest is not None and back.digest != digest
    if back.digest != digest or len(mlflow_digest) > MAX_DIGEST_LENGTH:
        tags[DIGEST_TAG] = digest or ""
        mlflow_digest = mlflow_digest[:MAX_DIGEST_LENGTH]
    if ours or back.source != dataset.source:
        tags[SOURCE_TAG] = dataset.source
    if ours or back.source_type != dataset.source_type:
        tags[SOURCE_TYPE_TAG] = dataset.source_type or ""
    if dataset.size is not None:
        tags[SIZE_TAG] = str(dataset.size)
    if dataset.git_commit is not None:
        tags[GIT_COMMIT_TAG] = dataset.git_commit
    return RunInput.of(
        name,
        mlflow_digest,
        source_type,
        source,
        _text_or_none(kept.get("schema")),
        _text_or_none(kept.get("profile")),
        tags,
    )


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _mlflow_source(dataset: Dataset, root: Path) -> tuple[str, str]:
    """MLflow's source type and source JSON for a data set: a local path (absolute,
    ``local``), an http(s) URL (``{"url": ...}``, ``http``, as MLflow's
    ``HTTPDatasetSource``), another URI (``{"uri": ...}``, its scheme, as MLflow's
    artifact sources); a source that is MLflow's own JSON (from an import) as it is.
    A relative path is relative to the registry, but one imported from MLflow (its
    digest is MLflow's) is as the run logged it (relative to where it ran): kept."""
    source = dataset.source
    given = dataset.source_type
    if source.startswith("{"):
        return given or "unknown", source
    local = local_artifact_path(source)
    if local is not None:
        imported = (dataset.digest or "").startswith(MLFLOW_DIGEST)
        if given in (None, "local", "dvc") and not imported and not source.startswith("file:"):
            return "local", _source_json("uri", artifact_location(source, root))
        return given or "local", _source_json("uri", source)
    scheme = source.split(":", 1)[0].lower()
    if (given or scheme) in _HTTP:
        return "http", _source_json("url", source)
    return given or scheme, _source_json("uri", source)


def _meta_digest(name: str, source_type: str, source: str) -> str:
    """The digest MLflow's ``MetaDataset`` computes for a dataset without a schema."""
    config = {"name": name, "source": source, "source_type": source_type, "schema": ""}
    return hashlib.sha256(json.dumps(config).encode("utf-8")).hexdigest()[:8]
