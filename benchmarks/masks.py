"""Cost of a masked extraction against the unmasked one on the same images (target: at most 1.3x).

The reference is the unmasked default extractor, timed in the same run on
the same images, the two taking turns on each image (see
``features.per_image_ms``).  Masks: a disk covering about 40 % of the image,
a smooth random blob (about half of it, ragged edges, holes) and the full
image.  A masked extraction reads the mask, checks that it is thick enough
for the longest GLCM offset and the largest LBP radius, and then adds up the
same per-pixel responses over the inside pixels only, so its cost is the
unmasked cost plus those checks and the masked sums, whatever the region.

Usage: python benchmarks/masks.py [--images N] [--repeat R] [--data DIR]
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy is imported

import argparse  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from scipy import ndimage  # noqa: E402

from features import KTH_TIPS, load_images, per_image_ms  # noqa: E402  (benchmarks/features.py)
from texture import FeatureConfig, FeatureExtractor  # noqa: E402
from texture.features import REGISTRY  # noqa: E402

cv2.setNumThreads(1)


def masks(shape):
    rows, cols = shape
    r, c = np.mgrid[:rows, :cols]
    disk = (r - rows / 2) ** 2 + (c - cols / 2) ** 2 < 0.13 * rows * cols
    blob = ndimage.gaussian_filter(np.random.default_rng(0).standard_normal(shape), 5) > 0
    return {"disk": disk, "blob": blob, "full": np.ones(shape, bool)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data", default=KTH_TIPS, help="KTH-TIPS grey folder (class/*.png); default: %(default)s")
    args = parser.parse_args()

    config = FeatureConfig()
    extractor = FeatureExtractor(config)
    images, source = load_images(args.images, args.data)
    regions = masks(images[0].shape)
    print(f"{len(images)} images {images[0].shape} from {source}; single-threaded CPU time, "
          f"mean over the images of the best of {args.repeat} calls, masked and unmasked taking turns")
    print("masks: " + ", ".join(f"{name} {inside.mean():.0%} inside" for name, inside in regions.items()))
    for image in images:  # warm up (allocator, caches, Gabor spectra)
        extractor.transform(image)

    def stage(family):
        def masked_or_not(image, inside=None):
            if inside is not None:
                family.check_mask(inside, config, None)
            return family.vector(image, config, inside)
        return masked_or_not

    stages = {name: stage(family) for name, family in REGISTRY.items()}
    stages["total"] = lambda image, inside=None: extractor.transform(image, mask=inside)
    print(f"{'':8}{'mask':>6}{'masked ms':>11}{'unmasked ms':>13}{'ratio':>8}")
    worst = 0.0
    for name, function in stages.items():
        for region, inside in regions.items():
            masked, unmasked = per_image_ms([lambda im: function(im, inside), function], images, args.repeat)
            print(f"{name:8}{region:>6}{masked:11.2f}{unmasked:13.2f}{masked / unmasked:8.2f}x")
            if name == "total":
                worst = max(worst, masked / unmasked)
    print(f"whole extractor: masked / unmasked at most {worst:.2f}x (target: <= 1.3x)")


if __name__ == "__main__":
    main()
