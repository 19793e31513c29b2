# ruff: noqa: PTH109, PTH111, PTH113, PTH118, PTH120
# (os.path, not pathlib: importing pathlib would cost every completion ~10 ms)
"""Shell completion, answered without Typer: commands, options, and the registry's own
words (model names, versions, aliases, stages, hook names, ``models:/`` URIs).

The shell runs ``modelreg`` with ``_MODELREG_COMPLETE=complete_bash`` (or ``_zsh``,
``_fish``) and the words typed so far in the environment, as Typer's completion
scripts do; ``__main__`` hands such a run here before anything else (the fast read path
of :mod:`modelreg.quick` never sees it). Importing the Typer app costs half a second, so
the commands and options come from :mod:`modelreg.completion_table`, generated from the
app (``python scripts/completion_table.py``; a test proves it current).

A completion only reads, and reads little: directory listings for model names and
version numbers, the alias files of one model, registry.yaml for stages and hooks. It
takes no lock, writes no file, runs no hook, and any problem (no registry, a corrupt
file) means fewer candidates, never a traceback.
"""

from __future__ import annotations

import os
import sys

# Nothing else at start-up: typing, pathlib and re alone would double a completion's time.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from modelreg.completion_types import Node


PROG = "modelreg"
COMPLETE_VAR = "_MODELREG_COMPLETE"
SHELLS = ("bash", "zsh", "fish")
URI_PREFIX = "models:/"
# config.DEFAULT_STAGES (not imported: config's imports cost a completion ~10 ms);
# tests/test_completion.py proves them equal.
DEFAULT_STAGES = ("None", "Staging", "Production", "Archived")
# What bash splits the word under the cursor at (its COMP_WORDBREAKS, minus spaces and
# quotes) that a modelreg word can contain: models:/..., NAME@ALIAS, --option=value.
_BREAKS = ":@="


# -- what a value is -------------------------------------------------------------------
#
# The kinds of values (``Option.value``, ``Node.args``), chosen for each parameter of the
# app by modelreg.cli.completion:
#   flag     an option without a value
#   ref      a reference: NAME [VERSION], NAME@ALIAS or models:/...; one word, or two
#            when the first is a model name followed by a version
#   model    a model name            alias     an alias of the model named before
#   version  a version of the model named before: a number, 'latest', a stage, @ALIAS
#   stage    one of the registry's stages
#   hook     one of registry.yaml's hooks     event   an event type
#   path     a file or folder (left to the shell)   text   anything (nothing offered)
#   A|B|C    one of these words


class Registry:
    """The registry folder, read for completion: listings and small files only."""

    def __init__(self, path: str | None) -> None:
        self.root = _find_root(path)
        self._config: dict[str, list[str]] | None = None

    def models(self) -> list[str]:
        if self.root is None:
            return []
        return sorted(
            name
            for name in _listing(os.path.join(self.root, "models"), dirs=True)
            if name[:1].isalnum() and not name.endswith(".tmp")
        )

    def versions(self, name: str) -> list[int]:
        folder = self._model(name)
        if folder is None:
            return []
        numbers = []
        for entry in _listing(os.path.join(folder, "versions")):
            stem, dot, ext = entry.partition(".")
            if dot and ext == "yaml" and stem.isdigit() and stem == str(int(stem)):
                numbers.append(int(stem))
        return sorted(numbers)

    def aliases(self, name: str) -> list[str]:
        """The aliases of model ``name`` that point at a version."""
        folder = self._model(name)
        if folder is None:
            return []
        aliases = os.path.join(folder, "aliases")
        files = [
            entry
            for entry in _listing(aliases)
            if entry.endswith(".yaml") and not entry.startswith(".")
        ]
        if files:  # format 2: aliases/A.yaml, whose version is null once the alias is deleted
            return sorted(
                entry[: -len(".yaml")]
                for entry in files
                if _top_level(os.path.join(aliases, entry), "version") not in ("", "null", "~")
            )
        return _block_keys(os.path.join(folder, "model.yaml"), "aliases")  # format 1

    def stages(self) -> list[str]:
        return self._read_config().get("stages") or list(DEFAULT_STAGES)

    def hooks(self) -> list[str]:
        return self._read_config().get("hooks", [])

    def _model(self, name: str) -> str | None:
        if self.root is None or not name[:1].isalnum() or "/" in name or "\\" in name:
            return None
        return os.path.join(self.root, "models", name)

    def _read_config(self) -> dict[str, list[str]]:
        if self._config is None:
            self._config = {}
            if self.root is not None:
                self._config = _read_config(os.path.join(self.root, "registry.yaml"))
        return self._config


