"""The verbs of the ``texture`` command line (:mod:`pipeline.cli` parses their arguments).

Every verb is a thin layer over the library: :mod:`pipeline.batch` for runs
over folders and CSV lists, :class:`pipeline.TextureModel` for training and
scoring, :mod:`pipeline.report` for metrics and pictures.  Each takes the
parsed arguments and returns the exit status.

The verbs that build tables (train, evaluate, demo) import pandas and the
modules built on it (:mod:`pipeline.report`, :mod:`pipeline.evaluation`) in
their own functions: ``texture extract`` and ``predict`` start without
them, a third of a second sooner.

At about 550 lines this module is longer than the others: it holds seven
verbs and the steps that several of them share (training with its held-out
part for train and demo, the report folder for evaluate and demo).  The next
split is the report folder (``_write_report``, ``_write_calibration``,
``_write_page``) into a module of its own.
"""

from __future__ import annotations

import contextlib
import csv
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import numpy as np

from pipeline.atomic import atomic_write, tracking_created
from pipeline.batch import (ExtractTask, MapTask, PredictTask, TrainingCopiesTask, WindowFeaturesTask, feature_matrix,
                            list_inputs, make_engine, run_batch)
from pipeline.model import TextureModel, default_network
from pipeline.names import escape_path, terminal_text, unescape_path
from pipeline.nn import BPClassifier
from pipeline.sample import sample_root
from pipeline.run.inputs import Item
from texture import IMAGE_EXTENSIONS, FeatureConfig
from texture.errors import ConfigError, DatasetError

__all__ = ["VERBS"]


def _feature_config(args):
    """The FeatureConfig of --config, with --colour's mode when given; None for the default."""
    config = None
    if args.config is not None:
        try:
            config = FeatureConfig.from_dict(json.loads(args.config.read_text()))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"not valid JSON ({exc})", path=args.config) from None
    if args.colour is not None:
        config = replace(config or FeatureConfig(), colour=args.colour)
    return config


def _show(message, err: bool = False) -> None:
    """Print a message for a person, on stdout or (`err`) stderr, with the control characters that names in it
    may hold escaped (:func:`pipeline.names.terminal_text`): each message stays on its own lines."""
    print(terminal_text(message), file=sys.stderr if err else sys.stdout, flush=err)


def _say(args, message: str) -> None:
    """Progress narration on stderr, silenced by --quiet."""
    if not args.quiet:
        _show(message, err=True)


def _finish(summary) -> int:
    _show(f"wrote {summary.output}: {summary}")
    return 1 if summary.failed else 0


# --------------------------------------------------------------------------
# verbs


def cmd_extract(args) -> int:
    if args.window is None:
        if args.step is not None:
            args.usage_error("--step needs --window")
        task = ExtractTask(_feature_config(args), cache_dir=args.cache, max_pixels=args.max_pixels)
    else:
        for option, given in (("--cache", args.cache), ("--masks", args.masks), ("--mask-suffix", args.mask_suffix)):
            if given is not None:
                args.usage_error(f"--window gives the features of every window of the whole image; {option} is "
                                 "for whole-image vectors")
        task = WindowFeaturesTask(_feature_config(args), args.window, args.step, max_pixels=args.max_pixels)
    items, skipped = _inputs(args.src, args)
    if args.window is not None and any(item.mask for item in items):
        raise ConfigError("--window gives the features of every window of the whole image; the input list has a "
                          "mask column", args.src)
    summary = run_batch(task, items, args.output, engine=_engine(args), quiet=args.quiet, desc="extract",
                        skipped=skipped)
    return _finish(summary)


def _inputs(source, args, labelled=False):
    """The inputs of `source`, with the masks of --masks or --mask-suffix (or of a CSV's mask column)."""
    return list_inputs(source, labelled=labelled, masks=getattr(args, "masks", None),
                       mask_suffix=getattr(args, "mask_suffix", None))


def _warn_unmasked(model, items, args) -> None:
    """Say when a model trained on masked regions is given whole images: its scores describe other pixels."""
    unmasked = sum(not item.mask for item in items)
    if model.trained_with_masks_ and unmasked:
        _show(f"texture {args.verb}: warning: the model was trained on masked regions, but {unmasked} of "
              f"{len(items)} images have no mask (--masks, --mask-suffix or a mask column): their features "
              "describe the whole image", err=True)


