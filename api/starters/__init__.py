"""Starting the workflows behind API requests and waiting for their answers, per slice.

May import: `core`, `activities`, `workflows`.
"""
