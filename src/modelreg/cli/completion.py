"""Shell completion on the Typer side: ``--show-completion`` / ``--install-completion``,
and the table of commands and options that :mod:`modelreg.completion` answers from
without importing Typer, generated here from the app::

    python scripts/completion_table.py     # rewrites src/modelreg/completion_table.py

(tests/test_completion.py fails while the table differs from the app.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from typer._click import Command, Parameter
from typer.core import TyperArgument, TyperGroup, TyperOption

from modelreg import completion, render
from modelreg.errors import InvalidInputError

if TYPE_CHECKING:
    from modelreg.completion_types import Node, Option

TABLE_FILE = Path(completion.__file__).with_name("completion_table.py")

# Which registry words a parameter takes, where its name or metavar does not say it
# (see the kinds in modelreg.completion): (command path, parameter name) -> kind.
_KINDS_BY_PARAMETER = {
    ("create", "name"): "text",  # a new model
    ("init", "stage"): "text",  # the stages of a registry not made yet
    ("hooks", "test", "name"): "hook",
    ("import", "mlruns", "model"): "text",  # names in MLflow's store, not in this registry
    ("import", "mlflow", "model"): "text",
    ("export", "mlflow", "model"): "model",
}
# By parameter name, in every command.
_KINDS_BY_NAME = {"stage": "stage", "hook": "hook", "event": "event", "model": "model"}
# By a word of an argument's metavar (REF STAGE, NAME, [VERSION]...).
_KINDS_BY_METAVAR = {
    "REF": "ref",
    "NAME": "model",
    "ALIAS": "alias",
    "VERSION": "version",
    "STAGE": "stage",
}
SHELL_CHOICES = "|".join(completion.SHELLS)


def table(command: Command, path: tuple[str, ...] = ()) -> Node:
    """``command`` (the app, a group or a command) and everything under it, as
    :mod:`modelreg.completion` reads it."""
    context = typer.Context(command, info_name=path[-1] if path else completion.PROG)
    node: Node = {
        "help": (command.short_help or command.get_short_help_str(limit=80)).strip(),
        "options": {},
        "args": [],
        "repeat": False,
        "commands": {},
    }
    for param in command.get_params(context):
        if isinstance(param, TyperOption):
            value = _option_kind(param, path)
            for spelling in (*param.opts, *param.secondary_opts):
                node["options"][spelling] = (
                    value,
                    bool(param.multiple),
                    _first_sentence(param.help or ""),
                )
        elif isinstance(param, TyperArgument):
            kinds, repeat = _argument_kinds(param, path)
            node["args"].extend(kinds)
            node["repeat"] = repeat
    if isinstance(command, TyperGroup):
        for name in command.list_commands(context):
            sub = command.get_command(context, name)
            if sub is not None and not sub.hidden:
                node["commands"][name] = table(sub, (*path, name))
    return node


def _first_sentence(text: str) -> str:
    """The start of a help text, as zsh and fish show it beside a candidate."""
    sentence = " ".join(text.split()).split(". ")[0].split(" (")[0]
    return sentence if len(sentence) <= 60 else sentence[:57].rstrip() + "..."


def _option_kind(param: TyperOption, path: tuple[str, ...]) -> str:
    if param.name in ("show_completion", "install_completion") and not path:
        return SHELL_CHOICES
    if param.is_flag or param.count:
        return "flag"
    return _kind(param, path) or _KINDS_BY_NAME.get(param.name or "", "text")


def _argument_kinds(param: TyperArgument, path: tuple[str, ...]) -> tuple[list[str], bool]:
    """The kinds of the words an argument takes, and whether the last one repeats."""
    kind = _kind(param, path)
    metavar = param.metavar or (param.name or "").upper()
    repeat = param.nargs == -1 and metavar.endswith("...")
    if kind is not None:
        return [kind], repeat
    words = metavar.replace("[", "").replace("]", "").replace("...", "").split()
    return [_KINDS_BY_METAVAR.get(word, "text") for word in words] or ["text"], repeat


def _kind(param: Parameter, path: tuple[str, ...]) -> str | None:
    named = _KINDS_BY_PARAMETER.get((*path, param.name or ""))
    if named is not None:
        return named
    choices = getattr(param.type, "choices", None)
    if choices:
        return "|".join(str(getattr(choice, "value", choice)) for choice in choices)
    if type(param.type).__name__ in ("TyperPath", "Path", "File"):
        return "path"
    return None


def table_source(app: typer.Typer) -> str:
    """The text of completion_table.py for ``app``: a Python literal, which an installed
    modelreg reads from its bytecode cache in a fraction of a millisecond (JSON would
    cost importing json and re, a third of a completion's time). Each option is written
    once, as a dict of its spellings named after it; a command is a line naming them."""
    root = table(typer.main.get_command(app))
    options: dict[tuple[tuple[str, ...], Option], str] = {}  # an option -> its name
    body = _node_source(root, "", options)
    definitions = "".join(
        f"{name} = {{{_literal(spellings[0])}: {_literal(value)}}}\n"
        if len(spellings) == 1
        else f"{name} = dict.fromkeys({_literal(spellings)}, {_literal(value)})\n"
        for (spellings, value), name in options.items()
    )
    return (
        "# ruff: noqa: E501 - generated: an option a line, a command a line\n"
        '"""The commands and options of ``modelreg``, for shell completion (see\n'
        "modelreg.completion). Generated by ``python scripts/completion_table.py`` from the\n"
        'Typer app: do not edit."""\n\n'
        "from __future__ import annotations\n\n"
        "TYPE_CHECKING = False\n"
        "if TYPE_CHECKING:\n"
        "    from modelreg.completion_types import Node\n\n"
        "# fmt: off\n"
        "# The options, each once: its spellings, what its value is, whether it may be given\n"
        "# again, its help.\n"
        f"{definitions}\n"
        f"TABLE: Node = {body}\n"
    )


def _node_source(
    node: Node, indent: str, options: dict[tuple[tuple[str, ...], Option], str]
) -> str:
    """``node`` as Python source, on one line but for its subcommands (a line each); its
    options by the names ``options`` gives them (new ones added)."""
    groups: list[tuple[list[str], Option]] = []  # the spellings of one option, together
    for spelling, value in node["options"].items():
        if groups and groups[-1][1] == value:
            groups[-1][0].append(spelling)
        else:
            groups.append(([spelling], value))
    names = []
    for spellings, value in groups:
        key = (tuple(spellings), value)
        if key not in options:
            stem = name = "_" + spellings[0].lstrip("-").upper().replace("-", "_")
            number = 1
            while name in options.values():  # another option of that spelling: _FORMAT_2
                number += 1
                name = f"{stem}_{number}"
            options[key] = name
        names.append(f"**{options[key]}")
    head = (
        f'{{"help": {_literal(node["help"])}, "options": {{{", ".join(names)}}}, '
        f'"args": {_literal(node["args"])}, "repeat": {node["repeat"]!r}, "commands": {{'
    )
    if not node["commands"]:
        return head + "}}"
    inner = indent + "    "
    lines = "".join(
        f"\n{inner}{_literal(name)}: {_node_source(sub, inner, options)},"
        for name, sub in node["commands"].items()
    )
    return f"{head}{lines}\n{indent}}}}}"


def _literal(value: object) -> str:
    """``value`` (a string, a list or tuple of them, a flag) as Python source."""
    if isinstance(value, tuple):
        items = [_literal(item) for item in value]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)  # a Python string too, double-quoted as ruff writes them
    return repr(value)


