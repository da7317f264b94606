"""The training core: runner, task module, builders, optimizers, schedules, callbacks, loggers."""
