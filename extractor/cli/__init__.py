"""The command line: thin commands over the Python API, one module per command group."""

from __future__ import annotations

import atexit
import gc


def run() -> None:
    """The `extractor` command (the console script's entry point).

    Start-up makes long-lived objects only (modules, classes, compiled patterns, vocabularies), and
    the cyclic collector walked them again and again while they were made; at exit the interpreter's
    last collections walked them all once more. Together that was ≈ 20 % of a small `extractor parse`.
    So the collector is off while the commands are imported, their objects are then frozen out of its
    sight (guard.settle_gc), and frozen again at exit: that handler is registered before anything is
    imported, so it runs after every other exit handler.
    """
    atexit.register(gc.freeze)
    gc.disable()
    try:
        from extractor.cli.main import main
        from extractor.guard import settle_gc
    finally:
        gc.enable()
    settle_gc()
    main()
