"""The notebooks run top to bottom, on the bundled sample and on another image
tree, use only the public API, and are committed without outputs."""

import ast
import shutil
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
# The one line a user edits to run a notebook on their own images.
DATA_LINE = "DATA = None"
# The line that turns it into the table of images.
DATA_READ = "table = load_sample() if DATA is None else load_folder(DATA)"
# Seconds any one cell may take; the slowest takes a few.
CELL_TIMEOUT = 120


def _code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _read(path):
    return nbformat.read(path, as_version=4)


def test_the_four_notebooks_are_there():
    assert [path.name for path in NOTEBOOKS] == [
        "01_explore_features.ipynb",
        "02_train_and_score.ipynb",
        "03_backprop_under_the_hood.ipynb",
        "04_texture_maps.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_committed_valid_and_without_outputs(path):
    notebook = _read(path)
    nbformat.validate(notebook)
    for cell in _code_cells(notebook):
        assert cell.outputs == [] and cell.execution_count is None, cell.source[:80]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_data_path_is_the_first_line_of_code(path):
    first = _code_cells(_read(path))[0].source
    assert first.splitlines()[0].startswith(DATA_LINE)
    # Defined once, so that editing that line is enough.
    assert sum(line.startswith("DATA =") for cell in _code_cells(_read(path))
               for line in cell.source.splitlines()) == 1


def _private_uses(source):
    """Names starting with one underscore imported from, or looked up on, anything."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            names = [node.module or ""] + [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.Attribute):
            names = [node.attr]
        else:
            continue
        found += [name for name in names for part in name.split(".")
                  if part.startswith("_") and not part.endswith("__")]
    return found


def test_private_use_detector():
    assert _private_uses("from texture._io import x\nimport pipeline._a\nfrom texture import _b\nm._c()") == [
        "texture._io", "pipeline._a", "_b", "_c"]
    assert _private_uses("from texture import read_image\nx.__class__\nimport numpy as np") == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_uses_only_public_names(path):
    for cell in _code_cells(_read(path)):
        assert _private_uses(cell.source) == [], cell.source[:80]


@pytest.fixture
def kernel_env(tmp_path, monkeypatch):
    """Run kernels with this interpreter and the non-interactive Agg backend.

    A kernel spec pointing at ``sys.executable``, first on JUPYTER_PATH, keeps
    a user's own ``python3`` kernel (another environment) from being used.
    """
    from ipykernel.kernelspec import write_kernel_spec

    # A fresh install builds matplotlib's font cache on first import, with a
    # message that would land in a notebook's stderr: build it here instead.
    import matplotlib.font_manager  # noqa: F401

    write_kernel_spec(tmp_path / "jupyter" / "kernels" / "python3")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    work = tmp_path / "work"
    work.mkdir()
    return work


def _execute(notebook, cwd):
    """Run every cell in a fresh kernel; return the text the cells wrote to stderr."""
    client = nbclient.NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(cwd)}})
    client.execute()  # raises CellExecutionError, with the traceback, on the first error
    return [output.text for cell in _code_cells(notebook) for output in cell.outputs
            if output.output_type == "stream" and output.name == "stderr"]


@pytest.fixture
def other_tree(tmp_path):
    """A smaller class-per-folder tree with other class names: 4 classes x 12 images."""
    from pipeline.data import load_sample

    root = tmp_path / "my images"
    sample = load_sample()
    for label in ["brick", "grass", "waves", "weave"]:
        folder = root / f"{label} (mine)"
        folder.mkdir(parents=True)
        for source in sample.loc[sample["label"] == label, "path"].iloc[:12]:
            shutil.copy(source, folder / Path(source).name)
    return root


def _printed(notebook):
    return "".join(output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
                   for cell in _code_cells(notebook) for output in cell.outputs)


# Each notebook runs top to bottom once, in one kernel: on another tree,
# set on the DATA line (every cell: no error, no warning, and the DATA line
# is all a user edits), then the data line again as shipped, DATA = None,
# which must read the bundled sample.

@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_runs_on_another_tree_by_changing_data_and_reads_the_sample_as_shipped(path, kernel_env, other_tree):
    from pipeline.data import load_sample

    notebook = _read(path)
    first = _code_cells(notebook)[0]
    first.source = first.source.replace(DATA_LINE, f"DATA = {str(other_tree)!r}", 1)
    # The one line that reads the data, in whichever cell.
    assert any(line == DATA_READ for cell in _code_cells(notebook) for line in cell.source.splitlines())
    shipped = nbformat.v4.new_code_cell(f'{DATA_LINE}\n{DATA_READ}\nprint(sorted(set(table["label"])))')
    notebook.cells.append(shipped)
    # No warning either: a reader would take it for a problem.
    assert _execute(notebook, kernel_env) == []
    assert all(cell.execution_count for cell in _code_cells(notebook))
    assert shipped.outputs[0].text.strip() == str(sorted(set(load_sample()["label"])))
    notebook.cells.remove(shipped)
    text = _printed(notebook)
    assert "brick (mine)" in text and "blobs" not in text
    # Scratch files (a saved model) go to a temporary folder, not where the notebook runs.
    assert sorted(p.name for p in kernel_env.iterdir()) == []
