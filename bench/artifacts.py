"""Artifact store throughput: ``modelreg register`` (hash + upload) and ``modelreg pull``
(download + verify) of one random file, in MB/s, each against a plain copy of the same file
through the same store: ``cp`` (and ``cp`` back) for a local folder store, s3fs's ``put``
and ``get`` alone for S3 (moto's server on 127.0.0.1, with ``--s3``). The ratio is
plain copy time / modelreg time (1.0: as fast as a plain copy).

    .venv/bin/python bench/artifacts.py [--size-mb 256] [--s3] [--repeat 3]

Each figure is the best of ``--repeat`` runs; every run registers new bytes (the content
differs by its first 8 bytes) so that nothing is deduplicated, and pulls into an empty
cache.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODELREG = str(Path(sys.executable).with_name("modelreg"))


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def run(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr}")
    return done.stdout


def make_file(path: Path, size: int, salt: int) -> None:
    block = os.urandom(1 << 20)
    with path.open("wb") as out:
        out.write(salt.to_bytes(8, "big"))
        written = 8
        while written < size:
            chunk = block[: size - written]
            out.write(chunk)
            written += len(chunk)


def bench(
    store: str,
    plain_put: Callable[[Path, str], None],
    plain_get: Callable[[str, Path], None],
    size: int,
    repeat: int,
    work: Path,
    env: dict[str, str],
) -> dict[str, float]:
    root = work / "registry"
    run(MODELREG, "init", str(root), env=env)
    with (root / "registry.yaml").open("a") as config:
        config.write(f"artifact_store: {store}\n")
    best = {"register": 1e9, "pull": 1e9, "put": 1e9, "get": 1e9}
    for n in range(repeat):
        for step, seconds in one_round(root, n, plain_put, plain_get, size, work, env).items():
            best[step] = min(best[step], seconds)
    return best


def one_round(
    root: Path,
    n: int,
    plain_put: Callable[[Path, str], object],
    plain_get: Callable[[str, Path], object],
    size: int,
    work: Path,
    env: dict[str, str],
) -> dict[str, float]:
    path = work / f"model-{n}.bin"
    make_file(path, size, n)
    cache = work / f"cache-{n}"
    back = work / f"back-{n}"
    times = {
        "put": timed(lambda: plain_put(path, f"plain/{n}")),
        "get": timed(lambda: plain_get(f"plain/{n}", back)),
        "register": timed(
            lambda: run(MODELREG, "-r", str(root), "register", f"m{n}", str(path), env=env)
        ),
        "pull": timed(
            lambda: run(
                MODELREG,
                "-r",
                str(root),
                "pull",
                f"m{n}",
                env={**env, "MODELREG_CACHE": str(cache)},
            )
        ),
    }
    shutil.rmtree(cache)
    back.unlink()
    path.unlink()
    return times


def report(name: str, best: dict[str, float], size: int) -> None:
    mb = size / 1e6
    print(f"\n{name}: {mb:.0f} MB file")
    print("| step | modelreg MB/s | plain copy MB/s | ratio (plain time / modelreg time) |")
    print("|---|---|---|---|")
    for ours, plain, label in (
        ("register", "put", "register vs put"),
        ("pull", "get", "pull vs get"),
    ):
        ratio = best[plain] / best[ours]
        print(f"| {label} | {mb / best[ours]:.0f} | {mb / best[plain]:.0f} | {ratio:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--s3", action="store_true", help="also S3 (moto's server on 127.0.0.1)")
    args = parser.parse_args()
    size = args.size_mb * (1 << 20)
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="modelreg-bench-") as tmp:
        work = Path(tmp)
        store = work / "store"
        (store / "plain").mkdir(parents=True)
        local = (
            bench(
                str(store),
                lambda src, key: subprocess.run(["cp", str(src), str(store / key)], check=True),
                lambda key, dst: subprocess.run(["cp", str(store / key), str(dst)], check=True),
                size,
                args.repeat,
                work / "local",
                env,
            )
            if (work / "local").mkdir() is None
            else {}
        )
        report("local folder store (plain copy: cp)", local, size)
        if args.s3:
            sys.path.insert(0, str(HERE.parent / "tests"))
            import s3fs

            from test_artifacts_s3 import MotoServer, s3_env

            server = MotoServer()
            try:
                env = {**env, **s3_env(server)}
                os.environ.update(s3_env(server))
                fs = s3fs.S3FileSystem(skip_instance_cache=True)
                fs.mkdir("bench")
                (work / "s3").mkdir()
                remote = bench(
                    "s3://bench/store",
                    lambda src, key: fs.put_file(str(src), f"bench/{key}"),
                    lambda key, dst: fs.get_file(f"bench/{key}", str(dst)),
                    size,
                    args.repeat,
                    work / "s3",
                    env,
                )
            finally:
                server.stop()
            report("S3 store on moto's server (plain copy: s3fs put_file/get_file)", remote, size)


if __name__ == "__main__":
    main()