def cmd_map(args) -> int:
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    src = Path(args.src)
    task = MapTask(TextureModel.load(args.model), out, window=args.window, step=args.step,
                   root=src if src.is_dir() else None, max_pixels=args.max_pixels)
    # One image file is a run of one input; a folder or a CSV is listed as for the other verbs.
    source = [Item(str(src))] if src.suffix.lower() in IMAGE_EXTENSIONS else src
    summary = run_batch(task, source, out / "summary.csv", engine=_engine(args), quiet=args.quiet, desc="map")
    return _finish(summary)


def _engine(args):
    """The batch engine of --jobs, --engine and --scheduler."""
    return make_engine(args.jobs, engine=args.engine, scheduler=args.scheduler)


def cmd_predict(args) -> int:
    model = TextureModel.load(args.model)
    task = PredictTask(model, cache_dir=args.cache, max_pixels=args.max_pixels)
    items, skipped = _inputs(args.src, args)
    _warn_unmasked(model, items, args)
    summary = run_batch(task, items, args.output, engine=_engine(args), quiet=args.quiet, desc="predict",
                        skipped=skipped)
    return _finish(summary)


def _best_epoch(model) -> int | None:
    """The epoch whose weights early stopping kept, when the model validated while training."""
    return getattr(model.estimator_, "best_epoch_", None) if "val_loss" in model.history_ else None


def _write_report(classes, history, y_true, y_pred, out: Path, args, show=False, best_epoch=None) -> dict:
    """Metrics CSV, confusion matrix CSV + PNG and training curves PNG into `out`, atomically."""
    from pipeline import report

    out.mkdir(parents=True, exist_ok=True)
    # Classes the model never saw still get their row.
    labels = list(classes) + sorted(set(y_true) - set(classes), key=str)
    cm = report.confusion_matrix(y_true, y_pred, labels)
    files = {"metrics": out / "metrics.csv", "confusion matrix": out / "confusion_matrix.csv"}
    # A label holding a carriage return (a folder name may) must be quoted, which the csv
    # module does only for its line terminator ("\n"): quote every cell then.
    quoting = csv.QUOTE_ALL if any("\r" in str(label) for label in labels) else csv.QUOTE_MINIMAL
    with atomic_write(files["metrics"], "w", newline="") as f:
        report.classification_report(y_true, y_pred, labels).to_csv(f, float_format="%.6f", quoting=quoting)
    with atomic_write(files["confusion matrix"], "w", newline="") as f:
        cm.to_csv(f, quoting=quoting)
    pictures = {"confusion matrix picture": (report.plot_confusion_matrix, cm, "confusion_matrix.png"),
                "training curves": (partial(report.plot_training_curves, best_epoch=best_epoch), history,
                                    "training_curves.png")}
    try:
        for what, (plot, data, name) in pictures.items():
            if len(data):
                with atomic_write(out / name, "wb") as f:
                    plot(data, f)
                files[what] = out / name
    except ConfigError as exc:  # no [plot] extra: the tables are still useful
        _say(args, f"no pictures: {exc}")
    if show:
        _show("confusion matrix (rows: true, columns: predicted):")
        for line in cm.rename(index=terminal_text, columns=terminal_text).to_string().splitlines():
            _show(line)
    return files


def _write_calibration(classes, y_true, proba, out: Path, args) -> tuple[dict, str]:
    """Reliability bins CSV + diagram PNG into `out`; the files and a line stating ECE and Brier score.

    Images whose true label is not one of the model's `classes` cannot say
    whether a probability was right for them; they are counted, not scored.
    """
    from pipeline import evaluation, report

    index = {label: i for i, label in enumerate(classes)}
    known = np.array([label in index for label in y_true.tolist()], dtype=bool)
    if not known.any():
        return {}, "no calibration figures: no image has a label the model knows"
    truth, proba = np.array([index[label] for label in y_true[known].tolist()]), proba[known]
    bins = evaluation.reliability_bins(truth, proba)
    files = {"calibration": out / "calibration.csv"}
    with atomic_write(files["calibration"], "w", newline="") as f:
        bins.to_csv(f, index=False, float_format="%.6f")
    try:
        with atomic_write(out / "reliability_diagram.png", "wb") as f:
            report.plot_reliability_diagram(bins, f)
        files["reliability diagram"] = out / "reliability_diagram.png"
    except ConfigError as exc:  # no [plot] extra
        _say(args, f"no reliability diagram: {exc}")
    unknown = f" ({np.count_nonzero(~known)} images of classes the model does not know left out)" if not known.all() else ""
    line = (f"expected calibration error {evaluation.expected_calibration_error(truth, proba):.4f} (15 bins), "
            f"Brier score {evaluation.brier_score(truth, proba):.4f} on {len(truth)} images{unknown}")
    return files, line


