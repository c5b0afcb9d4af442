"""The ``metalab`` command's internals; the entry point is `metalab.cli.main`.

Nothing here is imported by ``import metalab``: the command's dependencies (click, rich)
load only when the command runs.
"""