def _find_root(path: str | None) -> str | None:
    """The registry folder as :func:`modelreg.store.find_root` finds it (None: none)."""
    explicit = path if path is not None else os.environ.get("MODELREG_REGISTRY") or None
    if explicit is not None:
        root = os.path.expanduser(explicit.removeprefix("file://").removeprefix("file:"))
        return root if os.path.isfile(os.path.join(root, "registry.yaml")) else None
    try:
        here = os.getcwd()
    except OSError:
        return None
    while True:
        if os.path.isfile(os.path.join(here, "registry.yaml")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _listing(folder: str, *, dirs: bool = False) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return [
                entry.name for entry in entries if not dirs or entry.is_dir(follow_symlinks=False)
            ]
    except OSError:
        return []


def _lines(path: str, limit: int = 1 << 20) -> list[str]:
    try:
        with open(path, "rb") as file:
            return file.read(limit).decode("utf-8", "replace").splitlines()
    except OSError:
        return []


def _plain(text: str) -> str:
    """A YAML scalar as written in a registry's files: comment and quotes removed."""
    text = text.split(" #", 1)[0].strip()
    if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    return text


def _top_level(path: str, key: str) -> str:
    """The value of a top-level ``key: value`` line of a small YAML file."""
    for line in _lines(path, 64 * 1024):
        if line.startswith(f"{key}:"):
            return _plain(line[len(key) + 1 :])
    return ""


def _block_keys(path: str, key: str) -> list[str]:
    """The keys of the top-level mapping ``key`` whose values are not null (the aliases
    of a format-1 model.yaml)."""
    found: list[str] = []
    inside = False
    for line in _lines(path):
        if inside:
            if line[:1] not in (" ", "\t"):
                break
            name, colon, value = line.strip().partition(":")
            if colon and _plain(value) not in ("", "null", "~"):
                found.append(_plain(name))
        elif line.startswith(f"{key}:"):
            inside = not line[len(key) + 1 :].strip()  # 'aliases: {}' has none
    return sorted(found)


def _read_config(path: str) -> dict[str, list[str]]:
    """The stages and the hooks' names of registry.yaml, read line by line (block or
    flow lists, as ``init`` writes them and people edit them); what this does not
    recognise is left out."""
    found: dict[str, list[str]] = {"stages": [], "hooks": []}
    section = ""
    item_indent = -1
    for line in _lines(path):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if line[:1] not in (" ", "\t", "-"):
            key, _, rest = line.partition(":")
            section, item_indent = key.strip(), -1
            rest = _plain(rest)
            if section == "stages" and rest.startswith("[") and rest.endswith("]"):
                found["stages"] = [_plain(part) for part in rest[1:-1].split(",") if part.strip()]
            continue
        indent = len(line) - len(line.lstrip())
        if section == "stages" and stripped.startswith("- "):
            found["stages"].append(_plain(stripped[2:]))
        elif section == "hooks":
            if stripped.startswith("- "):
                item_indent = indent + 2
                stripped = stripped[2:].lstrip()
                indent = item_indent
            if indent == item_indent and stripped.startswith("name:"):
                found["hooks"].append(_plain(stripped[len("name:") :]))
    return {key: value for key, value in found.items() if value}


# -- what to offer ---------------------------------------------------------------------


class Completer:
    """The candidates for the word being typed, given the words before it."""

    def __init__(self, table: Node) -> None:
        self.table = table
        self._registry: Registry | None = None
        self.registry_path: str | None = None

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = Registry(self.registry_path)
        return self._registry

    def complete(self, words: list[str], incomplete: str) -> list[tuple[str, str]]:
        node = self.table
        used: set[str] = set()
        positional: list[str] = []
        awaiting: str | None = None  # the option whose value comes next
        only_arguments = False
        for word in words:
            if awaiting is not None:
                self._note_option(node, awaiting, word)
                awaiting = None
            elif not only_arguments and word == "--":
                only_arguments = True
            elif not only_arguments and word.startswith("-") and word != "-":
                spelling, equals, value = word.partition("=")
                used.add(spelling)
                option = node["options"].get(spelling)
                if option is not None and option[0] != "flag":
                    if equals:
                        self._note_option(node, spelling, value)
                    else:
                        awaiting = spelling
            elif node["commands"] and not positional and word in node["commands"]:
                node = node["commands"][word]
                used = set()
            else:
                positional.append(word)
        if awaiting is not None:
            return self._values(node["options"][awaiting][0], incomplete)
        if incomplete.startswith("-") and not only_arguments:
            spelling, equals, value = incomplete.partition("=")
            option = node["options"].get(spelling)
            if equals and option is not None:
                found = self._values(option[0], value)
                return [(f"{spelling}={word}", text) for word, text in found]
            return self._options(node, used, incomplete)
        if node["commands"]:
            if positional:
                return []  # an unknown command
            return [
                (name, sub["help"])
                for name, sub in node["commands"].items()
                if name.startswith(incomplete)
            ]
        kinds = _argument_kinds(node, positional, self._is_selector)
        if kinds is None:
            return self._options(node, used, incomplete) if not incomplete else []
        found = []
        for kind in kinds:
            found.extend(self._values(kind, incomplete))
        return found

    def _note_option(self, node: Node, spelling: str, value: str) -> None:
        if node is self.table and spelling in ("--registry", "-r"):
            self.registry_path = value  # complete from that registry

    def _options(self, node: Node, used: set[str], incomplete: str) -> list[tuple[str, str]]:
        return [
            (spelling, text)
            for spelling, (_, many, text) in node["options"].items()
            if spelling.startswith(incomplete)
            and (many or spelling not in used)
            and (spelling.startswith("--") or not incomplete.startswith("--"))
        ]

    def _is_selector(self, word: str) -> bool:
        """Whether ``word``, after a model name, names one of its versions."""
        if "=" in word:
            return False
        if word.isdigit() or word.startswith("@") or word.lower() == "latest":
            return True
        return word.lower() in {stage.lower() for stage in self.registry.stages()}

    def _values(self, kind: str, incomplete: str) -> list[tuple[str, str]]:
        if "|" in kind:
            return [(word, "") for word in kind.split("|") if word.startswith(incomplete)]
        kind, _, model = kind.partition(":")
        if kind == "version":
            return self._selectors(model, incomplete)
        if kind == "number":
            numbers = [str(number) for number in self.registry.versions(model)]
            return _matching(numbers, incomplete, "version")
        if kind == "alias":
            return _matching(self.registry.aliases(model), incomplete, "alias")
        if kind == "ref":
            return self._refs(incomplete)
        if kind == "model":
            return _matching(self.registry.models(), incomplete, "model")
        if kind == "stage":
            stages = self.registry.stages()
            return [(s, "stage") for s in stages if s.lower().startswith(incomplete.lower())]
        if kind == "hook":
            return _matching(self.registry.hooks(), incomplete, "hook")
        if kind == "event":
            from modelreg.events import EVENT_TYPES

            return _matching(EVENT_TYPES, incomplete, "event")
        return []  # path, text: the shell's default (files), or nothing

    def _selectors(self, model: str, incomplete: str) -> list[tuple[str, str]]:
        """What may follow model name ``model``: its versions, 'latest', the stages and
        its aliases (``@ALIAS``)."""
        registry = self.registry
        if incomplete.startswith("@"):
            return _matching([f"@{a}" for a in registry.aliases(model)], incomplete, "alias")
        found = _matching([str(n) for n in registry.versions(model)], incomplete, "version")
        found += _matching(["latest"], incomplete, "the newest version")
        lowered = incomplete.lower()
        found += [(s, "stage") for s in registry.stages() if s.lower().startswith(lowered)]
        found += _matching([f"@{a}" for a in registry.aliases(model)], incomplete, "alias")
        return found

    def _refs(self, incomplete: str) -> list[tuple[str, str]]:
        """The first word of a reference: a model name, NAME@ALIAS, or a models:/ URI."""
        registry = self.registry
        if incomplete.startswith(URI_PREFIX):
            body = incomplete[len(URI_PREFIX) :]
            name, slash, selector = body.partition("/")
            if slash:
                found = self._selectors(name, selector)
                return [
                    (f"{URI_PREFIX}{name}/{word}", text) for word, text in found if word[:1] != "@"
                ]
            name, at, _ = body.partition("@")
            if at:
                return _matching(
                    [f"{URI_PREFIX}{name}@{a}" for a in registry.aliases(name)], incomplete, "alias"
                )
            found = []
            for model in registry.models():
                if model.startswith(body):
                    found.append((f"{URI_PREFIX}{model}/", "model"))
                    found.append((f"{URI_PREFIX}{model}@", "model"))
            return found
        if "@" in incomplete:
            name = incomplete.partition("@")[0]
            return _matching([f"{name}@{a}" for a in registry.aliases(name)], incomplete, "alias")
        found = _matching(registry.models(), incomplete, "model")
        if incomplete and URI_PREFIX.startswith(incomplete):
            found.append((URI_PREFIX, "models:/NAME/VERSION or models:/NAME@ALIAS"))
        return found


def _matching(words: Iterable[str], incomplete: str, text: str) -> list[tuple[str, str]]:
    return [(word, text) for word in words if word.startswith(incomplete)]


def _argument_kinds(
    node: Node, positional: list[str], is_selector: Callable[[str], bool]
) -> list[str] | None:
    """What the next positional argument of ``node`` may be, given the ones before it:
    one or more kinds, those of a model's words naming the model (``version:churn``);
    None when the command takes no more."""
    kinds = node["args"]
    slot = 0
    model: str | None = None  # the model the arguments so far name
    after_name: str | None = None  # a model name its version may follow
    numbered = False  # the last word was a version number after a model name
    for word in positional:
        if after_name is not None and is_selector(word):
            after_name, numbered = None, word.isdigit()
            continue
        after_name, numbered = None, False
        if slot >= len(kinds) and not (kinds and node["repeat"]):
            return None
        kind = kinds[min(slot, len(kinds) - 1)]
        slot += 1
        if kind == "model":
            model = word
        elif kind == "ref" and word.startswith(URI_PREFIX):
            model = None
        elif kind == "ref" and "@" in word:
            model = word.partition("@")[0]
        elif kind == "ref":
            model = after_name = word
    following: list[str] = []
    if slot < len(kinds) or (kinds and node["repeat"]):
        following = [kinds[min(slot, len(kinds) - 1)]]
    if after_name is not None:
        # NAME VERSION: its version, or (where another reference follows and this one may
        # be a model alone: diff) that reference.
        return [f"version:{after_name}", *[kind for kind in following if kind == "ref"]]
    if numbered and following == ["ref"] and model is not None:
        following.append(f"number:{model}")  # diff NAME V1 V2
    return [
        f"{kind}:{model}" if kind in ("version", "alias") and model is not None else kind
        for kind in following
    ] or None


# -- talking to the shells -------------------------------------------------------------


def split_words(line: str) -> tuple[list[str], str]:
    """``line`` split as the shell would (quotes, backslashes): the complete words and
    the word being typed ('' after a space). Forgiving: an open quote just ends the line."""
    words: list[str] = []
    current: list[str] = []
    started = False
    quote = ""
    chars = iter(line)
    for char in chars:
        if quote == "'":
            if char == "'":
                quote = ""
            else:
                current.append(char)
        elif quote == '"':
            if char == '"':
                quote = ""
            elif char == "\\":
                following = next(chars, "")
                if following not in '"\\$`':
                    current.append(char)
                current.append(following)
            else:
                current.append(char)
        elif char in "'\"":
            quote = char
            started = True
        elif char == "\\":
            current.append(next(chars, ""))
            started = True
        elif char.isspace():
            if started:
                words.append("".join(current))
                current, started = [], False
        else:
            current.append(char)
            started = True
    return words, "".join(current)


def _glue(words: list[str], index: int) -> tuple[list[str], int]:
    """bash's words rejoined where it split at ':', '@' or '=' (COMP_WORDBREAKS), and
    where the word at ``index`` went."""
    glued: list[str] = []
    where = index
    joining = False
    for at, word in enumerate(words):
        breaker = bool(word) and all(char in _BREAKS for char in word)
        if glued and (joining or breaker) and at > 0:
            glued[-1] += word
        else:
            glued.append(word)
        joining = breaker
        if at == index:
            where = len(glued) - 1
    if index >= len(words):
        where = len(glued) if not joining else len(glued) - 1
        if not joining:
            glued.append("")
    return glued, where


def bash_request(env: Mapping[str, str]) -> tuple[list[str], str, str]:
    """The words before the cursor, the word being typed, and the part of it that bash
    replaces (the text after its last ':', '@' or '=')."""
    word = env.get("_MODELREG_COMPLETE_WORD")
    line, point = env.get("COMP_LINE", ""), env.get("COMP_POINT", "")
    if line:
        cut = int(point) if point.isdigit() else len(line)
        words, incomplete = split_words(line[:cut])
        return words[1:], incomplete, incomplete if word is None else word
    # Typer's protocol: COMP_WORDS joined by spaces, COMP_CWORD the index of the word.
    parts, _ = split_words(env.get("COMP_WORDS", "") + " ")
    cword = int(env["COMP_CWORD"]) if env.get("COMP_CWORD", "").isdigit() else len(parts)
    current = parts[cword] if cword < len(parts) else ""
    glued, where = _glue(parts, cword)
    incomplete = glued[where] if where < len(glued) else ""
    return glued[1:where], incomplete, current if word is None else word


def typer_request(env: Mapping[str, str]) -> tuple[list[str], str]:
    """zsh and fish (Typer's scripts): the words typed so far, in _TYPER_COMPLETE_ARGS."""
    line = env.get("_TYPER_COMPLETE_ARGS", "")
    words, incomplete = split_words(line)
    if not words:
        return [], ""
    return words[1:], incomplete


def answer(shell: str, env: Mapping[str, str], table: Node) -> tuple[str, int]:
    """What ``modelreg`` prints for one completion request of ``shell``, and its exit
    code."""
    completer = Completer(table)
    if shell == "bash":
        words, incomplete, replaced = bash_request(env)
        found = completer.complete(words, incomplete)
        # bash replaces only the text after the last break in the word: give it that part.
        kept = len(incomplete) - len(replaced) if incomplete.endswith(replaced) else 0
        return "\n".join(_unique(word[kept:] for word, _ in found)), 0
    words, incomplete = typer_request(env)
    found = completer.complete(words, incomplete)
    if shell == "zsh":
        if not found:
            return "_files", 0
        items = "\n".join(
            f'"{_zsh_escape(word)}":"{_zsh_escape(text)}"' if text else f'"{_zsh_escape(word)}"'
            for word, text in _unique_items(found)
        )
        return f"_arguments '*: :(({items}))'", 0
    lines = [
        f"{word}\t{' '.join(text.split())}" if text else word for word, text in _unique_items(found)
    ]
    if env.get("_TYPER_COMPLETE_FISH_ACTION") == "is-args":
        return "", 0 if lines else 1
    return "\n".join(lines), 0


def _unique(words: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(words))


def _unique_items(found: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return list(dict(reversed(found)).items())[::-1]


def _zsh_escape(text: str) -> str:
    return (
        text.replace('"', '""')
        .replace("'", "''")
        .replace("$", "\\$")
        .replace("`", "\\`")
        .replace(":", r"\\:")
    )


# -- the scripts the shells source -----------------------------------------------------

# Typer's bash script reads only COMP_WORDS, which bash splits at ':' and '@'
# (models:/churn/1, churn@champion); this one also sends the line up to the cursor and
# the word bash will replace, and keeps a lone answer ending in '/', '@' or '=' open.
BASH_SCRIPT = r"""
_modelreg_completion() {
    local IFS=$'\n'
    COMPREPLY=( $( env COMP_WORDS="${COMP_WORDS[*]}" \
                   COMP_CWORD="$COMP_CWORD" \
                   COMP_LINE="$COMP_LINE" \
                   COMP_POINT="$COMP_POINT" \
                   _MODELREG_COMPLETE_WORD="${COMP_WORDS[COMP_CWORD]}" \
                   _MODELREG_COMPLETE=complete_bash "${1:-modelreg}" 2>/dev/null ) )
    if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *[/@:=] ]]; then
        compopt -o nospace 2>/dev/null
    fi
    return 0
}

complete -o default -o nosort -F _modelreg_completion modelreg 2>/dev/null \
    || complete -o default -F _modelreg_completion modelreg
"""
# Typer's, as `modelreg --show-completion zsh|fish` printed them before this module.
ZSH_SCRIPT = """
#compdef modelreg

_modelreg_completion() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _MODELREG_COMPLETE=complete_zsh modelreg)
}

compdef _modelreg_completion modelreg
"""
FISH_SCRIPT = (
    "complete --command modelreg --no-files --arguments "
    '"(env _MODELREG_COMPLETE=complete_fish _TYPER_COMPLETE_FISH_ACTION=get-args '
    '_TYPER_COMPLETE_ARGS=(commandline -cp) modelreg)" --condition '
    '"env _MODELREG_COMPLETE=complete_fish _TYPER_COMPLETE_FISH_ACTION=is-args '
    '_TYPER_COMPLETE_ARGS=(commandline -cp) modelreg"'
)
SCRIPTS = {"bash": BASH_SCRIPT, "zsh": ZSH_SCRIPT, "fish": FISH_SCRIPT}


def script(shell: str) -> str:
    """The completion script ``shell`` sources (``modelreg --show-completion SHELL``)."""
    return SCRIPTS[shell].strip() + "\n"


def run(instruction: str) -> int | None:
    """Answer ``$_MODELREG_COMPLETE`` (``complete_bash``, ``source_zsh``...); None when
    this module does not serve the instruction (another shell: Typer's own completion)."""
    action, _, shell = instruction.partition("_")
    if shell not in SHELLS or action not in ("complete", "source"):
        return None
    if action == "source":
        sys.stdout.write(script(shell))
        return 0
    from modelreg.completion_table import TABLE

    try:
        text, code = answer(shell, os.environ, TABLE)
    except Exception:  # a completion never shows a traceback: it offers nothing
        text, code = "", 1
    if text:
        sys.stdout.write(text + "\n")
    return code
