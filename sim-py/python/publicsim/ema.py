"""Any scenario as an EMA Workbench model: exploratory modelling and scenario discovery.

EMA Workbench (Kwakkel 2017, https://emaworkbench.readthedocs.io) explores a model over its
uncertain parameters (uncertainties) and the choices open to a decision maker (levers), then
finds, with PRIM or CART, the conditions under which an outcome of interest happens. This module
makes a publicsim scenario such a model, so ``perform_experiments``, EMA's samplers (LHS, Monte
Carlo, Sobol, Morris, full factorial), SALib analysis, PRIM and CART work on it directly::

    import publicsim as ps
    from publicsim.ema import PublicsimModel
    from ema_workbench import perform_experiments
    from ema_workbench.analysis import prim

    model = PublicsimModel(ps.load("scenarios/enablement.toml",
                                   set={"population.citizens": 4000, "workforce.frontline_staff": 12,
                                        "money.funding_per_year": 1.8e6}), days=730)
    experiments, outcomes = perform_experiments(model, scenarios=50, policies=4)
    x = experiments[[u.name for u in model.uncertainties]]
    box = prim.Prim(x, outcomes["cost_per_resolved_need"] > 400, threshold=0.6).find_box()
    box.inspect()

What becomes what:

* **Uncertainties**: by default the mechanism parameters the validation patterns rest on, each
  over the plausible range ``sim patterns --robustness`` draws it from (MODEL.md §10;
  :func:`default_uncertainties`). **Levers**: by default the governance levers of MODEL.md §3
  (:data:`GOVERNANCE_LEVERS`), each over the span between its top-down and enablement preset
  values (a regime is a point in that space; :func:`preset_lever_ranges`): their full valid
  ranges would include combinations the scenario refuses, such as an admin share and a
  prevention share that leave no time for cases. Either list may be chosen freely: any
  parameter path of the scenario (``publicsim.parameters()`` lists them, with their valid ranges)
  given as a path (its whole valid range, or all its choices), as ``{path: (low, high)}`` or
  ``{path: [value, ...]}``, or as an EMA parameter whose ``variable_name`` is the path. A float
  parameter becomes a ``RealParameter``, a whole-number one an ``IntegerParameter``, a choice
  (``governance.time_standard``, ``governance.preset``, ...) a ``CategoricalParameter`` and a
  true/false one a ``BooleanParameter``. A range outside the valid range is refused.
* **Names**: EMA names must be Python identifiers, so a parameter is named by its path with every
  run of other characters as ``_`` (``governance.discretion`` -> ``governance_discretion``,
  ``need_types[0].effort_hours`` -> ``need_types_0_effort_hours``; :func:`name_of`); its
  ``variable_name`` is the path, which the model sets as ``--set`` would.
* **Outcomes**: one ``ScalarOutcome`` per summary metric (summary.json's value, the mean over
  replicates; NaN where undefined), MAXIMIZE or MINIMIZE by which way the metric is better
  (``sim describe metrics``), INFO where neither; ``timeseries=[metric, ...]`` adds a
  ``TimeSeriesOutcome`` named ``<metric>_series`` (the daily series, mean over replicates).
* **Seeds**: replicate ``r`` of an experiment runs with seed ``run_seed(seed, key, r)``, where
  ``key`` is a fixed hash of the experiment's uncertainty values. Every policy thus meets the same
  seeds in the same scenario (common random numbers, as ``sim compare`` pairs its arms), and a
  rerun gives the same outcomes.

Designs: EMA's LHS, Monte Carlo, full factorial and Morris samplers draw from numpy's global
generator, so ``np.random.seed(n)`` before ``perform_experiments`` repeats the design. Its Sobol
sampler does not: EMA 2.5 gives SALib's scrambled Sobol' sequence no seed, so the sequence draws a
new scrambling each time. For a repeatable Sobol design, sample it with SALib and give EMA the rows,
in order, as scenarios (``SALib.analyze.sobol.analyze`` reads the outcomes in that order)::

    from ema_workbench import Scenario
    from ema_workbench.em_framework.salib_samplers import get_SALib_problem
    from SALib.sample import sobol

    problem = get_SALib_problem(model.uncertainties)
    rows = sobol.sample(problem, 32, seed=7)        # 32 * (2 * 3 + 2) rows for 3 uncertainties
    scenarios = [Scenario(f"s{i}", **dict(zip(problem["names"], row))) for i, row in enumerate(rows)]
    experiments, outcomes = perform_experiments(model, scenarios=scenarios)

Processes: the model pickles (its scenario is rebuilt from its text), so EMA's
``MultiprocessingEvaluator`` runs it in worker processes under any start method ("fork" too: each
process builds its own worker threads), and an experiment's outcomes do not depend on the process
that ran it (its seeds come from its uncertainty values). EMA 2.5 prints an experiment's error in
a worker and then waits forever (a refused scenario, say): it turns the error into a
``BaseException``, which a multiprocessing worker does not hand back. So try a design with
``SequentialEvaluator`` first. "spawn" and "forkserver" need a script's work under the
``__main__`` guard::

    import multiprocessing
    from ema_workbench import MultiprocessingEvaluator

    if __name__ == "__main__":
        multiprocessing.set_start_method("forkserver")  # or keep Linux's "fork"
        with MultiprocessingEvaluator(model, n_processes=4) as evaluator:
            experiments, outcomes = evaluator.perform_experiments(scenarios=200, policies=4)

With ``SequentialEvaluator`` (the default of ``perform_experiments``) each run releases the GIL.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import warnings
from typing import Any, Iterable, Mapping, Sequence, Union

import numpy as np
import pandas as pd

try:
    with warnings.catch_warnings():
        # EMA says so at import when an optional evaluator's package is missing; not our concern.
        warnings.filterwarnings("ignore", message="ipyparallel not installed")
        from ema_workbench import (
            BooleanParameter,
            CategoricalParameter,
            IntegerParameter,
            Model,
            RealParameter,
            ScalarOutcome,
            TimeSeriesOutcome,
        )
        from ema_workbench.em_framework.parameters import Parameter
except ImportError as e:  # pragma: no cover - a message for users without the extra
    raise ImportError(
        "publicsim.ema needs EMA Workbench: pip install 'ema-workbench>=2.5' (or the `ema` extra of publicsim)"
    ) from e

from . import METRICS, ScenarioLike, _native, _scenario, parameters, run, run_seed

__all__ = [
    "GOVERNANCE_LEVERS",
    "PublicsimModel",
    "default_uncertainties",
    "name_of",
    "parameter_table",
    "preset_lever_ranges",
]

#: The governance levers of MODEL.md §3 (participation excepted): the default levers.
GOVERNANCE_LEVERS: list[str] = [
    "governance.discretion",
    "governance.approval_layers",
    "governance.place_based",
    "governance.handoffs",
    "governance.continuity",
    "governance.time_standard",
    "governance.target_pressure",
    "governance.admin_share",
    "governance.management_layers",
    "governance.span_of_control",
    "governance.prevention_share",
    "governance.peer_links",
    "governance.coproduction",
]

#: A choice of parameters: paths, {path: (low, high) or [values]}, or EMA parameters.
ParameterChoice = Union[Sequence[Union[str, Parameter]], Mapping[str, Union[tuple, list]], None]


def name_of(path: str) -> str:
    """The EMA name of a parameter path: a Python identifier (``need_types[0].effort_hours`` ->
    ``need_types_0_effort_hours``)."""
    name = re.sub(r"[^0-9A-Za-z_]+", "_", path).strip("_")
    return name if name.isidentifier() else f"p_{name}"


def parameter_table(scenario: ScenarioLike = None) -> pd.DataFrame:
    """``publicsim.parameters(scenario)`` indexed by path."""
    return parameters(scenario).set_index("path", drop=False)


def default_uncertainties() -> dict[str, tuple[float, float]]:
    """The mechanism parameters the validation patterns rest on, with the plausible range ``sim
    patterns --robustness`` draws each from (MODEL.md §10): {path: (low, high)}."""
    return {path: (low, high) for path, low, high in _native.uncertain_parameters()}


def preset_lever_ranges() -> dict[str, tuple[float, float] | None]:
    """The governance levers of MODEL.md §3 over the span between the top-down and enablement
    presets: {path: (low, high)} for numbers, None for a true/false or a choice (all its values)."""
    values = {
        preset: parameter_table(_native.Scenario.builtin(set={"governance.preset": preset}))["value"]
        for preset in ("top_down", "enablement")
    }
    table = parameter_table()
    out: dict[str, tuple[float, float] | None] = {}
    for path in GOVERNANCE_LEVERS:
        if table.loc[path, "kind"] in ("float", "int"):
            a, b = values["top_down"][path], values["enablement"][path]
            out[path] = (min(a, b), max(a, b)) if a != b else (table.loc[path, "min"], table.loc[path, "max"])
        else:
            out[path] = None
    return out


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _make_parameter(path: str, spec: Any, table: pd.DataFrame) -> Parameter:
    """An EMA parameter for `path` from a spec: None (its valid range or choices), (low, high),
    or a list of values."""
    if path not in table.index:
        raise ValueError(f"`{path}` is not a parameter of the scenario; publicsim.parameters() lists them")
    row = table.loc[path]
    name = name_of(path)
    kind = row["kind"]
    if isinstance(spec, list):
        return CategoricalParameter(name, [_plain(v) for v in spec], variable_name=path)
    if kind == "bool":
        if spec is not None:
            raise ValueError(f"`{path}` is true/false: give it as a path, or a list of values")
        return BooleanParameter(name, variable_name=path)
    if kind == "choice":
        if spec is not None:
            raise ValueError(f"`{path}` is a choice of {row['choices']}: give it as a path, or a list of values")
        return CategoricalParameter(name, list(row["choices"]), variable_name=path)
    if kind not in ("float", "int"):
        raise ValueError(f"`{path}` is text; give it as a list of values")
    low, high = (row["min"], row["max"]) if spec is None else spec
    if not (row["min"] <= low < high <= row["max"]):
        raise ValueError(
            f"`{path}`: the range ({low}, {high}) must be increasing and inside the valid range "
            f"{row['min']} to {row['max']} ({row['unit']})"
        )
    if kind == "int":
        return IntegerParameter(name, int(math.ceil(low)), int(math.floor(high)), variable_name=path)
    return RealParameter(name, float(low), float(high), variable_name=path)


def _parameters(choice: ParameterChoice, default: Mapping[str, Any], table: pd.DataFrame) -> list[Parameter]:
    if choice is None:
        choice = default
    if isinstance(choice, Mapping):
        return [_make_parameter(path, spec, table) for path, spec in choice.items()]
    out = []
    for item in choice:
        if isinstance(item, Parameter):
            path = item.variable_name[0]
            if path not in table.index:
                raise ValueError(f"{item.name}: its variable_name `{path}` is not a parameter path; publicsim.parameters() lists them")
            out.append(item)
        else:
            out.append(_make_parameter(item, None, table))
    return out


class _Runner:
    """The model's function: one experiment, ``replicates`` runs, their summaries averaged."""

    def __init__(self, scenario, days, replicates, seed, metrics, series):
        self.scenario, self.days, self.replicates, self.seed = scenario, days, replicates, seed
        self.metrics, self.series = metrics, series
        self.key = 0

    def __call__(self, **experiment: Any) -> dict[str, Any]:
        overrides = {path: _plain(value) for path, value in experiment.items()}
        results = [
            run(self.scenario, seed=run_seed(self.seed, self.key, r), days=self.days, set=overrides)
            for r in range(self.replicates)
        ]
        out: dict[str, Any] = {}
        for m in self.metrics:
            values = np.array([r.summary[m] for r in results], dtype=float)
            out[m] = float(np.nanmean(values)) if np.isfinite(values).any() else math.nan
        for m in self.series:
            out[f"{m}_series"] = np.nanmean(np.vstack([r.timeseries[m].to_numpy(dtype=float) for r in results]), axis=0) \
                if self.replicates > 1 else results[0].timeseries[m].to_numpy(dtype=float)
        return out


