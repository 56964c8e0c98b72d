"""The notebooks run top to bottom with small parameters and without an error, and are stored without outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

# small enough that both notebooks run in well under a minute together
SMALL = {
    "sla_analysis.ipynb": {"RATE_TPS": 5, "OUTAGE_S": [0, 60], "TIMEOUT_CADENCES_S": [10, 60], "SEEDS": [1], "DURATION_SCALE": 0.25},
    "scenario_explorer.ipynb": {"SCENARIO": "scenarios/dynamodb_brownout.toml", "DURATION_S": 30, "SHOW_TRANSACTIONS": 5},
}
# figures each notebook draws, at least
FIGURES = {"sla_analysis.ipynb": 4, "scenario_explorer.ipynb": 3}


def read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def parameters_cell(book: nbformat.NotebookNode) -> nbformat.NotebookNode:
    return next(cell for cell in book.cells if cell.cell_type == "code")


def inject(book: nbformat.NotebookNode, values: dict) -> None:
    """Append the values to the parameters cell: they override its defaults, which stay visible above them."""
    cell = parameters_cell(book)
    lines = [f"{name} = {value!r}" for name, value in values.items()]
    cell.source = cell.source + "\n\n# injected by tests/notebooks/test_notebooks.py\n" + "\n".join(lines) + "\n"


def outputs(book: nbformat.NotebookNode, mime: str) -> list:
    return [output for cell in book.cells if cell.cell_type == "code" for output in cell.get("outputs", [])
            if mime in output.get("data", {})]


def test_every_notebook_is_tested() -> None:
    assert sorted(path.name for path in NOTEBOOKS.glob("*.ipynb")) == sorted(SMALL)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_stored_without_outputs(name: str) -> None:
    book = read(name)
    nbformat.validate(book)
    for number, cell in enumerate(book.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name}: cell {number} is stored with outputs; clear them before committing"
            assert cell.execution_count is None, f"{name}: cell {number} is stored with an execution count"
        assert "attachments" not in cell or not cell.attachments, f"{name}: cell {number} has attachments"
    assert "widgets" not in book.metadata, f"{name}: widget state stored in the metadata"


@pytest.mark.parametrize("name", sorted(SMALL))
def test_parameters_cell_comes_first_and_names_the_small_values(name: str) -> None:
    cell = parameters_cell(read(name))
    assert "parameters" in cell.metadata.get("tags", [])
    namespace: dict = {}
    exec(compile(cell.source, f"{name} parameters", "exec"), namespace)  # plain assignments only
    missing = set(SMALL[name]) - set(namespace)
    assert not missing, f"{name}: the test sets parameters the notebook does not have: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(SMALL))
def test_runs_without_error(name: str) -> None:
    book = read(name)
    inject(book, SMALL[name])
    client = NotebookClient(book, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()  # raises CellExecutionError, with the cell and the traceback, on any error
    errors = [output for cell in book.cells if cell.cell_type == "code" for output in cell.outputs if output.output_type == "error"]
    assert not errors
    assert len(outputs(book, "image/png")) >= FIGURES[name]
    if name == "sla_analysis.ipynb":
        conclusion = outputs(book, "text/markdown")[-1]["data"]["text/markdown"]
        assert "**Reference**" in conclusion and "**Verdicts**" in conclusion
    else:
        summary = outputs(book, "text/markdown")[-1]["data"]["text/markdown"]
        assert summary.startswith("Changing `engine.visibility_timeout_s`")
