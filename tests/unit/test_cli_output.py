"""Saku's output outlives its reader (`saku up | tee log`, then Ctrl-C kills tee first)."""

from __future__ import annotations

import io
import os

from saku.cli.output import _Unbreakable


def test_writing_after_the_reader_died_goes_to_dev_null_without_an_error() -> None:
    read_end, write_end = os.pipe()
    stream = io.TextIOWrapper(io.FileIO(write_end, "w"), line_buffering=True)
    out = _Unbreakable(stream)
    out.write("Saku is up.\n")
    assert os.read(read_end, 100) == b"Saku is up.\n"
    os.close(read_end)  # the reader dies
    out.write("stopping worker, API and consumer\n")
    out.write("stopped: kafka, temporal, valkey, postgres\n")
    out.flush()
    assert os.readlink(f"/proc/self/fd/{write_end}") == os.devnull
    stream.close()
