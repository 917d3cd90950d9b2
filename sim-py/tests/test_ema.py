"""`publicsim.ema` (issue 21): a scenario as an EMA Workbench model. Parameters come from the
parameter table with their ranges, outcomes from the metrics; `perform_experiments` runs it;
policies meet common seeds; PRIM finds a box on the results.

Small and short on purpose (3,000 citizens with staff and funding scaled to them, 240 days): the
EMA runs of 20 and 80 experiments take a second or two. The multiprocessing tests start worker
processes (about 2 s each for their imports); the Sobol run has 256 experiments (3 s).
"""

from __future__ import annotations

import functools
import json
import math
import multiprocessing
import os
import pickle
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ema_workbench import (
    BooleanParameter,
    CategoricalParameter,
    IntegerParameter,
    MultiprocessingEvaluator,
    Policy,
    RealParameter,
    Samplers,
    ScalarOutcome,
    Scenario,
    SequentialEvaluator,
    TimeSeriesOutcome,
    perform_experiments,
)
from ema_workbench.analysis import prim
from ema_workbench.em_framework import salib_samplers
from ema_workbench.em_framework.salib_samplers import get_SALib_problem
from ema_workbench.em_framework.samplers import sample_uncertainties
from SALib.analyze import morris as morris_analysis
from SALib.analyze import sobol as sobol_analysis
from SALib.sample import sobol as sobol_sampling

import publicsim as ps
from publicsim import ema

ROOT = Path(__file__).resolve().parents[2]
# 3,000 citizens: a 40th of the default 40,000... staff and funding scaled with them (MODEL.md §10).
SMALL = {"population.citizens": 3000, "workforce.frontline_staff": 9, "money.funding_per_year": 1.35e6, "run.warmup_days": 60}
DAYS = 240
UNCERTAIN = {
    "routing.info_loss_per_handoff": (0.05, 0.3),
    "outcome.return_probability": (0.5, 0.9),
    "response.bespoke_base": (0.2, 0.5),
}
OUTCOMES = ["cost_per_resolved_need", "failure_demand_share", "true_resolution_rate"]


@pytest.fixture(autouse=True)
def _in_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def small_model(**kwargs) -> ema.PublicsimModel:
    args = dict(uncertainties=UNCERTAIN, levers=["governance.discretion"], outcomes=OUTCOMES, days=DAYS)
    args.update(kwargs)
    return ema.PublicsimModel(ps.load("scenarios/top-down.toml", set=SMALL), **args)


def test_parameter_table_has_ranges_and_kinds():
    table = ps.parameters("scenarios/enablement.toml").set_index("path")
    d = table.loc["governance.discretion"]
    assert (d["kind"], d["min"], d["max"], d["value"]) == ("float", 0.0, 1.0, 0.9)
    assert table.loc["governance.approval_layers", "kind"] == "int"
    assert table.loc["governance.place_based", "kind"] == "bool"
    assert list(table.loc["governance.time_standard", "choices"]) == ["imposed", "need-led"]
    assert table.loc["governance.preset", "value"] == "enablement"
    assert "need_types[0].effort_hours" in table.index


def test_default_model_takes_parameters_from_the_table():
    model = ema.PublicsimModel(ps.load("scenarios/enablement.toml", set=SMALL), days=DAYS)
    uncertain = ema.default_uncertainties()
    assert [u.variable_name[0] for u in model.uncertainties] == list(uncertain)
    table = ema.parameter_table()
    for u in model.uncertainties:
        low, high = uncertain[u.variable_name[0]]
        row = table.loc[u.variable_name[0]]
        assert (u.lower_bound, u.upper_bound) == (low, high)
        assert row["min"] <= low < high <= row["max"], u.name
        assert u.name.isidentifier()
    levers = {lever.variable_name[0]: lever for lever in model.levers}
    assert list(levers) == ema.GOVERNANCE_LEVERS
    # Numeric levers span the two presets (MODEL.md §3): discretion 0.1 (top-down) to 0.9.
    assert isinstance(levers["governance.discretion"], RealParameter)
    assert (levers["governance.discretion"].lower_bound, levers["governance.discretion"].upper_bound) == (0.1, 0.9)
    assert (levers["governance.span_of_control"].lower_bound, levers["governance.span_of_control"].upper_bound) == (8, 40)
    assert isinstance(levers["governance.approval_layers"], IntegerParameter)
    assert isinstance(levers["governance.place_based"], BooleanParameter)
    assert isinstance(levers["governance.time_standard"], CategoricalParameter)
    outcomes = {o.name: o for o in model.outcomes}
    assert list(outcomes) == ps.METRICS
    assert outcomes["cost_per_resolved_need"].kind == ScalarOutcome.MINIMIZE
    assert outcomes["true_resolution_rate"].kind == ScalarOutcome.MAXIMIZE


