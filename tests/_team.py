"""A team around one origin, with real git and real `modelreg` processes: each person's
clone (:class:`Clone`), the bare origin on local disk with carol's clone of it, and the
register command that gives a version everything it can carry. Shared by the merge
driver's, merge-continue's, publishing's and issue 14's team-scenario tests."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from conftest import modelreg_executable

# `register`'s options giving bob's version everything a version can carry (after NAME
# SOURCE --run-id RUN): what the tests then find on the renumbered, published version.
EVERYTHING = (
    "--description",
    "bob's model",
    "--tag",
    "team=bob",
    "--metric",
    "auc=0.91",
    "--param",
    "depth=7",
    "--alias",
    "challenger",
    "--stage",
    "Staging",
)


class Clone:
    """One person's clone of the origin: git and modelreg run as that person."""

    def __init__(self, path: Path, user: str, scratch: Path) -> None:
        self.path = path
        self.user = user
        self.env = {
            **os.environ,
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": user,
            "GIT_AUTHOR_EMAIL": f"{user}@example.com",
            "GIT_COMMITTER_NAME": user,
            "GIT_COMMITTER_EMAIL": f"{user}@example.com",
            "GIT_EDITOR": "true",
            "MODELREG_USER": f"{user}@example.com",
            "MODELREG_REGISTRY": str(path / "registry"),
            "MODELREG_CACHE_DIR": str(scratch / "cache"),
            "MODELREG_TRUST_DIR": str(scratch / "trust"),
            "NO_COLOR": "1",
        }

    def git(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["git", *args], cwd=self.path, env=self.env, capture_output=True, text=True, check=False
        )
        if ok:
            assert done.returncode == 0, f"git {' '.join(args)}: {done.stdout}{done.stderr}"
        return done

    def modelreg(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [modelreg_executable(), *args],
            cwd=self.path,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if ok:
            assert done.returncode == 0, f"modelreg {' '.join(args)}: {done.stderr}"
        return done

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").stdout.strip()

    def pull(self, mode: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        how = "--rebase" if mode == "rebase" else "--no-rebase"
        return self.git("pull", "-q", how, "--no-edit", "origin", "main", ok=ok)


def clone_of(origin: Path, path: Path, user: str, scratch: Path) -> Clone:
    """``user``'s new clone of ``origin`` at ``path``."""
    subprocess.run(["git", "clone", "-q", str(origin), str(path)], check=True)
    return Clone(path, user, scratch)


def new_origin(top: Path, scratch: Path) -> Clone:
    """An empty bare repository ``top``/origin.git, and carol's clone of it (``top``/carol),
    where the test makes the first commit."""
    subprocess.run(
        ["git", "init", "-q", "--bare", "-b", "main", str(top / "origin.git")], check=True
    )
    return clone_of(top / "origin.git", top / "carol", "carol", scratch)
