"""The ``texture`` command line: extract, train, predict, evaluate, score, demo.

Every verb is a thin layer over the library: :mod:`pipeline.batch` for runs
over folders and CSV lists, :class:`pipeline.TextureModel` for training and
scoring, :mod:`pipeline.report` for metrics and pictures.  Exit status: 0 on
success, 1 when a run failed or some input could not be processed, 2 for a
usage error, 130 when interrupted.

The verbs that build tables (train, evaluate, demo) import pandas and the
modules built on it (:mod:`pipeline.report`, :mod:`pipeline.evaluation`) in
their own functions: ``texture extract`` and ``predict`` start without
them, a third of a second sooner.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

from pipeline.batch import (ExtractTask, PredictTask, atomic_write, feature_matrix, list_inputs,
                            make_engine, run_batch)
from pipeline.model import DEFAULT_NETWORK, TextureModel
from pipeline.nn import BPClassifier
from pipeline.sample import sample_root
from texture import FeatureConfig
from texture.errors import ConfigError, TextureError

__all__ = ["main", "build_parser"]

EXAMPLES = {
    "extract": """\
        example:
          texture extract photos/ -o features.csv --jobs 4
          texture extract list.csv -o features.parquet --cache ~/.cache/texture
          texture extract /shared/photos -o features.csv --engine dask --scheduler tcp://10.0.0.5:8786""",
    "train": """\
        example:
          texture train datasets/textures -o model.npz
          texture train labels.csv -o model.npz --test-size 0.3 --epochs 200
        SRC is a folder with one sub-folder per class, or a CSV path,label[,group];
        with groups, whole groups are held out for the test split.""",
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
    "demo": """\
        example:
          texture demo -o texture-demo/
        trains on the bundled sample data and writes everything into the folder.""",
}


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line (plus a hint), exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


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
    runs = argparse.ArgumentParser(add_help=False)
    runs.add_argument("-j", "--jobs", type=_positive_int, default=None,
                      help="worker processes (default: all usable CPUs)")
    runs.add_argument("--cache", metavar="DIR", default=None,
                      help="cache feature vectors here, keyed by file content and extractor settings")
    runs.add_argument("--engine", choices=("local", "dask"), default="local",
                      help="where the work runs: local processes (default) or a Dask cluster "
                           "(needs texture[dask])")
    runs.add_argument("--scheduler", metavar="ADDRESS", default=None,
                      help="Dask scheduler to use, e.g. tcp://10.0.0.5:8786 (default with "
                           "--engine dask: start a cluster on this machine)")

    parser = _Parser(prog="texture", description="Texture features, labels and scores for grey images.")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB", parser_class=_Parser)

    def verb(name, help, parents):
        return verbs.add_parser(name, help=help, description=help, parents=parents,
                                epilog=textwrap.dedent(EXAMPLES[name]),
                                formatter_class=argparse.RawDescriptionHelpFormatter)

    p = verb("extract", "Compute the feature vector of every image.", [common, runs])
    p.add_argument("src", type=_existing, metavar="SRC", help="folder (searched recursively) or CSV with a path column")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output .csv or .parquet")
    _config_option(p)
    p.set_defaults(func=cmd_extract)

    p = verb("train", "Train a texture model and report its held-out accuracy.", [common, runs])
    p.add_argument("src", type=_existing, metavar="SRC", help="class-per-folder tree or CSV path,label[,group]")
    p.add_argument("-o", "--output", required=True, metavar="MODEL", help="model file to write (.npz)")
    _training_options(p)
    p.set_defaults(func=cmd_train)

    p = verb("predict", "Label and score every image with a trained model.", [common, runs])
    p.add_argument("src", type=_existing, metavar="SRC", help="folder (searched recursively) or CSV with a path column")
    p.add_argument("--model", required=True, type=_existing, help="model file from texture train")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output .csv or .parquet")
    p.set_defaults(func=cmd_predict)

    p = verb("evaluate", "Measure a model on labelled images: metrics, confusion matrix, plots.", [common, runs])
    p.add_argument("src", type=_existing, metavar="SRC", help="class-per-folder tree or CSV path,label")
    p.add_argument("--model", required=True, type=_existing, help="model file from texture train")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="folder for the report files")
    p.set_defaults(func=cmd_evaluate)

    p = verb("score", "Print the texture score of one image.", [common])
    p.add_argument("image", type=_existing, metavar="IMAGE")
    p.add_argument("--model", required=True, type=_existing, help="model file from texture train")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_score)

    p = verb("demo", "Run the whole path on the bundled sample data.", [common, runs])
    p.add_argument("-o", "--output", default="texture-demo", metavar="DIR",
                   help="folder for everything the demo writes (default: %(default)s)")
    _training_options(p)
    p.set_defaults(func=cmd_demo)
    return parser


