"""Trials in flight at once through a Hydra launcher that runs each job elsewhere.

With hydra-submitit-launcher (Slurm, `submitit_local`), joblib or any launcher other than Hydra's
basic one, a job runs in another process or on another machine and the sweep process only waits
for it. Hydra's launcher API is batch-synchronous (`launch(batch) -> results` returns when the
whole batch has ended), so the sweep keeps `slots` threads, each launching one job at a time and
waiting for it: a slot whose trial ends asks the study for the next one at once (no batch barrier,
unlike hydra-optuna-sweeper's `n_jobs` batches). Each slot is `work()` on its own connection to
the study, as a forked worker is for the basic launcher; the study's storage (the sweep's
`study.db` by default) is the only state the slots share, so pruning reports from the jobs, the
tally of `n_trials`, heartbeats and resume are the same as with workers.

A slot thread only calls `launcher.launch` and Optuna: the jobs compose their configs and run
Hydra's `run_job` in their own processes, so Hydra's global state in the sweep process
(HydraConfig, the Singletons the launchers copy with `Singleton.get_state`) is only read while
trials are in flight. Ctrl-C (or a sweep stopped by `max_failure_rate`) sets `stop`: no slot
starts another trial, and a job that returns after it is not told to the study, so its trial
stays RUNNING, goes stale when its heartbeat stops and is queued again when the command is rerun.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from trainrig.config.errors import ConfigError
from trainrig.sweeps.objective import TrialFailed
from trainrig.sweeps.storage import fail_stale_trials

log = logging.getLogger(__name__)


class SweepStopped(SystemExit):
    """Raised in a slot when the sweep stops: passes through Optuna (which catches Exception and
    KeyboardInterrupt only), so the trial is not told and stays RUNNING."""


def runs_in_process(launcher: Any) -> bool:
    """Whether `launcher` is Hydra's basic launcher, which runs each job in this process.

    Hydra exports no public name for it; `hydra._internal.core_plugins.basic_launcher` is where
    Hydra 1.1-1.3 keep it (every sweep test through the basic launcher guards the import).
    """
    from hydra._internal.core_plugins.basic_launcher import BasicLauncher

    return isinstance(launcher, BasicLauncher)


def in_flight_slots(settings: dict[str, Any]) -> int:
    """How many trials a launcher that runs jobs elsewhere keeps in flight: `n_workers`, or
    hydra-optuna-sweeper's `n_jobs`, the larger of the two, and no more than `n_trials`."""
    if int(settings.get("gpus_per_trial") or 0):
        raise ConfigError(
            "hydra.sweeper.gpus_per_trial shares this machine's GPUs between worker processes; "
            "with a launcher that runs jobs elsewhere the launcher assigns them: set "
            "hydra.launcher.gpus_per_node (submitit) and leave gpus_per_trial at 0"
        )
    slots = max(int(settings.get("n_workers") or 1), int(settings.get("n_jobs") or 1))
    return min(slots, int(settings.get("n_trials", 20)))


class InFlight:
    """Up to `slots` trials at once, each a thread that launches its one job and waits for it.

    Passed to the objective as its launcher: `launch` delegates to Hydra's launcher and turns a
    job that ended without a result (a crash, a node lost) into a failed trial.
    """

    def __init__(self, launcher: Any, slots: int) -> None:
        self.launcher = launcher
        self.slots = slots
        self.stop = threading.Event()

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Any:
        """Hydra's `Launcher.launch`, called by one slot for one job."""
        try:
            results = self.launcher.launch(job_overrides, initial_job_idx=initial_job_idx)
        except Exception as error:
            if self.stop.is_set():
                raise SweepStopped from None
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise TrialFailed(
                f"the job ended without a result ({type(error).__name__}: {first}); see the "
                "launcher's own logs (hydra.launcher.submitit_folder for submitit)"
            ) from None
        if self.stop.is_set():
            raise SweepStopped
        return results

    def run(
        self,
        study: Any,
        slot_work: Callable[[int, threading.Event], None],
        show: Callable[[Any], None],
        poll_seconds: float,
    ) -> None:
        """Run `slot_work(index, stop)` in each slot; show progress until all end.

        A slot's error (or `show`'s, e.g. too many failed trials) stops the others and is raised.
        """
        errors: list[BaseException] = []

        def slot(index: int) -> None:
            try:
                slot_work(index, self.stop)
            except SweepStopped:
                pass
            except BaseException as error:
                errors.append(error)
                self.stop.set()

        threads = [
            threading.Thread(target=slot, args=(i,), name=f"trial-slot-{i}", daemon=True)
            for i in range(self.slots)
        ]
        for thread in threads:
            thread.start()
        try:
            while alive := [t for t in threads if t.is_alive()]:
                alive[0].join(poll_seconds)
                fail_stale_trials(study)
                show(study)
                if errors:
                    raise errors[0]
            if errors:
                raise errors[0]
        except KeyboardInterrupt:
            self.stop.set()
            log.warning(
                "sweep stopped; the trials in flight stay RUNNING and their jobs are not "
                "cancelled; rerun the same command to resume (those trials are run again)"
            )
            raise SystemExit(130) from None  # as a Ctrl-C'd trial in the sweep's process ends
        finally:
            self.stop.set()  # slots still waiting on a job leave its trial RUNNING
