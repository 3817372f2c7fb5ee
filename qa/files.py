"""Opening the files the corpus and index loaders read: regular files only, inside their
directory, with a size cap, and OS errors as one line that names the file and the fix.

A FIFO, a device (``/dev/zero``) or a directory in place of a data file would block or read
forever; each is refused before a byte is read (opened with ``O_NONBLOCK``, checked with
``fstat``). A symbolic link is followed only when it resolves inside ``root``.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from qa.errors import FileProblem

NAME_SHOWN = 120  # characters of a file name a message shows (a name can be megabytes long)

FIXES = {
    errno.EACCES: "fix its permissions (it must be readable by this user)",
    errno.EPERM: "fix its permissions (it must be readable by this user)",
    errno.ENAMETOOLONG: "the name is too long for the file system; use a shorter one",
    errno.ENOENT: "it does not exist; restore it",
    errno.ENOTDIR: "a directory on its path is a file; restore the directory",
    errno.ELOOP: "it is a loop of symbolic links; replace it with the file",
    errno.EISDIR: "it is a directory; replace it with the file",
    errno.EIO: "the disk reported an I/O error; check the disk",
    errno.EMFILE: "too many files are open; raise the limit (ulimit -n)",
}


def shown(path: Path | str) -> str:
    """A path for a message: quoted, and cut short when it is long."""
    text = str(path)
    return repr(text) if len(text) <= NAME_SHOWN else repr(text[: NAME_SHOWN - 3] + "...") + f" ({len(text):,} characters)"


def os_error_message(path: Path | str, exc: OSError) -> str:
    """One line: which file, what the system said, and how to fix it."""
    reason = exc.strerror or exc.__class__.__name__
    fix = FIXES.get(exc.errno or 0, "check the file")
    return f"cannot read {shown(path)}: {reason}; {fix}"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def outside(path: Path, root: Path) -> Path | None:
    """Where ``path`` points when it is a link that resolves outside ``root``, else None."""
    if not path.is_symlink():
        return None
    target = path.resolve()
    base = root.resolve()
    return None if target == base or base in target.parents else target


def open_regular(path: Path | str, *, root: Path | str | None = None) -> int:
    """A file descriptor of ``path`` opened for reading; ``FileProblem`` when it is not a
    regular file, is a link out of ``root``, or cannot be opened. Never blocks on a FIFO."""
    path = Path(path)
    if root is not None:
        target = outside(path, Path(root))
        if target is not None:
            raise FileProblem(f"{shown(path)} is a symbolic link to {shown(target)}, outside "
                              f"{shown(root)}; only files inside it are read (copy the file in instead)")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise FileProblem(os_error_message(path, exc)) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise FileProblem(f"{shown(path)} is {_kind(mode)}, not a regular file; replace it with the file")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def check_regular(path: Path | str, *, root: Path | str | None = None) -> int:
    """The size of ``path``, after the checks of ``open_regular``."""
    fd = open_regular(path, root=root)
    try:
        return os.fstat(fd).st_size
    finally:
        os.close(fd)


def read_bytes(path: Path | str, cap: int, *, root: Path | str | None = None, setting: str = "") -> bytes:
    """The bytes of a regular file of at most ``cap`` bytes (``FileProblem`` beyond it: the
    message names the file, the cap and, when given, the setting that raises it)."""
    path = Path(path)
    fd = open_regular(path, root=root)
    try:
        size = os.fstat(fd).st_size
        data = b""
        if size <= cap:
            with os.fdopen(os.dup(fd), "rb") as handle:
                data = handle.read(cap + 1)  # the file may grow while it is read
    except OSError as exc:
        raise FileProblem(os_error_message(path, exc)) from None
    finally:
        os.close(fd)
    if size > cap or len(data) > cap:
        raise FileProblem(f"{shown(path)} is {max(size, len(data)):,} bytes{'' if size > cap else ' or more'}, over the {cap:,}-byte limit "
                          "for it" + (f"; split it or raise {setting}" if setting else "; it is not the file qa wrote"))
    return data
