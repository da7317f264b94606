"""The digits data module: seeded stratified splits, in-memory batches, normalization."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from trainrig.data.digits import build_digits
from trainrig.data.stats_cache import cache_normalization


def test_splits_are_disjoint_complete_and_stratified() -> None:
    data = build_digits(val_fraction=0.15, test_fraction=0.15, split_seed=0)
    sizes = data.split_sizes()
    assert sum(sizes.values()) == 1797
    assert abs(sizes["test"] - 0.15 * 1797) <= 1
    assert data.input_shape == (1, 8, 8)
    assert data.num_outputs == 10
    whole = torch.bincount(torch.cat([y for _, y in data.splits.values()])).float() / 1797
    for _, y in data.splits.values():
        share = torch.bincount(y, minlength=10).float() / len(y)
        assert torch.allclose(share, whole, atol=0.02)
    flat = [x.flatten(1) for x, _ in data.splits.values()]
    assert len(torch.unique(torch.cat(flat), dim=0)) >= 0.98 * 1797  # no sample in two splits


def test_same_seed_same_split_other_seed_other_split() -> None:
    a, b, c = (build_digits(split_seed=s) for s in (1, 1, 2))
    assert torch.equal(a.splits["test"][0], b.splits["test"][0])
    assert not torch.equal(a.splits["test"][0], c.splits["test"][0])


def test_a_run_that_changes_its_data_in_place_leaves_the_next_build_alone() -> None:
    """The digits are read once per process (in-process sweep trials rebuild their data)."""
    first = build_digits()
    kept = first.splits["train"][0].clone()
    for x, y in first.splits.values():
        x.zero_()
        y.zero_()
    again = build_digits()
    assert torch.equal(again.splits["train"][0], kept)
    assert again.splits["test"][1].unique().numel() == 10


def test_batches_cover_the_split_once_per_epoch() -> None:
    data = build_digits(batch_size=100)
    batches = list(data.train_dataloader())
    assert [len(y) for _, y in batches[:-1]] == [100] * (len(batches) - 1)
    assert sum(len(y) for _, y in batches) == data.split_sizes()["train"]
    assert batches[0][0].shape[1:] == (1, 8, 8)
    shuffled = torch.cat([y for _, y in batches])
    assert not torch.equal(shuffled, data.splits["train"][1])  # shuffled order


def test_normalization_standardizes_the_rescaled_training_split() -> None:
    data = build_digits(normalize=True)
    x = data.to_float(data.splits["train"][0])
    assert x.dtype == torch.float32
    assert x.min() >= 0.0 and x.max() <= 1.0  # stored 0..16, rescaled by 1/16
    z = data.normalization()(x)
    assert abs(z.mean().item()) < 1e-4
    assert abs(z.std().item() - 1) < 1e-3
    assert "mean" in dict(data.normalization().named_buffers())
    raw = build_digits(normalize=False)
    assert torch.equal(raw.normalization()(x), x)


def test_given_statistics_are_used_as_they_are() -> None:
    data = build_digits(mean=[0.5], std=[0.25])
    mean, std = data.normalization_stats()
    assert mean.shape == (1, 1, 1, 1)
    assert (mean.item(), std.item()) == (0.5, 0.25)
    x = torch.full((2, 1, 8, 8), 1.0)
    assert torch.allclose(data.normalization()(x), torch.full_like(x, 2.0))


def test_normalization_statistics_are_cached_in_the_run_directory(tmp_path: Path) -> None:
    data = build_digits()
    cache_normalization(data, tmp_path)
    saved = json.loads((tmp_path / "normalization.json").read_text())
    mean, std = build_digits().normalization_stats()
    assert saved["mean"] == pytest.approx(mean.flatten().tolist())
    assert saved["std"] == pytest.approx(std.flatten().tolist())
    assert saved["rescale"] == 1 / 16
    (tmp_path / "normalization.json").write_text(json.dumps({"mean": [0.5], "std": [2.0]}))
    resumed = build_digits()
    cache_normalization(resumed, tmp_path)  # a second run in the same directory reuses it
    assert [t.item() for t in resumed.normalization_stats()] == [0.5, 2.0]


def test_in_memory_splits_move_to_the_training_device_once() -> None:
    import pytorch_lightning as pl

    from tests.task_modules import classification_module

    data = build_digits(batch_size=256)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))
    classifier = classification_module(
        model, 10, optimizer=lambda m: torch.optim.SGD(m.parameters(), lr=0.1)
    )
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False)  # fmt: skip
    trainer.fit(classifier, datamodule=data)
    device = trainer.strategy.root_device
    assert all(x.device == device and y.device == device for x, y in data.splits.values())
    assert data.splits["train"][0].dtype == torch.float32  # digits are stored as float 0..16
