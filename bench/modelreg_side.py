"""modelreg's in-process operations, run by ``run.py`` in a fresh process each.

Every subcommand prints one JSON object on stdout:

- ``search ROOT KIND SIZE``: the first search in this process (after the driver cleared
  the caches, when it did), then repeated searches, each through every page; the number
  of results.
- ``register ROOT MODEL COUNT``: COUNT registrations on one model through
  ``Registry.create_model_version``, each timed (the model is created when missing).
- ``writer ROOT MODEL COUNT BARRIER``: one of the concurrent writers: opens the
  registry, waits at the barrier (see ``common.barrier``), registers COUNT versions and
  reports which version numbers it was given and how many calls failed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import dataset  # noqa: E402
from common import concurrent_writes, repeat_until, timed_registrations  # noqa: E402


def _search(args: argparse.Namespace) -> dict[str, Any]:
    """What a user's call costs: the public method, entities built, every page."""
    from modelreg.registry import Registry

    query = dataset.filters(args.size)[args.kind]

    def every_page(registry: Registry) -> int:
        found, token = 0, None
        while True:
            page = registry.search_model_versions(
                query, max_results=dataset.MAX_RESULTS, page_token=token
            )
            found += len(page)
            token = page.token
            if not token:
                return found

    start = time.perf_counter()
    registry = Registry(args.root)
    count = every_page(registry)
    first = time.perf_counter() - start

    def once() -> float:
        begin = time.perf_counter()
        found = every_page(registry)
        elapsed = time.perf_counter() - begin
        if found != count:
            raise RuntimeError(f"search found {count}, then {found}")
        return elapsed

    stats = repeat_until(once, args.repeat, args.budget)
    return {"first": first, "samples": stats.samples, "count": count}


def _register(args: argparse.Namespace) -> dict[str, Any]:
    from modelreg.errors import ConflictError
    from modelreg.registry import Registry

    registry = Registry(args.root)
    with contextlib.suppress(ConflictError):  # more versions of an existing model
        registry.create_registered_model(args.model, tags={"team": "growth"})

    def register(payload: dict[str, Any]) -> int:
        return registry.create_model_version(
            args.model,
            payload["source"],
            run_id=payload["run_id"],
            tags=payload["tags"],
            run_link=payload["run_link"],
            description=payload["description"],
            metrics=payload["metrics"],
            params=payload["params"],
        ).version

    return timed_registrations(register, args.model, args.count)


def _writer(args: argparse.Namespace) -> dict[str, Any]:
    from modelreg.registry import Registry

    registry = Registry(args.root)
    registry.get_registered_model(args.model)  # warm: imports and first reads

    def register(payload: dict[str, Any]) -> int:
        return registry.create_model_version(
            args.model,
            payload["source"],
            run_id=payload["run_id"],
            tags=payload["tags"],
            metrics=payload["metrics"],
            params=payload["params"],
        ).version

    return concurrent_writes(register, args.model, args.count, args.writer, Path(args.barrier))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    search = sub.add_parser("search")
    search.add_argument("root")
    search.add_argument("kind", choices=("name", "tag", "metric"))
    search.add_argument("size", type=int)
    search.add_argument("--repeat", type=int, default=11)
    search.add_argument("--budget", type=float, default=20.0)
    register = sub.add_parser("register")
    register.add_argument("root")
    register.add_argument("model")
    register.add_argument("count", type=int)
    writer = sub.add_parser("writer")
    writer.add_argument("root")
    writer.add_argument("model")
    writer.add_argument("count", type=int)
    writer.add_argument("barrier")
    writer.add_argument("--writer", type=int, default=0)
    args = parser.parse_args()
    handler = {"search": _search, "register": _register, "writer": _writer}[args.command]
    json.dump(handler(args), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
