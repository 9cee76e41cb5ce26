"""Model files: every format, every kind of damage, one set of tests.

Both formats :mod:`pipeline.model_file` writes, the network's
(``BPClassifier.save``, "texture-bp-network") and the texture model's
(``TextureModel.save``, "texture-model"), must either load a file into a
model that predicts exactly like the one saved, or refuse it with a
ModelFileError naming the file.  "Edited" files carry *valid* checksums, as a
file written by another version or tool would: the content itself is
validated, not only its integrity.  Nothing in a model file is ever executed,
and nothing is decompressed or allocated before its declared size is known
to be sane.
"""

import gc
import hashlib
import io
import json
import os
import pickle
import tracemalloc
import zipfile
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline import BPClassifier, model_file
from pipeline.model import TextureModel
from texture import FeatureConfig, ModelFileError

RNG = np.random.default_rng(7)
X = RNG.normal(size=(40, 4))
LABELS = np.array(["bark", "cork", "felt", "foil"])[np.arange(40) % 4]
CONFIG = FeatureConfig(families=("glcm",), glcm_distances=(1,), glcm_angles=(0, 90), glcm_levels=8)


def _net():
    return BPClassifier(hidden_layer_sizes=(5,), epochs=5, batch_size=8, random_state=0)


@dataclass
class Format:
    name: str  # the format name recorded in the file
    model: object  # fitted
    load: Callable
    predict: Callable  # model -> what a damaged file that loads must reproduce exactly


@pytest.fixture(scope="module")
def formats():
    names = TextureModel(feature_config=CONFIG)._extractor().names
    features = np.random.default_rng(8).random((24, len(names)))
    # One network: the edits below name its arrays (an ensemble's are refused in test_nn_ensemble.py).
    texture_model = TextureModel(feature_config=CONFIG, estimator=_net(), n_networks=1)
    texture_model.fit_features(features, LABELS[:24])
    return {
        "network": Format("texture-bp-network", _net().fit(X, LABELS), BPClassifier.load,
                          lambda m: m.predict_proba(X)),
        "texture model": Format("texture-model", texture_model, TextureModel.load,
                                lambda m: m.estimator_.predict_proba(m._normalized(features[:6]))),
    }


@pytest.fixture(params=["network", "texture model"])
def fmt(request, formats):
    return formats[request.param]


def _saved(fmt, folder):
    path = folder / "good.npz"
    fmt.model.save(path)
    return path


# Rewriting files as another writer would: content changed, checksum valid.

def _members(path):
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def _rewrite(source, target, change):
    """Apply ``change(meta, arrays)`` to a saved file and write it with a fresh checksum.

    `meta` is the whole metadata (format and version included); a change may
    also replace ``arrays["metadata"]`` outright.
    """
    arrays = _members(source)
    arrays.pop("sha256")
    meta = json.loads(str(arrays.pop("metadata")))
    change(meta, arrays)
    members = {"metadata": np.array(json.dumps(meta, sort_keys=True)), **arrays}
    members["sha256"] = np.array(model_file._checksum(members))
    np.savez(target, **members)


def _refused(load, path, match=None):
    with pytest.raises(ModelFileError, match=match) as info:
        load(path)
    assert info.value.path == str(path)
    return info.value


def test_same_version_files_round_trip_exactly(fmt, tmp_path):
    np.testing.assert_array_equal(fmt.predict(fmt.load(_saved(fmt, tmp_path))), fmt.predict(fmt.model))


def test_the_file_records_its_format_and_the_texture_that_wrote_it(fmt, tmp_path):
    import texture

    meta = json.loads(str(_members(_saved(fmt, tmp_path))["metadata"]))
    assert (meta["format"], meta["format_version"]) == (fmt.name, model_file.VERSIONS[fmt.name])
    assert meta["texture_version"] == texture.__version__


# Versions and formats.

@pytest.mark.parametrize("version", [0, 1, 3, "1", None])
def test_another_format_version_is_refused_naming_both_versions(fmt, tmp_path, version):
    if version in model_file.READABLE[fmt.name]:
        version = 4  # (a texture model of version 1 is read: test_model.py loads one)
    other = tmp_path / "other.npz"
    _rewrite(_saved(fmt, tmp_path), other,
             lambda meta, a: meta.update(format_version=version, texture_version="9.9"))
    err = _refused(fmt.load, other, "version")
    assert repr(version) in str(err) and str(model_file.VERSIONS[fmt.name]) in str(err)
    assert "9.9" in str(err)  # says which texture wrote it