def _config_option(p) -> None:
    p.add_argument("--config", type=_existing, metavar="JSON",
                   help="feature settings: a JSON file of FeatureConfig.to_dict() (default settings otherwise)")


def _feature_config(args):
    """The FeatureConfig of --config, or None for the default."""
    if args.config is None:
        return None
    try:
        return FeatureConfig.from_dict(json.loads(args.config.read_text()))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not valid JSON ({exc})", path=args.config) from None


def _training_options(p) -> None:
    _config_option(p)
    p.add_argument("--test-size", type=_fraction, default=0.25, help="held-out fraction (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of the split and the network (default: %(default)s)")
    p.add_argument("--scaler", choices=("zscore", "minmax"), default="zscore", help="feature normalization")
    p.add_argument("--hidden", type=_hidden, default=None, metavar="SIZES", help="hidden layer sizes, e.g. 64,32")
    p.add_argument("--epochs", type=_positive_int, default=None, help="training epochs")


def _say(args, message: str) -> None:
    """Progress narration on stderr, silenced by --quiet."""
    if not args.quiet:
        print(message, file=sys.stderr, flush=True)


def _finish(summary) -> int:
    print(f"wrote {summary.output}: {summary}")
    return 1 if summary.failed else 0


# --------------------------------------------------------------------------
# verbs


def cmd_extract(args) -> int:
    summary = run_batch(ExtractTask(_feature_config(args), cache_dir=args.cache), args.src, args.output,
                        engine=_engine(args), quiet=args.quiet, desc="extract")
    return _finish(summary)


def _engine(args):
    """The batch engine of --jobs, --engine and --scheduler."""
    return make_engine(args.jobs, engine=args.engine, scheduler=args.scheduler)


def cmd_predict(args) -> int:
    summary = run_batch(PredictTask(TextureModel.load(args.model), cache_dir=args.cache), args.src,
                        args.output, engine=_engine(args), quiet=args.quiet, desc="predict")
    return _finish(summary)


def _write_report(classes, history, y_true, y_pred, out: Path, args, show=False) -> dict:
    """Metrics CSV, confusion matrix CSV + PNG and training curves PNG into `out`, atomically."""
    from pipeline import report

    out.mkdir(parents=True, exist_ok=True)
    # Classes the model never saw still get their row.
    labels = list(classes) + sorted(set(y_true) - set(classes), key=str)
    cm = report.confusion_matrix(y_true, y_pred, labels)
    files = {"metrics": out / "metrics.csv", "confusion matrix": out / "confusion_matrix.csv"}
    with atomic_write(files["metrics"], "w", newline="") as f:
        report.classification_report(y_true, y_pred, labels).to_csv(f, float_format="%.6f")
    with atomic_write(files["confusion matrix"], "w", newline="") as f:
        cm.to_csv(f)
    pictures = {"confusion matrix picture": (report.plot_confusion_matrix, cm, "confusion_matrix.png"),
                "training curves": (report.plot_training_curves, history, "training_curves.png")}
    try:
        for what, (plot, data, name) in pictures.items():
            if len(data):
                with atomic_write(out / name, "wb") as f:
                    plot(data, f)
                files[what] = out / name
    except ConfigError as exc:  # no [plot] extra: the tables are still useful
        _say(args, f"no pictures: {exc}")
    if show:
        print("confusion matrix (rows: true, columns: predicted):\n" + cm.to_string())
    return files


def cmd_evaluate(args) -> int:
    import pandas as pd

    from pipeline.report import accuracy

    model = TextureModel.load(args.model)
    if not model.is_classifier:
        raise ConfigError("evaluate needs a classification model")
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    items, _ = list_inputs(args.src, labelled=True)
    summary = run_batch(PredictTask(model, cache_dir=args.cache), items, out / "predictions.csv",
                        engine=_engine(args), quiet=args.quiet, desc="evaluate")
    rows = pd.read_csv(summary.output, usecols=["label", "status", "predicted"], dtype=str,
                       keep_default_na=False)
    rows = rows[rows["status"] == "ok"]
    # Labels come back from CSV as text; compare them with the classes as text.
    classes = [str(c) for c in model.classes_]
    y_true, y_pred = rows["label"].to_numpy(), rows["predicted"].to_numpy()
    files = _write_report(classes, model.history_, y_true, y_pred, out, args)
    print(f"accuracy {accuracy(y_true, y_pred):.4f} on {len(rows)} images")
    for what, path in {"predictions": summary.output, **files}.items():
        print(f"  {what}: {path}")
    print(f"wrote {out}: {summary}")
    return 1 if summary.failed else 0


