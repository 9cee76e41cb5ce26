"""Shared fixtures: real texture images for the reference comparisons."""

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from skimage import data

# The KTH-TIPS grey copy lives next to the repository (never inside it).
KTH_TIPS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "kth_tips_grey"


def _kth_tips_images(n):
    import cv2

    paths = sorted(KTH_TIPS.glob("*/*.png"))[:: 81][:n]
    return [(p.parent.name, cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)) for p in paths]


@pytest.fixture(scope="session")
def texture_images():
    """A few real 8-bit textures, non-square: KTH-TIPS when present, else scikit-image's."""
    images = _kth_tips_images(3) if KTH_TIPS.is_dir() else []
    if not images:
        images = [(name, getattr(data, name)()) for name in ("brick", "grass", "gravel")]
    return [(name, np.ascontiguousarray(image[:150, :170])) for name, image in images]


@pytest.fixture(scope="session")
def regions():
    """Masks of varied shape for an image shape: a disk, a ring (a hole inside), a smooth random blob."""

    def make(shape, seed=0):
        from scipy import ndimage

        rows, cols = shape
        r, c = np.mgrid[:rows, :cols]
        squared = (r - 0.45 * rows) ** 2 + (c - 0.55 * cols) ** 2
        disk = squared < (0.35 * min(shape)) ** 2
        ring = disk & (squared > (0.12 * min(shape)) ** 2)
        noise = np.random.default_rng(seed).standard_normal(shape)
        blob = ndimage.gaussian_filter(noise, 5) > 0.02
        return {"disk": disk, "ring": ring, "blob": blob}

    return make


# Hypothesis property tests: the same bounded set of examples on
# every run, no deadline (timings vary on shared CI machines) and no example
# database.  HYPOTHESIS_PROFILE=dev explores new random examples locally.
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=50,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", parent=settings.get_profile("ci"), derandomize=False, max_examples=300)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
