"""The public-services simulator in-process.

The same model, scenarios, overrides and numbers as the ``sim`` command, without files:

    >>> import publicsim as ps
    >>> result = ps.run(ps.load("scenarios/enablement.toml"), seed=7, days=365,
    ...                 set={"population.citizens": 3000})
    >>> result.summary["true_resolution_rate"]
    >>> result.timeseries.plot(x="day", y="failure_demand_share")

``run`` equals ``sim run --seed 7 --days 365 --set population.citizens=3000`` value for value:
``Result.timeseries`` has the columns of timeseries.csv and ``Result.summary`` the metrics of
summary.json (NaN where summary.json has null). A ``Simulation`` steps a run day by day and steers
it between days (``set``, ``set_team``), as ``sim serve`` does.

``sweep`` runs many points and replicates in parallel (rayon) and returns a ``pyarrow.Table``
equal to ``sim sweep``'s runs.parquet for the same design:

    >>> table = ps.sweep([{"governance.discretion": d} for d in (0.1, 0.5, 0.9)],
    ...                  replicates=3, scenario=ps.load("scenarios/top-down.toml"), days=365)
    >>> table = ps.sweep("scenarios/sweeps/grid.toml")      # a sweep file, as `sim sweep` takes

:mod:`publicsim.ema` makes any scenario an EMA Workbench ``Model``.

Bad scenarios, values and paths raise :class:`ScenarioError` (a ``ValueError``) with the message
``sim`` prints: file, line, column and field where known. Long calls release the GIL.

Worker processes: each process has its own worker threads, built at its first run, so publicsim
runs under any multiprocessing start method, "fork" included, also in a process forked after its
parent has run the model.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Union

import pandas as pd
import pyarrow as pa

from . import _native
from ._native import METRICS, Scenario, ScenarioError

__version__: str = _native.__version__
ScenarioError.__module__ = "publicsim"

__all__ = [
    "METRICS",
    "Result",
    "Scenario",
    "ScenarioError",
    "Simulation",
    "load",
    "parameters",
    "run",
    "run_seed",
    "sweep",
]

#: A scenario argument: a loaded Scenario, a path to a scenario file, or None for the built-in
#: default (what ``sim run`` runs without a file).
ScenarioLike = Union[Scenario, str, "os.PathLike[str]", None]
#: Overrides as ``--set`` takes them: {path: value}, or ["path=value", ...].
Overrides = Union[Mapping[str, Union[bool, int, float, str]], Iterable[str], None]


def load(path: str | os.PathLike[str], set: Overrides = None) -> Scenario:
    """Load and validate a scenario file, as ``sim run PATH --set ...`` does.

    Args:
        path: the scenario file (TOML).
        set: overrides, ``{"governance.discretion": 0.5}`` or ``["governance.discretion=0.5"]``.

    Raises:
        ScenarioError: the file cannot be read, is not valid TOML, or holds a bad value; the
            message names the file, line, column and field as the CLI does.
    """
    return _native.load(os.fspath(path), set)


def _scenario(scenario: ScenarioLike) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    if scenario is None:
        return Scenario.builtin()
    return load(scenario)


@dataclass(frozen=True)
class Result:
    """A finished run.

    Attributes:
        timeseries: one row per day; ``day`` then one column per metric (timeseries.csv).
        summary: metric -> value over the summary window (summary.json's ``metrics``; NaN where
            that file has null).
        manifest: provenance: ``sim_version``, ``git_commit``, ``scenario``, ``scenario_file``,
            ``scenario_hash``, ``overrides``, ``seed``, ``days``, ``warmup_days`` and the fully
            resolved ``parameters``.
        window_start_day, window_end_day: the summary window (summary.json).
        neighbourhood_wellbeing: mean wellbeing of each neighbourhood over the window.
    """

    timeseries: pd.DataFrame
    summary: dict[str, float]
    manifest: dict[str, Any]
    window_start_day: int
    window_end_day: int
    neighbourhood_wellbeing: list[float] = field(default_factory=list)


def run(
    scenario: ScenarioLike = None,
    seed: int | None = None,
    days: int | None = None,
    set: Overrides = None,
) -> Result:
    """Run a scenario to its horizon, as ``sim run SCENARIO --seed SEED --days DAYS --set ...``.

    Args:
        scenario: a Scenario from :func:`load`, a path, or None for the built-in default.
        seed: the run seed; None keeps the scenario's ``run.seed`` (1 unless the file sets it),
            as ``sim run`` without ``--seed`` does.
        days: the horizon; None keeps ``run.days``.
        set: overrides applied before ``days`` and ``seed``, as ``--set``.

    Raises:
        ScenarioError: a bad override, path or value (the CLI's message).
        KeyboardInterrupt: Ctrl-C during the run (checked every 30 days).
    """
    series, summary, window, manifest = _native.run(_scenario(scenario), seed, days, set)
    return Result(
        timeseries=pd.DataFrame(series),
        summary=dict(summary),
        manifest=json.loads(manifest),
        window_start_day=window["window_start_day"],
        window_end_day=window["window_end_day"],
        neighbourhood_wellbeing=list(window["neighbourhood_wellbeing"]),
    )


class Simulation:
    """A run in progress: step it, steer it between days, observe it.

    ``Simulation(s, seed=7).step(365)`` followed by :meth:`metrics` and :meth:`summary` gives the
    same numbers as ``run(s, seed=7)`` for a 365-day scenario. A lever changed with :meth:`set`
    or :meth:`set_team` is recorded as an event, so :meth:`replay_toml` writes a scenario file
    that ``sim run`` replays bit for bit.
    """

    def __init__(
        self,
        scenario: ScenarioLike = None,
        seed: int | None = None,
        days: int | None = None,
        set: Overrides = None,
    ) -> None:
        """Build the world; nothing is stepped yet. Arguments as for :func:`run`."""
        self._sim = _native.Simulation(_scenario(scenario), seed, days, set)

    @property
    def day(self) -> int:
        """The next day to be stepped (the number of days stepped so far)."""
        return self._sim.day

    @property
    def days(self) -> int:
        """The horizon (``run.days``)."""
        return self._sim.days

    def step(self, n: int = 1) -> int:
        """Step ``n`` days (fewer at the horizon); returns the number of days stepped."""
        return self._sim.step(n)

    def run_until(self, day: int) -> None:
        """Step until ``day`` days are done (at most the horizon)."""
        self._sim.run_until(day)

    def set(self, path: str, value: bool | int | float | str) -> None:
        """Set a governance lever from the next day on, checked as ``--set path=value``.

        Only ``governance.*`` levers (and ``governance.preset``, a reform) may change mid-run.

        Raises:
            ScenarioError: an unknown path, a value out of range, a parameter fixed at the
                start, or a run that has ended.
        """
        self._sim.set(path, value)

    def set_team(self, team: int, lever: str, value: bool | int | float | str) -> None:
        """Set team ``team``'s own ``lever`` (discretion, time_standard or prevention_share).

        Raises:
            ScenarioError: a service-wide lever, a team that does not exist, a bad value.
        """
        self._sim.set_team(team, lever, value)

    def metrics(self) -> pd.DataFrame:
        """The history: one row per day stepped, ``day`` then one column per metric."""
        return pd.DataFrame(self._sim.history())

    def today(self) -> dict[str, float] | None:
        """The last day's record ({"day": d, metric: value}); None before the first step."""
        return self._sim.today()

    def summary(self) -> dict[str, float]:
        """The summary metrics over the window of the days stepped so far (NaN if undefined)."""
        return dict(self._sim.summary())

    def teams(self) -> pd.DataFrame:
        """Every team as it stands: role, levers in force, pressure, open cases, outcomes."""
        return pd.DataFrame(self._sim.teams())

    def agents(self) -> pd.DataFrame:
        """Citizens and workers in post now, as agents.csv of ``sim run --snapshot-days``.

        Columns: day, agent_type ("citizen" or "worker"), agent_id, neighbourhood, wellbeing,
        trust, latent, open_needs (citizens), team, skill, fatigue, burnout (workers). A column
        that does not apply to a row's kind is NaN.
        """
        return pd.DataFrame(self._sim.agents())

    def result(self) -> Result:
        """The days stepped so far as a :class:`Result` (as :func:`run` returns at the horizon)."""
        window = self._sim.window()
        return Result(
            timeseries=self.metrics(),
            summary=self.summary(),
            manifest=json.loads(self._sim.manifest()),
            window_start_day=window["window_start_day"],
            window_end_day=window["window_end_day"],
            neighbourhood_wellbeing=list(window["neighbourhood_wellbeing"]),
        )

    def replay_toml(self) -> str:
        """A scenario file (TOML) that replays this run, lever changes included, bit for bit."""
        return self._sim.replay_toml()

    def __repr__(self) -> str:
        if not hasattr(self, "_sim"):
            return "Simulation(<not built>)"
        return f"Simulation(day={self.day}, days={self.days})"


def parameters(scenario: ScenarioLike = None) -> pd.DataFrame:
    """Every parameter of ``scenario`` (None: the built-in default), one row per path, as ``sim
    describe parameters`` documents them, with this scenario's values.

    Columns: ``path`` (as ``set`` takes it; ``need_types[i].field`` for each need type),
    ``value`` (in this scenario), ``default`` (built-in, as TOML), ``unit``, ``min`` and ``max``
    (the valid range; NaN if not a number), ``choices`` (for a choice), ``kind`` (float, int, bool,
    choice or text), ``source``, ``doc``. The last row is ``governance.preset``.
    """
    return pd.DataFrame(_native.parameters(_scenario(scenario)))


#: A point of a sweep: {parameter path: value}, as ``--set`` takes them.
Point = Mapping[str, Union[bool, int, float, str]]

#: Replicates per point and master seed when neither the call nor a sweep file says (as a sweep file).
DEFAULT_REPLICATES = 5
DEFAULT_SEED = 1


def run_seed(master: int, point: int, replicate: int) -> int:
    """The seed ``sim sweep`` gives run (point, replicate) of a sweep with master seed ``master``."""
    return _native.run_seed(master, point, replicate)


def _plain(value: Any) -> Any:
    # numpy scalars (from a DataFrame or an EMA sample) as Python bool/int/float/str.
    return value.item() if hasattr(value, "item") and not isinstance(value, (str, bytes)) else value


def sweep(
    points: Iterable[Point] | pd.DataFrame | str | os.PathLike[str],
    replicates: int | None = None,
    threads: int | None = None,
    scenario: ScenarioLike = None,
    seed: int | None = None,
    days: int | None = None,
    metrics: Iterable[str] | None = None,
) -> pa.Table:
    """Run many points, ``replicates`` runs each, in parallel; one row per run, as runs.parquet.

    ``points`` is either

    * a list of dicts ``{path: value}`` (or a DataFrame, one row per point and one column per
      path): every point must set the same parameters, which become the table's parameter
      columns in the first point's order. Each point is ``scenario`` with those values set as
      ``--set`` sets them (so bad values raise the CLI's message, naming the point); or
    * a sweep file (a path), loaded and run as ``sim sweep FILE`` runs it: its base scenario,
      design, replicates, seed, days and metrics (``scenario``, ``days`` and ``metrics`` must
      then be None; ``replicates`` and ``seed``, when given, replace the file's).

    Run (point, replicate) has run_id ``point * replicates + replicate`` and seed
    ``run_seed(seed, point, replicate)``, as in ``sim sweep``: a list of points equal to a sweep
    file's design gives the same table as that file (and as its runs.parquet, value for value).
    Results do not depend on ``threads``.

    Args:
        points: the points, or a sweep file.
        replicates: runs per point (default 5, as a sweep file).
        threads: worker threads (default: one per core, or RAYON_NUM_THREADS).
        scenario: the base of the points: a Scenario, a path, or None for the built-in default.
        seed: the master seed (default 1, as a sweep file).
        days: the horizon of every run (``run.days``); None keeps the scenario's.
        metrics: the summary metrics to record, in column order; None records every metric.

    Returns:
        A ``pyarrow.Table``: run_id, point_id, replicate, seed (uint64); one column per parameter
        (float64 when every value is a number, else string); one float64 column per metric, NaN
        where a run's summary has no value. ``table.to_pandas()`` gives a DataFrame.

    Raises:
        ScenarioError: a bad value or path (the CLI's message) or a bad sweep file (``sim
            sweep``'s located message).
        ValueError, TypeError: points that do not all set the same parameters, an unknown metric,
            no points, ``threads`` outside 1..256.
        KeyboardInterrupt: Ctrl-C (checked after every run; runs in flight finish first).
    """
    if isinstance(points, (str, os.PathLike)):
        given = {"scenario": scenario, "days": days, "metrics": metrics}
        extra = [k for k, v in given.items() if v is not None]
        if extra:
            raise TypeError(f"sweep(FILE): {', '.join(extra)} come from the sweep file; leave them out")
        reader = _native.sweep_file(os.fspath(points), replicates, seed, threads)
    else:
        if isinstance(points, pd.DataFrame):
            rows: Iterable[Mapping[str, Any]] = points.to_dict("records")
        else:
            rows = points
        plain = [{k: _plain(v) for k, v in dict(p).items()} if isinstance(p, Mapping) else p for p in rows]
        reader = _native.sweep_points(
            _scenario(scenario),
            plain,
            DEFAULT_REPLICATES if replicates is None else replicates,
            DEFAULT_SEED if seed is None else seed,
            days,
            None if metrics is None else list(metrics),
            threads,
        )
    return reader.read_all()
