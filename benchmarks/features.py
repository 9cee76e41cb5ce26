"""Per-image cost of the default feature extractor against the reference composition.

Single-threaded.  The reference is what one would write with the reference
libraries and the same parameters: scikit-image ``graycomatrix`` +
``graycoprops`` (every property it has), ``local_binary_pattern`` at the three
scales + histograms, and OpenCV ``filter2D`` with the same 24 complex Gabor
kernels + magnitude statistics.  (It computes fewer GLCM properties than ours:
mahotas' extra ones are not part of it.)

With ``--config JSON`` (a candidate ``FeatureConfig``, e.g. with the optional
families ``glcmhalf`` and ``lbpvar``), the families of that config against
their references, and the candidate's whole vector against the default's,
in turns on the same images: the budget of a new default is 1.5 times
today's.  The references of the optional families: ``local_binary_pattern``
``"var"`` binned like ours (``lbpvar``), ``graycomatrix`` of the four
half-resolution images (``glcmhalf``), the prototype of ``lpq`` (four complex
separable ``scipy.signal.convolve2d`` passes, "same" size with a zero border,
the decorrelation as one matrix product and the signs as sums of powers of
2), and for ``lpqr`` the same prototype without the decorrelation, its codes
pooled by a lookup into their rotation orbits; ``clbp`` has none in these
libraries (its codes are tested against a float64 brute force) and is timed
alone.

Then the cost of a colour vector (``FeatureConfig(colour="opponent")``)
against the grey one, on the same colour photographs (USPTex, 128 x 128,
when present; else crops of scikit-image's colour photographs), both from
the decoded 8-bit RGB array: the budget is 2.5 times the grey cost.

Usage: python benchmarks/features.py [--images N] [--repeat R] [--profile] [--data DIR] [--colour-data DIR]
                                    [--config JSON]
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy is imported

import argparse  # noqa: E402
import cProfile  # noqa: E402
import json  # noqa: E402
import pstats  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from skimage import data  # noqa: E402
from scipy.signal import convolve2d  # noqa: E402
from skimage.feature import graycomatrix, graycoprops, local_binary_pattern  # noqa: E402

from texture import FeatureConfig, FeatureExtractor, read_image  # noqa: E402
from texture.features import REGISTRY  # noqa: E402
from texture.gabor import gabor_bank  # noqa: E402
from texture.glcm import quantize  # noqa: E402
from texture.lbp import VAR_BINS  # noqa: E402
from texture.lpq import decorrelation_matrix, rotation_orbits  # noqa: E402

cv2.setNumThreads(1)
KTH_TIPS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "kth_tips_grey"
USPTEX = KTH_TIPS.parent / "usptex"
SKIMAGE_PROPS = ("contrast", "dissimilarity", "homogeneity", "ASM", "energy", "correlation", "mean", "variance",
                 "std", "entropy")
SIZES = (128, 256, 512, 1024)


def load_images(n, folder):
    """n real 200x200 8-bit textures as working float images, and where they come from.

    Spread over the classes; the few KTH-TIPS images of other sizes are
    skipped (the target is per 200x200 image, and transform sizes with large
    prime factors cost more per pixel).
    """
    paths = sorted(Path(folder).glob("*/*.png"))
    if paths:
        candidates = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in paths[:: max(1, len(paths) // (2 * n))]]
        images = [im for im in candidates if im.shape == (200, 200)]
        return [read_image(im) for im in images[:: max(1, len(images) // n)][:n]], f"KTH-TIPS ({folder})"
    photos = [getattr(data, name)() for name in ("brick", "grass", "gravel")]
    crops = [photo[r : r + 200, c : c + 200] for photo in photos for r in (0, 150, 300) for c in (0, 150, 300)]
    return [read_image(c) for c in crops[:n]], "scikit-image brick/grass/gravel crops"


def load_colour_images(n, folder):
    """n 8-bit RGB photographs, spread over the classes, and where they come from."""
    paths = sorted(Path(folder).glob("*/*.png"))
    if paths:
        picked = paths[:: max(1, len(paths) // n)][:n]
        return [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in picked], f"USPTex ({folder})"
    photos = [getattr(data, name)() for name in ("coffee", "chelsea", "astronaut")]
    crops = [photo[r : r + 128, c : c + 128] for photo in photos for r in (0, 128, 256) for c in (0, 128, 256)]
    return [np.ascontiguousarray(c) for c in crops[:n]], "scikit-image coffee/chelsea/astronaut crops"


def colour_cost(n, repeat, folder):
    """Print the per-image cost of the grey and the colour vector of the same RGB images, and their ratio."""
    images, source = load_colour_images(n, folder)
    grey, colour = FeatureExtractor(), FeatureExtractor(FeatureConfig(colour="opponent"))
    functions = [lambda rgb: grey.transform(read_image(rgb)), lambda rgb: colour.transform(read_image(rgb, colour=True))]
    for image in images:  # warm up, as above
        for function in functions:
            function(image)
    a, b = per_image_ms(functions, images, repeat)
    print(f"\ncolour vector ({len(colour.names)} features) against the grey one ({len(grey.names)}): "
          f"{len(images)} images {images[0].shape} from {source}, from the decoded 8-bit RGB array")
    print(f"{'grey ms':>10}{'colour ms':>11}{'ratio':>8}")
    print(f"{a:10.2f}{b:11.2f}{b / a:8.2f}x   (budget: <= 2.5x)")


class Reference:
    """The same features composed from scikit-image and OpenCV calls."""

    def __init__(self, config, props=SKIMAGE_PROPS):
        self.config = config
        self.props = props
        self.kernels = [k[::-1, ::-1] for k in gabor_bank(config.gabor_frequencies, config.gabor_orientations,
                                                           config.gabor_bandwidth)]
        self.kernel_parts = [(k.real.copy(), k.imag.copy()) for k in self.kernels]

    def glcm(self, image):
        c = self.config
        q = quantize(image, c.glcm_levels)
        # Our Chebyshev offsets: scikit-image's distance d / max(|sin a|, |cos a|) per angle.
        P = np.concatenate([
            graycomatrix(q, np.divide(c.glcm_distances, max(abs(np.sin(a)), abs(np.cos(a)))), [a], c.glcm_levels,
                         symmetric=True, normed=True)
            for a in np.deg2rad(c.glcm_angles)
        ], axis=3)
        return np.concatenate([graycoprops(P, prop).ravel() for prop in self.props])

    def lbp(self, image):
        hists = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for P, R in self.config.lbp_scales:
                codes = local_binary_pattern(image, P, R, "uniform")
                hists.append(np.bincount(codes.astype(np.intp).ravel(), minlength=P + 2) / codes.size)
        return np.concatenate(hists)

    def lbpvar(self, image):
        # The edges of texture.lbp.var_bins, counted: 2**(k - 2.5) squared 8-bit grey levels.
        edges = 2.0 ** (np.arange(VAR_BINS - 1) - 2.5) / 255**2
        hists = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for P, R in self.config.lbpvar_scales:
                variance = np.nan_to_num(local_binary_pattern(image, P, R, "var"), nan=0.0)
                hists.append(np.bincount(np.searchsorted(edges, variance.ravel(), side="right"),
                                         minlength=VAR_BINS) / variance.size)
        return np.concatenate(hists)

    def glcmhalf(self, image):
        # The four half-resolution images (2 x 2 block means of image[a:, b:]), their counts pooled.
        c = self.config
        counts = 0
        for a in (0, 1):
            for b in (0, 1):
                crop = image[a:, b:]
                rows, cols = crop.shape[0] // 2 * 2, crop.shape[1] // 2 * 2
                half = crop[:rows, :cols].reshape(rows // 2, 2, cols // 2, 2).mean(axis=(1, 3))
                q = quantize(half, c.glcm_levels)
                counts = counts + np.concatenate([
                    graycomatrix(q, np.divide(c.glcm_distances, max(abs(np.sin(t)), abs(np.cos(t)))), [t],
                                 c.glcm_levels, symmetric=True)
                    for t in np.deg2rad(c.glcm_angles)
                ], axis=3).astype(np.float64)
        P = counts / counts.sum(axis=(0, 1), keepdims=True)
        return np.concatenate([graycoprops(P, prop).ravel() for prop in self.props])

    def _lpq_codes(self, image, decorrelate):
        # The prototype the family was written from, with our semantics (zeros outside, every pixel).
        window = self.config.lpq_window
        x = np.arange(window) - window // 2
        w0, w1 = np.ones(window, dtype=complex), np.exp(-2j * np.pi * x / window)
        w2 = np.conj(w1)

        def separable(column, row):
            return convolve2d(convolve2d(image, column[:, None], mode="same"), row[None, :], mode="same")

        coefficients = [separable(w0, w1), separable(w1, w0), separable(w1, w1), separable(w1, w2)]
        values = np.stack([part for z in coefficients for part in (z.real, z.imag)], axis=-1)
        if decorrelate:
            values = values @ decorrelation_matrix(window).T  # the matrix is cached: per image, only its product
        return ((values > 0) * (1 << np.arange(8))).sum(axis=-1)

    def lpq(self, image):
        codes = self._lpq_codes(image, decorrelate=True)
        return np.bincount(codes.ravel(), minlength=256) / codes.size

    def lpqr(self, image):
        codes = self._lpq_codes(image, decorrelate=False)
        return np.bincount(rotation_orbits()[codes.ravel()], minlength=64) / codes.size

    def gabor(self, image):
        stats = []
        for real, imag in self.kernel_parts:
            magnitude = np.hypot(cv2.filter2D(image, -1, real), cv2.filter2D(image, -1, imag))
            stats += [magnitude.mean(), magnitude.std()]
        return np.array(stats)

    def transform(self, image):
        return np.concatenate([getattr(self, family)(image) for family in self.config.families])


def per_image_ms(functions, images, repeat):
    """Mean over the images of each function's best-of-``repeat`` CPU time, in milliseconds.

    CPU time of this (single-threaded) process rather than wall time, so that
    other processes sharing the cores do not count; the best of a few calls
    per image, as ``timeit`` advises, so that the cache misses and
    preemptions they still cause count as little as possible, whatever the
    function's duration (the best of whole passes over the images is biased
    against the slower functions on a busy machine).  The functions take
    turns on each image, so that ours and the reference see the same phase
    of a machine whose speed drifts (by up to a third on this virtual
    machine): their ratio is steadier than either time.
    """
    for function in functions:
        function(images[0])  # warm caches (Gabor spectra, imports)
    best = np.full((len(functions), len(images)), np.inf)
    for _ in range(repeat):
        for k, image in enumerate(images):
            for f, function in enumerate(functions):
                start = time.process_time()
                function(image)
                best[f, k] = min(best[f, k], time.process_time() - start)
    return 1e3 * best.mean(axis=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="print the cProfile top functions of ours")
    parser.add_argument("--data", default=KTH_TIPS, help="KTH-TIPS grey folder (class/*.png); default: %(default)s")
    parser.add_argument("--colour-data", default=USPTEX, help="USPTex folder (class/*.png); default: %(default)s")
    parser.add_argument("--colour-only", action="store_true", help="only the colour vs grey cost")
    parser.add_argument("--config", type=json.loads, default=None,
                        help="a candidate FeatureConfig as JSON: its families, and its whole vector against the default")
    args = parser.parse_args()
    if args.colour_only:
        colour_cost(args.images, args.repeat, args.colour_data)
        return

    config = FeatureConfig.from_dict(args.config or {})
    ours, reference = FeatureExtractor(config), Reference(config)
    images, source = load_images(args.images, args.data)
    print(f"{len(images)} images {images[0].shape} from {source}; single-threaded CPU time, "
          f"mean over the images of the best of {args.repeat} calls")
    # Warm up (allocator, caches, clocks): the first timings of a fresh
    # process run slower, which would penalise whatever is measured first.
    for image in images:
        ours.transform(image)
    for name in config.families:
        if hasattr(reference, name):
            getattr(reference, name)(images[0])

    families = {
        name: (lambda im, family=REGISTRY[name]: family.vector(im, config), getattr(reference, name, None))
        for name in config.families
    }
    print(f"{'':10}{'ours ms':>10}{'reference ms':>14}{'ratio':>8}")
    for name, (mine, theirs) in families.items():
        if theirs is None:
            print(f"{name:10}{per_image_ms([mine], images, args.repeat)[0]:10.2f}{'—':>14}{'—':>8}")
            continue
        a, b = per_image_ms([mine, theirs], images, args.repeat)
        print(f"{name:10}{a:10.2f}{b:14.2f}{b / a:8.1f}x")
    if all(theirs is not None for _, theirs in families.values()):
        a, b = per_image_ms([ours.transform, reference.transform], images, args.repeat)
        print(f"{'total':10}{a:10.2f}{b:14.2f}{b / a:8.1f}x   (target: < 10 ms and >= 10x)")
    if args.config is not None:
        default = FeatureExtractor()
        a, b = per_image_ms([default.transform, ours.transform], images, args.repeat)
        print(f"\ncandidate {args.config} ({len(ours.names)} features) against the default ({len(default.names)}):")
        print(f"{'default ms':>12}{'candidate ms':>14}{'ratio':>8}")
        print(f"{a:12.2f}{b:14.2f}{b / a:8.2f}x   (budget of a new default: <= 1.5x)")
        return

    print("\ncost vs size (one real texture resized, square):")
    print(f"{'size':>6}{'ours ms':>10}{'ms/Mpx':>9}{'reference ms':>14}{'ratio':>8}")
    base = images[0]
    for size in SIZES:
        image = cv2.resize(base, (size, size), interpolation=cv2.INTER_LINEAR)
        a, b = per_image_ms([ours.transform, reference.transform], [image], args.repeat)
        print(f"{size:6d}{a:10.2f}{a / (size * size / 1e6):9.1f}{b:14.2f}{b / a:8.1f}x")

    colour_cost(args.images, args.repeat, args.colour_data)

    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(lambda: [ours.transform(im) for im in images])
        pstats.Stats(profile).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
