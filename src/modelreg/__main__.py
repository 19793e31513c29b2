"""``modelreg`` and ``python -m modelreg``."""

from __future__ import annotations

import os
import sys


def main() -> None:
    # The shell asking for completions (see modelreg.completion): before anything else,
    # without Typer; never the fast read path below.
    instruction = os.environ.get("_MODELREG_COMPLETE")
    if instruction:
        from modelreg import completion

        code = completion.run(instruction)
        if code is not None:
            sys.exit(code)
        from modelreg import cli  # another shell: Typer's own completion

        cli.run()
        return
    # `modelreg --version` is what scripts and benchmarks call first: answer it without
    # importing Typer, Rich or YAML.
    if sys.argv[1:] == ["--version"]:
        from modelreg._version import __version__

        sys.stdout.write(f"modelreg {__version__}\n")
        return
    from modelreg.quick import try_run

    code = try_run(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from modelreg.cli import run

    run()


if __name__ == "__main__":
    main()
