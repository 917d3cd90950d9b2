"""The Python package against the `sim` command (issue 21): the same numbers as `sim run`, the
same located messages for bad input, the GIL released during runs, agents as agents.csv.

The CLI is the release binary (SIM_BIN, default target/release/sim), run with subprocess on the
same small scenario: scenarios/enablement.toml, 3,000 citizens, 200 days, seed 7.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest

import publicsim as ps
from gil import assert_gil_released

ROOT = Path(__file__).resolve().parents[2]
SIM = os.environ.get("SIM_BIN", str(ROOT / "target" / "release" / "sim"))
SCENARIO = "scenarios/enablement.toml"
SEED, DAYS = 7, 200
SMALL = {"population.citizens": 3000}
SMALL_ARGS = ["--set", "population.citizens=3000"]
# Runs shorter than the scenario's 180-day warm-up need a shorter one.
SHORT = {**SMALL, "run.warmup_days": 5}
SHORT_ARGS = [*SMALL_ARGS, "--set", "run.warmup_days=5"]


@pytest.fixture(autouse=True)
def _in_root(monkeypatch):
    # Scenario paths are relative, as a user at the checkout's root types them, so messages
    # name the file the same way on both sides.
    monkeypatch.chdir(ROOT)


def sim(*args: str, out: Path | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [SIM, "--quiet", *args] + (["--out", str(out)] if out else [])
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)


def cli_error(p: subprocess.CompletedProcess[str]) -> str:
    """The message after `error: ` on stderr (warnings before it dropped)."""
    assert p.returncode == 2, p.stderr
    return p.stderr[p.stderr.index("error: ") + len("error: ") :].rstrip("\n")


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "run"
    p = sim("run", SCENARIO, "--seed", str(SEED), "--days", str(DAYS), *SMALL_ARGS, out=out)
    assert p.returncode == 0, p.stderr
    return out


@pytest.fixture(scope="module")
def result() -> ps.Result:
    os.chdir(ROOT)
    return ps.run(ps.load(SCENARIO), seed=SEED, days=DAYS, set=SMALL)


def same_number(a: float, b: float | None) -> bool:
    """Exact equality, NaN (null in JSON) equal to itself."""
    if b is None:
        return math.isnan(a)
    return a == b or (math.isnan(a) and math.isnan(b))


def assert_same_summary(a: dict[str, float], b: dict[str, float | None]) -> None:
    assert list(a) == list(b)
    differ = {k: (a[k], b[k]) for k in a if not same_number(a[k], b[k])}
    assert not differ, differ


def test_run_equals_sim_run_summary(result, cli_run):
    summary = json.loads((cli_run / "summary.json").read_text())
    assert_same_summary(result.summary, summary["metrics"])
    assert result.window_start_day == summary["window_start_day"]
    assert result.window_end_day == summary["window_end_day"]
    assert [None if math.isnan(x) else x for x in result.neighbourhood_wellbeing] == summary["neighbourhood_wellbeing"]


def test_run_equals_sim_run_timeseries(result, cli_run):
    csv = pd.read_csv(cli_run / "timeseries.csv", float_precision="round_trip")
    assert list(result.timeseries.columns) == list(csv.columns)
    assert list(result.timeseries.columns[1:]) == ps.METRICS
    assert len(result.timeseries) == DAYS
    pd.testing.assert_frame_equal(result.timeseries, csv, check_exact=True, check_dtype=False)


def test_manifest_matches_cli(result, cli_run):
    manifest = json.loads((cli_run / "manifest.json").read_text())
    m = result.manifest
    assert (m["scenario"], m["seed"], m["days"]) == ("enablement", SEED, DAYS)
    assert m["sim_version"] == manifest["sim_version"] == ps.__version__
    # The same fully resolved scenario on both sides.
    assert m["scenario_hash"] == manifest["scenario_hash"]
    assert m["parameters"] == manifest["parameters"]
    assert m["overrides"] == ["population.citizens=3000", f"run.days={DAYS}", f"run.seed={SEED}"]


def test_path_and_scenario_and_list_overrides_agree(result):
    by_path = ps.run(SCENARIO, seed=SEED, days=DAYS, set=["population.citizens=3000"])
    assert_same_summary(by_path.summary, result.summary)
    pd.testing.assert_frame_equal(by_path.timeseries, result.timeseries, check_exact=True)


def test_simulation_stepping_equals_run(result):
    s = ps.Simulation(ps.load(SCENARIO), seed=SEED, days=DAYS, set=SMALL)
    assert (s.day, s.days, s.today()) == (0, DAYS, None)
    assert s.step() == 1
    assert s.step(49) == 49
    s.run_until(120)
    assert s.day == 120
    assert s.today()["day"] == 119
    assert s.step(1000) == DAYS - 120
    assert s.step() == 0
    pd.testing.assert_frame_equal(s.metrics(), result.timeseries, check_exact=True)
    assert_same_summary(s.summary(), result.summary)
    r = s.result()
    assert r.manifest == result.manifest
    assert (r.window_start_day, r.window_end_day) == (result.window_start_day, result.window_end_day)


def test_steered_run_replays_bit_for_bit():
    s = ps.Simulation(SCENARIO, seed=SEED, days=120, set=SHORT)
    s.step(40)
    s.set("governance.discretion", 0.3)
    s.set_team(0, "time_standard", "imposed")
    s.step(80)
    replay = ps.Scenario.from_toml(s.replay_toml(), "replay.toml")
    again = ps.run(replay)
    pd.testing.assert_frame_equal(again.timeseries, s.metrics(), check_exact=True)
    teams = s.teams()
    assert teams.loc[0, "time_standard"] == "imposed"
    assert "time_standard" in teams.loc[0, "own_levers"]


@pytest.mark.parametrize(
    "kwargs, cli_args",
    [
        ({"set": {"governance.discretion": 2}}, ["--set", "governance.discretion=2"]),
        ({"set": {"governance.no_such_lever": 1}}, ["--set", "governance.no_such_lever=1"]),
        ({"set": ["governance.discretion"]}, ["--set", "governance.discretion"]),
        ({"set": {"population.citizens": 3000}, "days": 0}, [*SMALL_ARGS, "--days", "0"]),
    ],
    ids=["out-of-range", "unknown-field", "no-value", "days-0"],
)
def test_bad_value_raises_the_cli_message(kwargs, cli_args, tmp_path):
    with pytest.raises(ps.ScenarioError) as e:
        ps.run(SCENARIO, **kwargs)
    assert isinstance(e.value, ValueError)
    assert str(e.value) == cli_error(sim("run", SCENARIO, *cli_args, out=tmp_path / "out"))


def test_bad_file_raises_the_located_message(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[run]\ndays = 100\n\n[governance]\ndiscretion = 1.5\n")
    with pytest.raises(ps.ScenarioError) as e:
        ps.load(bad)
    message = str(e.value)
    assert message == cli_error(sim("run", str(bad), out=tmp_path / "out"))
    assert f"{bad}:5:" in message and "governance.discretion" in message
    with pytest.raises(ps.ScenarioError, match="cannot read"):
        ps.load(tmp_path / "missing.toml")
    bad.write_text("[run\n")
    with pytest.raises(ps.ScenarioError, match="invalid TOML"):
        ps.load(bad)


def test_bad_steering_raises_not_panics():
    s = ps.Simulation(SCENARIO, days=10, set=SHORT)
    with pytest.raises(ps.ScenarioError, match="only governance levers"):
        s.set("population.citizens", 5000)
    with pytest.raises(ps.ScenarioError, match="out of range"):
        s.set("governance.discretion", -1.0)
    with pytest.raises(ps.ScenarioError, match="there is no team 999"):
        s.set_team(999, "discretion", 0.5)
    with pytest.raises(ps.ScenarioError, match="service-wide"):
        s.set_team(0, "preset", "enablement")
    with pytest.raises(TypeError):
        s.set("governance.discretion", [0.5])
    with pytest.raises(ps.ScenarioError, match="does not fit a parameter"):
        s.set("governance.discretion", 2**70)
    with pytest.raises(OverflowError):
        s.step(-1)
    s.step(10)
    with pytest.raises(ps.ScenarioError, match="the run has ended"):
        s.set("governance.discretion", 0.5)


def test_gil_released_during_a_long_run():
    """A Python thread keeps ticking while a run is going on (it could not if the GIL were held)."""
    scenario = ps.load(SCENARIO, set={"population.citizens": 200000, "run.warmup_days": 5})
    assert_gil_released(lambda: ps.run(scenario, days=365), "the run")


AGENT_COLUMNS = [
    "day", "agent_type", "agent_id", "neighbourhood", "wellbeing", "trust", "latent", "open_needs",
    "team", "skill", "fatigue", "burnout",
]


def test_agents_are_agents_csv(tmp_path):
    s = ps.Simulation(SCENARIO, seed=SEED, days=30, set=SHORT)
    s.step(10)
    agents = s.agents()
    assert list(agents.columns) == AGENT_COLUMNS
    citizens = agents[agents.agent_type == "citizen"]
    workers = agents[agents.agent_type == "worker"]
    assert len(citizens) == 3000 and len(workers) > 0
    assert (agents.day == 10).all()
    assert citizens.team.isna().all() and citizens.wellbeing.notna().all()
    assert workers.wellbeing.isna().all() and workers.team.notna().all()
    out = tmp_path / "out"
    p = sim("run", SCENARIO, "--seed", str(SEED), "--days", "30", *SHORT_ARGS, "--snapshot-days", "10", out=out)
    assert p.returncode == 0, p.stderr
    csv = pd.read_csv(out / "agents.csv", float_precision="round_trip")
    assert list(csv.columns) == AGENT_COLUMNS
    pd.testing.assert_frame_equal(agents, csv, check_exact=True, check_dtype=False)


def test_scenario_object():
    s = ps.load(SCENARIO, set=SHORT)
    assert (s.name, s.file, s.overrides) == ("enablement", SCENARIO, ["population.citizens=3000", "run.warmup_days=5"])
    t = s.with_set(days=50, seed=3)
    assert (t.days, t.seed, s.days) == (50, 3, 1825)
    assert ps.Scenario.builtin().name and len(ps.Scenario.builtin().content_hash()) > 8
    assert ps.Scenario.from_toml(t.to_toml()).content_hash() == t.content_hash()



def _in_forked_child(call: str) -> str:
    """`call` in a forked worker: its result as JSON, to compare with the parent's."""
    if call == "run":
        return json.dumps(ps.run(SCENARIO, seed=SEED, days=30, set=SHORT).summary)
    if call == "Simulation":
        sim = ps.Simulation(SCENARIO, seed=SEED, days=30, set=SHORT)
        sim.run_until(30)
        return json.dumps(sim.summary())
    threads = None if call == "sweep" else 1
    table = ps.sweep([{"governance.discretion": 0.5}], replicates=1, threads=threads,
                     scenario=ps.load(SCENARIO, set=SHORT), days=30, metrics=["backlog"])
    return json.dumps(table["backlog"].to_pylist())


def test_a_process_forked_after_a_run_runs_the_model_as_its_parent():
    """rayon's global pool does not survive fork(): a run in a process forked after the parent's
    first run waited for the pool's threads forever. Each process now builds its own worker
    threads: under multiprocessing's "fork" a child runs, steps and sweeps as the parent does,
    with the same results. Before the fix these calls hung and the 60 s wait below failed."""
    calls = ("run", "Simulation", "sweep", "sweep threads=1")
    parent = {call: _in_forked_child(call) for call in calls}  # this process's threads are started
    with multiprocessing.get_context("fork").Pool(1) as pool:
        child = {call: pool.apply_async(_in_forked_child, (call,)).get(timeout=60) for call in calls}
    assert child == parent
    assert json.loads(parent["run"])["backlog"] >= 0
