"""Augmentation invariants: shapes, dtypes, ranges, exact flips, identities, seeds, train only,
and MixUp/CutMix soft targets with the loss they need."""

from __future__ import annotations

from typing import Any

import pytest
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tests.task_modules import classification_module
from trainrig.augmentation.batch_augmentation import BatchAugmentation
from trainrig.augmentation.batched import build_augmentation, zoom_bounds
from trainrig.augmentation.random_affine import RandomAffine
from trainrig.data.in_memory import InMemoryDataModule

SHAPE = (3, 16, 16)
OPTIONS: dict[str, dict[str, Any]] = {
    "affine": {"rotation_range": 20, "width_shift_range": 0.2, "zoom_range": 0.2,
               "shear_range": 10},
    "flips": {"horizontal_flip": True, "vertical_flip": True},
    "brightness": {"brightness_range": [0.5, 1.5]},
    "crop": {"crop_padding": 4},
    "colour": {"color_jitter": 0.4},
    "erasing": {"erasing_probability": 1.0},
    "everything": {
        "rotation_range": 15, "width_shift_range": 0.1, "horizontal_flip": True,
        "brightness_range": [0.8, 1.2], "crop_padding": 2, "color_jitter": 0.2,
        "erasing_probability": 0.5,
    },
}  # fmt: skip


