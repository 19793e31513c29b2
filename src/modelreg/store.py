"""The folder: paths, the write lock, atomic file replacement, and reading records.

Nothing here knows what a stage or an alias is; it moves YAML documents between Python
dictionaries and files safely. The layout::

    ROOT/registry.yaml
    ROOT/.modelreg.lock                 never deleted, git-ignored
    ROOT/.modelreg.seq                  the write counter readers check, git-ignored
    ROOT/models/NAME/model.yaml
    ROOT/models/NAME/versions/N.yaml
    ROOT/.trash/                        models being deleted (an interrupted delete is finished
                                        by `check --repair`)
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from modelreg import yamlio
from modelreg.docread import Document
from modelreg.errors import (
    BusyError,
    CorruptFileError,
    InvalidInputError,
    NotFoundError,
    RegistryError,
    RegistryNotFoundError,
)
from modelreg.names import is_valid_model_name, validate_model_name
from modelreg.structs import struct

TYPE_CHECKING = False  # not `from typing import ...`: start-up (see modelreg.quick)
if TYPE_CHECKING:
    from typing import Any, TypeVar

    from modelreg.config import Config

    _T = TypeVar("_T")


CONFIG_FILE = "registry.yaml"
LOCK_FILE = ".modelreg.lock"
SEQ_FILE = ".modelreg.seq"
MODELS_DIR = "models"
TRASH_DIR = ".trash"
MODEL_FILE = "model.yaml"
# A model card (Markdown) people may keep next to model.yaml; the catalog shows it.
CARD_FILE = "card.md"
VERSIONS_DIR = "versions"
TMP_SUFFIX = ".tmp"
# Separates model name and version in the name of a trashed version file.
TRASH_VERSION_SEP = "~"
GITIGNORE = f"""\
# modelreg: lock file, write counter, temporary files of interrupted writes, caches,
# deleted models
{LOCK_FILE}
{SEQ_FILE}
*{TMP_SUFFIX}
.cache/
{TRASH_DIR}/
"""

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
# Reads tried without any lock before a reader that keeps meeting writes waits for the
# lock (see Store.consistent).
_OPTIMISTIC_READS = 3
# The least a reader waits for a write under way (seconds), whatever the lock timeout.
_READER_MIN_WAIT = 1.0
# Per thread: the lock files this thread holds (a read by any Store of the same registry
# inside a write reads the writer's own state, and must not wait for its own lock).
_holding = threading.local()


def _held_locks() -> set[str]:
    held: set[str] | None = getattr(_holding, "locks", None)
    if held is None:
        held = _holding.locks = set()
    return held


# Test hook (see _crash_point): read once, so a normal run pays one comparison per point.
_CRASH_SPEC = os.environ.get("MODELREG_TEST_CRASH_AT") or None
_crash_hits: dict[str, int] = {}


def _crash_point(name: str) -> None:
    """A named point of a write where the crash tests kill the process.

    ``MODELREG_TEST_CRASH_AT=NAME`` (or ``NAME@K`` for the K-th time the point is reached)
    makes this process SIGKILL itself there: no cleanup, no flush, exactly like a power
    cut for everything above the page cache. Without the variable this does nothing.
    """
    if _CRASH_SPEC is None:
        return
    point, _, nth = _CRASH_SPEC.partition("@")
    if point != name:
        return
    _crash_hits[name] = _crash_hits.get(name, 0) + 1
    if _crash_hits[name] == int(nth or 1):
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def find_root(path: str | os.PathLike[str] | None = None) -> Path:
    """The registry root: ``path``, else ``$MODELREG_REGISTRY``, else the nearest
    folder at or above the working directory that holds ``registry.yaml``."""
    explicit = path if path is not None else os.environ.get("MODELREG_REGISTRY") or None
    if explicit is not None:
        root = Path(os.fspath(explicit).removeprefix("file://").removeprefix("file:"))
        if (root / CONFIG_FILE).is_file():
            return root
        raise RegistryNotFoundError(
            f"no registry at {root} (it has no {CONFIG_FILE}); "
            f"create one with: modelreg init {root}"
        )
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise RegistryNotFoundError(
        f"no registry found in {here} or any folder above it; create one with "
        "`modelreg init PATH`, or point to one with --registry or $MODELREG_REGISTRY"
    )


class Store:
    """Reads and writes the records of one registry folder."""

    def __init__(self, root: Path, lock_timeout: float = 10.0) -> None:
        self.root = root
        self.lock_timeout = lock_timeout
        self.models_dir = root / MODELS_DIR
        self.lock_path = root / LOCK_FILE
        self.seq_path = root / SEQ_FILE
        self._lock_key = os.path.abspath(self.lock_path)
        # Per thread: whether it holds the lock, whether its write has begun changing
        # files, and whether it is inside a consistent read (see below).
        self._local = threading.local()
        # Each model's version numbers as last listed (see version_numbers).
        self._listings: dict[str, _Listing] = {}

    # -- paths -------------------------------------------------------------------------

    def model_dir(self, name: str) -> Path:
        return self.models_dir / validate_model_name(name)

    def model_file(self, name: str) -> Path:
        return self.model_dir(name) / MODEL_FILE

    def versions_dir(self, name: str) -> Path:
        return self.model_dir(name) / VERSIONS_DIR

    def version_file(self, name: str, version: int) -> Path:
        return self.versions_dir(name) / f"{int(version)}.yaml"

    # -- locking -----------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the registry's write lock; BusyError when it cannot be had in time."""
        # Imported here so that read-only commands never pay for filelock.
        from filelock import FileLock, Timeout

        # The lock file lives beside registry.yaml and is never deleted: deleting it
        # while another process waits on it would let two writers in at once.
        lock = FileLock(str(self.lock_path), timeout=self.lock_timeout, mode=0o666)
        try:
            lock.acquire(poll_interval=0.005)
        except Timeout:
            raise BusyError(self.lock_path, self.lock_timeout) from None
        local = self._local
        local.held = True
        local.changing = False
        local.undo = []
        _held_locks().add(self._lock_key)
        try:
            yield
        finally:
            _held_locks().discard(self._lock_key)
            try:
                # Even again (also after a failed write): readers may go on.
                current = _seq_number(self._read_seq())
                if local.changing or current % 2:
                    released = current + 1 if current % 2 else current + 2
                    self._write_seq(released)
                    self._relisted(_seq_bytes(released))
            finally:
                local.held = False
                local.changing = False
                local.undo = []
                lock.release()

    # -- the write counter: multi-file writes look atomic to readers ---------------------
    #
    # A write may change several files (a transition that archives the previous version,
    # a delete, a rename). The counter in .modelreg.seq is made odd, under the lock,
    # before the first file of a write changes, and even again after the last, before
    # the lock is released. A reader notes the counter, reads, and notes it again: the
    # same even value both times means no write changed a file in between, so what it
    # read is one state of the registry. That costs two reads of a tiny file and takes
    # no lock. Only when a write is under way (odd), or writes keep finishing during its
    # reads, does a reader wait for the lock, shared, and read while holding it. A
    # writer killed half-way leaves the counter odd but the lock free: readers then
    # read what is there at once (`check --repair` finishes such a write), and the next
    # write makes the counter even again.

    def begin_change(self) -> None:
        """Called, with the lock held, before a write changes its first file."""
        local = self._local
        if not getattr(local, "held", False) or local.changing:
            return
        seq = self._read_seq()
        if not seq:
            self._ignore_seq_file()
        current = _seq_number(seq)
        self._write_seq(current + 2 if current % 2 else current + 1)
        local.changing = True
        _crash_point("seq:odd")

    def _ignore_seq_file(self) -> None:
        """A registry made before the write counter came in has a .gitignore without it:
        add the line there once, beside the lock file's, so the counter never shows up in
        `git status`. A .gitignore modelreg did not write (no lock file line) is left alone."""
        path = self.root / ".gitignore"
        if path.is_symlink():
            return
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return
        lines = text.splitlines(keepends=True)
        names = [line.strip() for line in lines]
        if LOCK_FILE not in names or SEQ_FILE in names:
            return
        at = names.index(LOCK_FILE) + 1
        lines[at - 1] = lines[at - 1].rstrip("\r\n") + "\n"
        lines.insert(at, SEQ_FILE + "\n")
        atomic_write(path, "".join(lines).encode("utf-8"))

    def consistent(self, read: Callable[[], _T]) -> _T:
        """``read()``, run so that it sees no write half-applied: again when a write
        changed files while it read, and under the shared lock when a write is under
        way. BusyError when writes go on for longer than the lock timeout."""
        local = self._local
        if getattr(local, "reading", False) or self._lock_key in _held_locks():
            return read()  # a nested read is covered; a writer reads its own state
        local.reading = True
        try:
            for _ in range(_OPTIMISTIC_READS):
                before = self._read_seq()
                if _is_odd(before):
                    break  # a write is under way (or died): wait for the lock
                try:
                    result = read()
                except (RegistryError, OSError):
                    # Raised by what it read, or by a file that a write moved away.
                    if self._read_seq() == before:
                        raise
                    continue
                if self._read_seq() == before:
                    return result
            with self._shared_lock():
                return read()
        finally:
            local.reading = False

    @contextlib.contextmanager
    def _shared_lock(self) -> Iterator[None]:
        """Hold the write lock shared, so that no writer can start (the lock file is
        opened for reading only: readers need no write access)."""
        try:
            fd = os.open(self.lock_path, os.O_RDONLY | _NOFOLLOW)
        except FileNotFoundError:
            yield  # no write has ever run here
            return
        except OSError:
            fd = -1
        try:
            # A lock timeout of 0 fails writers at once; a reader still lets a write end.
            waited = max(self.lock_timeout, _READER_MIN_WAIT)
            deadline = time.monotonic() + waited
            pause = 0.0005
            while True:
                locked = _try_lock_shared(fd) if fd >= 0 else None
                if locked:
                    break
                if locked is None and not _is_odd(self._read_seq()):
                    break  # cannot lock here: at least wait for the write to end
                if time.monotonic() > deadline:
                    raise BusyError(self.lock_path, waited)
                time.sleep(pause)
                pause = min(pause * 2, 0.001)
            yield
        finally:
            if fd >= 0:
                os.close(fd)  # and with it the shared lock

    def _read_seq(self) -> bytes:
        try:
            # Non-blocking and not through a symlink: a planted FIFO must not hang reads.
            fd = os.open(self.seq_path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | _NOFOLLOW)
        except FileNotFoundError:
            return b""  # a registry no write has touched since counters came in
        except OSError:
            return b"?"
        try:
            return os.read(fd, 64)
        except OSError:
            return b"?"
        finally:
            os.close(fd)

    def _write_seq(self, number: int) -> None:
        # Replaced in one rename so a reader never sees a part; no fsync: the counter
        # only orders a running writer and its readers, and means nothing after a reboot.
        tmp = self.seq_path.with_name(f".{SEQ_FILE}.{os.urandom(6).hex()}{TMP_SUFFIX}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o666)
            try:
                os.write(fd, _seq_bytes(number))
            finally:
                os.close(fd)
            os.replace(tmp, self.seq_path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    # -- reading -----------------------------------------------------------------------

    def model_names(self) -> list[str]:
        """Names of the model folders, sorted; symlinked or invalid folders, and folders
        without a model.yaml (an interrupted create), are skipped (``check`` reports them)."""
        try:
            entries = list(os.scandir(self.models_dir))
        except FileNotFoundError:
            return []
        names = []
        for entry in entries:
            if (
                entry.is_dir(follow_symlinks=False)
                and is_valid_model_name(entry.name)
                and os.path.lexists(os.path.join(entry.path, MODEL_FILE))
            ):
                names.append(entry.name)
        return sorted(names)

    def symlinked_model_folders(self) -> list[Path]:
        """Entries of models/ that are symlinks: never followed, reported by readers."""
        try:
            entries = list(os.scandir(self.models_dir))
        except FileNotFoundError:
            return []
        return sorted(Path(entry.path) for entry in entries if entry.is_symlink())

    def model_exists(self, name: str) -> bool:
        return os.path.lexists(self.model_dir(name) / MODEL_FILE)

    def version_numbers(self, name: str) -> list[int]:
        """Version numbers present as files, ascending.

        Listing a folder of 10,000 version files costs about 8 ms, most of a registration
        at the end of such a model, so the numbers are remembered with the write counter
        and the folder's identity: a modelreg write anywhere changes the first (and
        updates what this Store wrote itself, see _listed_file_written), anything else
        that adds, removes or renames a file here the second. Two stats guard what a
        folder's coarse timestamps could hide (a change by git in the same clock tick):
        the highest number is still there, and the next one is not."""
        folder = self.versions_dir(name)
        self.refuse_symlinks(folder)
        seq = self._read_seq()
        try:
            identity = stat_identity(os.lstat(folder))
        except FileNotFoundError:
            return []
        known = self._listings.get(name)
        if known is not None and known.seq == seq and known.identity == identity:
            last = known.numbers[-1] if known.numbers else 0
            if (last == 0 or os.path.lexists(folder / f"{last}.yaml")) and not os.path.lexists(
                folder / f"{last + 1}.yaml"
            ):
                return list(known.numbers)
        try:
            entries = os.listdir(folder)
        except FileNotFoundError:
            return []
        # The names are looked up, not parsed (parsing 10,000 of them cost more than the
        # listing).
        numbers = [number for number in map(version_number, entries) if number is not None]
        numbers.sort()
        if seq != b"?":
            self._listings[name] = _Listing(seq, identity, tuple(numbers))
        return numbers

    def read_model(self, name: str) -> Document:
        path = self.model_file(name)
        self.refuse_symlinks(path.parent)
        return self._read_mapping(path, lambda: f"registered model '{name}' not found")

    def read_config(self) -> Document:
        return self._read_mapping(self.root / CONFIG_FILE, lambda: f"{CONFIG_FILE} not found")

    def _read_mapping(self, path: Path, missing: Any) -> Document:
        try:
            return read_mapping(path)
        except FileNotFoundError:
            raise NotFoundError(missing()) from None

    def _refuse_symlink(self, path: Path) -> None:
        # A model folder pointing outside the registry must never be read or written.
        if os.path.islink(path):
            raise CorruptFileError(path, "is a symlink; refusing to follow it")

    def refuse_symlinks(self, path: Path) -> None:
        """Refuse ``path`` if it, or any folder between the root and it, is a symlink:
        a symlinked models/NAME or versions/ folder would lead reads and writes outside
        the registry."""
        try:
            parts = path.relative_to(self.root).parts
        except ValueError:
            raise CorruptFileError(path, "is outside the registry") from None
        current = self.root
        for part in parts:
            current = current / part
            self._refuse_symlink(current)

    # -- writing (callers hold the lock) -----------------------------------------------

    def write(self, path: Path, doc: object) -> bool:
        """Write ``doc`` to ``path`` atomically; False when the file already held it.

        A document that readers would refuse (larger than the file size limit, nested
        too deep, too many values) is InvalidInputError, and then nothing of the write
        in progress stays: the files it changed before are put back as they were."""
        self.refuse_symlinks(path.parent)
        data = yamlio.dumps(doc).encode("utf-8")
        problem = yamlio.limit_problem(doc, data)
        if problem is not None:
            self._roll_back()
            shown = os.path.relpath(path, self.root)
            raise InvalidInputError(f"refused: {shown} would be {problem}; nothing was written")
        self.begin_change()
        try:
            with open(path, "rb") as handle:
                before: bytes | None = handle.read()
        except FileNotFoundError:
            before = None
        changed = atomic_write(path, data)
        if changed:
            self._on_undo(lambda: _restore(path, before))
        if before is None:
            self._listed_file_written(path)
        return changed

    def _listed_file_written(self, path: Path) -> None:
        """A write added ``path``: when it is a version file of a model whose listing is
        remembered, the listing gets its number, and the counter and the folder's
        identity of when the lock is released (by _relisted)."""
        number = version_number(path.name)
        if number is None or path.parent.name != VERSIONS_DIR:
            return
        name = path.parent.parent.name
        known = self._listings.get(name)
        if known is None:
            return
        numbers = known.numbers if number in known.numbers else (*known.numbers, number)
        self._listings[name] = _Listing(None, None, tuple(sorted(numbers)))
        pending: set[str] | None = getattr(self._local, "listed", None)
        if pending is None:
            pending = self._local.listed = set()
        pending.add(name)

    def _relisted(self, seq: bytes) -> None:
        """The lock is being released with the counter at ``seq``: the listings this
        write added to are as it left them."""
        pending: set[str] = getattr(self._local, "listed", None) or set()
        for name in pending:
            known = self._listings.get(name)
            if known is None or known.seq is not None:
                continue
            try:
                identity = stat_identity(os.lstat(self.versions_dir(name)))
            except OSError:
                self._listings.pop(name, None)
                continue
            self._listings[name] = _Listing(seq, identity, known.numbers)
        pending.clear()

    def _forget_listings(self) -> None:
        """Version files moved or restored other than by a write: list them again."""
        self._listings.clear()

    def _on_undo(self, step: Callable[[], None]) -> None:
        undo: list[Callable[[], None]] | None = getattr(self._local, "undo", None)
        if undo is not None and getattr(self._local, "held", False):
            undo.append(step)

    def _roll_back(self) -> None:
        """Undo the changes made so far by the write in progress, newest first (the lock
        is held and the counter odd: no reader sees them come and go)."""
        undo: list[Callable[[], None]] = getattr(self._local, "undo", None) or []
        if undo:
            self._forget_listings()
        while undo:
            undo.pop()()

    def ensure_model_dirs(self, name: str) -> None:
        self.begin_change()
        for folder in (self.models_dir, self.model_dir(name), self.versions_dir(name)):
            if self._mkdir(folder):
                self._on_undo(functools.partial(_remove_empty, folder))
        _crash_point("create:folders_made")

    def ensure_folder(self, path: Path) -> None:
        """Make the folder ``path`` (its parent exists) unless it is there."""
        if os.path.isdir(path) and not os.path.islink(path):
            return
        self.begin_change()
        if self._mkdir(path):
            self._on_undo(functools.partial(_remove_empty, path))

    def _mkdir(self, path: Path) -> bool:
        """Make a folder; False when it was there."""
        self._refuse_symlink(path)
        try:
            os.mkdir(path)
        except FileExistsError:
            return False
        fsync_dir(path.parent)
        return True

    def trash_version_file(self, name: str, version: int) -> Path:
        """Move a version file into .trash in one atomic rename, and return its new path.

        The rename is the moment the version stops existing. Its name there,
        ``NAME~VERSION.HEX.yaml`` (``~`` is never part of a model name), tells
        ``check --repair`` which delete to finish if the process dies before the model
        file has been updated and the trashed file discarded.
        """
        source = self.version_file(name, version)
        self.refuse_symlinks(source.parent)
        trash = self.root / TRASH_DIR
        self.begin_change()
        self._forget_listings()
        self._mkdir(trash)
        target = trash / f"{name}{TRASH_VERSION_SEP}{int(version)}.{os.urandom(4).hex()}.yaml"
        os.rename(source, target)
        fsync_dir(source.parent)
        self._on_undo(lambda: os.rename(target, source))
        _crash_point("delete_version:trashed")
        return target

    def discard(self, path: Path) -> None:
        """Remove something from .trash for good (a crash here leaves it for ``check``)."""
        if os.path.isdir(path) and not os.path.islink(path):
            _rmtree(path)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def remove_model_dir(self, name: str) -> None:
        """Delete a model folder: one atomic rename into .trash, then the slow part.

        A crash after the rename leaves the model gone and leftovers in .trash, which
        ``check --repair`` removes; a crash before it leaves the model whole.
        """
        self.refuse_symlinks(self.model_dir(name))
        trash = self.root / TRASH_DIR
        self.begin_change()
        self._forget_listings()
        self._mkdir(trash)
        target = trash / f"{name}.{os.urandom(4).hex()}"
        os.rename(self.model_dir(name), target)
        fsync_dir(self.models_dir)
        _crash_point("delete_model:trashed")
        _rmtree(target)

    def rename_model_dir(self, old: str, new: str) -> None:
        self.refuse_symlinks(self.model_dir(old))
        self._refuse_symlink(self.model_dir(new))
        self.begin_change()
        self._forget_listings()
        # An interrupted create may have left the new name's folder behind, empty.
        for leftover in (self.versions_dir(new), self.model_dir(new)):
            with contextlib.suppress(OSError):  # missing, or not empty: rename decides
                os.rmdir(leftover)
        os.rename(self.model_dir(old), self.model_dir(new))
        fsync_dir(self.models_dir)
        self._on_undo(lambda: os.rename(self.model_dir(new), self.model_dir(old)))
        _crash_point("rename:folder_renamed")


def _restore(path: Path, before: bytes | None) -> None:
    if before is None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
            fsync_dir(path.parent)
    else:
        atomic_write(path, before)


def _rmtree(path: Path) -> None:
    import shutil  # only deletes need it: not imported by reads

    shutil.rmtree(path, ignore_errors=True)


def _remove_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not empty: someone else's, left alone
        os.rmdir(folder)
        fsync_dir(folder.parent)


def _try_lock_shared(fd: int) -> bool | None:
    """Take a shared lock on ``fd`` without waiting; None where there are no such locks."""
    if sys.platform == "win32":
        return None  # readers only wait for the counter there
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _seq_bytes(number: int) -> bytes:
    """The counter file's content."""
    return b"%d\n" % number


@struct
class _Listing:
    """A model's version numbers as listed under the write counter ``seq`` with the
    versions folder's ``identity`` (None, None: added to by the write under way)."""

    seq: bytes | None
    identity: Identity | None
    numbers: tuple[int, ...]


Identity = tuple[int, int, int, int]  # inode, size, mtime_ns, ctime_ns


def stat_identity(stat: os.stat_result) -> Identity:
    """What says a file (or folder) changed: a change by any means changes one of these."""
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


def _seq_number(seq: bytes) -> int:
    try:
        return int(seq)
    except ValueError:
        return 0  # missing or unreadable: counting starts again


def _is_odd(seq: bytes) -> bool:
    return _seq_number(seq) % 2 == 1


_NUMBERS: dict[str, int | None] = {}


def version_number(filename: str) -> int | None:
    """N for a version file ``N.yaml`` (no leading zeros), else None; remembered, since
    every read of a model asks it of every file name."""
    try:
        return _NUMBERS[filename]
    except KeyError:
        pass
    stem, dot, ext = filename.partition(".")
    number = None
    if dot and ext == "yaml" and stem.isdigit() and stem == str(int(stem)):
        number = int(stem)
    if len(_NUMBERS) < 1_000_000:
        _NUMBERS[filename] = number
    return number


def create_folder(root: Path, config: Config) -> None:
    """Make ``root`` a registry folder: ``models/``, its .gitignore and registry.yaml."""
    root.mkdir(parents=True, exist_ok=True)
    (root / MODELS_DIR).mkdir(exist_ok=True)
    atomic_write(root / ".gitignore", GITIGNORE.encode())
    atomic_write(root / CONFIG_FILE, yamlio.dumps(config.to_doc()).encode())


def read_mapping(path: Path) -> Document:
    """Read one registry file as a mapping, refusing anything that is not a small regular
    file holding safe YAML. FileNotFoundError when it is missing; CorruptFileError (which
    names the file) for everything else."""
    return read_mapping_with_stat(path)[0]


def read_mapping_with_stat(path: Path) -> tuple[Document, os.stat_result]:
    """:func:`read_mapping`, with the ``fstat`` of the very file that was read (the cache
    keys what it parsed by it). Symlinks are never followed."""
    data, file_stat = yamlio.read_file(path, follow_symlinks=False)
    return parse_mapping(data, path), file_stat


def parse_mapping(data: bytes, path: Path | str) -> Document:
    """The bytes of the registry file ``path`` parsed, which must hold a mapping."""
    doc = yamlio.loads(data, path)
    if not isinstance(doc, dict):
        raise CorruptFileError(path, "expected a mapping of keys to values at the top")
    return doc


def atomic_write(path: Path, data: bytes) -> bool:
    """Replace ``path`` with ``data`` so that readers see the old or the new file, never
    a part: temporary file in the same folder, fsync, ``os.replace``, fsync the folder.
    An unchanged file is not rewritten (git and editors see no change)."""
    if os.path.islink(path):
        raise CorruptFileError(path, "is a symlink; refusing to write through it")
    try:
        with open(path, "rb") as handle:
            if handle.read(len(data) + 1) == data:
                return False
    except FileNotFoundError:
        pass
    tmp = path.with_name(f".{path.name}.{os.urandom(6).hex()}{TMP_SUFFIX}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o666)
    try:
        try:
            _crash_point("write:temp_created")
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            _crash_point("write:temp_written")
            os.fsync(fd)
        finally:
            os.close(fd)
        _crash_point("write:before_replace")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _crash_point("write:replaced")
    fsync_dir(path.parent)
    return True


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in ``path`` durable (a no-op where unsupported)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