def _key(values: Mapping[str, Any]) -> int:
    """A fixed 63-bit hash of an experiment's uncertainty values (its seeds' point id)."""
    text = json.dumps({k: repr(_plain(v)) for k, v in sorted(values.items())})
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1


class PublicsimModel(Model):
    """A publicsim scenario as an EMA Workbench ``Model`` (see the module's doc).

    Args:
        scenario: a Scenario, a path, or None for the built-in default; the fixed part of every
            experiment (population, staffing, horizon...).
        name: the EMA model name (letters and digits only).
        uncertainties: the uncertain parameters; None: :func:`default_uncertainties`.
        levers: the levers; None: :data:`GOVERNANCE_LEVERS` over the span between the presets
            (:func:`preset_lever_ranges`). A path may not be both an uncertainty and a lever.
        outcomes: the summary metrics to return, each a ``ScalarOutcome``; None: every metric.
        timeseries: metrics whose daily series to return too, each a ``TimeSeriesOutcome``.
        days: the horizon of every run; None keeps the scenario's.
        replicates: runs per experiment, their outcomes averaged (NaNs left out).
        seed: the master seed of the experiments' run seeds.
    """

    def __init__(
        self,
        scenario: ScenarioLike = None,
        name: str = "publicsim",
        uncertainties: ParameterChoice = None,
        levers: ParameterChoice = None,
        outcomes: Iterable[str] | None = None,
        timeseries: Iterable[str] = (),
        days: int | None = None,
        replicates: int = 1,
        seed: int = 1,
    ) -> None:
        s = _scenario(scenario)
        if days is not None:
            s = s.with_set(days=days)  # checked now, not at the first experiment
        if replicates < 1:
            raise ValueError("replicates: must be at least 1")
        metrics = list(METRICS) if outcomes is None else list(outcomes)
        series = list(timeseries)
        unknown = [m for m in [*metrics, *series] if m not in METRICS]
        if unknown:
            raise ValueError(f"unknown metric(s) {unknown}; publicsim.METRICS lists them")
        table = parameter_table(s)
        self._runner = _Runner(s, None, replicates, seed, metrics, series)
        super().__init__(name, function=self._runner)
        self.uncertainties = _parameters(uncertainties, default_uncertainties(), table)
        self.levers = _parameters(levers, preset_lever_ranges(), table)
        paths = [p.variable_name[0] for p in [*self.uncertainties, *self.levers]]
        both = sorted({p for p in paths if paths.count(p) > 1})
        if both:
            raise ValueError(f"{both}: a parameter is either an uncertainty or a lever, once")
        direction = {name: word for name, _label, _unit, word in _native.metric_info()}
        kind = {"higher": ScalarOutcome.MAXIMIZE, "lower": ScalarOutcome.MINIMIZE, "neutral": ScalarOutcome.INFO}
        self.outcomes = [ScalarOutcome(m, kind=kind[direction[m]]) for m in metrics] + [
            TimeSeriesOutcome(f"{m}_series") for m in series
        ]

    @property
    def scenario(self):
        """The fixed scenario every experiment starts from."""
        return self._runner.scenario

    def run_model(self, scenario, policy):
        # Seeds from the uncertainty values: the same in this scenario whatever the policy.
        self._runner.key = _key({u.name: scenario[u.name] for u in self.uncertainties if u.name in scenario})
        super().run_model(scenario, policy)