def _batch(n: int = 8) -> Tensor:
    return torch.rand(n, *SHAPE, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("options", OPTIONS.values(), ids=OPTIONS.keys())
def test_shape_dtype_and_range_are_kept(options: dict[str, Any]) -> None:
    x = _batch()
    out, y = build_augmentation(SHAPE, 10, **options)(x, torch.arange(8))
    assert out.shape == x.shape and out.dtype == x.dtype
    assert out.min() >= -1e-6 and out.max() <= 1 + 1e-6
    assert torch.equal(y, torch.arange(8))
    assert not torch.equal(out, x)


def test_a_flip_is_an_exact_flip() -> None:
    x = _batch(64)
    out, _ = build_augmentation(SHAPE, 10, horizontal_flip=True)(x, torch.zeros(64))
    flipped = [torch.equal(o, i.flip(-1)) for o, i in zip(out, x, strict=True)]
    kept = [torch.equal(o, i) for o, i in zip(out, x, strict=True)]
    assert all(f or k for f, k in zip(flipped, kept, strict=True))
    assert 10 < sum(flipped) < 54  # per-sample coin flips, not one for the batch


def test_zero_rotation_shift_and_zoom_are_the_identity() -> None:
    x = _batch()
    augment = build_augmentation(SHAPE, 10, rotation_range=0, width_shift_range=0, zoom_range=0)
    assert torch.equal(augment(x, torch.zeros(8))[0], x)


def test_same_seed_same_batch() -> None:
    augment = build_augmentation(SHAPE, 10, **OPTIONS["everything"])
    torch.manual_seed(7)
    first = augment(_batch(), torch.zeros(8))[0]
    torch.manual_seed(7)
    again = augment(_batch(), torch.zeros(8))[0]
    torch.manual_seed(8)
    other = augment(_batch(), torch.zeros(8))[0]
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_keras_zoom_range_means_what_keras_means() -> None:
    assert zoom_bounds(0.25) == pytest.approx((0.75, 1.25))
    assert zoom_bounds([0.5, 2.0]) == pytest.approx((0.5, 2.0))


def test_affine_matches_keras_geometry() -> None:
    """A pure shift moves content by the drawn number of pixels; zoom 0.5 magnifies 2x."""
    x = torch.zeros(1, 1, 9, 9)
    x[0, 0, 4, 4] = 1.0  # one bright pixel in the centre
    shift = RandomAffine(shift=(2 / 9, 0.0), padding_mode="zeros")
    torch.manual_seed(0)
    theta = shift.matrices(x)
    drawn = theta[0, 0, 2].item() * 9 / 2  # pixels
    torch.manual_seed(0)
    moved = shift(x)
    column = moved[0, 0, 4].argmax().item()
    assert column == 4 - round(drawn)  # sampling the input at x + s moves content by -s
    magnified = RandomAffine(zoom=(0.5, 0.5), padding_mode="zeros")(x)
    assert (magnified[0, 0] > 0.2).sum() > (x[0, 0] > 0.2).sum()


@pytest.mark.parametrize("mix", [{"mixup_alpha": 0.4}, {"cutmix_alpha": 1.0}])
def test_mixing_gives_soft_targets_and_the_mixed_loss(mix: dict[str, float]) -> None:
    x, y = _batch(), torch.arange(8) % 4
    out, soft = build_augmentation(SHAPE, 4, **mix)(x, y)
    assert out.shape == x.shape and not torch.equal(out, x)
    assert soft.shape == (8, 4)
    assert torch.allclose(soft.sum(dim=1), torch.ones(8))
    assert (soft.max(dim=1).values >= 0.5 - 1e-6).all()  # the larger share names the class
    logits = torch.randn(8, 4)
    classifier = classification_module(nn.Identity(), 4, optimizer=torch.optim.SGD)
    loss = classifier._step((logits, soft), "train")
    expected = -(soft * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)


class CountingAugmentation(BatchAugmentation):
    """Counts the batches it augments."""

    def __init__(self) -> None:
        super().__init__(nn.Identity())
        self.calls = 0

    def forward(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        self.calls += 1
        return x, y


def test_only_training_batches_are_augmented() -> None:
    split = (torch.rand(32, 1, 4, 4), torch.arange(32) % 2)
    data = InMemoryDataModule(split, split, split, num_outputs=2, batch_size=8)
    augmentation = CountingAugmentation()
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    classifier = classification_module(
        model, 2, optimizer=lambda m: torch.optim.SGD(m.parameters(), lr=0.1),
        augmentation=augmentation,
    )  # fmt: skip
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False)  # fmt: skip
    trainer.fit(classifier, datamodule=data)
    assert augmentation.calls == 4  # 32 samples / 8 per batch, validation untouched
    trainer.validate(classifier, datamodule=data, verbose=False)
    trainer.test(classifier, datamodule=data, verbose=False)
    assert augmentation.calls == 4


def test_sampling_grid_equals_torchs_affine_grid() -> None:
    from trainrig.augmentation.random_affine import sampling_grid

    theta = torch.randn(5, 2, 3)
    expected = F.affine_grid(theta, [5, 1, 7, 11], align_corners=False)
    assert torch.allclose(sampling_grid(theta, 7, 11), expected, atol=1e-6)


def test_per_sample_path_transforms_one_uint8_image_like_the_batched_path() -> None:
    from trainrig.augmentation.per_sample import build_per_sample_augmentation

    transform = build_per_sample_augmentation(
        SHAPE, rotation_range=20, width_shift_range=0.2, zoom=(0.9, 1.1), horizontal_flip=True,
        brightness_range=[0.8, 1.2], crop_padding=2, erasing_probability=0.5,
    )  # fmt: skip
    image = (torch.rand(*SHAPE) * 255).to(torch.uint8)
    torch.manual_seed(3)
    out = transform(image)
    torch.manual_seed(3)
    again = transform(image)
    assert out.shape == image.shape and out.dtype == torch.uint8
    assert torch.equal(out, again) and not torch.equal(out, image)
    identity = build_per_sample_augmentation(SHAPE)
    assert torch.equal(identity(image), image)


@pytest.mark.parametrize("name", ["basic", "keras", "strong"])
def test_an_option_that_names_a_library_runs_that_librarys_transforms(name: str) -> None:
    """`trainrig list` once called `basic` kornia's while it runs trainrig's RandomAffine."""
    from omegaconf import OmegaConf

    from trainrig.config.tree import iter_options

    option = next(o for o in iter_options("augmentation") if o.name == name)
    settings = OmegaConf.to_container(OmegaConf.load(option.path))
    assert isinstance(settings, dict)
    kwargs = {k: v for k, v in settings.items() if not str(k).startswith("_")}
    built = build_augmentation((3, 32, 32), 10, **kwargs)
    libraries = {type(m).__module__.split(".")[0] for m in built.modules()}
    for library, shown in (("kornia", "kornia"), ("trainrig", "RandomAffine")):
        if shown in option.description:
            assert library in libraries, (option.description, libraries)
