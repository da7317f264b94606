"""Python's cyclic garbage collector kept out of the `trainrig` command's start.

Importing torch, Lightning, torchmetrics and Hydra builds some 650,000 objects, and CPython runs a
full collection each time the live objects have grown by a quarter: eight or so during those
imports, each walking everything built so far (1-1.8 s of a 5-6 s start on a 2-core machine).
The command pauses the collector before it imports Hydra; once the config is validated (its
targets imported) or a sweep begins, `resume_collection` freezes what is alive then (the imported
modules, which later full collections then skip) and switches the collector on again, before
training or trials make garbage. A sweep's first trial imports and caches more (augmentation, data
sets, config caches); `settle_collection` after it collects once and freezes what survives, so the
full collections between later trials walk their garbage only (about half the time). Standard
library only.
"""

from __future__ import annotations

import gc


def pause_collection() -> None:
    """Switch the cyclic collector off until `resume_collection` (reference counting goes on)."""
    gc.disable()


def resume_collection() -> None:
    """Freeze the objects alive now and switch the collector back on; nothing when it is on.

    Call it before anything a run or trial makes is alive: frozen objects are never collected.
    """
    if gc.isenabled():
        return
    gc.freeze()
    gc.enable()


def settle_collection() -> None:
    """Collect the garbage, then freeze the objects that survive it.

    Call it once a process is warm (after a sweep's first trial): what is alive then stays alive.
    """
    gc.collect()
    gc.freeze()
