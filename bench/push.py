"""What ``register --push`` costs over ``git push`` (issue 14): ``python bench/push.py``.

A local bare remote holds the benchmark's registry of 10,000 versions (``build.py``, 100
models of 100 versions) committed beside nothing else; a clone registers one version with
``--push`` (commit, fetch, decide, push, follow the branch, deliver events), timed as a
whole process. The baseline is ``git push`` of the very same commit alone: the remote is
put back one commit, and the pushed commit pushed again by git. Each round does both, in
turn; the report is the medians and their ratio. Not a timed test: nothing asserts it.

The report goes to stdout and to ``bench/results/push-latest.md`` (git-ignored).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import build  # noqa: E402
from common import alternating, fmt_stats, run_process, standalone_options  # noqa: E402

RESULTS = BENCH / "results"
MODELREG = Path(sys.executable).with_name("modelreg")
MODEL = "model-0000"


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = standalone_options(
        "bench/push.py", __doc__, 11, "rounds (each: both pushes)", "5 rounds"
    )
    return parser.parse_args(argv)


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, env=ENV
    )
    return done.stdout.strip()


ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "MODELREG_USER": "bench@example.com",
    "MODELREG_NO_HOOKS": "1",
}


def setup(top: Path, size: int) -> Path:
    """A bare origin holding the registry of ``size`` versions, and a clone of it."""
    source = build.ensure_registry(size)
    origin, clone = top / "origin.git", top / "clone"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    clone.mkdir()
    git(clone, "init", "-q", "-b", "main")
    shutil.copytree(source, clone / "registry", ignore=shutil.ignore_patterns(".modelreg.*"))
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", f"a registry of {size:,} versions")
    git(clone, "remote", "add", "origin", str(origin))
    git(clone, "push", "-q", "-u", "origin", "main")
    return clone


def register_push(clone: Path, number: int) -> float:
    """One ``register --push`` (a new version each round)."""
    argv = [str(MODELREG), "--registry", "registry", "register", MODEL, f"s3://bench/{number}"]
    return run_process([*argv, "--push"], env=ENV, cwd=clone).check("register --push").seconds


def git_push(clone: Path, number: int) -> float:
    """``git push`` of the commit the last ``register --push`` pushed, alone."""
    commit = git(clone, "rev-parse", "HEAD")
    # The remote one commit back, as before the registration: git pushes the same commit.
    git(clone, "push", "-q", "--force", "origin", f"{commit}~1:refs/heads/main")
    plain = run_process(
        ["git", "push", "-q", "origin", f"{commit}:refs/heads/main"], env=ENV, cwd=clone
    )
    return plain.check("git push").seconds


def main(argv: Sequence[str] | None = None) -> None:
    opts = parse(sys.argv[1:] if argv is None else argv)
    rounds = 5 if opts.quick else opts.repeat
    with tempfile.TemporaryDirectory(prefix="bench-push-") as folder:
        print(f"setting up a remote of {opts.size:,} versions ...", file=sys.stderr)
        clone = setup(Path(folder), opts.size)
        timed = alternating(
            rounds,
            {
                "register --push": lambda number: register_push(clone, number),
                "git push": lambda number: git_push(clone, number),
            },
        )
    ours, theirs = timed["register --push"], timed["git push"]
    ratio = ours.median / theirs.median
    lines = [
        f"# register --push to a local bare remote of {opts.size:,} versions",
        "",
        "| operation | median (min–max) |",
        "|---|---|",
        f"| `modelreg register --push` (one version) | {fmt_stats(ours)} |",
        f"| `git push` of the same commit alone | {fmt_stats(theirs)} |",
        "",
        f"Ratio (medians): **{ratio:.1f}x** `git push` alone, over {rounds} rounds.",
        "",
    ]
    text = "\n".join(lines)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "push-latest.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
