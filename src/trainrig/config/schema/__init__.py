"""Structured-config schemas: the keys, types, defaults and ranges of every built-in option.

A group's node is checked against the schema of its `_target_`, so a typo, a wrong type or a value
out of range fails here, before data is loaded or torch is imported. Nodes with a `_target_` that
trainrig does not know (a user's own builder) are passed through unchecked; an empty node means the
group is switched off (`scheduler=none`).
"""

from trainrig.config.schema.compression import (
    DistillationConfig,
    DynamicQuantizationConfig,
    ExportOnlyConfig,
    IterativePruningConfig,
    PruningConfig,
    QuantizationAwareTrainingConfig,
    StaticQuantizationConfig,
)

SCHEMAS: dict[str, type] = {
    str(schema.__dataclass_fields__["_target_"].default): schema
    for schema in (
        PruningConfig,
        IterativePruningConfig,
        DynamicQuantizationConfig,
        DistillationConfig,
        StaticQuantizationConfig,
        QuantizationAwareTrainingConfig,
        ExportOnlyConfig,
    )
}

# Top-level groups holding one component each; `logger` holds a mapping of named loggers.
COMPONENT_GROUPS = (
    "data",
    "augmentation",
    "model",
    "optimizer",
    "scheduler",
    "early_stopping",
    "trainer",
    "compression",
    "strategy",
)

__all__ = ["COMPONENT_GROUPS", "SCHEMAS"]