def test_default_levers_sample_valid_scenarios():
    """Sampled over the default lever space, every policy is a scenario the model accepts."""
    model = ema.PublicsimModel(ps.load("scenarios/enablement.toml", set=SMALL), days=90,
                               uncertainties=UNCERTAIN, outcomes=OUTCOMES)
    experiments, outcomes = perform_experiments(model, scenarios=2, policies=12, log_progress=True)
    assert len(experiments) == 24
    assert np.isfinite(outcomes["failure_demand_share"]).all()


def test_bad_choices_are_refused():
    with pytest.raises(ValueError, match="inside the valid range"):
        small_model(uncertainties={"governance.discretion": (0.5, 1.5)}, levers=["governance.target_pressure"])
    with pytest.raises(ValueError, match="not a parameter"):
        small_model(uncertainties=["governance.no_such_lever"])
    with pytest.raises(ValueError, match="either an uncertainty or a lever"):
        small_model(levers=["routing.info_loss_per_handoff"])
    with pytest.raises(ValueError, match="unknown metric"):
        small_model(outcomes=["nope"])


def test_policies_meet_common_seeds():
    model = small_model(timeseries=["backlog"])
    # Two policies with the same lever value: common seeds make their outcomes identical.
    policies = [Policy("a", governance_discretion=0.3), Policy("b", governance_discretion=0.3)]
    experiments, outcomes = perform_experiments(model, scenarios=10, policies=policies, log_progress=True)
    assert len(experiments) == 20
    assert outcomes["backlog_series"].shape == (20, DAYS)
    f = outcomes["failure_demand_share"]
    assert np.isfinite(f).all() and f.std() > 0
    a, b = (experiments.policy == "a").to_numpy(), (experiments.policy == "b").to_numpy()
    np.testing.assert_array_equal(f[a], f[b])

    # One experiment again by hand: the overrides and seed the model says it uses.
    row = experiments.iloc[0]
    sets = {u.variable_name[0]: row[u.name] for u in model.uncertainties}
    seed = ps.run_seed(1, ema._key({u.name: row[u.name] for u in model.uncertainties}), 0)
    again = ps.run(model.scenario, seed=seed, set={**sets, "governance.discretion": 0.3})
    assert again.summary["failure_demand_share"] == f[0]


def test_ema_run_and_a_prim_box():
    """80 experiments (a Latin hypercube over three uncertainties, one policy), then PRIM on where
    failure demand is in its top quarter. Information lost at each hand-off drives failure demand
    in the top-down pipeline, so the box must be denser than the sample and must raise the lower
    limit of info_loss_per_handoff. 12 of 12 other samples passed these checks; the sample is
    seeded (EMA's samplers draw from numpy's global generator) so the test is repeatable."""
    model = small_model()
    np.random.seed(2026)
    experiments, outcomes = perform_experiments(
        model, scenarios=80, policies=[Policy("a", governance_discretion=0.3)], log_progress=True
    )
    assert len(experiments) == 80
    f = outcomes["failure_demand_share"]
    x = experiments[[u.name for u in model.uncertainties]]
    y = f > np.quantile(f, 0.75)
    box = prim.Prim(x, y, threshold=0.1).find_box()
    # As notebooks/05 chooses: the densest box on the peeling trajectory covering half the cases.
    trajectory = box.peeling_trajectory
    chosen = int(trajectory[trajectory.coverage >= 0.5].density.idxmax())
    box.select(chosen)
    assert 0 < box.coverage <= 1 and 0 < box.density <= 1
    assert box.density > 1.25 * y.mean(), (box.density, y.mean())
    low = box.box_lims[chosen]["routing_info_loss_per_handoff"].iloc[0]
    assert low > 0.08, low


