"""A clone of Saku is all a reader has: no tracked file sends them to documents outside the
repository, and the documents the README and the code point to are in `docs/`."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# written in pieces, so that this file does not match itself
OUTSIDE = re.compile(
    r"\.\./" + "shared/" + r"|" + "shared/" + r"(reference|ARCHITECTURE|seeds)"
    r"|\breference/(toolchain|monitoring-model|fingerprint-sensor|biometric-data)\.md"
)
DOCS = ("architecture.md", "monitoring-model.md", "fingerprint-sensor.md", "biometric-data.md")


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [ROOT / name for name in listed.split("\0") if name]


def test_no_tracked_file_outside_docs_points_outside_the_repository() -> None:
    offenders = []
    for path in tracked_files():
        if path.parts[len(ROOT.parts)] == "docs" or not path.is_file():
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue  # binary
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_docs_the_readme_and_the_code_cite_are_in_the_repository() -> None:
    for name in DOCS:
        assert (ROOT / "docs" / name).stat().st_size > 1000, name
    readme = (ROOT / "README.md").read_text()
    for link in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (ROOT / link).is_file(), link
    assert "docs/architecture.md" in readme and "docs/monitoring-model.md" in readme
    for doc in DOCS:  # links between the docs resolve too
        for link in re.findall(r"\]\(([a-z-]+\.md)\)", (ROOT / "docs" / doc).read_text()):
            assert (ROOT / "docs" / link).is_file(), (doc, link)
