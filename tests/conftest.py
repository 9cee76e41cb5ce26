"""Shared fixtures: real texture images for the reference comparisons."""

from pathlib import Path

import numpy as np
import pytest
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
