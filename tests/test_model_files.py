"""Model files from elsewhere: other versions, edited contents, damage, pickles.

Both file formats, the network's (:mod:`pipeline.nn.persistence`, behind
``BPClassifier.save``) and the texture model's (``TextureModel.save``), must
either load a file into a model that predicts exactly like the one saved, or
refuse it with a ModelFileError naming the file.  "Edited" files here carry
*valid* checksums, as a file written by another version or tool would: the
content itself is validated, not only its integrity.  Nothing in a model file
is ever executed.
"""

import gc
import io
import json
import pickle
import zipfile

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import pipeline.model as model_module
from pipeline import BPClassifier
from pipeline.model import TextureModel
from pipeline.nn import persistence
from texture import FeatureConfig, ModelFileError

RNG = np.random.default_rng(7)
X = RNG.normal(size=(40, 4))
LABELS = np.array(["bark", "cork", "felt", "foil"])[np.arange(40) % 4]
CONFIG = FeatureConfig(families=("glcm",), glcm_distances=(1,), glcm_angles=(0, 90), glcm_levels=8)


def _net():
    return BPClassifier(hidden_layer_sizes=(5,), epochs=5, batch_size=8, random_state=0)


@pytest.fixture(scope="module")
def classifier():
    return _net().fit(X, LABELS)


@pytest.fixture(scope="module")
def texture_model():
    names = TextureModel(feature_config=CONFIG)._extractor().names
    features = np.random.default_rng(8).random((24, len(names)))
    return TextureModel(feature_config=CONFIG, estimator=_net()).fit_features(features, LABELS[:24])


# Rewriting files with consistent checksums, as another writer would.

def _nn_rewrite(source, target, change):
    """Apply ``change(meta, arrays)`` to a network file and save it with fresh checksums."""
    meta, arrays = persistence.load_npz(source)
    change(meta, arrays)
    persistence.save_npz(target, meta, arrays)


