"""Deletes a private server's folder once the process that started the server is gone, however
it ended (SIGKILL included): `python -I -S reaper.py FOLDER`, started by `postgres.PrivateServer`
in a session of its own with a pipe as stdin that only the owner holds. End of file on stdin means
the owner closed it (a normal stop, which already deleted the folder) or died. The server dies
with its owner (PR_SET_PDEATHSIG); the folder goes once its process is gone too.

Standard library only, no package import: it must start in milliseconds and outlive everything.
"""
import os
import shutil
import sys
import time

WAIT_S = 30.0  # the server's immediate shutdown takes well under a second


def _server_pid(folder: str) -> int | None:
    try:
        with open(os.path.join(folder, "data", "postmaster.pid")) as f:
            return int(f.readline())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(folder: str) -> None:
    sys.stdin.buffer.read()
    pid = _server_pid(folder)
    deadline = time.monotonic() + WAIT_S
    while pid is not None and _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1])
