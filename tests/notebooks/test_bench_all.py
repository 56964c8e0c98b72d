"""bench/all.py: the table it prints (the benchmarks themselves run in `make bench`, not here)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[2] / "bench" / "all.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("rp2_bench_all", PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


HOST = {"cpu": "Test CPU", "cores": "2", "arch": "x86_64", "python": "3.11.7", "os": "Linux 6", "date": "2026-12-03 10:00 UTC", "load": "0.10"}


def test_numbers_keep_about_three_significant_figures(bench) -> None:
    assert [bench.number(v) for v in (12345.6, 123.4, 12.34, 1.234, 0.1234)] == ["12,346", "123", "12.3", "1.23", "0.123"]


def test_a_row_shows_median_and_min_max_of_its_runs(bench) -> None:
    row = bench.Row("workflow settled tx/s, memory backend", "tx/s", [300.0, 500.0, 400.0], "100 transactions")
    assert row.cells() == ["workflow settled tx/s, memory backend", "400", "300–500", "3", "tx/s", "100 transactions"]
    failed = bench.Row("simulator", "", error="bench/sim.py exited 1")
    assert failed.cells()[1] == "failed" and failed.cells()[-1] == "bench/sim.py exited 1"


def test_markdown_table_has_the_machine_the_date_and_one_line_per_figure(bench) -> None:
    rows = [bench.Row("a | b", "ms", [1.0, 2.0, 3.0]), bench.Row("c", "MB", [35.6])]
    text = bench.render_markdown(rows, HOST, 125.0)
    lines = text.splitlines()
    assert "2026-12-03 10:00 UTC" in lines[0] and "Test CPU, 2 cores" in lines[0] and "Python 3.11.7" in lines[0] and "2.1 min" in lines[0]
    assert lines[2] == "| figure | median | min–max | runs | unit | notes |"
    assert lines[4] == "| a \\| b | 2.00 | 1.00–3.00 | 3 | ms |  |"
    assert lines[5] == "| c | 35.6 | 35.6–35.6 | 1 | MB |  |"
    assert len(lines) == 6


def test_text_table_aligns_columns(bench) -> None:
    rows = [bench.Row("short", "ms", [1.0]), bench.Row("a longer figure", "tx/s", [1234.0, 1500.0], "note")]
    lines = bench.render_text(rows, HOST, 60.0).splitlines()
    header, first, second = lines[3:6]
    end = header.index("median") + len("median")  # numbers are right-aligned under their heading
    assert first[:end].endswith("1.00") and second[:end].endswith("1,367")
    assert header.index("unit") == first.index("ms") == second.index("tx/s")
    assert second.endswith("  note") and "1,234–1,500" in second
    assert lines[-1] == "whole run: 1.0 min"


def test_machine_names_cpu_cores_python_os_and_date(bench) -> None:
    host = bench.machine()
    assert host["cores"] and host["python"].count(".") == 2 and host["date"].endswith("UTC") and host["cpu"]


def test_run_json_reads_the_json_lines_and_reports_a_failure(bench) -> None:
    assert bench.run_json(["-c", "print('text'); print('{\"a\": 1}')"]) == [{"a": 1}]
    with pytest.raises(bench.BenchError, match="exited 3"):
        bench.run_json(["-c", "import sys; sys.exit(3)"])
    with pytest.raises(bench.BenchError, match="no JSON"):
        bench.run_json(["-c", "print('nothing')"])


def test_sections_cover_every_benchmark_script(bench) -> None:
    scripts = {path.name for path in PATH.parent.glob("*.py")} - {"all.py"}
    covered = {title.split("(")[1].rstrip(")").removeprefix("bench/") for title, _ in bench.SECTIONS}
    assert covered == scripts, "a benchmark script that bench/all.py does not run"
