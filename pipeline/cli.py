"""The ``texture`` command line: extract, train, predict, evaluate, score, demo, map.

This module parses the arguments; :mod:`pipeline.commands` runs the verbs.
Exit status: 0 on success, 1 when a run failed or some input could not be
processed, 2 for a usage error, 130 when interrupted.

It imports only the standard library, :mod:`pipeline.workers` and the
engine registry :mod:`pipeline.run.engines` (which checks the engine
options and imports nothing more): when a
verb will run worker processes, :func:`main` starts their server first and
imports the verbs (numpy, OpenCV, ...) after, so that the server and this
process import at the same time, on two cores.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import textwrap
from pathlib import Path

from pipeline.names import terminal_text
from pipeline.run.engines import option_error
from pipeline.workers import pool_size, start_worker_server

__all__ = ["main", "build_parser"]

EXAMPLES = {
    "extract": """\
        example:
          texture extract photos/ -o features.csv --jobs 4
          texture extract list.csv -o features.parquet --cache ~/.cache/texture
          texture extract /shared/photos -o features.csv --engine dask --scheduler tcp://10.0.0.5:8786
          texture extract photos/ -o features.csv --colour opponent
          texture extract scenes/ --window 64 --step 32 -o windows.parquet
        with --window: one row per window (path, ..., row, col, y0, x0, y1, x1
        with y1, x1 exclusive, then the features), as texture.feature_map.""",
    "train": """\
        example:
          texture train datasets/textures -o model.npz
          texture train labels.csv -o model.npz --test-size 0.3 --epochs 200
          texture train datasets/textures -o model.npz --colour opponent
          texture train datasets/textures -o map_model.npz --window 64
          texture train wall.png --regions wall_labels.png --legend legend.csv -o model.npz
        SRC is a folder with one sub-folder per class, or a CSV path,label[,group];
        with groups, whole groups are held out for the test split.  With --window,
        the model learns from the windows of each training image (for texture map),
        in this process, and is measured on every window of the held-out images.  With --regions,
        SRC is one image and the model learns from its windows lying wholly inside
        one painted label (LABELS: one integer per pixel, 0 = unlabelled; LEGEND:
        a CSV value,label); the window is saved in the model.""",
    "predict": """\
        example:
          texture predict new_photos/ --model model.npz -o predictions.csv""",
    "evaluate": """\
        example:
          texture evaluate test_set/ --model model.npz -o report/
        writes predictions.csv, metrics.csv, confusion_matrix.csv and .png,
        training_curves.png into the output folder.""",
    "score": """\
        example:
          texture score bark.png --model model.npz
          texture score bark.png --model model.npz --json""",
    "map": """\
        example:
          texture map scenes/ --model model.npz -o maps/ --window 64 --step 32
        per image: <name>_labels.png (overlay with legend), <name>_confidence.png
        (heat map, colour bar 0 .. 1), <name>_score.png (heat map of the texture
        score with its colour bar, when the model has one: numeric classes or
        regression) and <name>_map.npz (labels, probabilities, value, geometry,
        class names); one row per image in maps/summary.csv (map size, mean
        confidence and value, area fraction of each class, status).""",
    "demo": """\
        example:
          texture demo -o texture-demo/
        trains on the bundled sample data and writes everything into the folder: model,
        metrics, confusion matrix, training curves, calibration (CSV + reliability
        diagram) and report.html for the held-out part.""",
}


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line (plus a hint), exit status 2."""

    def error(self, message):
        self.exit(2, terminal_text(f"{self.prog}: error: {message} (see {self.prog} --help)") + "\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1, got {text!r}")
    return value


def _existing(text: str) -> Path:
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text}: no such file or folder")
    return path


def _existing_file(text: str) -> Path:
    path = _existing(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: is a folder, not a file")
    return path


def _file_output(text: str) -> str:
    if Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text}: is a folder; give the name of the file to write")
    return text


def _table_output(text: str) -> str:
    _file_output(text)
    if Path(text).suffix.lower() not in (".csv", ".parquet"):
        raise argparse.ArgumentTypeError(f"{text}: output must end in .csv or .parquet")
    return text


def _existing_folder(text: str) -> Path:
    path = _existing(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: is a file, not a folder")
    return path


def _folder_output(text: str) -> str:
    if Path(text).exists() and not Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text}: is a file, not a folder")
    return text