def test_a_file_of_the_other_format_is_refused_naming_both(formats, tmp_path):
    net, tm = formats["network"], formats["texture model"]
    err = _refused(tm.load, _saved(net, tmp_path), "texture-bp-network file, not a texture-model")
    assert "texture-model" in str(err)
    _refused(net.load, _saved(tm, tmp_path), "texture-model file, not a texture-bp-network")


def _network_format_1(path, meta, arrays):
    """Write a network file as texture wrote them in format 1: metadata outside the checksums."""
    def digest(a):
        h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
        h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()

    header = {"format": "texture-bp-network", "format_version": 1, "meta": meta,
              "sha256": {name: digest(a) for name, a in arrays.items()}}
    np.savez(path, __header__=np.frombuffer(json.dumps(header).encode(), np.uint8), **arrays)


def test_a_network_file_of_format_1_still_loads_and_its_checksums_are_checked(formats, tmp_path):
    net, tm = formats["network"], formats["texture model"]
    meta, arrays = net.model.get_state()
    _network_format_1(tmp_path / "old.npz", meta, arrays)
    np.testing.assert_array_equal(net.predict(net.load(tmp_path / "old.npz")), net.predict(net.model))
    _refused(tm.load, tmp_path / "old.npz", "texture-bp-network file, not a texture-model")
    _network_format_1(tmp_path / "edited.npz", meta, arrays)
    members = _members(tmp_path / "edited.npz")
    members["W0"] = members["W0"] + 1
    np.savez(tmp_path / "edited.npz", **members)
    _refused(net.load, tmp_path / "edited.npz", "checksum")


# Damage: edits without a fresh checksum, missing checksum, truncation, random bytes.

def _bump_first_array(meta, arrays):
    name = sorted(n for n in arrays if arrays[n].dtype.kind == "f")[0]
    arrays[name] = arrays[name] + 1e-3


CHECKSUM_EDITS = {
    "weights": _bump_first_array,
    "metadata": lambda meta, arrays: meta.update(note="edited"),  # metadata is covered too
}


@pytest.mark.parametrize("edit", CHECKSUM_EDITS)
def test_an_edit_without_a_fresh_checksum_is_refused(fmt, tmp_path, edit):
    good, edited = _saved(fmt, tmp_path), tmp_path / "edited.npz"
    arrays = _members(good)
    checksum = arrays.pop("sha256")
    meta = json.loads(str(arrays.pop("metadata")))
    CHECKSUM_EDITS[edit](meta, arrays)
    np.savez(edited, metadata=np.array(json.dumps(meta, sort_keys=True)), sha256=checksum, **arrays)
    _refused(fmt.load, edited, "checksum")


def test_a_file_without_checksum_or_metadata_is_refused(fmt, tmp_path):
    members = _members(_saved(fmt, tmp_path))
    for missing in ("sha256", "metadata"):
        np.savez(tmp_path / f"no_{missing}.npz", **{k: v for k, v in members.items() if k != missing})
        _refused(fmt.load, tmp_path / f"no_{missing}.npz", "not a texture model file")


def test_missing_text_and_foreign_files_are_refused(fmt, tmp_path):
    _refused(fmt.load, tmp_path / "missing.npz", "no such model file")
    (tmp_path / "text.npz").write_text("hello")
    _refused(fmt.load, tmp_path / "text.npz", "not a texture model file")
    np.savez(tmp_path / "other.npz", x=np.arange(3))
    _refused(fmt.load, tmp_path / "other.npz", "no metadata")


def test_a_csv_or_an_array_file_is_not_a_model_and_no_pickle_is_suggested(fmt, tmp_path):
    table = tmp_path / "table.csv"
    table.write_text("path,label\na.png,brick\n")
    array = tmp_path / "array.npy"
    np.save(array, np.arange(3))
    for path in (table, array):
        err = _refused(fmt.load, path, "not a texture model file")
        assert "pickle" not in str(err).lower()


# A refused file is closed too: np.load leaks the file object it opens when the zip is damaged.
@pytest.mark.slow
@pytest.mark.filterwarnings("error::ResourceWarning", "error::pytest.PytestUnraisableExceptionWarning")
def test_truncated_anywhere_is_refused(fmt, tmp_path):
    data = _saved(fmt, tmp_path).read_bytes()
    cut = tmp_path / "cut.npz"
    for end in np.linspace(0, len(data) - 1, 25).astype(int):
        cut.write_bytes(data[:end])
        _refused(fmt.load, cut)
        gc.collect()  # a file left open warns (ResourceWarning) when it is collected