def cmd_score(args) -> int:
    score = TextureModel.load(args.model).score_image(args.image)
    if args.json:
        print(json.dumps({"path": str(args.image), **score.to_dict()}, sort_keys=True))
        return 0
    print(f"{args.image}: {score.label} (confidence {score.confidence:.3f})"
          if score.label is not None else f"{args.image}:")
    if score.value is not None:
        print(f"  score {score.value:.4f}")
    for label, p in score.probabilities.items():
        print(f"  {label!s:>12} {p:.3f}")
    return 0


# --------------------------------------------------------------------------
# training


def _network(args):
    """The BP network the training options ask for, or None for the model's default."""
    params = {"hidden_layer_sizes": args.hidden, "epochs": args.epochs}
    params = {k: v for k, v in params.items() if v is not None}
    if not params:
        return None
    return BPClassifier(random_state=args.seed, **{**DEFAULT_NETWORK, **params})


def _typed_labels(texts) -> np.ndarray:
    """Labels as read (text); whole-number grades become ints so that classes sort 1, 2, ..., 10."""
    try:
        numbers = np.array([float(t) for t in texts])
    except ValueError:
        return np.array(texts)
    return numbers.astype(np.int64) if (numbers == np.round(numbers)).all() else numbers


def _train(items, args):
    """Extract, split, fit on the training part, predict the held-out part.

    Returns
    -------
    model : TextureModel
    test_items : list of Item
    y_test : ndarray
        Their labels, typed as the model's classes.
    scores : list of TextureScore
        Held-out predictions, aligned with `test_items`.
    """
    from pipeline.evaluation import holdout_split

    _say(args, f"extracting features of {len(items)} images ...")
    config = _feature_config(args)
    X, kept, errors = feature_matrix(ExtractTask(config, cache_dir=args.cache), items,
                                     engine=_engine(args))
    for message in errors:
        _say(args, f"left out: {message}")
    labels = _typed_labels([item.label for item in kept])
    train, test = holdout_split(labels, [item.group for item in kept], args.test_size, args.seed)
    _say(args, f"training on {len(train)} images, holding out {len(test)} ...")
    model = TextureModel(config, scaler=args.scaler, estimator=_network(args), random_state=args.seed)
    model.fit_features(X[train], labels[train])
    return model, [kept[i] for i in test], labels[test], model.score_features(X[test])


def cmd_train(args) -> int:
    from pipeline.report import accuracy

    items, _ = list_inputs(args.src, labelled=True)
    model, _, y_true, scores = _train(items, args)
    model.save(args.output)
    y_pred = [score.label for score in scores]
    print(f"held-out accuracy {accuracy(y_true, y_pred):.4f} on {len(y_true)} images")
    print(f"wrote model {args.output}")
    return 0


def cmd_demo(args) -> int:
    from pipeline.report import accuracy

    t0 = time.perf_counter()
    root, out = sample_root(), Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    print(f"texture demo: bundled sample {root / 'textures'}")
    items, _ = list_inputs(root / "textures", labelled=True)
    model, test_items, y_true, scores = _train(items, args)
    written = {"model": out / "model.npz"}
    model.save(written["model"])
    y_pred = [score.label for score in scores]
    print(f"held-out accuracy {accuracy(y_true, y_pred):.4f} on {len(y_true)} images "
          f"({len(model.classes_)} classes, {len(model.feature_names_)} features)")
    written.update(_write_report(model.classes_, model.history_, y_true, y_pred, out, args, show=True))
    example = test_items[0].path
    score = model.score_image(example)
    print(f"score of {example}: {score.label} (confidence {score.confidence:.3f})")

    grades = root / "roughness.csv"
    if grades.is_file():
        items, _ = list_inputs(grades, labelled=True)
        model, test_items, true_grades, scores = _train(items, args)
        written["roughness model"] = out / "roughness_model.npz"
        model.save(written["roughness model"])
        values = [score.value for score in scores]
        error = np.mean(np.abs(np.array(values) - true_grades))
        print(f"roughness score (expected grade 1-5) of {test_items[0].path}: {values[0]:.2f} "
              f"(true grade {true_grades[0]}); mean absolute error {error:.2f} "
              f"on {len(test_items)} held-out images")
    print(f"done in {time.perf_counter() - t0:.1f} s; written:")
    for what, path in written.items():
        print(f"  {what}: {path}")
    return 0


# --------------------------------------------------------------------------
# entry point


def main(argv=None) -> int:
    """Run the ``texture`` command; return its exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; ``sys.argv[1:]`` when None.
    """
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("texture: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one clear line instead of a traceback
        if args.debug:
            raise
        text = str(exc) if isinstance(exc, (TextureError, OSError)) else f"{type(exc).__name__}: {exc}"
        print(f"texture {args.verb}: error: {text} (--debug shows the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
