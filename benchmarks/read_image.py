"""Time texture.read_image against scikit-image's imread + conversion to float grey.

Prints ours, the reference timed in the same run, and the ratio (reference / ours).
"""

import tempfile
import timeit
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import io as skio
from skimage.color import rgb2gray
from skimage.util import img_as_float

from texture import read_image


def _reference(path):
    pixels = skio.imread(path)
    return rgb2gray(pixels[..., :3]) if pixels.ndim == 3 else img_as_float(pixels)


def main():
    rng = np.random.default_rng(0)
    cases = {
        "grey8 200x200 png": rng.integers(0, 256, (200, 200), dtype=np.uint8),
        "rgb8 1024x1024 png": rng.integers(0, 256, (1024, 1024, 3), dtype=np.uint8),
        "rgb8 1024x1024 jpg": rng.integers(0, 256, (1024, 1024, 3), dtype=np.uint8),
        "grey16 512x512 tif": rng.integers(0, 65536, (512, 512), dtype=np.uint16),
    }
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'case':24s} {'ours ms':>9s} {'skimage ms':>11s} {'ratio':>6s}")
        for name, pixels in cases.items():
            path = Path(tmp) / ("img." + name.rsplit(" ", 1)[1])
            Image.fromarray(pixels).save(path)
            np.testing.assert_allclose(read_image(path), _reference(path), atol=1e-6)
            runs = 200 if pixels.size < 10**5 else 10
            ours = min(timeit.repeat(lambda: read_image(path), number=runs, repeat=3)) / runs
            ref = min(timeit.repeat(lambda: _reference(path), number=runs, repeat=3)) / runs
            print(f"{name:24s} {ours * 1e3:9.3f} {ref * 1e3:11.3f} {ref / ours:6.2f}")


if __name__ == "__main__":
    main()
