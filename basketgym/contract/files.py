"""Files in and out: atomic writes (beside the target, flushed, renamed), and reads that fail in one line.

A reader (or a run interrupted half-way) therefore sees either the old file or the new one,
never a torn file; a file that cannot be read (missing, a directory, not UTF-8, not JSON, TOML
or Parquet) is reported as one ``InputFileError`` line naming it, never a traceback.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from basketgym.contract.errors import InputFileError, OutputPathError


def _file_mode() -> int:
    """Permissions of a normal new file under the current umask (mkstemp would make them 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it vanishes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(text: str, path: str | Path) -> None:
    """Write text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def one_line(e: BaseException) -> str:
    """An exception's message on one line (library messages sometimes span several)."""
    return " ".join(line.strip() for line in str(e).splitlines() if line.strip()) or type(e).__name__


def os_error_line(e: OSError, path: str | Path | None = None) -> str:
    """``<file>: <reason>`` for an OSError, naming the file the system call failed on when it says which."""
    where = e.filename if e.filename is not None else path
    why = e.strerror or one_line(e)
    return f"{where}: {why}" if where is not None else why


@contextmanager
def reading(path: str | Path, what: str = "file", error: type[Exception] = InputFileError) -> Iterator[Path]:
    """Read ``path`` inside this block: whatever makes the file unreadable becomes one ``error`` line naming it.

    Covers a missing file, a directory where a file is expected, permissions, text that is not
    UTF-8, JSON or TOML that does not parse and Parquet that is truncated or not Parquet. Other
    exceptions (bugs) pass through untouched.
    """
    path = Path(path)
    if path.is_dir():
        raise error(f"{path}: is a directory, not a {what}")
    try:
        yield path
    except FileNotFoundError as e:
        raise error(f"{e.filename or path}: no such {what}") from None
    except OSError as e:
        raise error(os_error_line(e, path)) from None
    except UnicodeDecodeError as e:
        byte = e.object[e.start]
        raise error(f"{path}: not a {what}: byte 0x{byte:02x} at offset {e.start} is not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise error(f"{path}: not valid JSON ({e.msg} at line {e.lineno}, column {e.colno})") from None
    except tomllib.TOMLDecodeError as e:
        raise error(f"{path}: not valid TOML: {one_line(e)}") from None
    except _arrow_errors() as e:
        why = one_line(e).split(f"'{path}': ")[-1]  # pyarrow repeats the path
        raise error(f"{path}: not a readable {what} ({why})") from None


def _arrow_errors() -> type[Exception] | tuple[()]:
    """pyarrow's exception base once pyarrow is in use (evaluated as an exception passes: sim.files stays light)."""
    return getattr(sys.modules.get("pyarrow"), "ArrowException", ())


def read_text(path: str | Path, what: str = "file", error: type[Exception] = InputFileError) -> str:
    """A UTF-8 text file's contents; one ``error`` line if it is missing, a directory or not UTF-8."""
    with reading(path, what, error) as p:
        return p.read_bytes().decode("utf-8")


def read_json(path: str | Path, what: str = "JSON file", error: type[Exception] = InputFileError) -> Any:
    """A JSON file's value; one ``error`` line if it cannot be read or parsed."""
    with reading(path, what, error) as p:
        return json.loads(p.read_bytes().decode("utf-8"))


def check_writable(path: str | Path, flag: str = "--out", directory: bool = False) -> None:
    """Fail early, in one ``OutputPathError`` line, when ``path`` (a file, or a directory) cannot be written.

    Checked before any work is done: a directory where a file is meant (or the reverse), a file
    among its parents, and a nearest existing parent that is not writable. Nothing is created.
    """
    path = Path(path)
    if path.exists():
        if directory and not path.is_dir():
            raise OutputPathError(f"{flag} {path}: is a file, not a directory")
        if not directory and path.is_dir():
            raise OutputPathError(f"{flag} {path}: is a directory, not a file")
        target = path if directory else path.parent
    else:
        target = path.parent
        while not target.exists():  # ends at the working directory or the root, which exist
            target = target.parent
        if not target.is_dir():
            raise OutputPathError(f"{flag} {path}: {target} is a file, not a directory")
    if not os.access(target, os.W_OK | os.X_OK):
        raise OutputPathError(f"{flag} {path}: {target} is not writable")
