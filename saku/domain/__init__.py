"""Types that cross the workflow boundary: plain dataclasses, no I/O, safe in the sandbox."""