@contextlib.contextmanager
def _nothing_new_on_failure(folder: Path):
    """Create `folder` for a run's files; when the run fails, remove what it added, and only that.

    What it added is tracked by name as it is written (:func:`pipeline.atomic.tracking_created`): the
    files it created, and the folders it made if they are left empty.  Files that other runs write
    into the folder meanwhile are theirs and stay, and a run refused at once by another run's lock on
    its output has added nothing.  An interrupted run (Ctrl-C) keeps its files: the same command
    resumes from the journal of its batch run.
    """
    made = []  # the folders this run makes, outermost first
    for parent in reversed((folder, *folder.parents)):
        with contextlib.suppress(FileExistsError):
            parent.mkdir()
            made.append(parent)
    with tracking_created() as created:
        try:
            yield folder
        except Exception:
            for path in reversed(created):
                if path.parent.resolve().is_relative_to(folder.resolve()):  # not a cache entry elsewhere
                    path.unlink(missing_ok=True)
            for parent in reversed(made):
                with contextlib.suppress(OSError):  # not empty: another run writes there too
                    parent.rmdir()
            raise


def _warn_unknown_labels(y_true, classes) -> None:
    """Say which true labels the model cannot predict: their images all count as errors."""
    known = set(classes)
    unknown = Counter(label for label in y_true if label not in known)
    if unknown:
        counts = ", ".join(f"{label} ({n})" for label, n in sorted(unknown.items(), key=lambda kv: str(kv[0])))
        _show(f"texture evaluate: warning: {sum(unknown.values())} of {len(y_true)} images have labels the "
              f"model was not trained on, counted as errors: {counts}; its classes are "
              f"{', '.join(map(str, classes))}", err=True)


def _write_page(model, paths, y_true, y_pred, confidence, values, files, out: Path, data: str, args) -> Path:
    """``report.html``: the page a person opens, built on the files `_write_report` wrote."""
    import shlex

    from pipeline.html_report import write_html

    networks = getattr(model.estimator_, "estimators_", [model.estimator_])  # a NetworkEnsemble's, or the one
    first = networks[0]
    described = (f"{type(first).__name__} {list(first.network_.layer_sizes)}, {first.activation}, "
                 f"{len(model.history_.get('loss', ()))} epochs")
    if len(networks) > 1:
        described = f"{len(networks)} x {described} (the first's), probabilities averaged"
    model_info = {"classes": f"{len(model.classes_)}: " + ", ".join(map(str, model.classes_)),
                  "features": f"{len(model.feature_names_)} ({', '.join(model.feature_config_.families)})",
                  "network": described,
                  "scaler": model.scaler,
                  "model digest (sha256)": model.digest()}
    data_info = {"source": data, "images evaluated": len(paths)}
    pictures = {title: files[key] for key, title in (("training curves", "Training curves"),
                                                     ("reliability diagram", "Reliability of the confidence"))
                if key in files}
    grades = values if values is not None and np.isfinite(values).all() else None
    return write_html(out / "report.html", paths=paths, y_true=y_true, y_pred=y_pred, confidence=confidence,
                      classes=list(model.classes_), model_info=model_info, data_info=data_info,
                      command=shlex.join(args.command), history=model.history_,
                      best_epoch=_best_epoch(model),
                      pictures=pictures, values=grades)