@pytest.mark.slow
@given(data=st.data())
def test_random_byte_damage_is_refused_or_harmless(formats, tmp_path_factory, data):
    fmt = formats[data.draw(st.sampled_from(sorted(formats)))]
    folder = tmp_path_factory.mktemp("damage")
    blob = bytearray(_saved(fmt, folder).read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(blob) - 1))
        blob[position] = data.draw(st.integers(0, 255).filter(lambda b: b != blob[position]))
    damaged = folder / "damaged.npz"
    damaged.write_bytes(bytes(blob))
    try:
        model = fmt.load(damaged)
    except ModelFileError as err:
        assert err.path == str(damaged)
        return
    np.testing.assert_array_equal(fmt.predict(model), fmt.predict(fmt.model))


# Edited content with valid checksums: validated member by member.

NETWORK_EDITS = {
    "extra array": (lambda m, a: a.update(W9=np.zeros((5, 5), np.float32)), "W9"),
    "missing weights": (lambda m, a: a.pop("W1"), "W1"),
    "missing classes": (lambda m, a: a.pop("classes"), "classes"),
    "transposed": (lambda m, a: a.update(W0=a["W0"].T.copy()), "W0 has shape"),
    "narrowed": (lambda m, a: a.update(W1=a["W1"][:, :2].copy()), "W1 has shape"),
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
    "a regressor's state": (lambda m, a: m.update(estimator="BPRegressor"), "not a BPClassifier"),
    "not an estimator": (lambda m, a: m.update(estimator=[1, 2]), "not a BPClassifier"),
}


def _scale(arrays, change):
    arrays["scaler.scale"] = change(arrays["scaler.scale"])


TEXTURE_MODEL_EDITS = {
    "extra array": (lambda m, a: a.update({"estimator.W7": np.zeros(3, np.float32)}), "unexpected arrays"),
    "extra scaler array": (lambda m, a: a.update({"scaler.extra": np.zeros(3)}), "unexpected arrays"),
    "missing scaler array": (lambda m, a: a.pop("scaler.offset"), "lacks"),
    "missing network array": (lambda m, a: a.pop("estimator.b0"), "b0"),
    "short scaler": (lambda m, a: _scale(a, lambda s: s[:-1].copy()), "shapes"),
    "NaN scale": (lambda m, a: _scale(a, lambda s: np.full_like(s, np.nan)), "NaN or infinite"),
    "infinite scale": (lambda m, a: _scale(a, lambda s: np.full_like(s, np.inf)), "NaN or infinite"),
    "string scale": (lambda m, a: _scale(a, lambda s: s.astype(str)), "floats"),
    "NaN offset": (lambda m, a: a.update({"scaler.offset": np.full_like(a["scaler.offset"], np.nan)}),
                   "NaN or infinite"),
    "transposed weights": (lambda m, a: a.update({"estimator.W0": a["estimator.W0"].T.copy()}), "W0 has shape"),
    "float64 weights": (lambda m, a: a.update({"estimator.W0": a["estimator.W0"].astype(np.float64)}),
                        "dtype float64"),
    "classes differ from network": (lambda m, a: m.update(classes=["a", "b"]), "class names"),
    "unknown estimator": (lambda m, a: m["estimator"].update({"class": "subprocess.Popen"}), "unknown estimator"),
    "unknown scaler": (lambda m, a: m["scaler"].update(kind="eval"), "unknown scaler"),
    "feature config field": (lambda m, a: m["feature_config"].update(exec="print(1)"), "exec"),
    "renamed features": (lambda m, a: m.update(feature_names=["f"] * len(m["feature_names"])), "retrain"),
    "metadata not JSON": (lambda m, a: a.update(metadata=np.array("{not json")), "not a texture model"),
    "metadata a list": (lambda m, a: a.update(metadata=np.array("[1, 2]")), "not a texture model"),
    "metadata numeric": (lambda m, a: a.update(metadata=np.arange(3)), "not a texture model"),
    "short normalizer": (lambda m, a: a.update({k: a[k][:-1].copy() for k in ("scaler.offset", "scaler.scale")}),
                         "normalizer"),
}

EDITS = [("network", name, *edit) for name, edit in NETWORK_EDITS.items()]
EDITS += [("texture model", name, *edit) for name, edit in TEXTURE_MODEL_EDITS.items()]


