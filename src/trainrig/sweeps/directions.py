"""The study's objectives: their names and which way each is optimized.

In trainrig's own app (its config settled: tasks/settle.py) the objectives are
`optimized_metric` (one name or a list); a missing `direction` is each metric's own (its task's
catalog: R2 up, MSE down; `checkpoint.mode` when the checkpoint monitors it), never guessed from
a name trainrig does not know, and a direction that contradicts `checkpoint.mode` is refused.
In any other Hydra app, as with hydra-optuna-sweeper, `direction` alone says how many values the
task function returns (default: one, minimized).
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig

from trainrig.config.errors import ConfigError
from trainrig.tasks.settle import mode_of, settled

DIRECTIONS = ("minimize", "maximize")


def _listed(direction: Any) -> list[str]:
    """`direction` as a list of names; the old plugin's enum values (`Direction.minimize`) too."""
    given = [direction] if isinstance(direction, str) else list(direction)
    return [str(getattr(d, "name", d)) for d in given]


def _checked(direction: Any, count: int | None, what: str) -> list[str]:
    directions = _listed(direction)
    if (count is not None and len(directions) != count) or any(
        d not in DIRECTIONS for d in directions
    ):
        raise ConfigError(
            f"hydra.sweeper.direction: {direction!r} does not fit {what}; give minimize or "
            "maximize, or a list of them with one per objective"
        )
    return directions


def app_objectives(direction: Any) -> tuple[list[str], list[str]]:
    """A plain Hydra app: as many objectives as `direction` names (None: one, minimized)."""
    directions = _checked("minimize" if direction is None else direction, None, "the study")
    if len(directions) == 1:
        return ["objective"], directions
    return [f"objective {i}" for i in range(len(directions))], directions


def trainrig_objectives(direction: Any, config: DictConfig) -> tuple[list[str], list[str]]:
    """trainrig's app: `optimized_metric`, each derived or checked against `checkpoint.mode`."""
    config = settled(config)
    wanted = config.get("optimized_metric")
    metrics = [str(wanted)] if isinstance(wanted, str) else [str(m) for m in wanted]
    checkpoint = config.get("checkpoint") or {}
    monitor, mode = checkpoint.get("monitor"), checkpoint.get("mode")
    modes = [mode if metric == monitor else mode_of(metric, config) for metric in metrics]
    best = [{"max": "maximize", "min": "minimize"}.get(str(m), "") for m in modes]
    if direction is None:
        if "" in best:
            unknown = metrics[best.index("")]
            raise ConfigError(
                f"hydra.sweeper.direction: trainrig cannot know whether {unknown} is better "
                "high or low; set hydra.sweeper.direction=maximize or minimize (a list for "
                "several objectives)"
            )
        return metrics, best
    directions = _checked(direction, len(metrics), f"optimized_metric={metrics}")
    for metric, given, wants in zip(metrics, directions, best, strict=True):
        if metric == monitor and wants and given != wants:
            raise ConfigError(
                f"hydra.sweeper.direction: the study's direction is {given} for {metric}, but "
                f"checkpoint.monitor={monitor} (mode {mode}) keeps the "
                f"{'highest' if mode == 'max' else 'lowest'}; make them agree, or leave "
                f"direction out to {wants} it"
            )
    return metrics, directions
