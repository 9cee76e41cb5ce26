"""Masked GLCM properties against pyradiomics, where their definitions agree.

Not a speed benchmark: an agreement check against an optional oracle that
does not install with the project's tools (its source build needs numpy
already installed: ``pip install --no-build-isolation pyradiomics``).
Without it the script says so and exits.

pyradiomics counts a pair only when both of its voxels are inside the mask,
takes Chebyshev ("infinity norm") distances like ours, and averages each
property over the directions; given our quantized image with a bin width of
1 and the image as one slice (``force2D``), its directions at distance 1 are
our four angles, and at distance 2 the eight directions of Chebyshev norm 2
(angles 0, 26.57, 45, 63.43, 90, 116.57, 135, 153.43 degrees here).  It
numbers the grey levels from 1 at the region's lowest level, so the two
properties that depend on where the levels start (sum average,
autocorrelation) differ by definition and are left out; the others should
agree to rounding.

Usage: python benchmarks/pyradiomics_glcm.py
"""

import logging
import sys

import numpy as np
from scipy import ndimage
from skimage import data

import texture

# Our property -> pyradiomics feature of the same definition.
SAME = {
    "contrast": "Contrast", "dissimilarity": "DifferenceAverage", "homogeneity": "Idm", "asm": "JointEnergy",
    "correlation": "Correlation", "entropy": "JointEntropy", "variance": "SumSquares",
    "sum_variance": "ClusterTendency", "sum_entropy": "SumEntropy", "difference_variance": "DifferenceVariance",
    "difference_entropy": "DifferenceEntropy", "imc1": "Imc1", "imc2": "Imc2",
    "max_probability": "MaximumProbability", "cluster_shade": "ClusterShade",
    "cluster_prominence": "ClusterProminence",
}
# Directions of Chebyshev norm d, as our angles (glcm_offsets maps each to d steps along its dominant axis).
ANGLES = {1: (0, 45, 90, 135), 2: tuple(np.degrees(np.arctan2(r, c)) for r, c in
                                        [(0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (2, -1), (2, -2), (1, -2)])}
LEVELS = 32


def regions(shape):
    rows, cols = shape
    r, c = np.mgrid[:rows, :cols]
    squared = (r - 0.45 * rows) ** 2 + (c - 0.55 * cols) ** 2
    disk = squared < (0.35 * min(shape)) ** 2
    blob = ndimage.gaussian_filter(np.random.default_rng(0).standard_normal(shape), 5) > 0.02
    return {"disk": disk, "ring": disk & (squared > (0.12 * min(shape)) ** 2), "blob": blob}


def main():
    try:
        import SimpleITK as sitk
        import radiomics
        from radiomics.glcm import RadiomicsGLCM
    except ImportError:
        print("pyradiomics is not installed (pip install --no-build-isolation pyradiomics); nothing compared")
        return 0
    radiomics.setVerbosity(logging.ERROR)
    print(f"pyradiomics {radiomics.__version__}; {LEVELS} levels; largest relative difference over "
          f"{len(SAME)} properties (each the mean over the directions)")
    worst = 0.0
    for name in ("brick", "grass", "gravel"):
        image = getattr(data, name)()[:150, :170]
        q = texture.quantize(image, LEVELS).astype(np.float64)[None]  # one slice
        for region, inside in regions(image.shape).items():
            mask = sitk.GetImageFromArray(inside.astype(np.uint8)[None])
            for d, angles in ANGLES.items():
                theirs = RadiomicsGLCM(sitk.GetImageFromArray(q), mask, binWidth=1, distances=[d], force2D=True)
                theirs.enableAllFeatures()
                values = theirs.execute()
                ours = texture.glcm_features(image, distances=[d], angles=angles, levels=LEVELS, mask=inside)
                differences = [abs(ours[f"glcm_{prop}_d{d}_mean"] - float(values[feature]))
                               / max(abs(float(values[feature])), 1e-12) for prop, feature in SAME.items()]
                worst = max(worst, max(differences))
                print(f"{name:7}{region:6} distance {d} ({len(angles)} directions): {max(differences):.1e}")
    print(f"largest relative difference: {worst:.1e}")
    return 0 if worst < 1e-9 else 1


if __name__ == "__main__":
    sys.exit(main())
