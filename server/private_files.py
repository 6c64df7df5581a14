"""Files that hold personal data (the SQLite database and its WAL/SHM, photos, report PDFs, export
spools, the secret key) are readable by the service's own user only: 0600 for files and 0700 for
the folders Pantau makes, set at creation, whatever umask the service was started with, so another
account on the machine cannot copy the registry by reading a file."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """mkdir -p, with every folder it creates (not the ones that already exist) set to 0700."""
    missing = []
    here = path
    while not here.exists():
        missing.append(here)
        if here.parent == here:
            break
        here = here.parent
    for folder in reversed(missing):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(folder, DIR_MODE)  # mkdir's mode is masked by umask; chmod is not
    return path


def create_private(path: Path) -> int:
    """A new file opened for writing with mode 0600 (O_EXCL: never an existing one); returns the fd."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return fd


def write_durably(path: Path, data: bytes) -> None:
    """A private file (0600) written whole or not at all: a temporary file of its own, fsynced,
    renamed into place, and the folder fsynced so the name survives a power cut. One temporary file
    per write: two writers of the same content at once (a phone retrying while its first request
    still runs) must not rename each other's file away."""
    private_dir(path.parent)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(6).hex()}.tmp")
    with os.fdopen(create_private(temporary), "wb") as fh:
        fh.write(data)
    move_durably(temporary, path)


def move_durably(written: Path, path: Path) -> None:
    """A private file written elsewhere on the same file system (a report's PDF, written by WeasyPrint
    piece by piece), fsynced and renamed to `path`, the folder fsynced: there whole or not at all."""
    with open(written, "rb+") as fh:
        os.fsync(fh.fileno())
    private_dir(path.parent)
    os.replace(written, path)
    sync_folder(path.parent)


def sync_folder(path: Path) -> None:
    """A rename or link is durable only once the folder holding it is synced."""
    directory = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def touch_private(path: Path) -> None:
    """Create an empty file with mode 0600 unless it exists. SQLite takes an empty file as a new
    database and makes its -wal and -shm files with the database file's mode."""
    with contextlib.suppress(FileExistsError):
        os.close(create_private(path))