def test_model_pickles_for_multiprocessing():
    model = small_model()
    clone = pickle.loads(pickle.dumps(model))
    assert clone.scenario.content_hash() == model.scenario.content_hash()
    assert [u.name for u in clone.uncertainties] == [u.name for u in model.uncertainties]
    out = clone._runner(**{"routing.info_loss_per_handoff": 0.1, "governance.discretion": 0.5})
    assert set(out) == set(OUTCOMES) and not math.isnan(out["true_resolution_rate"])


# --- Worker processes -------------------------------------------------------------------------


class _WithWorker:
    """The model's function, also returning the id of the process that ran the experiment. In a
    worker process the first experiment waits (30 s at most) until `workers` processes have each
    taken one, so that every worker runs some of the experiments. Spawned workers import it from
    this module, which pytest puts on sys.path."""

    def __init__(self, runner, rendezvous: Path, workers: int):
        self.runner, self.rendezvous, self.workers = runner, rendezvous, workers
        self.parent, self.arrived = os.getpid(), False

    def __call__(self, **experiment):
        if os.getpid() != self.parent and not self.arrived:
            self.arrived = True
            (self.rendezvous / str(os.getpid())).touch()
            deadline = time.monotonic() + 30
            while len(list(self.rendezvous.iterdir())) < self.workers and time.monotonic() < deadline:
                time.sleep(0.01)
        return {**self.runner(**experiment), "worker": os.getpid()}


def _design(evaluator):
    """10 scenarios (Latin hypercube) x 2 policies, the sample seeded as EMA's samplers need."""
    np.random.seed(2027)
    return evaluator.perform_experiments(scenarios=10, policies=2)


@pytest.fixture
def spawn():
    """Worker processes started with "spawn" (the default on macOS and Windows; Linux's default
    from Python 3.14, "forkserver", also pickles the model), as a script would set it first thing
    under its `if __name__ == "__main__":`; the previous start method is put back after."""
    before = multiprocessing.get_start_method(allow_none=True)
    multiprocessing.set_start_method("spawn", force=True)
    yield
    multiprocessing.set_start_method(before, force=True)


def test_multiprocessing_evaluator_gives_the_sequential_outcomes(spawn, tmp_path):
    """The same design through EMA's MultiprocessingEvaluator (2 spawned workers, which unpickle
    the model) and SequentialEvaluator: the same experiments and, bit for bit, the same outcomes.
    An experiment's seeds come from its uncertainty values, so the process that ran it must not
    matter; seeds that depended on process state (the process id, a count of experiments run so
    far in the model or the module, Python's per-process string hash) would differ between the
    workers and this process, or between the two workers, which share the experiments. A test
    outcome records which process ran each experiment."""
    model = small_model()
    model.function = _WithWorker(model._runner, tmp_path, workers=2)
    model.outcomes = [ScalarOutcome("worker", kind=ScalarOutcome.INFO)]
    with SequentialEvaluator(model) as evaluator:
        seq_experiments, seq_outcomes = _design(evaluator)
    with MultiprocessingEvaluator(model, n_processes=2) as evaluator:
        experiments, outcomes = _design(evaluator)

    assert len(experiments) == 20
    # Scenario and policy names are EMA's running counters; the values must be the same.
    columns = [p.name for p in [*model.uncertainties, *model.levers]] + ["model"]
    pd.testing.assert_frame_equal(experiments[columns], seq_experiments[columns])
    assert set(seq_outcomes.pop("worker")) == {os.getpid()}
    workers = set(outcomes.pop("worker"))
    assert len(workers) == 2 and os.getpid() not in workers, workers
    assert set(outcomes) == set(seq_outcomes) == set(OUTCOMES)
    for name in OUTCOMES:
        np.testing.assert_array_equal(outcomes[name], seq_outcomes[name], err_msg=name)
    f = outcomes["failure_demand_share"]
    assert np.isfinite(f).all() and len(np.unique(f)) == 20  # every experiment its own outcome


