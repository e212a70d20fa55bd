"""Debian packages that tests need: a missing tool is installed, never a reason to skip."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def ensure_command(command: str, package: str) -> str:
    """The path of `command`, installing the Debian `package` that provides it first if it
    is missing; fails the test saying what to install when that is not possible."""
    found = shutil.which(command)
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt is None:
        pytest.fail(f"`{command}` is missing and there is no apt-get: install {package}")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # another apt run (a second test session) holds the lock for a while: wait for it
    wait = ["-o", "DPkg::Lock::Timeout=300"]
    for step in (["update"], ["install", "-y", "--no-install-recommends", package]):
        try:
            done = subprocess.run(
                [*sudo, apt, *wait, *step], env=env, capture_output=True, text=True, timeout=900
            )
        except (OSError, subprocess.TimeoutExpired) as err:
            pytest.fail(f"`{command}` is missing and `apt-get {step[0]}` failed: {err}")
        if done.returncode != 0:
            pytest.fail(
                f"`{command}` is missing and `apt-get {' '.join(step)}` failed "
                f"(exit {done.returncode}); install {package} by hand:\n{done.stderr[-2000:]}"
            )
    found = shutil.which(command)
    if found is None:
        pytest.fail(f"installed {package}, but `{command}` is still not on PATH")
    return found
