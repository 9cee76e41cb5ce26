"""The bundled sample data: where it lives and the recipe that builds it.

Two small, licence-clean sets ship with the package, so that ``texture demo``
and the tests run offline:

``textures``
    Six classes of 96 x 96 8-bit grey PNGs, 25 per class, one folder per
    class.  ``brick``, ``grass`` and ``gravel`` are crops of scikit-image's
    CC0 photographs (``skimage.data.brick()`` ...) on a non-overlapping grid,
    each turned, mirrored and given its own contrast and gamma; ``waves``,
    ``blobs`` and ``weave`` are procedural, with random orientation, scale
    and noise, so that no class is recognisable from one pixel statistic.
``roughness``
    An ordinal set for the texture score: 60 procedural fractal surfaces
    whose roughness grade 1 (smooth) .. 5 (rough) sets the spectral slope and
    contrast, listed with their grade in ``roughness.csv`` (``path,label``).

The recipe is deterministic: one seed, integer-exact quantisation, so
rebuilding gives the same pixels (and, with the same zlib, the same bytes).
Rebuild and refresh ``MANIFEST.json`` with::

    python -m pipeline.sample build [OUT_DIR]    # default: the repository's datasets/

The data lives in the repository's top-level ``datasets/`` folder, which is
*not* an importable package (it would shadow Hugging Face's ``datasets``);
wheels install it as ``pipeline/sample_data``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from texture.errors import TextureError

__all__ = ["SAMPLE_SETS", "sample_root", "build_sample"]

# scipy.ndimage and skimage.data are imported by the generators that use them:
# every ``texture`` command imports this module for sample_root(), and they
# would add about half a second to its start-up.

#: Names accepted by :func:`pipeline.data.load_sample`.
SAMPLE_SETS = ("textures", "roughness")

SEED = 20240501
SIZE = 96
PER_CLASS = 25
PER_GRADE = 12
GRADES = (1, 2, 3, 4, 5)
CC0 = "CC0-1.0"

# Wheels carry datasets/ as package data of pipeline/ (see pyproject.toml);
# source checkouts and editable installs read the top-level folder itself.
_CANDIDATE_ROOTS = (
    Path(__file__).resolve().with_name("sample_data"),
    Path(__file__).resolve().parents[1] / "datasets",
)


def sample_root():
    """Return the folder that holds the bundled sample data and its manifest.

    Returns
    -------
    root : pathlib.Path
        Folder containing ``MANIFEST.json``, ``textures/``, ``roughness/``
        and ``roughness.csv``.

    Raises
    ------
    TextureError
        Neither an installed copy nor a source checkout's ``datasets/`` exists.
    """
    for root in _CANDIDATE_ROOTS:
        if (root / "MANIFEST.json").is_file():
            return root
    looked = ", ".join(str(root) for root in _CANDIDATE_ROOTS)
    raise TextureError(f"bundled sample data not found (looked in {looked})")


def build_sample(out_dir):
    """Write both sample sets and their ``MANIFEST.json`` into `out_dir`.

    Existing ``textures/`` and ``roughness/`` folders inside `out_dir` are
    replaced, so no stale file survives a change of recipe.

    Parameters
    ----------
    out_dir : str or os.PathLike
        Destination folder, created if needed.

    Returns
    -------
    manifest : dict
        What was written to ``MANIFEST.json``.
    """
    out_dir = Path(out_dir)
    for name in SAMPLE_SETS:
        shutil.rmtree(out_dir / name, ignore_errors=True)
    rng = np.random.default_rng(SEED)
    classes = []
    for name, (make, source, licence) in _TEXTURE_CLASSES.items():
        images = make(rng)
        for i, image in enumerate(images):
            _save(out_dir / "textures" / name / f"{name}_{i:02d}.png", image)
        classes.append({"name": name, "count": len(images), "source": source, "licence": licence})

    rows = []
    for grade in GRADES:
        for i in range(PER_GRADE):
            relative = f"roughness/grade{grade}_{i:02d}.png"
            _save(out_dir / relative, _rough_surface(rng, grade))
            rows.append((relative, grade))
    with open(out_dir / "roughness.csv", "w", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["path", "label"])
        writer.writerows(rows)

    manifest = {
        "description": "Bundled sample data of the texture package; rebuild with "
                       "`python -m pipeline.sample build`.",
        "seed": SEED,
        "sets": {
            "textures": {
                "layout": "one folder per class",
                "images": f"{SIZE}x{SIZE} 8-bit grey PNG",
                "classes": classes,
            },
            "roughness": {
                "layout": "roughness.csv lists path,label",
                "images": f"{SIZE}x{SIZE} 8-bit grey PNG",
                "label": "roughness grade, 1 (smooth) to 5 (rough)",
                "count": len(rows),
                "source": "generated: fractal surfaces, spectral slope and contrast set by the grade",
                "licence": CC0,
            },
        },
        "files": _digests(out_dir),
    }
    (out_dir / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _digests(root):
    """Map every data file under `root` (relative POSIX path) to its SHA-256."""
    files = sorted(p for name in SAMPLE_SETS for p in (root / name).rglob("*.png"))
    files.append(root / "roughness.csv")
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in files
    }


def _save(path, image):
    """Quantise a float image in [0, 1] to 8 bits and write it as PNG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.rint(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
    Image.fromarray(pixels).save(path, compress_level=9)


def _photo_crops(name):
    """Cut ``skimage.data.<name>()`` into PER_CLASS distinct crops, each with its own look."""
    def make(rng):
        from skimage import data as skdata

        photo = getattr(skdata, name)()
        grid = int(np.ceil(np.sqrt(PER_CLASS)))
        span = grid * SIZE
        top, left = rng.integers(0, np.array(photo.shape) - span, endpoint=True)
        crops = []
        for cell in range(PER_CLASS):
            row, col = divmod(cell, grid)
            crop = photo[top + row * SIZE:top + (row + 1) * SIZE,
                         left + col * SIZE:left + (col + 1) * SIZE] / 255.0
            crop = np.rot90(crop, k=rng.integers(4))
            if rng.random() < 0.5:
                crop = crop[:, ::-1]
            crops.append(_jitter_contrast(rng, crop))
        return crops
    return make


def _jitter_contrast(rng, image):
    """Random gamma, gain and offset: texture must be told apart by structure."""
    image = image ** rng.uniform(0.7, 1.4)
    gain, centre = rng.uniform(0.7, 1.2), rng.uniform(0.4, 0.6)
    return centre + gain * (image - image.mean())


def _grid():
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    return y, x


def _waves(rng):
    """Oriented sinusoidal ripples with a wandering phase and noise."""
    from scipy import ndimage

    y, x = _grid()
    images = []
    for _ in range(PER_CLASS):
        theta, freq = rng.uniform(0, np.pi), rng.uniform(0.05, 0.16)
        wander = ndimage.gaussian_filter(rng.normal(size=(SIZE, SIZE)), 8) * 40
        phase = 2 * np.pi * freq * (x * np.cos(theta) + y * np.sin(theta)) + wander
        image = 0.5 + 0.3 * np.sin(phase) + rng.normal(0, rng.uniform(0.05, 0.15), (SIZE, SIZE))
        images.append(_jitter_contrast(rng, np.clip(image, 0, 1)))
    return images


def _blobs(rng):
    """Soft-thresholded smooth noise: rounded blobs of random size."""
    from scipy import ndimage

    images = []
    for _ in range(PER_CLASS):
        field = ndimage.gaussian_filter(rng.normal(size=(SIZE, SIZE)), rng.uniform(1.5, 4.0))
        field = (field - field.mean()) / field.std()
        image = 0.5 + 0.35 * np.tanh(rng.uniform(1.0, 3.0) * field)
        image += rng.normal(0, rng.uniform(0.03, 0.1), (SIZE, SIZE))
        images.append(_jitter_contrast(rng, np.clip(image, 0, 1)))
    return images


def _weave(rng):
    """Two crossing ripples: a woven, checker-like pattern at a random angle."""
    y, x = _grid()
    images = []
    for _ in range(PER_CLASS):
        theta, freq = rng.uniform(0, np.pi / 2), rng.uniform(0.06, 0.14)
        u = x * np.cos(theta) + y * np.sin(theta)
        v = -x * np.sin(theta) + y * np.cos(theta)
        image = 0.5 + 0.2 * (np.sin(2 * np.pi * freq * u) * np.sin(2 * np.pi * freq * v)
                             + 0.5 * np.sin(2 * np.pi * 2 * freq * u))
        image += rng.normal(0, rng.uniform(0.05, 0.15), (SIZE, SIZE))
        images.append(_jitter_contrast(rng, np.clip(image, 0, 1)))
    return images


def _rough_surface(rng, grade):
    """Fractal surface: rougher grades have a flatter spectrum and more contrast."""
    beta = 3.6 - 0.4 * grade + rng.uniform(-0.15, 0.15)
    fy, fx = np.meshgrid(np.fft.fftfreq(SIZE), np.fft.rfftfreq(SIZE), indexing="ij")
    radius = np.hypot(fy, fx)
    radius[0, 0] = np.inf  # no DC: mean set below
    spectrum = radius ** (-beta / 2) * np.exp(2j * np.pi * rng.random(radius.shape))
    surface = np.fft.irfft2(spectrum, s=(SIZE, SIZE))
    surface /= surface.std()
    contrast = 0.06 + 0.025 * grade + rng.uniform(-0.01, 0.01)
    return 0.5 + contrast * surface


def _skimage_photo(name, origin):
    return (_photo_crops(name),
            f"crops of scikit-image skimage.data.{name}() ({origin})", CC0)


_TEXTURE_CLASSES = {
    "brick": _skimage_photo("brick", "CC0Textures Bricks25"),
    "grass": _skimage_photo("grass", "DeviantArt linolafett Grass-01"),
    "gravel": _skimage_photo("gravel", "CC0Textures Gravel04"),
    "waves": (_waves, "generated: oriented ripples with wandering phase and noise", CC0),
    "blobs": (_blobs, "generated: soft-thresholded smooth noise", CC0),
    "weave": (_weave, "generated: crossing ripples at a random angle with noise", CC0),
}


def main(argv=None):
    """``python -m pipeline.sample build [OUT_DIR]``: rebuild the sample data."""
    parser = argparse.ArgumentParser(prog="python -m pipeline.sample", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["build"])
    parser.add_argument("out_dir", nargs="?", default=_CANDIDATE_ROOTS[1], type=Path)
    args = parser.parse_args(argv)
    manifest = build_sample(args.out_dir)
    print(f"wrote {len(manifest['files'])} files and MANIFEST.json to {args.out_dir}")


if __name__ == "__main__":
    main()