class _Version(argparse.Action):
    """``--version``: imports the library (numpy, OpenCV) only when asked."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, help="print the version of texture and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        from texture import __version__

        print(f"texture {__version__}")
        parser.exit(0)


def _hidden(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(v) for v in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected layer sizes like 64 or 64,32, got {text!r}")
    return sizes


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``texture`` command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    common.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    reads = argparse.ArgumentParser(add_help=False)
    reads.add_argument("--max-pixels", type=_positive_int, default=None, metavar="N",
                       help="refuse images of more than N pixels before decoding them, a guard against "
                            "decompression bombs (default: 134,217,728 = 2**27, texture.io.DEFAULT_MAX_PIXELS)")
    runs = argparse.ArgumentParser(add_help=False, parents=[reads])
    runs.add_argument("-j", "--jobs", type=_positive_int, default=None,
                      help="worker processes (default: all usable CPUs)")
    runs.add_argument("--cache", metavar="DIR", default=None,
                      help="cache feature vectors here, keyed by file content and extractor settings")
    runs.add_argument("--engine", choices=("local", "dask"), default="local",
                      help="where the work runs: local processes (default) or a Dask cluster "
                           "(needs the dask extra)")
    runs.add_argument("--scheduler", metavar="ADDRESS", default=None,
                      help="Dask scheduler to use, e.g. tcp://10.0.0.5:8786 (default with "
                           "--engine dask: start a cluster on this machine)")

    masked = argparse.ArgumentParser(add_help=False)
    masks = masked.add_argument_group(
        "regions of interest", "features of the pixels inside each image's mask (non-zero inside) instead of the "
        "whole image; a CSV input may give them in a mask column instead")
    where = masks.add_mutually_exclusive_group()
    where.add_argument("--masks", type=_existing_folder, metavar="DIR", default=None,
                       help="folder mirroring the input tree: the mask of SRC/a/b.jpg is DIR/a/b.<any image "
                            "extension>")
    where.add_argument("--mask-suffix", metavar="SUFFIX", default=None,
                       help="the mask of a/b.jpg is a/b<SUFFIX>.<any image extension> beside it, e.g. _mask")

    parser = _Parser(prog="texture", description="Texture features, labels and scores for grey images.")
    parser.add_argument("--version", action=_Version)
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB", parser_class=_Parser)

    def verb(name, help, parents):
        p = verbs.add_parser(name, help=help, description=help, parents=parents,
                             epilog=textwrap.dedent(EXAMPLES[name]),
                             formatter_class=argparse.RawDescriptionHelpFormatter)
        # For usage errors that only the combination of options reveals (see main).
        p.set_defaults(usage_error=p.error)
        return p

    p = verb("extract", "Compute the feature vector of every image.", [common, runs, masked])
    p.add_argument("src", type=_existing, metavar="SRC", help="folder (searched recursively) or CSV with a path column")
    p.add_argument("-o", "--output", required=True, type=_table_output, metavar="OUT",
                   help="output .csv or .parquet")
    _config_option(p)
    p.add_argument("--window", type=_positive_int, default=None,
                   help="one row per window of this side in pixels instead of one per image (in colour, "
                        "--colour opponent: an even window and step)")
    p.add_argument("--step", type=_positive_int, default=None,
                   help="with --window: distance between windows in pixels (default: window/2)")

    p = verb("train", "Train a texture model and report its held-out accuracy.", [common, runs, masked])
    p.add_argument("src", type=_existing, metavar="SRC",
                   help="class-per-folder tree or CSV path,label[,group]; one image with --regions")
    p.add_argument("-o", "--output", required=True, type=_file_output, metavar="MODEL",
                   help="model file to write (.npz)")
    _training_options(p)
    p.add_argument("--regions", type=_existing_file, metavar="LABELS", default=None,
                   help="train on one annotated image: its label image (one integer per pixel, 0 = unlabelled)")
    p.add_argument("--legend", type=_existing_file, metavar="CSV", default=None,
                   help="with --regions: the CSV value,label naming the label values")
    p.add_argument("--window", type=_positive_int, default=None,
                   help="a model meant for maps: train on the windows of this side in pixels cut from each "
                        "training image (with --regions: default 64); saved in the model as texture map's "
                        "default")
    p.add_argument("--step", type=_positive_int, default=None,
                   help="with --window: distance between training windows in pixels (default: window/2, "
                        "with --regions window/4)")

    p = verb("predict", "Label and score every image with a trained model.", [common, runs, masked])
    p.add_argument("src", type=_existing, metavar="SRC", help="folder (searched recursively) or CSV with a path column")
    p.add_argument("--model", required=True, type=_existing_file, help="model file from texture train")
    p.add_argument("-o", "--output", required=True, type=_table_output, metavar="OUT",
                   help="output .csv or .parquet")

    p = verb("evaluate", "Measure a model on labelled images: metrics, confusion matrix, plots.",
             [common, runs, masked])
    p.add_argument("src", type=_existing, metavar="SRC", help="class-per-folder tree or CSV path,label")
    p.add_argument("--model", required=True, type=_existing_file, help="model file from texture train")
    p.add_argument("-o", "--output", required=True, type=_folder_output, metavar="DIR",
                   help="folder for the report files")

    p = verb("score", "Print the texture score of one image.", [common, reads])
    p.add_argument("image", type=_existing_file, metavar="IMAGE", help="image file to score")
    p.add_argument("--model", required=True, type=_existing_file, help="model file from texture train")
    p.add_argument("--mask", metavar="FILE", default=None,
                   help="score only the region inside this mask (an image file of the same size, non-zero inside)")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = verb("map", "Map labels and scores window by window over every image.", [common, runs])
    p.add_argument("src", type=_existing, metavar="SRC", help="image file, folder (searched recursively) or CSV")
    p.add_argument("--model", required=True, type=_existing_file, help="model file from texture train")
    p.add_argument("-o", "--output", required=True, type=_folder_output, metavar="DIR",
                   help="folder for the pictures, maps and summary.csv")
    p.add_argument("--window", type=_positive_int, default=None,
                   help="window side in pixels (default: the model's training window, else 64)")
    p.add_argument("--step", type=_positive_int, default=None, help="distance between windows (default: window/2)")

    p = verb("demo", "Run the whole path on the bundled sample data.", [common, runs])
    p.add_argument("-o", "--output", default="texture-demo", type=_folder_output, metavar="DIR",
                   help="folder for everything the demo writes (default: %(default)s)")
    _training_options(p)
    return parser


def _config_option(p) -> None:
    p.add_argument("--config", type=_existing_file, metavar="JSON",
                   help="feature settings: a JSON file of FeatureConfig.to_dict() (default settings otherwise)")
    p.add_argument("--colour", choices=("grey", "opponent"), default=None,
                   help="grey: features of the luminance; opponent: also of two opponent-colour channels, "
                        "plus colour statistics (FeatureConfig(colour=...); overrides --config's; "
                        "default: --config's, else grey)")


def _training_options(p) -> None:
    _config_option(p)
    p.add_argument("--test-size", type=_fraction, default=0.25, help="held-out fraction (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of the split and the network (default: %(default)s)")
    p.add_argument("--scaler", choices=("zscore", "minmax"), default="zscore",
                   help="feature normalization (default: %(default)s)")
    # The network's defaults are pipeline.model.DEFAULT_NETWORK's and BPClassifier's;
    # tests/test_cli.py checks that the help states them.
    p.add_argument("--hidden", type=_hidden, default=None, metavar="SIZES",
                   help="hidden layer sizes, e.g. 64,32 (default: 64, or one per class when more)")
    p.add_argument("--epochs", type=_positive_int, default=None, help="training epochs (default: 200)")
    p.add_argument("--networks", type=_positive_int, default=None, metavar="N",
                   help="networks trained with seeds derived from --seed, their probabilities averaged (default: 3)")
    p.add_argument("--no-augment", dest="augment", action="store_false",
                   help="train on the images only, without their rescaled, blurred and noisy copies")


# --------------------------------------------------------------------------
# entry point


@contextlib.contextmanager
def _termination_stops_the_run():
    """SIGTERM and SIGHUP stop a run as Ctrl-C (SIGINT) does: the rows written so far are kept.

    Yields a dict that gets the number of the signal that stopped the run
    (the exit status is then 128 + that number, as a shell reports it).
    """
    stopped_by = {}

    def stop(signum, frame):
        stopped_by["signal"] = signum
        raise KeyboardInterrupt

    names = [name for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]  # no SIGHUP on Windows
    saved = {name: signal.signal(getattr(signal, name), stop) for name in names}
    try:
        yield stopped_by
    finally:
        for name, handler in saved.items():
            signal.signal(getattr(signal, name), handler)


@contextlib.contextmanager
def _warnings_shown_inert():
    """Show warnings with the control characters of their messages escaped (a warning may name a file)."""
    import warnings

    show = warnings.showwarning

    def shown(message, category, filename, lineno, file=None, line=None):
        show(terminal_text(message), category, filename, lineno, file, line)

    warnings.showwarning = shown
    try:
        yield
    finally:
        warnings.showwarning = show


def main(argv=None) -> int:
    """Run the ``texture`` command; return its exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; ``sys.argv[1:]`` when None.
    """
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    args = build_parser().parse_args(argv)
    args.command = ["texture", *argv]  # as typed: the evaluation report shows it
    if hasattr(args, "engine"):
        message = option_error(args.jobs, args.engine, args.scheduler)
        if message is not None:
            args.usage_error(message)
    if getattr(args, "engine", None) == "local" and pool_size(args.jobs) > 1:
        start_worker_server()  # in the background: it imports while this process does below
    # Imported here, after the server has started (see the module docstring).
    from pipeline.commands import VERBS
    from pipeline.names import escape_path
    from pipeline.run.file_warnings import FileWarnings
    from texture.errors import TextureError

    # The warnings about files, from every batch pass and from this process, said once per command.
    with _termination_stops_the_run() as stopped_by, _warnings_shown_inert(), FileWarnings().collect() as warned:
        try:
            return VERBS[args.verb](args)
        except KeyboardInterrupt:
            print("texture: interrupted; run the same command again to resume", file=sys.stderr)
            return 128 + stopped_by.get("signal", signal.SIGINT)
        except Exception as exc:  # noqa: BLE001 - one clear line instead of a traceback
            if args.debug:
                raise
            text = str(exc) if isinstance(exc, (TextureError, OSError)) else f"{type(exc).__name__}: {exc}"
            print(terminal_text(f"texture {args.verb}: error: {text} (--debug shows the traceback)"), file=sys.stderr)
            return 1
        finally:
            for warning in warned.warnings(escape_path):
                print(terminal_text(f"texture {args.verb}: warning: {warning}"), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
