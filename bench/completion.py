"""How fast shell completion answers (issue 16: well under 200 ms on a registry of 10,000
versions): ``python bench/completion.py [--size N] [--repeat N] [--quick]``.

Each case is the real ``modelreg`` process run as bash's completion function runs it
(``_MODELREG_COMPLETE=complete_bash`` and COMP_WORDS, COMP_CWORD, COMP_LINE, COMP_POINT in
its environment), on the benchmark's registry of 100 models of 100 versions each
(``build.py``), timed from spawn to exit (``spawn.py``); the report is the median of
``--repeat`` runs. Python's own start-up (``python -c pass``, the same interpreter) is
the floor. The modules' bytecode is cached, as in any installed modelreg (one run before
the timed ones writes it). The last row goes through bash itself: the script of
``modelreg --show-completion bash`` sourced and its function called. Not a timed test: nothing
asserts it.

The report goes to stdout and to ``bench/results/completion-latest.md`` (git-ignored).
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import build  # noqa: E402
from common import (  # noqa: E402
    ProcessRun,
    Stats,
    fmt_stats,
    run_process,
    standalone_options,
    time_process,
)

RESULTS = BENCH / "results"
MODELREG = Path(sys.executable).with_name("modelreg")


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = standalone_options(
        "bench/completion.py", __doc__, 21, "runs of each case", "7 runs of each case"
    )
    return parser.parse_args(argv)


def cases(root: Path) -> list[tuple[str, str, int]]:
    """(what, the command line up to the cursor, how many candidates it must give)."""
    models = sorted(entry.name for entry in (root / "models").iterdir())
    model = models[len(models) // 2]
    versions = len(list((root / "models" / model / "versions").glob("*.yaml")))
    aliases = len(list((root / "models" / model / "aliases").glob("*.yaml")))
    stages = 4
    return [
        ("commands", "modelreg ", 0),
        ("model names", "modelreg describe ", len(models)),
        (
            "versions, stages, aliases",
            f"modelreg describe {model} ",
            versions + 1 + stages + aliases,
        ),
        ("aliases after NAME@", f"modelreg describe {model}@", aliases),
        ("models:/NAME/...", f"modelreg resolve models:/{model}/", versions + 1 + stages),
        ("stages", f"modelreg transition {model} 3 ", stages),
        ("options", "modelreg search --", 0),
    ]


def bash_words(line: str) -> list[str]:
    """COMP_WORDS as bash makes them from ``line``: split at blanks, and at ':' and '@',
    which are words of their own."""
    words: list[str] = []
    for part in line.split(" "):
        current = ""
        for char in part:
            if current and (char in ":@") != (current[-1] in ":@"):
                words.append(current)
                current = ""
            current += char
        if current:
            words.append(current)
    if line.endswith(" "):
        words.append("")
    return words


def environ(root: Path, line: str, extra: dict[str, str]) -> dict[str, str]:
    words = bash_words(line)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env.update(
        MODELREG_REGISTRY=str(root),
        _MODELREG_COMPLETE="complete_bash",
        COMP_WORDS=" ".join(words),
        COMP_CWORD=str(len(words) - 1),
        COMP_LINE=line,
        COMP_POINT=str(len(line)),
        _MODELREG_COMPLETE_WORD=words[-1],
        **extra,
    )
    return env


def time_case(root: Path, line: str, expected: int, runs: int) -> Stats:
    def candidates(done: ProcessRun) -> None:
        got = done.stdout.decode().split()
        if expected and len(got) != expected:
            raise RuntimeError(f"{line!r}: {len(got)} candidates, expected {expected}")

    env = environ(root, line, {})
    # warm: the bytecode cache, if any
    return time_process([str(MODELREG)], runs, env=env, what=line, warm=True, check=candidates)


def through_bash(root: Path, line: str, runs: int) -> Stats | None:
    """The same, as bash's completion function: bash started, the script sourced, the
    function called (that is what a TAB costs, less bash's own start-up here)."""
    bash = shutil.which("bash")
    if bash is None:
        return None
    script = run_process([str(MODELREG), "--show-completion", "bash"]).check("show").stdout
    words = bash_words(line)
    with tempfile.TemporaryDirectory(prefix="bench-completion-") as folder:
        path = Path(folder, "completion.bash")
        path.write_bytes(script)
        program = (
            f"source {path}; COMP_WORDS=({' '.join(map(shlex.quote, words))}); "
            f"COMP_CWORD={len(words) - 1}; COMP_LINE={shlex.quote(line)}; "
            "COMP_POINT=${#COMP_LINE}; _modelreg_completion modelreg; echo ${#COMPREPLY[@]}"
        )
        env = environ(root, line, {})
        env.pop("_MODELREG_COMPLETE")
        env["PATH"] = f"{MODELREG.parent}:{env.get('PATH', '')}"
        argv = [bash, "--norc", "--noprofile", "-c", program]
        return time_process(argv, runs, env=env, what="bash", warm=True)


def main(argv: Sequence[str] | None = None) -> None:
    opts = parse(sys.argv[1:] if argv is None else argv)
    runs = 7 if opts.quick else opts.repeat
    root = build.ensure_registry(opts.size)
    floor = time_process([sys.executable, "-c", "pass"], runs, what="python")
    rows = [f"| Python start-up alone (`python -c pass`) | {fmt_stats(floor)} |"]
    for what, line, expected in cases(root):
        print(f"timing {line!r} ...", file=sys.stderr)
        rows.append(f"| {what}: `{line}⇥` | {fmt_stats(time_case(root, line, expected, runs))} |")
    line = cases(root)[2][1]
    bashed = through_bash(root, line, runs)
    if bashed is not None:
        rows.append(
            f"| the same through bash (script sourced, function called) | {fmt_stats(bashed)} |"
        )
    text = "\n".join(
        [
            f"# Shell completion on a registry of {opts.size:,} versions",
            "",
            f"Median (min–max) of {runs} runs of the real `modelreg` process, as bash runs it.",
            "",
            "| completing | time |",
            "|---|---|",
            *rows,
            "",
        ]
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "completion-latest.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
