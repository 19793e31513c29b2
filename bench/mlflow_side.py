"""MLflow's side of the benchmark; runs in MLflow's own venv (bench/.venv-mlflow).

The same data as modelreg's registries (:mod:`dataset`), in MLflow's two registry stores:

- SQLite (``sqlite:///FILE``), loaded through ``MlflowClient`` like any user would.
- The file store (``mlruns/models``, ``MLFLOW_ALLOW_FILE_STORE=true``). Registering
  10,000 versions through its API is quadratic (every ``create_model_version`` rereads
  every version of the model), so versions are written with the store's own serializer
  (``FileStore._save_model_version_as_meta_file``, tag files as ``set_model_version_tag``
  writes them) and models and aliases through the API; ``verify`` then reads everything
  back through ``MlflowClient``.

MLflow model versions have no metrics of their own (they live on runs or logged models),
so metrics are stored as version tags (``accuracy``, ``f1``, ``loss``; params stay on the
run and are not copied). MLflow cannot compare tags numerically, so the metric-range
search here is a full scan (every version, paged) filtered in Python.

Every subcommand prints one JSON object, except ``search`` (a whole user process: it
prints the results as tab-separated lines, like ``modelreg search --format plain``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import dataset  # noqa: E402
from common import concurrent_writes, repeat_until, timed_registrations  # noqa: E402

os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
warnings.filterwarnings("ignore")
logging.getLogger("mlflow").setLevel(logging.ERROR)
logging.getLogger("alembic").setLevel(logging.ERROR)


def _client(uri: str) -> Any:
    """A client the way a user makes one: set the tracking URI, then ``MlflowClient()``.

    (The URI must be global, not only the client's: the file store reads every version
    through a fresh ``MlflowClient()``, which would otherwise create ./mlflow.db.)"""
    import mlflow

    mlflow.set_tracking_uri(uri)
    return mlflow.MlflowClient()


def _version_tags(version: dataset.Version) -> dict[str, str]:
    tags = dict(version.tags)
    tags.update({key: repr(value) for key, value in version.metrics.items()})
    return tags


def _payload_tags(payload: dict[str, Any]) -> dict[str, str]:
    tags = dict(payload["tags"])
    tags.update({key: repr(value) for key, value in payload["metrics"].items()})
    return tags


# -- building --------------------------------------------------------------------------


def _build_sqlite(args: argparse.Namespace) -> dict[str, Any]:
    client = _client(args.uri)
    start = time.perf_counter()
    for model in dataset.models(args.size):
        client.create_registered_model(model.name, tags=model.tags, description=model.description)
        for version in model.versions:
            client.create_model_version(
                model.name,
                version.source,
                run_id=version.run_id,
                tags=_version_tags(version),
                run_link=version.run_link,
                description=version.description,
            )
            if version.stage != "None":
                client.transition_model_version_stage(model.name, version.version, version.stage)
        for alias, number in model.aliases.items():
            client.set_registered_model_alias(model.name, alias, number)
    return {"seconds": time.perf_counter() - start}


def _build_file(args: argparse.Namespace) -> dict[str, Any]:
    client = _client(Path(args.root).as_uri())
    start = time.perf_counter()
    for model in dataset.models(args.size):
        _file_model(client, model)
    return {"seconds": time.perf_counter() - start}


def _file_model(client: Any, model: dataset.Model) -> None:
    from mlflow.entities.model_registry import ModelVersionTag
    from mlflow.store.model_registry.file_store import FileModelVersion, FileStore
    from mlflow.utils.file_utils import make_containing_dirs, mkdir, write_to

    client.create_registered_model(model.name, tags=model.tags, description=model.description)
    store = client._get_registry_client().store
    assert isinstance(store, FileStore)
    model_path = store._get_registered_model_path(model.name)
    for version in model.versions:
        tags = _version_tags(version)
        mv = FileModelVersion(
            name=model.name,
            version=version.version,
            creation_timestamp=version.created_ms,
            last_updated_timestamp=version.updated_ms,
            description=version.description,
            current_stage=version.stage,
            source=version.source,
            run_id=version.run_id,
            run_link=version.run_link,
            tags=[ModelVersionTag(key, value) for key, value in tags.items()],
            aliases=[],
            storage_location=version.source,
        )
        folder = str(Path(model_path, f"version-{version.version}"))
        mkdir(folder)
        store._save_model_version_as_meta_file(mv, meta_dir=folder, overwrite=False)
        for key, value in tags.items():
            tag_path = str(Path(folder, FileStore.MODEL_VERSION_TAGS_FOLDER_NAME, key))
            make_containing_dirs(tag_path)
            write_to(tag_path, value)
    for alias, number in model.aliases.items():
        client.set_registered_model_alias(model.name, alias, number)


def _build_big_file_model(args: argparse.Namespace) -> dict[str, Any]:
    """A file-store model with COUNT versions, for timing registrations at its end."""
    client = _client(Path(args.root).as_uri())
    model = dataset.generate_model(10_000, versions=args.count)
    model.name = args.model
    for version in model.versions:
        version.name = args.model
    _file_model(client, model)
    return {"versions": args.count}


def _verify(args: argparse.Namespace) -> dict[str, Any]:
    """Read the data back through MlflowClient: every search finds what it should."""
    client = _client(args.uri)
    counts = {kind: len(_run_search(client, kind, args.size)) for kind in ("name", "tag", "metric")}
    middle = dataset.name_filter_model(args.size)
    champion = client.get_model_version_by_alias(middle, "champion")
    return {"counts": counts, "champion": [champion.name, int(champion.version)]}


# -- searching -------------------------------------------------------------------------


def _run_search(client: Any, kind: str, size: int) -> list[Any]:
    if kind != "metric":
        query = dataset.filters(size)[kind]
        return list(client.search_model_versions(query, max_results=dataset.MAX_RESULTS))
    # No numeric comparison of tags in MLflow: every version, filtered here.
    found: list[Any] = []
    token = None
    while True:
        page = client.search_model_versions(None, max_results=dataset.MAX_RESULTS, page_token=token)
        found.extend(
            mv
            for mv in page
            if "accuracy" in mv.tags and dataset.in_metric_range(float(mv.tags["accuracy"]))
        )
        token = page.token
        if not token or len(found) >= dataset.MAX_RESULTS:
            return found[: dataset.MAX_RESULTS]


def _search_process(args: argparse.Namespace) -> None:
    """What a user's script does: import, connect, search, print."""
    client = _client(args.uri)
    lines = []
    for mv in _run_search(client, args.kind, args.size):
        lines.append(
            "\t".join(
                (
                    mv.name,
                    str(mv.version),
                    mv.current_stage,
                    ",".join(mv.aliases),
                    mv.run_id or "",
                    mv.source,
                    dataset.iso(mv.creation_timestamp),
                )
            )
        )
    sys.stdout.write("".join(line + "\n" for line in lines))


