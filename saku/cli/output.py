"""Output that outlives its reader.

`saku simulate | tee log`, then Ctrl-C: the signal reaches tee too, tee dies first, and
every later print raises BrokenPipeError, in the middle of stopping what Saku started.
A closed terminal does the same with EIO. Saku's output is a courtesy, never a reason to
leave processes behind: once the reader is gone, the rest goes to /dev/null.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, TextIO, cast


class _Unbreakable:
    """A text stream that turns a lost reader into silence."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError:
            self._reader_lost()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError:
            self._reader_lost()

    def _reader_lost(self) -> None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self._stream.fileno())
        os.close(devnull)
        with contextlib.suppress(OSError):
            self._stream.flush()  # what is still buffered goes nowhere

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def survive_lost_readers() -> None:
    """Make stdout and stderr outlive their readers; stdout is written line by line, so
    that `saku up | tee log` shows each line as it comes."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if isinstance(stream, _Unbreakable) or stream is None:
            continue
        try:
            stream.fileno()
        except (OSError, ValueError, AttributeError):
            continue  # not a real file (captured by a test): nothing to guard
        if name == "stdout" and hasattr(stream, "reconfigure"):
            stream.reconfigure(line_buffering=True)
        setattr(sys, name, cast(TextIO, _Unbreakable(stream)))
