"""Training-set augmentation: each texture seen at more scales than photographed.

GLCM, LBP and Gabor features all look at fixed pixel distances, so the same
material photographed from further away gives different features.  Training
on rescaled copies of every training image (the test images are never
touched) teaches the network that those features belong to the same class.
On KTH-TIPS, where whole scales are held out, copies at half an octave above
and below the original raise the held-out accuracy by about five points for
every classifier tried (``benchmarks/accuracy.py``).
"""

from __future__ import annotations

import numpy as np
from skimage.transform import rescale

from texture.errors import ConfigError

__all__ = ["SCALE_FACTORS", "rescaled_copies"]

# Half an octave each way: the nested validation of benchmarks/accuracy.py
# (README, "Results") chose it; KTH-TIPS scales are a quarter octave apart.
SCALE_FACTORS = (2**-0.5, 2**0.5)


def rescaled_copies(image, factors=SCALE_FACTORS):
    """Rescaled copies of a working grey image.

    Parameters
    ----------
    image : (M, N) ndarray of float64
        Working grey image in [0, 1] (see :func:`texture.read_image`).
    factors : sequence of float, default ``SCALE_FACTORS``
        Zoom factors, each positive; below 1 shrinks (with anti-aliasing).

    Returns
    -------
    copies : list of ndarray of float64
        One image per factor, of shape ``round(factor * (M, N))``, values
        clipped to [0, 1] (interpolation can overshoot slightly).

    Raises
    ------
    ConfigError
        A factor is not positive and finite.

    Examples
    --------
    >>> import numpy as np
    >>> [copy.shape for copy in rescaled_copies(np.zeros((100, 60)))]
    [(71, 42), (141, 85)]
    """
    factors = np.asarray(factors, dtype=np.float64)
    if factors.ndim != 1 or not np.all(np.isfinite(factors) & (factors > 0)):
        raise ConfigError(f"scale factors must be positive numbers, got {factors.tolist()!r}")
    return [
        np.clip(rescale(image, factor, order=1, anti_aliasing=factor < 1), 0.0, 1.0)
        for factor in factors
    ]