def _every_page(client: Any, kind: str, size: int) -> list[Any]:
    """The in-process search as a user's loop runs it: every page, entities built (the
    metric range: every version, filtered here, see _run_search)."""
    query = None if kind == "metric" else dataset.filters(size)[kind]
    found: list[Any] = []
    token = None
    while True:
        page = client.search_model_versions(
            query, max_results=dataset.MAX_RESULTS, page_token=token
        )
        if kind == "metric":
            found.extend(
                mv
                for mv in page
                if "accuracy" in mv.tags and dataset.in_metric_range(float(mv.tags["accuracy"]))
            )
        else:
            found.extend(page)
        token = page.token
        if not token:
            return found


def _search_inproc(args: argparse.Namespace) -> dict[str, Any]:
    start = time.perf_counter()
    client = _client(args.uri)
    found = _every_page(client, args.kind, args.size)
    first = time.perf_counter() - start

    def once() -> float:
        begin = time.perf_counter()
        again = _every_page(client, args.kind, args.size)
        elapsed = time.perf_counter() - begin
        if len(again) != len(found):
            raise RuntimeError(f"search found {len(found)}, then {len(again)}")
        return elapsed

    samples = repeat_until(once, args.repeat, args.budget).samples
    return {"first": first, "samples": samples, "count": len(found)}


# -- writing ---------------------------------------------------------------------------


def _register(args: argparse.Namespace) -> dict[str, Any]:
    client = _client(args.uri)
    try:
        client.get_registered_model(args.model)
    except Exception:  # MLflow's not-found: a new model
        client.create_registered_model(args.model, tags={"team": "growth"})

    def register(payload: dict[str, Any]) -> int:
        mv = client.create_model_version(
            args.model,
            payload["source"],
            run_id=payload["run_id"],
            tags=_payload_tags(payload),
            run_link=payload["run_link"],
            description=payload["description"],
        )
        return int(mv.version)

    return timed_registrations(register, args.model, args.count)


def _create_model(args: argparse.Namespace) -> dict[str, Any]:
    _client(args.uri).create_registered_model(args.model, tags={"team": "growth"})
    return {}


def _writer(args: argparse.Namespace) -> dict[str, Any]:
    client = _client(args.uri)
    client.get_registered_model(args.model)  # warm: imports, connection, schema check

    def register(payload: dict[str, Any]) -> int:
        mv = client.create_model_version(
            args.model, payload["source"], run_id=payload["run_id"], tags=_payload_tags(payload)
        )
        return int(mv.version)

    return concurrent_writes(register, args.model, args.count, args.writer, Path(args.barrier))


def _versions_of(args: argparse.Namespace) -> dict[str, Any]:
    """The version numbers a model has, read back through the client (lost-write check)."""
    client = _client(args.uri)
    found = client.search_model_versions(f"name = '{args.model}'", max_results=dataset.MAX_RESULTS)
    return {"versions": sorted(int(mv.version) for mv in found)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, *arguments: str) -> argparse.ArgumentParser:
        child = sub.add_parser(name)
        for argument in arguments:
            kind = {"size": int, "count": int}.get(argument, str)
            child.add_argument(argument, type=kind)
        return child

    command("build-sqlite", "uri", "size")
    command("build-file", "root", "size")
    command("build-big-file-model", "root", "model", "count")
    command("verify", "uri", "size")
    command("search", "uri", "kind", "size")
    inproc = command("search-inproc", "uri", "kind", "size")
    inproc.add_argument("--repeat", type=int, default=11)
    inproc.add_argument("--budget", type=float, default=20.0)
    command("register", "uri", "model", "count")
    command("create-model", "uri", "model")
    writer = command("writer", "uri", "model", "count", "barrier")
    writer.add_argument("--writer", type=int, default=0)
    command("versions", "uri", "model")
    args = parser.parse_args()
    if args.command == "search":
        _search_process(args)
        return
    handler = {
        "build-sqlite": _build_sqlite,
        "build-file": _build_file,
        "build-big-file-model": _build_big_file_model,
        "verify": _verify,
        "search-inproc": _search_inproc,
        "register": _register,
        "create-model": _create_model,
        "writer": _writer,
        "versions": _versions_of,
    }[args.command]
    json.dump(handler(args), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
