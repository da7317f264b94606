"""Lightning's DDP strategy, made to destroy its process group before the process exits.

Lightning destroys the group at exit for NCCL only. A gloo group left alive is torn down with
the interpreter, and its worker threads then abort the process now and then ("terminate called
without an active exception", SIGABRT). Spawned ranks (`ddp_spawn`) end that way; trainrig's own
command ends with os._exit, which skips the teardown. 5 of 40 two-rank gloo spawns aborted on a
2-core machine without this, 0 of 40 with it.
"""

from __future__ import annotations

import atexit

from pytorch_lightning.strategies import DDPStrategy


def destroy_process_group() -> None:
    """Destroy the default process group, if this process still has one."""
    import torch.distributed

    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


class DDPStrategyEndingItsGroup(DDPStrategy):
    """DDPStrategy whose processes destroy the process group at exit, whatever its backend."""

    def setup_distributed(self) -> None:
        super().setup_distributed()
        atexit.unregister(destroy_process_group)  # fit, then test: one handler, not two
        atexit.register(destroy_process_group)
