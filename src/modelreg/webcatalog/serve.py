"""``modelreg catalog serve``: the catalog on http://127.0.0.1, rebuilt as the registry changes.

The site is built into ``out`` (default: a temporary folder, removed on exit) and served
from there by the standard library's HTTP server, bound to 127.0.0.1 only. The registry is
watched by polling: every ``poll`` seconds (1 by default) the sizes and modification
times of ``registry.yaml`` and of every file under ``models/`` are compared with the last
look, and a difference rebuilds the site (incrementally, see :mod:`.build`). Polling needs
no platform API and no dependency; a look at a 10,000-version registry costs a few tens of
milliseconds. A build that fails (a file caught half-edited by hand) is reported and the
last good site stays served until the next change.

Ctrl-C (or SIGTERM) stops the server and returns normally.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any

from modelreg.errors import RegistryError
from modelreg.registry import Registry
from modelreg.webcatalog.build import BuildResult, build

HOST = "127.0.0.1"
POLL_SECONDS = 1.0


class _Handler(SimpleHTTPRequestHandler):
    """Static files of the site, never its dot files (the manifest), never cached."""

    def send_head(self) -> Any:
        if any(part.startswith(".") for part in self.path.split("?", 1)[0].split("/")):
            self.send_error(404)
            return None
        return super().send_head()

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request would bury the rebuild messages


def snapshot(root: Path) -> frozenset[tuple[str, int, int]]:
    """What the watcher compares: (path, size, mtime) of the files that make the site."""
    seen: set[tuple[str, int, int]] = set()
    with contextlib.suppress(OSError):
        info = (root / "registry.yaml").stat()
        seen.add(("registry.yaml", info.st_size, info.st_mtime_ns))
    folders = [str(root / "models")]
    while folders:
        with contextlib.suppress(OSError), os.scandir(folders.pop()) as entries:
            for entry in entries:
                with contextlib.suppress(OSError):
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(entry.path)
                    else:
                        info = entry.stat(follow_symlinks=False)
                        seen.add((entry.path, info.st_size, info.st_mtime_ns))
    return frozenset(seen)


@contextlib.contextmanager
def _site_folder(out: Path | None) -> Iterator[Path]:
    if out is not None:
        yield out
        return
    folder = Path(tempfile.mkdtemp(prefix="modelreg-catalog-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def _sigterm_stops() -> Iterator[None]:
    """SIGTERM stops the preview as Ctrl-C does (so the temporary site is removed)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def serve(
    root: Path,
    *,
    out: Path | None = None,
    port: int = 8000,
    poll: float = POLL_SECONDS,
    on_ready: Callable[[str, Path, BuildResult], None] = lambda url, out, result: None,
    on_build: Callable[[BuildResult], None] = lambda result: None,
    on_error: Callable[[RegistryError], None] = lambda exc: None,
    stop: threading.Event | None = None,
) -> None:
    """Serve the catalog of the registry at ``root`` until Ctrl-C (or ``stop`` is set).

    ``port`` 0 picks a free port; ``on_ready`` hears the URL once the first build is
    served, ``on_build`` every rebuild, ``on_error`` a rebuild that failed."""
    stop = stop or threading.Event()
    with _site_folder(out) as folder, _sigterm_stops():
        seen = snapshot(root)
        first = build(Registry(root, hooks=False), folder)
        handler = functools.partial(_Handler, directory=str(folder))
        with ThreadingHTTPServer((HOST, port), handler) as server:
            server.daemon_threads = True
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            try:
                on_ready(f"http://{HOST}:{server.server_address[1]}/", folder, first)
                while not stop.wait(poll):
                    now = snapshot(root)
                    if now == seen:
                        continue
                    seen = now
                    try:
                        on_build(build(Registry(root, hooks=False), folder))
                    except RegistryError as exc:
                        on_error(exc)
            except KeyboardInterrupt:
                pass
            finally:
                server.shutdown()
                thread.join()
