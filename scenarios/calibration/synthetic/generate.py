#!/usr/bin/env python3
"""Generates synthetic-monthly.csv: a SYNTHETIC monthly series of a service, simulated from known
parameters, for the worked calibration example (scenarios/calibration/synthetic-monthly.toml,
notebooks/06-calibration.ipynb). Not data about any real service.

The service: the top-down preset at one-eighth scale (5,000 citizens, 15 frontline staff) over
730 days, seed 2026, with the known parameters
    demand.demand_multiplier = 1.3
    routing.info_loss_per_handoff = 0.35
Its daily series (timeseries.csv of `sim run`) is cut into 30-day months from day 180 (the end of
the warm-up) to day 720: 18 rows of new cases (sum of demand_new), repeat contacts (sum of
demand_failure, the failure demand) and open cases (mean of backlog).

Usage: generate.py [path/to/sim]   (default target/release/sim); rewrites synthetic-monthly.csv
beside this script. The same binary gives the same bytes.
"""
import csv
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
SIM = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(ROOT, "target", "release", "sim")
KNOWN = {"demand.demand_multiplier": 1.3, "routing.info_loss_per_handoff": 0.35}
FIXED = ["population.citizens=5000", "workforce.frontline_staff=15", "run.days=730"]
SEED = 2026
START, PERIOD, MONTHS = 180, 30, 18


def main():
    sets = []
    for s in FIXED + [f"{k}={v}" for k, v in KNOWN.items()]:
        sets += ["--set", s]
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([SIM, "run", os.path.join(ROOT, "scenarios", "top-down.toml"), "--seed", str(SEED), "--out", os.path.join(d, "run"), "-q", *sets],
                       check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(d, "run", "timeseries.csv")) as f:
            days = {int(r["day"]): r for r in csv.DictReader(f)}
    lines = [
        "# SYNTHETIC: simulated by generate.py (beside this file) from known parameters, not data about a real service.",
        "# " + ", ".join(f"{k} = {v}" for k, v in KNOWN.items()) + f"; top-down preset, {', '.join(FIXED)}, seed {SEED}.",
        f"# One row per 30-day month from day {START}: new cases and repeat contacts are totals, open cases a daily mean.",
        "month,new_cases,repeat_contacts,open_cases",
    ]
    for m in range(MONTHS):
        rows = [days[d] for d in range(START + m * PERIOD, START + (m + 1) * PERIOD)]
        new = sum(float(r["demand_new"]) for r in rows)
        repeat = sum(float(r["demand_failure"]) for r in rows)
        open_cases = sum(float(r["backlog"]) for r in rows) / len(rows)
        lines.append(f"{m + 1},{new:.0f},{repeat:.0f},{open_cases:.1f}")
    with open(os.path.join(HERE, "synthetic-monthly.csv"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {os.path.join(HERE, 'synthetic-monthly.csv')} ({MONTHS} months)")


if __name__ == "__main__":
    main()
