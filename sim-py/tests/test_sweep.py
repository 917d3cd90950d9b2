"""`publicsim.sweep` against `sim sweep` (issue 21): the same table as runs.parquet for the same
design, whether given as the sweep file or as a list of points; the same table for any thread
count; the GIL released while it runs; bad input raising located messages.

The design is small on purpose (8 points x 2 replicates of 5,000 citizens over 200 days, under a
second): a grid over a range, a list of text values and a list of integers, so every kind of
parameter column (float from a range, string, float from integers) is compared.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import publicsim as ps
from gil import assert_gil_released

ROOT = Path(__file__).resolve().parents[2]
SIM = os.environ.get("SIM_BIN", str(ROOT / "target" / "release" / "sim"))
BASE = ROOT / "scenarios" / "sweeps" / "small-base.toml"
SEED, REPLICATES, DAYS = 11, 2, 200

SWEEP = f"""name = "py-equality"
base = "{BASE}"
replicates = {REPLICATES}
seed = {SEED}
days = {DAYS}
metrics = METRICS

[design]
kind = "grid"
levels = 2

[[parameters]]
path = "governance.discretion"
min = 0.2
max = 0.8

[[parameters]]
path = "governance.preset"
values = ["top_down", "enablement"]

[[parameters]]
path = "workforce.frontline_staff"
values = [12, 15]
"""

# The grid's points in its row order (the last parameter varies fastest).
POINTS = [
    {"governance.discretion": d, "governance.preset": p, "workforce.frontline_staff": s}
    for d in (0.2, 0.8)
    for p in ("top_down", "enablement")
    for s in (12, 15)
]


def sweep_file(tmp_path: Path, metrics: list[str] | None = None) -> Path:
    path = tmp_path / "small.toml"
    text = SWEEP.replace("metrics = METRICS\n", "" if metrics is None else f"metrics = {metrics!r}\n".replace("'", '"'))
    path.write_text(text)
    return path


def sim_sweep(path: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SIM, "--quiet", "sweep", str(path), "--out", str(out)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def cli(tmp_path_factory) -> tuple[Path, pa.Table]:
    """The sweep file and `sim sweep`'s runs.parquet for it."""
    folder = tmp_path_factory.mktemp("sweep")
    path = sweep_file(folder)
    p = sim_sweep(path, folder / "out")
    assert p.returncode == 0, p.stderr
    return path, pq.read_table(folder / "out" / "runs.parquet")


def assert_same_table(a: pa.Table, b: pa.Table) -> None:
    """Same columns, types and nullability, same values in the same order (NaN equal to NaN)."""
    assert a.schema.equals(b.schema), (a.schema, b.schema)
    pd.testing.assert_frame_equal(a.to_pandas(), b.to_pandas(), check_exact=True)


def test_sweep_file_equals_sim_sweep_runs_parquet(cli):
    path, expected = cli
    table = ps.sweep(path)
    assert isinstance(table, pa.Table)
    assert table.num_rows == len(POINTS) * REPLICATES
    assert table.column_names[:7] == [
        "run_id", "point_id", "replicate", "seed",
        "governance.discretion", "governance.preset", "workforce.frontline_staff",
    ]
    assert table.column_names[7:] == ps.METRICS
    assert_same_table(table, expected)
    # Some metrics are undefined (NaN) in short runs: the comparison covers them too.
    assert table.to_pandas().isna().any().any()


def test_points_equal_the_files_design(cli):
    _, expected = cli
    table = ps.sweep(POINTS, replicates=REPLICATES, seed=SEED, days=DAYS, scenario=ps.load(BASE))
    assert_same_table(table, expected)
    # A DataFrame of points (numpy values) is the same list of points.
    frame = ps.sweep(pd.DataFrame(POINTS), replicates=REPLICATES, seed=SEED, days=DAYS, scenario=str(BASE))
    assert_same_table(frame, expected)
    assert table["seed"].to_pylist() == [ps.run_seed(SEED, p, r) for p in range(len(POINTS)) for r in range(REPLICATES)]


def test_threads_do_not_change_the_table(cli):
    path, _ = cli
    one = ps.sweep(path, threads=1)
    two = ps.sweep(path, threads=2)
    assert_same_table(one, two)


def test_replicates_and_seed_replace_the_files(tmp_path, cli):
    _, expected = cli
    path = sweep_file(tmp_path, metrics=["cost_per_resolved_need", "failure_demand_share"])
    table = ps.sweep(path, replicates=1, seed=SEED + 1)
    points = ps.sweep(POINTS, replicates=1, seed=SEED + 1, days=DAYS, scenario=ps.load(BASE),
                      metrics=["cost_per_resolved_need", "failure_demand_share"])
    assert_same_table(table, points)
    assert table.column_names[7:] == ["cost_per_resolved_need", "failure_demand_share"]
    assert table.num_rows == len(POINTS)
    # Another seed, other runs.
    assert table["seed"].to_pylist() != expected.filter(pa.compute.equal(expected["replicate"], 0))["seed"].to_pylist()


def test_gil_released_during_a_sweep():
    """A Python thread keeps ticking while the sweep runs (it could not if the GIL were held)."""
    points = [{"governance.discretion": d} for d in (0.2, 0.5, 0.8)]
    scenario = ps.load(BASE, set={"population.citizens": 120000, "run.warmup_days": 5})
    assert_gil_released(lambda: ps.sweep(points, replicates=2, days=200, scenario=scenario, threads=2, metrics=["backlog"]), "the sweep")


def test_bad_points_raise_located_messages():
    base = ps.load(BASE)
    with pytest.raises(ps.ScenarioError) as e:
        ps.sweep([{"governance.discretion": 0.5}, {"governance.discretion": 1.5}], scenario=base)
    message = str(e.value)
    assert message.startswith("point 1 (governance.discretion=1.5): ")
    assert "governance.discretion" in message and "0 to 1" in message, message
    with pytest.raises(ValueError, match="every point must set the same parameters"):
        ps.sweep([{"governance.discretion": 0.5}, {"governance.target_pressure": 0.5}], scenario=base)
    with pytest.raises(ValueError, match="unknown metric `nope`"):
        ps.sweep([{}], scenario=base, metrics=["nope"])
    with pytest.raises(ValueError, match="empty"):
        ps.sweep([], scenario=base)
    with pytest.raises(ValueError, match="threads"):
        ps.sweep([{}], scenario=base, threads=0)
    with pytest.raises(TypeError, match="come from the sweep file"):
        ps.sweep(BASE, days=10)
    # A point's values are told apart by one conversion: an int beyond 64 bits is refused as the
    # scenario file's parser refuses it, and a list is not a parameter value.
    with pytest.raises(ps.ScenarioError, match="does not fit a parameter"):
        ps.sweep([{"population.citizens": 2**70}], scenario=base)
    with pytest.raises(TypeError, match="bool, int, float or str"):
        ps.sweep([{"governance.discretion": [0.5]}], scenario=base)


def test_bad_sweep_file_raises_the_cli_message(tmp_path):
    path = sweep_file(tmp_path)
    path.write_text(path.read_text().replace("max = 0.8", "max = 1.8"))
    p = sim_sweep(path, tmp_path / "out")
    assert p.returncode == 2, p.stderr
    cli_message = p.stderr[p.stderr.index("error: ") + len("error: "):].rstrip("\n")
    with pytest.raises(ps.ScenarioError) as e:
        ps.sweep(path)
    assert str(e.value) == cli_message
    assert f"{path}:14:" in cli_message and "parameters[0].max" in cli_message