def _nn_rewrite_header(source, target, change):
    """Apply ``change(header)`` to the raw JSON header (format, version...)."""
    with np.load(source, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    header = json.loads(arrays.pop("__header__").tobytes())
    change(header)
    with open(target, "wb") as f:
        np.savez(f, __header__=np.frombuffer(json.dumps(header).encode(), np.uint8), **arrays)


def _tm_rewrite(source, target, change):
    """Apply ``change(meta, arrays)`` to a texture-model file and re-sign it."""
    with np.load(source, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files if k != "sha256"}
    original = arrays["metadata"]
    meta = json.loads(str(original))
    change(meta, arrays)
    if arrays["metadata"] is original:  # else the change replaced it outright
        arrays["metadata"] = np.array(json.dumps(meta, sort_keys=True))
    arrays["sha256"] = np.array(model_module._digest(arrays))
    np.savez(target, **arrays)


def _refused(load, path, match=None):
    with pytest.raises(ModelFileError, match=match) as info:
        load(path)
    assert info.value.path == str(path)
    return info.value


# Versions.

@pytest.mark.parametrize("version", [0, 2, "1", None])
def test_network_file_of_another_format_version_is_refused_with_the_versions(classifier, tmp_path, version):
    good, other = tmp_path / "good.npz", tmp_path / "other.npz"
    classifier.save(good)
    _nn_rewrite_header(good, other, lambda h: h.update(format_version=version))
    err = _refused(BPClassifier.load, other, "version")
    assert repr(version) in str(err) and str(persistence.FORMAT_VERSION) in str(err)


@pytest.mark.parametrize("version", [0, 2, "1"])
def test_texture_model_of_another_format_version_is_refused(texture_model, tmp_path, version):
    good, other = tmp_path / "good.npz", tmp_path / "other.npz"
    texture_model.save(good)
    _tm_rewrite(good, other, lambda meta, a: meta.update(format_version=version, texture_version="9.9"))
    err = _refused(TextureModel.load, other, "format")
    assert "9.9" in str(err)  # says which texture wrote it


def test_same_version_files_round_trip_exactly(classifier, texture_model, tmp_path):
    classifier.save(tmp_path / "net.npz")
    np.testing.assert_array_equal(BPClassifier.load(tmp_path / "net.npz").predict_proba(X),
                                  classifier.predict_proba(X))
    texture_model.save(tmp_path / "tm.npz")
    features = np.random.default_rng(9).random((5, len(texture_model.feature_names_)))
    again = TextureModel.load(tmp_path / "tm.npz")
    np.testing.assert_array_equal(again.estimator_.predict_proba(again._normalized(features)),
                                  texture_model.estimator_.predict_proba(texture_model._normalized(features)))


# Extra, missing, reshaped and retyped arrays (checksums valid).

NN_EDITS = {
    "extra array": (lambda m, a: a.update(W9=np.zeros((5, 5), np.float32)), "W9"),
    "missing weights": (lambda m, a: a.pop("W1"), "W1"),
    "missing classes": (lambda m, a: a.pop("classes"), "classes"),
    "transposed": (lambda m, a: a.update(W0=a["W0"].T.copy()), "W0 has shape"),
    "float64 weights": (lambda m, a: a.update(W0=a["W0"].astype(np.float64)), "dtype"),
    "integer weights": (lambda m, a: a.update(b0=a["b0"].astype(np.int32)), "dtype"),
    "string weights": (lambda m, a: a.update(b1=a["b1"].astype(str)), "dtype"),
    "too few classes": (lambda m, a: a.update(classes=a["classes"][:2]), "classes"),
    "2-D classes": (lambda m, a: a.update(classes=a["classes"][None, :]), r"shape \(1, 4\)"),
    "non-finite weights": (lambda m, a: a["W1"].__setitem__((0, 0), np.inf), "NaN or inf"),
    "wrong layer sizes": (lambda m, a: m.update(layer_sizes=[4, 6, 4]), "architecture"),
    "unknown parameter": (lambda m, a: m["params"].update(evil="os.system"), "evil"),
    "bad activation": (lambda m, a: m["params"].update(activation="__import__"), "activation"),
    "missing history": (lambda m, a: m.pop("history_"), "history_"),
    "not an estimator": (lambda m, a: (m.clear(), m.update(estimator=[1, 2])), "not a BPClassifier"),
}


@pytest.mark.parametrize("edit", NN_EDITS, ids=list(NN_EDITS))
def test_edited_network_files_are_refused(classifier, tmp_path, edit):
    change, match = NN_EDITS[edit]
    good, edited = tmp_path / "good.npz", tmp_path / "edited.npz"
    classifier.save(good)
    _nn_rewrite(good, edited, change)
    _refused(BPClassifier.load, edited, match)


def _scale(arrays, change):
    arrays["scaler.scale"] = change(arrays["scaler.scale"])


TM_EDITS = {  # edit -> words of the expected message
    "extra array": ("unexpected arrays", lambda m, a: a.update({"estimator.W7": np.zeros(3, np.float32)})),
    "extra scaler array": ("unexpected arrays", lambda m, a: a.update({"scaler.extra": np.zeros(3)})),
    "missing scaler array": ("lacks", lambda m, a: a.pop("scaler.offset")),
    "missing network array": ("b0", lambda m, a: a.pop("estimator.b0")),
    "short scaler": ("shapes", lambda m, a: _scale(a, lambda s: s[:-1].copy())),
    "NaN scale": ("NaN or infinite", lambda m, a: _scale(a, lambda s: np.full_like(s, np.nan))),
    "infinite scale": ("NaN or infinite", lambda m, a: _scale(a, lambda s: np.full_like(s, np.inf))),
    "string scale": ("floats", lambda m, a: _scale(a, lambda s: s.astype(str))),
    "NaN offset": ("NaN or infinite", lambda m, a: a.update({"scaler.offset": np.full_like(a["scaler.offset"], np.nan)})),
    "transposed weights": ("W0 has shape", lambda m, a: a.update({"estimator.W0": a["estimator.W0"].T.copy()})),
    "float64 weights": ("dtype float64", lambda m, a: a.update({"estimator.W0": a["estimator.W0"].astype(np.float64)})),
    "classes differ from network": ("class names", lambda m, a: m.update(classes=["a", "b"])),
    "unknown estimator": ("unknown estimator", lambda m, a: m["estimator"].update({"class": "subprocess.Popen"})),
    "unknown scaler": ("unknown scaler", lambda m, a: m["scaler"].update(kind="eval")),
    "feature config field": ("exec", lambda m, a: m["feature_config"].update(exec="print(1)")),
    "metadata not JSON": ("not a texture model", lambda m, a: a.update(metadata=np.array("{not json"))),
    "metadata a list": ("not a texture model", lambda m, a: a.update(metadata=np.array("[1, 2]"))),
    "metadata numeric": ("not a texture model", lambda m, a: a.update(metadata=np.arange(3))),
    "short normalizer": ("normalizer", lambda m, a: a.update(
        {k: a[k][:-1].copy() for k in ("scaler.offset", "scaler.scale")})),
}


@pytest.mark.parametrize("edit", TM_EDITS, ids=list(TM_EDITS))
def test_edited_texture_model_files_are_refused(texture_model, tmp_path, edit):
    good, edited = tmp_path / "good.npz", tmp_path / "edited.npz"
    texture_model.save(good)
    match, change = TM_EDITS[edit]
    _tm_rewrite(good, edited, change)
    _refused(TextureModel.load, edited, match)


# Pickles: refused, and never unpickled.

class _Payload:
    """Unpickling this creates the directory `marker`: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        import os

        return (os.mkdir, (self.marker,))


def _pickle_files(tmp_path, good, marker):
    """Files that carry a pickle with a side effect, in every place one can hide."""
    payload = np.array([_Payload(marker)], dtype=object)
    with np.load(good, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    first = sorted(arrays)[0]
    files = {}
    files["object array added"] = {**arrays, "evil": payload}
    files["object array replacing one"] = {**arrays, first: payload}
    paths = []
    for name, content in files.items():
        path = tmp_path / (name.replace(" ", "_") + ".npz")
        np.savez(path, **content)  # np.savez pickles object arrays
        paths.append(path)
    raw = tmp_path / "raw_pickle.npz"
    raw.write_bytes(pickle.dumps(_Payload(marker)))
    npy = tmp_path / "npy_pickle.npz"
    with npy.open("wb") as file:
        np.save(file, payload, allow_pickle=True)
    return paths + [raw, npy]


@pytest.mark.parametrize("kind", ["network", "texture model"])
def test_pickled_content_is_refused_and_never_executed(classifier, texture_model, tmp_path, kind):
    good = tmp_path / "good.npz"
    (classifier if kind == "network" else texture_model).save(good)
    load = BPClassifier.load if kind == "network" else TextureModel.load
    marker = tmp_path / "code_ran"
    # The payload is live: plain unpickling would run it.
    pickle.loads(pickle.dumps(_Payload(tmp_path / "control")))
    assert (tmp_path / "control").is_dir()
    for path in _pickle_files(tmp_path, good, marker):
        _refused(load, path)
        assert not marker.exists(), f"loading {path.name} executed code"


# Damage: truncation anywhere, and random byte changes (hypothesis).

@pytest.mark.slow
@pytest.mark.parametrize("kind", ["network", "texture model"])
# A refused file is closed too: np.load leaks the file object it opens when the zip is damaged.
@pytest.mark.filterwarnings("error::ResourceWarning", "error::pytest.PytestUnraisableExceptionWarning")
def test_truncated_anywhere_is_refused(classifier, texture_model, tmp_path, kind):
    good = tmp_path / "good.npz"
    (classifier if kind == "network" else texture_model).save(good)
    load = BPClassifier.load if kind == "network" else TextureModel.load
    data = good.read_bytes()
    cut = tmp_path / "cut.npz"
    for end in np.linspace(0, len(data) - 1, 25).astype(int):
        cut.write_bytes(data[:end])
        _refused(load, cut)
        gc.collect()  # a file left open warns (ResourceWarning) when it is collected


def _damaged_or_identical(load, damaged, reference, predict):
    """Load `damaged`: it must be refused, or predict exactly like `reference`."""
    try:
        model = load(damaged)
    except ModelFileError as err:
        assert err.path == str(damaged)
        return
    np.testing.assert_array_equal(predict(model), predict(reference))


@pytest.mark.slow
@given(data=st.data())
def test_random_byte_damage_is_refused_or_harmless(classifier, texture_model, tmp_path_factory, data):
    kind = data.draw(st.sampled_from(["network", "texture model"]))
    reference = classifier if kind == "network" else texture_model
    load = BPClassifier.load if kind == "network" else TextureModel.load
    features = np.random.default_rng(3).random((6, len(texture_model.feature_names_)))

    def predict(model):
        if kind == "network":
            return model.predict_proba(X)
        return model.estimator_.predict_proba(model._normalized(features))

    folder = tmp_path_factory.mktemp("damage")
    good, damaged = folder / "good.npz", folder / "damaged.npz"
    reference.save(good)
    blob = bytearray(good.read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(blob) - 1))
        blob[position] = data.draw(st.integers(0, 255).filter(lambda b: b != blob[position]))
    damaged.write_bytes(bytes(blob))
    _damaged_or_identical(load, damaged, reference, predict)


def test_an_array_claiming_a_huge_shape_is_refused(tmp_path):
    # A few bytes that declare a 8 TB array: the allocation fails (or the
    # read finds no data), and either is a refusal, not a crash.
    buffer = io.BytesIO()
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
    np.lib.format.write_array_header_1_0(buffer, header)
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("__header__.npy", buffer.getvalue())
        z.writestr("W0.npy", buffer.getvalue())
    _refused(BPClassifier.load, path)
    _refused(TextureModel.load, path)