@pytest.mark.parametrize("kind, edit, change, match", EDITS, ids=[f"{kind}: {edit}" for kind, edit, *_ in EDITS])
def test_edited_files_are_refused(formats, tmp_path, kind, edit, change, match):
    fmt = formats[kind]
    edited = tmp_path / "edited.npz"
    _rewrite(_saved(fmt, tmp_path), edited, change)
    _refused(fmt.load, edited, match)


# Pickles: refused, and never unpickled.

class _Payload:
    """Unpickling this creates the directory `marker`: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _pickle_files(tmp_path, good, marker):
    """Files that carry a pickle with a side effect, in every place one can hide."""
    payload = np.array([_Payload(marker)], dtype=object)
    arrays = _members(good)
    paths = []
    for name, content in {"object array added": {**arrays, "evil": payload},
                          "object array replacing one": {**arrays, sorted(arrays)[0]: payload},
                          "metadata replaced": {**arrays, "metadata": payload}}.items():
        path = tmp_path / (name.replace(" ", "_") + ".npz")
        np.savez(path, **content)  # np.savez pickles object arrays
        paths.append(path)
    raw = tmp_path / "raw_pickle.npz"
    raw.write_bytes(pickle.dumps(_Payload(marker)))
    npy = tmp_path / "npy_pickle.npz"
    with npy.open("wb") as file:
        np.save(file, payload, allow_pickle=True)
    return paths + [raw, npy]


def test_pickled_content_is_refused_and_never_executed(fmt, tmp_path):
    marker = tmp_path / "code_ran"
    # The payload is live: plain unpickling would run it.
    pickle.loads(pickle.dumps(_Payload(tmp_path / "control")))
    assert (tmp_path / "control").is_dir()
    for path in _pickle_files(tmp_path, _saved(fmt, tmp_path), marker):
        _refused(fmt.load, path)
        assert not marker.exists(), f"loading {path.name} executed code"


# Hostile sizes: refused from the zip directory and the array headers, before any data.

def _npy_header(shape, descr="<f8"):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def test_an_array_claiming_a_huge_shape_is_refused(fmt, tmp_path):
    # A few bytes that declare an 8 TB array, and a metadata text of 400 MB.
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("metadata.npy", _npy_header((), "<U100000000"))
        z.writestr("W0.npy", _npy_header((10**12,)))
    _refused(fmt.load, path, "larger than its")


def _deflated_member(z, name, header, size):
    """A member of `size` zero bytes after `header`, deflated (a few kB on disk)."""
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with z.open(info, "w", force_zip64=True) as member:
        member.write(header)
        block = bytes(2**20)
        for _ in range(size // len(block)):
            member.write(block)


@pytest.mark.parametrize("member", ["metadata", "W0"])
def test_a_member_inflating_beyond_any_model_is_refused_before_decompressing(fmt, tmp_path, monkeypatch, member):
    if member == "metadata":
        size = model_file.MAX_METADATA_BYTES + 2**20
    else:  # a smaller bound for the whole file: the default one takes seconds to deflate
        monkeypatch.setattr(model_file, "MAX_TOTAL_BYTES", 8 * 2**20)
        size = model_file.MAX_TOTAL_BYTES + 2**20
    path = tmp_path / "bomb.npz"
    good = _members(_saved(fmt, tmp_path))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        _deflated_member(z, f"{member}.npy", _npy_header((size // 8,)), size)
        for name, array in good.items():
            if name != member:
                with z.open(f"{name}.npy", "w") as f:
                    np.lib.format.write_array(f, array, allow_pickle=False)
    assert path.stat().st_size < 2**20
    tracemalloc.start()
    try:
        _refused(fmt.load, path, "declare")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20


# Writing: atomic, permissions of a plain open(), nothing left behind on failure.

def test_saving_replaces_a_file_atomically_and_honours_the_umask(fmt, tmp_path):
    path = tmp_path / "model.npz"
    path.write_bytes(b"old")
    old_mask = os.umask(0o027)
    try:
        fmt.model.save(path)
    finally:
        os.umask(old_mask)
    assert path.stat().st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["model.npz"]
    fmt.load(path)


def test_a_failed_save_keeps_the_old_file_and_leaves_no_temporary_file(fmt, tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    path.write_bytes(b"old")

    def fail_midway(file, **arrays):
        file.write(b"PK half a zip")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", fail_midway)
    with pytest.raises(OSError, match="No space"):
        fmt.model.save(path)
    assert os.listdir(tmp_path) == ["model.npz"] and path.read_bytes() == b"old"