# A user's script under multiprocessing's default start method on Linux before Python 3.14,
# "fork": it runs the design sequentially first, so EMA forks its workers from a process whose
# worker threads have started (before each process built its own, those workers hung). It writes
# the results of the test above's design through both evaluators.
FORK_SCRIPT = """
import json, multiprocessing, pickle, sys
import numpy as np
import publicsim as ps
from ema_workbench import MultiprocessingEvaluator, SequentialEvaluator
from publicsim.ema import PublicsimModel

def design(evaluator):
    np.random.seed(2027)
    return evaluator.perform_experiments(scenarios=10, policies=2)

if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    small, days, uncertain, outcomes, out = json.loads(sys.argv[1])
    model = PublicsimModel(ps.load("scenarios/top-down.toml", set=small), days=days,
                           uncertainties={k: tuple(v) for k, v in uncertain.items()},
                           levers=["governance.discretion"], outcomes=outcomes)
    results = {}
    with SequentialEvaluator(model) as evaluator:
        results["sequential"] = design(evaluator)
    with MultiprocessingEvaluator(model, n_processes=2) as evaluator:
        results["fork"] = design(evaluator)
    with open(out, "wb") as f:
        pickle.dump(results, f)
"""


def test_forked_workers_give_the_sequential_outcomes(tmp_path):
    """The design of the test above in a script under "fork": its EMA workers, forked after the
    script's sequential runs, give the sequential outcomes bit for bit. A separate Python (a
    script's own start method), stopped after 120 s should it hang."""
    script, out = tmp_path / "fork_script.py", tmp_path / "results.pickle"
    script.write_text(textwrap.dedent(FORK_SCRIPT))
    args = json.dumps([SMALL, DAYS, UNCERTAIN, OUTCOMES, str(out)])
    done = subprocess.run([sys.executable, str(script), args], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    with open(out, "rb") as f:
        results = pickle.load(f)
    (experiments, outcomes), (seq_experiments, seq_outcomes) = results["fork"], results["sequential"]
    columns = [*(ema.name_of(p) for p in UNCERTAIN), "governance_discretion", "model"]
    assert len(experiments) == 20
    pd.testing.assert_frame_equal(experiments[columns], seq_experiments[columns])
    assert set(outcomes) == set(seq_outcomes) == set(OUTCOMES)
    for name in OUTCOMES:
        np.testing.assert_array_equal(outcomes[name], seq_outcomes[name], err_msg=name)
    assert len(np.unique(outcomes["failure_demand_share"])) == 20


# --- Samplers and SALib -----------------------------------------------------------------------


@pytest.fixture
def seeded_sobol(monkeypatch):
    """EMA 2.5's Sobol sampler gives SALib's scrambled Sobol' sequence no seed (it draws a new
    scrambling each time, whatever numpy's global seed): give it `seed` for a repeatable test."""

    def pin(seed: int) -> None:
        monkeypatch.setattr(salib_samplers, "sobol", types.SimpleNamespace(sample=functools.partial(sobol_sampling.sample, seed=seed)))

    return pin


def test_the_docstrings_samplers_run_and_numpy_seeds_repeat_all_but_sobol(seeded_sobol):
    """Monte Carlo, LHS and full factorial designs run on the model; np.random.seed repeats those
    and Morris's, not Sobol's (as the module's doc says); a Sobol design sampled with SALib and
    given as scenarios (the doc's recipe) runs in SALib's row order."""
    model = small_model()
    names = [u.name for u in model.uncertainties]
    low = np.array([u.lower_bound for u in model.uncertainties])
    high = np.array([u.upper_bound for u in model.uncertainties])
    for sampler, n, size in [(Samplers.MC, 6, 6), (Samplers.LHS, 6, 6), (Samplers.FF, 2, 8)]:
        np.random.seed(5)
        experiments, outcomes = perform_experiments(model, scenarios=n, uncertainty_sampling=sampler)
        x = experiments[names].to_numpy()
        assert len(experiments) == size and ((low <= x) & (x <= high)).all(), sampler
        assert np.isfinite(outcomes["failure_demand_share"]).all(), sampler
    # Full factorial with 2 levels: the 8 corners of the box.
    assert {tuple(r) for r in x} == {(a, b, c) for a in (low[0], high[0]) for b in (low[1], high[1]) for c in (low[2], high[2])}

    def design(sampler, n):
        np.random.seed(11)
        return np.array([[p[name] for name in names] for p in sample_uncertainties(model, n, sampler=sampler.value)])

    for sampler, n in [(Samplers.MC, 8), (Samplers.LHS, 8), (Samplers.MORRIS, 4)]:
        np.testing.assert_array_equal(design(sampler, n), design(sampler, n), err_msg=sampler.name)
    assert not np.array_equal(design(Samplers.SOBOL, 4), design(Samplers.SOBOL, 4))

    problem = get_SALib_problem(model.uncertainties)
    assert problem["names"] == sorted(names)
    rows = sobol_sampling.sample(problem, 2, seed=7)
    scenarios = [Scenario(f"s{i}", **dict(zip(problem["names"], row))) for i, row in enumerate(rows)]
    experiments, outcomes = perform_experiments(model, scenarios=scenarios)
    np.testing.assert_array_equal(experiments[problem["names"]].to_numpy(), rows)
    assert len(outcomes["failure_demand_share"]) == 2 * (2 * 3 + 2)
    # The same design through EMA's Sobol sampler with the scrambling pinned to the same seed.
    seeded_sobol(7)
    experiments, again = perform_experiments(model, scenarios=2, uncertainty_sampling=Samplers.SOBOL)
    np.testing.assert_array_equal(experiments[problem["names"]].to_numpy(), rows)
    np.testing.assert_array_equal(again["failure_demand_share"], outcomes["failure_demand_share"])


def test_sobol_indices_through_ema_and_salib(seeded_sobol):
    """EMA's Sobol sampler (SALib's Saltelli scheme, N = 32: 32 * (2 * 3 + 2) = 256 experiments
    over the three uncertainties, the scenario's own levers), then SALib's Sobol analysis of
    failure demand: finite first- and total-order indices, one per uncertainty, named as EMA
    names them. Behaviour: information lost at each hand-off drives failure demand in the
    top-down pipeline, so routing_info_loss_per_handoff has the largest first-order index. Over
    100 scramblings (seeds 0-99) it had the largest first-order index in 100 and the largest
    total-order index in 97: single runs are noisy, and the noise adds to every total-order index
    alike (each parameter's total-order interval excluded 0 in all 100, so that says nothing
    about which matters), so the test asserts the first-order ranking."""
    model = small_model()
    seeded_sobol(3)
    experiments, outcomes = perform_experiments(model, scenarios=32, uncertainty_sampling=Samplers.SOBOL)
    problem = get_SALib_problem(model.uncertainties)
    assert len(experiments) == 32 * (2 * 3 + 2)
    assert problem["names"] == sorted(u.name for u in model.uncertainties)
    # SALib reads the outcomes in its sample's row order: EMA kept it.
    np.testing.assert_array_equal(experiments[problem["names"]].to_numpy(), sobol_sampling.sample(problem, 32, seed=3))
    y = outcomes["failure_demand_share"]
    assert np.isfinite(y).all() and y.std() > 0
    indices = sobol_analysis.analyze(problem, y, calc_second_order=True, seed=4)
    for key in ("S1", "S1_conf", "ST", "ST_conf"):
        assert indices[key].shape == (3,) and np.isfinite(indices[key]).all(), key
    assert indices["S2"].shape == (3, 3)
    s1 = dict(zip(problem["names"], indices["S1"]))
    assert max(s1, key=s1.get) == "routing_info_loss_per_handoff", s1


def test_morris_screening_through_ema_and_salib():
    """EMA's Morris sampler (20 trajectories of 3 + 1 points, 4 levels: 80 experiments), then
    SALib's Morris analysis of failure demand: routing_info_loss_per_handoff has the largest
    mean absolute elementary effect (mu*). It had in all of 100 samples (numpy seeds 0-99), its
    mu* on average twice the larger of the others' and at least 1.2 times it."""
    model = small_model()
    np.random.seed(6)
    experiments, outcomes = perform_experiments(model, scenarios=20, uncertainty_sampling=Samplers.MORRIS)
    problem = get_SALib_problem(model.uncertainties)
    assert len(experiments) == 20 * (3 + 1)
    x = experiments[problem["names"]].to_numpy()
    y = outcomes["failure_demand_share"]
    assert np.isfinite(y).all()
    indices = morris_analysis.analyze(problem, x, y, num_levels=4, seed=7)
    assert list(indices["names"]) == problem["names"]
    for key in ("mu", "mu_star", "sigma", "mu_star_conf"):
        assert np.isfinite(np.asarray(indices[key], dtype=float)).all(), key
    mu_star = dict(zip(problem["names"], np.asarray(indices["mu_star"], dtype=float)))
    assert max(mu_star, key=mu_star.get) == "routing_info_loss_per_handoff", mu_star
