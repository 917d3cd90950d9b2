#!/usr/bin/env python3
"""Recovery check of `sim calibrate` (issue 16): on data simulated from known parameters, the 90%
credible interval covers the true value in at least 80% of repeated fits, and the posterior
narrows as targets are added.

Set-up (standard library only; drives the release binary):
- The model: the top-down preset with 800 citizens, 240 days, a 60-day warm-up.
- True parameters: demand.demand_multiplier = 1.2, routing.info_loss_per_handoff = 0.3.
- Each of DATASETS datasets is one `sim run` at the true parameters with its own seed; its
  "observed" figures are the daily means over days [60, 240) of demand_new, demand_failure and
  backlog (timeseries.csv).
- The stated sd of each figure is its run-to-run sd at the true parameters (from SD_RUNS other seeds).
- Each dataset is fitted twice by ABC-SMC with uniform priors over [0.5, 2] and [0, 1]: with the
  one target demand_new, then with all three. Coverage counts, over datasets and both
  parameters, how often the three-target fit's 90% interval (parameters.csv) holds the true value.
- Narrowing: the mean over datasets and parameters of the interval width as a share of the
  prior's width, one target vs three.

Pass: coverage >= 80% for each parameter over >= 10 datasets, and the three-target intervals are
narrower on average (relative to the priors, over both parameters). Prints the table and exits 1 on failure.

Usage: recovery.py [path/to/sim]   (default target/release/sim)
"""
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SIM = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(ROOT, "target", "release", "sim")
BASE = os.path.join(ROOT, "scenarios", "top-down.toml")
TRUE = {"demand.demand_multiplier": 1.2, "routing.info_loss_per_handoff": 0.3}
PRIORS = {"demand.demand_multiplier": (0.5, 2.0), "routing.info_loss_per_handoff": (0.0, 1.0)}
METRICS = ["demand_new", "demand_failure", "backlog"]
FIXED = ["run.days=240", "population.citizens=800", "run.warmup_days=60"]
WINDOW = (60, 240)
DATASETS = 10
SD_RUNS = 10
THREADS = os.environ.get("RECOVERY_THREADS", "2")


def run(args, cwd):
    p = subprocess.run([SIM, *args], cwd=cwd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"sim {' '.join(args)} failed ({p.returncode}):\n{p.stderr}")
    return p


def observed(cwd, seed):
    sets = []
    for s in FIXED + [f"{k}={v}" for k, v in TRUE.items()]:
        sets += ["--set", s]
    out = f"data-{seed}"
    run(["run", BASE, "--seed", str(seed), "--out", out, "-q", *sets], cwd)
    with open(os.path.join(cwd, out, "timeseries.csv")) as f:
        rows = [r for r in csv.DictReader(f) if WINDOW[0] <= int(r["day"]) < WINDOW[1]]
    return {m: statistics.fmean(float(r[m]) for r in rows) for m in METRICS}


def calibration(path, seed, obs, sds, metrics):
    lines = [
        f"name = 'recovery-{seed}-{len(metrics)}'",
        f"base = '{BASE}'",
        f"seed = {seed}",
        "set = [" + ", ".join(f"'{s}'" for s in FIXED) + "]",
        "[method]",
        "kind = 'smc'",
        "particles = 60",
        "generations = 6",
        "predictive_runs = 10",
    ]
    for p, (lo, hi) in PRIORS.items():
        lines += ["[[parameters]]", f"path = '{p}'", f"min = {lo}", f"max = {hi}"]
    for m in metrics:
        lines += ["[[targets]]", f"metric = '{m}'", "statistic = 'mean'", f"days = [{WINDOW[0]}, {WINDOW[1]}]",
                  f"observed = {obs[m]!r}", f"sd = {sds[m]!r}"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def intervals(out):
    with open(os.path.join(out, "parameters.csv")) as f:
        return {r["parameter"]: (float(r["ci_low"]), float(r["ci_high"])) for r in csv.DictReader(f)}


def main():
    started = time.time()
    with tempfile.TemporaryDirectory() as d:
        # Run-to-run sd of each figure at the true parameters (seeds 1000+).
        reps = [observed(d, 1000 + i) for i in range(SD_RUNS)]
        sds = {m: statistics.stdev(r[m] for r in reps) for m in METRICS}
        covered = {p: 0 for p in TRUE}
        widths = {1: {p: [] for p in TRUE}, 3: {p: [] for p in TRUE}}
        rows = []
        for i in range(DATASETS):
            seed = 1 + i
            obs = observed(d, seed)
            for k in (1, 3):
                f = os.path.join(d, f"cal-{seed}-{k}.toml")
                calibration(f, seed, obs, sds, METRICS[:k])
                out = os.path.join(d, f"out-{seed}-{k}")
                run(["calibrate", f, "--out", out, "--threads", THREADS, "-q"], d)
                ci = intervals(out)
                for p, (lo, hi) in ci.items():
                    widths[k][p].append(hi - lo)
                    if k == 3:
                        inside = lo <= TRUE[p] <= hi
                        covered[p] += inside
                        rows.append((seed, p, lo, hi, inside))
        print("dataset  parameter                     90% CI (3 targets)          covers the truth")
        for seed, p, lo, hi, inside in rows:
            print(f"{seed:7d}  {p:28s}  [{lo:.4f}, {hi:.4f}]  {'yes' if inside else 'NO'}")
        ok = True
        rel = {1: [], 3: []}
        for p in TRUE:
            share = covered[p] / DATASETS
            w1, w3 = statistics.fmean(widths[1][p]), statistics.fmean(widths[3][p])
            prior = PRIORS[p][1] - PRIORS[p][0]
            rel[1].append(w1 / prior)
            rel[3].append(w3 / prior)
            print(f"{p}: coverage {covered[p]}/{DATASETS} = {share:.0%} (need >= 80%); mean 90% CI width {w1:.4f} with 1 target, {w3:.4f} with 3")
            ok &= share >= 0.8
        r1, r3 = statistics.fmean(rel[1]), statistics.fmean(rel[3])
        print(f"mean 90% CI width as a share of the prior's: {r1:.3f} with 1 target, {r3:.3f} with 3 (must narrow)")
        ok &= r3 < r1
        print(f"sd of the figures at the true parameters ({SD_RUNS} runs): " + ", ".join(f"{m} {s:.4g}" for m, s in sds.items()))
        print(f"recovery: {'PASS' if ok else 'FAIL'} in {time.time() - started:.0f} s")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