def write_table(app: typer.Typer) -> Path:
    """Rewrite completion_table.py from ``app``."""
    TABLE_FILE.write_text(table_source(app), encoding="utf-8")
    return TABLE_FILE


# -- --show-completion, --install-completion -------------------------------------------


def _shell(value: str | None) -> str:
    """The shell asked for, else the one this runs in."""
    shell = value
    if not shell:
        from typer._completion_shared import _get_shell_name

        shell = _get_shell_name()
    if shell not in completion.SHELLS:
        raise InvalidInputError(
            f"cannot complete for shell {shell!r}; give one of: {', '.join(completion.SHELLS)}"
            if shell
            else "cannot tell which shell this is; give it: --show-completion bash|zsh|fish"
        )
    return shell


def show(shell: str | None) -> None:
    """Print the completion script of ``shell`` (default: the current shell)."""
    render.emit_text(completion.script(_shell(shell)).rstrip("\n"))


def install(shell: str | None) -> None:
    """Install completion for ``shell`` where Typer's apps install theirs."""
    from typer import _completion_shared

    chosen = _shell(shell)
    # Typer's installers write the script they know for each shell: give them ours.
    for name in completion.SHELLS:
        _completion_shared._completion_scripts[name] = completion.script(name)
    chosen, path = _completion_shared.install(
        shell=chosen, prog_name=completion.PROG, complete_var=completion.COMPLETE_VAR
    )
    render.message(f"{chosen} completion installed in {path}")
    render.message("Completion will take effect once you restart the terminal")
