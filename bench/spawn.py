"""Run one command and report its wall time and peak memory: ``spawn.py OUT ERR CWD CMD...``.

Prints ``SECONDS MAXRSS_KB EXIT_CODE``. Started fresh (``python -S -E``) by the driver for
every measured process, because Linux counts in a child's ``ru_maxrss`` the memory of
the process it was started from: measured from the driver (30 MB and more) every small
command would seem to take 30 MB. This launcher is about 8 MB at the moment it spawns,
less than any Python process it measures, and imports nothing but ``os`` and ``time``.
The command inherits this process's environment; its stdin is /dev/null, its stdout and
stderr go to the files OUT and ERR.
"""

import os
import sys
import time


def main() -> None:
    out, err, cwd, *argv = sys.argv[1:]
    os.chdir(cwd)
    write = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, out, write, 0o600),
        (os.POSIX_SPAWN_OPEN, 2, err, write, 0o600),
    ]
    start = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - start
    sys.stdout.write(f"{seconds!r} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}\n")


main()