def cmd_evaluate(args) -> int:
    import pandas as pd

    from pipeline.report import accuracy

    model = TextureModel.load(args.model)
    if not model.is_classifier:
        raise ConfigError("evaluate needs a classification model")
    items, skipped = _inputs(args.src, args, labelled=True)
    _warn_unmasked(model, items, args)
    task = PredictTask(model, cache_dir=args.cache, max_pixels=args.max_pixels)
    with _nothing_new_on_failure(Path(args.output)) as out:
        summary = run_batch(task, items, out / "predictions.csv", engine=_engine(args), quiet=args.quiet,
                            desc="evaluate", skipped=skipped)
        proba_columns = [column for column in model.score_columns() if column.startswith("proba_")]
        rows = pd.read_csv(summary.output, usecols=["path", "label", "status", "predicted", "confidence", "value",
                                                    *proba_columns], dtype=str, keep_default_na=False)
        rows = rows[rows["status"] == "ok"]
        if rows.empty:
            raise DatasetError(f"no image could be evaluated: {summary}; the first error: {summary.errors[0]}",
                               args.src)
        classes = model.classes_.tolist()
        y_true, y_pred = (_typed_labels(rows[column], classes) for column in ("label", "predicted"))
        _warn_unknown_labels(y_true, classes)
        files = _write_report(classes, model.history_, y_true, y_pred, out, args, best_epoch=_best_epoch(model))
        calibration_files, calibration = _write_calibration(classes, y_true, rows[proba_columns].to_numpy(float),
                                                            out, args)
        files.update(calibration_files)
        values = rows["value"].replace("", "nan").astype(float).to_numpy()
        paths = [unescape_path(path) for path in rows["path"]]  # the files themselves, for the thumbnails
        files["page"] = _write_page(model, paths, y_true, y_pred, rows["confidence"].astype(float),
                                    values, files, out, str(args.src), args)
    _show(f"accuracy {accuracy(y_true, y_pred):.4f} on {len(rows)} images")
    _show(calibration)
    for what, path in {"predictions": summary.output, **files}.items():
        _show(f"  {what}: {path}")
    _show(f"wrote {out}: {summary}")
    return 1 if summary.failed else 0


def cmd_score(args) -> int:
    score = TextureModel.load(args.model).score_image(args.image, mask=args.mask, max_pixels=args.max_pixels)
    path = escape_path(args.image)  # as the CSV outputs name it
    if args.json:
        where = {"path": path, **({} if args.mask is None else {"mask": escape_path(args.mask)})}
        sys.stdout.write(json.dumps({**where, **score.to_dict()}, sort_keys=True) + "\n")  # controls escaped
        return 0
    _show(f"{path}: {score.label} (confidence {score.confidence:.3f})" if score.label is not None else f"{path}:")
    if score.value is not None:
        _show(f"  score {score.value:.4f}")
    for label, p in score.probabilities.items():
        _show(f"  {label!s:>12} {p:.3f}")
    return 0


# --------------------------------------------------------------------------
# training


def _network(args, n_classes=0):
    """The BP network the training options ask for, or None for the model's default.

    Without --hidden, the default width for `n_classes` (64 units when the
    number of classes is not known yet)."""
    params = {"hidden_layer_sizes": args.hidden, "epochs": args.epochs}
    params = {k: v for k, v in params.items() if v is not None}
    if not params:
        return None
    return BPClassifier(random_state=args.seed, **{**default_network(n_classes), **params})


def _networks(args) -> dict:
    """TextureModel's `n_networks` when --networks is given (else the model's default)."""
    return {} if args.networks is None else {"n_networks": args.networks}


def _number(text) -> float | None:
    """The finite number `text` spells, or None: "nan" and "inf" are names, not grades."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if np.isfinite(value) else None


def _typed_labels(texts, classes=None) -> np.ndarray:
    """Labels as read (folder names, CSV cells: text), typed as class labels.

    ``texture train`` types its labels with it, ``texture evaluate`` the true
    and the predicted ones, so that a class is equal to itself however it is
    spelled.

    Parameters
    ----------
    texts : sequence of str
    classes : sequence, optional
        The classes of a trained model (typed by this function at training).

    Returns
    -------
    labels : ndarray
        Without `classes`, when every label is a finite number: int64 when
        all are whole (so that classes sort 1, 2, ..., 10, and "1", "1.0" and
        "01" are one class), else each number's shortest text ("0.5",
        "1.0"): the classifier, as scikit-learn's, takes fractional numbers
        for a continuous target, not for classes.  Otherwise the texts
        unchanged ("1" and "one" are two names).  With `classes`: each text
        that spells a class is that class (any spelling of its number when
        every class is a number, else its exact name); any other text stays
        as written, a class the model never saw.
    """
    numbers = [_number(text) for text in texts]
    if classes is None:
        if None in numbers:
            return np.array(texts)
        values = np.array(numbers, dtype=np.float64)
        if np.all((values == np.round(values)) & (np.abs(values) < 2.0**63)):  # beyond: no int64
            return values.astype(np.int64)
        return np.array([repr(value) for value in numbers])
    numeric = np.asarray(classes).dtype.kind in "iufU"  # not bool: True and False are names
    class_numbers = [_number(c) for c in classes] if numeric else []
    if numeric and None not in class_numbers:
        spelled, keys = dict(zip(class_numbers, classes)), numbers
    else:
        spelled, keys = {str(c): c for c in classes}, texts
    return np.array([spelled.get(key, text) for key, text in zip(keys, texts)], dtype=object)


@dataclass
class _Counts:
    """What a training run did with its inputs (each one left out is named on stderr)."""

    trained: int
    held_out: int
    failed: int  # features failed: neither trained on nor held out
    without_copies: int = 0  # trained on, but their training copies failed
    skipped: list[str] = field(default_factory=list)  # files of the folder that are not images

    def __str__(self) -> str:
        without = f" ({self.without_copies} without their training copies)" if self.without_copies else ""
        # Every file is counted once: the parts add up to the total.
        total = self.trained + self.held_out + self.failed + len(self.skipped)
        return (f"{total} files: {self.trained} trained on{without}, {self.held_out} held out, "
                f"{self.failed} failed, {len(self.skipped)} skipped (not images)")


def _check_classes(labels, source) -> None:
    """Refuse training labels that hold fewer than two classes, naming what was found."""
    classes = np.unique(labels)
    if len(classes) < 2:
        found = f"one class, {classes[0]}" if len(classes) else "no class"
        raise DatasetError(f"found {found}; a classifier needs at least two (one sub-folder, or one "
                           f"label, per class)", source)


def _training_inputs(source, args, task) -> tuple[list, list[str], list[str]]:
    """The labelled inputs of `source` that can be trained on, the files skipped (not images), and the error
    lines of the folders that cannot be listed.

    Files that are not images are said as skipped.  A folder that cannot be
    listed is no image of its class: it is named (and counted as failed by
    the caller) before the label checks, which its missing images can fail.
    """
    items, skipped = _inputs(source, args, labelled=True)
    for path in skipped:
        _say(args, f"skipped (not an image): {escape_path(path)}")
    unlisted = [task.error_row(item, item.error).error_line() for item in items if item.error]
    for message in unlisted:
        _say(args, f"left out: {message}")
    return [item for item in items if not item.error], skipped, unlisted


def _train(source, args):
    """List, extract, split, fit on the training part, predict the held-out part.

    Parameters
    ----------
    source : pathlib.Path
        Class-per-folder tree or CSV (see :func:`pipeline.batch.list_inputs`).
    args : argparse.Namespace
        The training options.

    Returns
    -------
    model : TextureModel
    test_items : list of Item
    y_test : ndarray
        Their labels, typed as the model's classes.
    scores : list of TextureScore
        Held-out predictions, aligned with `test_items`.
    counts : _Counts
        Images trained on, held out and left out.
    """
    from pipeline.evaluation import holdout_split

    config = _feature_config(args)
    task = ExtractTask(config, cache_dir=args.cache, max_pixels=args.max_pixels)
    items, skipped, unlisted = _training_inputs(source, args, task)
    # The labels can refuse the run before minutes of extraction: too few
    # classes, a class or group too small to hold one out.
    every_label = _typed_labels([item.label for item in items])
    _check_classes(every_label, source)
    holdout_split(every_label, [item.group for item in items], args.test_size, args.seed)
    _say(args, f"extracting features of {len(items)} images ...")
    X, kept, errors = feature_matrix(task, items, engine=_engine(args), quiet=args.quiet, desc="train")
    for message in errors:
        _say(args, f"left out: {message}")
    errors = unlisted + errors
    if not kept:  # the cause, not what follows from it (no samples to fit)
        raise DatasetError(f"none of its {len(items)} images could be used; the first: {errors[0]}", source)
    labels = _typed_labels([item.label for item in kept])
    train, test = holdout_split(labels, [item.group for item in kept], args.test_size, args.seed)
    # The groups that keep the held-out images apart keep the calibration's apart too.
    groups = np.array([str(item.group) for item in kept] if all(item.group for item in kept)
                      else [str(i) for i in range(len(kept))])
    counts = _Counts(len(train), len(test), len(errors), skipped=skipped)
    copies = {}
    if args.augment:
        copies = _training_copies([kept[i] for i in train], X.shape[1], config, args)
        counts.without_copies = len(train) - int(copies["has_copies"].sum())
    _say(args, f"training on {len(train)} images, holding out {len(test)} ...")
    model = TextureModel(config, scaler=args.scaler, estimator=_network(args, len(np.unique(labels[train]))),
                         random_state=args.seed, augment=args.augment, **_networks(args))
    model.fit_features(X[train], labels[train], groups[train], **copies, masked=any(kept[i].mask for i in train))
    return model, [kept[i] for i in test], labels[test], model.score_features(X[test]), counts


def _training_copies(items, n_features, config, args) -> dict:
    """The features of the training copies of `items`, as :meth:`TextureModel.fit_features` takes them.

    The copies of an image can fail where the image did not: a shrunk copy
    below the extractor's minimum size, or the file changed or removed since
    the first pass.  The image is then trained on without them, and named.
    """
    _say(args, f"extracting features of rescaled, blurred, noisy and cropped copies of {len(items)} training images ...")
    task = TrainingCopiesTask(config, cache_dir=args.cache, max_pixels=args.max_pixels)
    wide, copied, errors = feature_matrix(task, items, engine=_engine(args), quiet=args.quiet, desc="train copies")
    for message in errors:
        _say(args, f"left out: training copies (the image itself is trained on): {message}")
    # feature_matrix keeps the input order: `copied` is a subsequence of `items`.
    has_copies = np.zeros(len(items), dtype=bool)
    position = iter(range(len(items)))
    for item in copied:
        has_copies[next(i for i in position if items[i] == item)] = True
    copies = np.zeros((len(items), len(task.columns) // n_features, n_features))
    copies[has_copies] = wide.reshape(len(copied), -1, n_features)
    return {"copies": copies, "has_copies": has_copies}


def _train_regions(args) -> int:
    """``texture train IMAGE --regions LABELS --legend CSV``: fit on the windows inside one painted label."""
    if args.legend is None:
        args.usage_error("--regions needs --legend (a CSV value,label)")
    if not Path(args.src).is_file():
        args.usage_error(f"with --regions, SRC is one image file, not {args.src}")
    model = TextureModel(_feature_config(args), scaler=args.scaler, estimator=_network(args), random_state=args.seed,
                         **_networks(args))
    model.fit_regions(args.src, args.regions, args.legend, window=args.window, step=args.step)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    model.save(args.output)
    _show(f"wrote model {args.output}: classes {', '.join(map(str, model.classes_))}, window {model.window_} px")
    return 0


def _train_windows(args) -> int:
    """``texture train SRC --window W``: a model meant for maps, trained on the windows of each training image.

    The training is the model's own (``TextureModel(window=W).fit``), in
    this process; the held-out images are mapped with the model and every
    window is measured against its image's label.
    """
    from pipeline.evaluation import holdout_split
    from pipeline.report import accuracy

    items, _, unlisted = _training_inputs(args.src, args, ExtractTask(_feature_config(args)))
    if any(item.mask for item in items):
        args.usage_error("--window trains on every window of each whole image; the inputs have masks")
    labels = _typed_labels([item.label for item in items])
    _check_classes(labels, args.src)
    train, test = holdout_split(labels, [item.group for item in items], args.test_size, args.seed)
    model = TextureModel(_feature_config(args), scaler=args.scaler,
                         estimator=_network(args, len(np.unique(labels[train]))), random_state=args.seed,
                         augment=args.augment, window=args.window, step=args.step, **_networks(args))
    _say(args, f"training on the {args.window} px windows of {len(train)} images, holding out {len(test)} ...")
    model.fit([items[i].path for i in train], labels[train])
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    model.save(args.output)
    maps = [(labels[i], model.score_map(items[i].path, step=args.step, max_pixels=args.max_pixels)) for i in test]
    n_windows = sum(tmap.grid.rows * tmap.grid.cols for _, tmap in maps)
    if model.is_classifier:
        y_true = [label for label, tmap in maps for _ in range(tmap.labels.size)]
        y_pred = [label for _, tmap in maps for label in tmap.labels.ravel().tolist()]
        measure = f"held-out accuracy {accuracy(y_true, y_pred):.4f}"
    else:
        error = np.mean(np.concatenate([np.abs(tmap.value.ravel() - label) for label, tmap in maps]))
        measure = f"held-out mean absolute error {error:.4f}"
    _show(f"{measure} on the {n_windows} windows of {len(test)} images")
    _show(f"wrote model {args.output}: trained on {len(train)} images, window {model.window_} px"
          + (f", {len(unlisted)} failed" if unlisted else ""))
    return 1 if unlisted else 0


def cmd_train(args) -> int:
    from pipeline.report import accuracy

    if args.regions is not None:
        return _train_regions(args)
    if args.window is not None:
        return _train_windows(args)
    if args.step is not None:
        args.usage_error("--step needs --window")
    model, _, y_true, scores, counts = _train(args.src, args)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)  # as extract and predict do
    model.save(args.output)
    y_pred = [score.label for score in scores]
    _show(f"held-out accuracy {accuracy(y_true, y_pred):.4f} on {len(y_true)} images")
    _show(f"wrote model {args.output}: {counts}")
    # The model is usable, but an input could not be processed: exit 1 as the batch verbs do.
    return 1 if counts.failed else 0


def cmd_demo(args) -> int:
    from pipeline.report import accuracy

    t0 = time.perf_counter()
    root = sample_root()
    _show(f"texture demo: bundled sample {root / 'textures'}")
    with _nothing_new_on_failure(Path(args.output)) as out:
        model, test_items, y_true, scores, counts = _train(root / "textures", args)
        failed = counts.failed
        written = {"model": out / "model.npz"}
        model.save(written["model"])
        y_pred = [score.label for score in scores]
        _show(f"held-out accuracy {accuracy(y_true, y_pred):.4f} on {len(y_true)} images "
              f"({len(model.classes_)} classes, {len(model.feature_names_)} features)")
        _show(counts)
        written.update(_write_report(model.classes_, model.history_, y_true, y_pred, out, args, show=True,
                                     best_epoch=_best_epoch(model)))
        # As `texture evaluate` does: how far the held-out confidences can be trusted.
        proba = np.array([[score.probabilities[label] for label in model.classes_.tolist()] for score in scores])
        calibration_files, calibration = _write_calibration(model.classes_.tolist(), y_true, proba, out, args)
        written.update(calibration_files)
        _show(calibration)
        written["report page"] = _write_page(model, [str(item.path) for item in test_items], y_true, y_pred,
                                             [score.confidence for score in scores], None, written, out,
                                             f"held-out part of {root / 'textures'}", args)
        example = test_items[0].path
        score = model.score_image(example)
        _show(f"score of {example}: {score.label} (confidence {score.confidence:.3f})")

        grades = root / "roughness.csv"
        if grades.is_file():
            model, test_items, true_grades, scores, counts = _train(grades, args)
            failed += counts.failed
            written["roughness model"] = out / "roughness_model.npz"
            model.save(written["roughness model"])
            values = [score.value for score in scores]
            error = np.mean(np.abs(np.array(values) - true_grades))
            _show(f"roughness score (expected grade 1-5) of {test_items[0].path}: {values[0]:.2f} "
                  f"(true grade {true_grades[0]}); mean absolute error {error:.2f} "
                  f"on {len(test_items)} held-out images")
            _show(counts)
    _show(f"done in {time.perf_counter() - t0:.1f} s; written:")
    for what, path in written.items():
        _show(f"  {what}: {path}")
    return 1 if failed else 0


VERBS = {"extract": cmd_extract, "train": cmd_train, "predict": cmd_predict, "evaluate": cmd_evaluate,
         "score": cmd_score, "demo": cmd_demo, "map": cmd_map}
