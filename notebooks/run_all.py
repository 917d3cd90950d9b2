#!/usr/bin/env python3
"""Check and execute the notebooks of this folder.

    python run_all.py                 # check, then execute every *.ipynb here
    python run_all.py --small         # the same with SIM_NOTEBOOK_SMALL=1 (quick runs; CI uses this)
    python run_all.py --check-only    # only check that the committed notebooks carry no outputs
    python run_all.py 03-sweeps-and-sensitivity.ipynb   # just these notebooks
    python run_all.py --save-to out/executed   # also keep executed copies to read

1. Check: every notebook must be committed clean, with no outputs and no execution counts
   (clear them with Jupyter's "Clear All Outputs", or
   `jupyter nbconvert --clear-output --inplace notebooks/*.ipynb`). Any that is not is listed and
   the script exits 1 before running anything.
2. Execute: each notebook runs top to bottom in a fresh kernel with nbclient, from this folder,
   in memory: the files on disk are never written. Any cell error stops that notebook, is
   printed, and makes the script exit 1 (the other notebooks still run). Each notebook's time is
   printed, and the total.

The notebooks find the simulator through SIM_BIN (default ../target/release/sim) and write their
outputs to notebooks/out/ (or $SIM_NOTEBOOK_OUT).
"""

import argparse
import atexit
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def dirty_cells(path):
    """Descriptions of the cells of `path` that carry outputs or execution counts."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    problems = []
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"cell {i}: {len(cell['outputs'])} output(s)")
        if cell.get("execution_count") is not None:
            problems.append(f"cell {i}: execution_count {cell['execution_count']}")
    return problems


def check_clean(paths):
    ok = True
    for path in paths:
        problems = dirty_cells(path)
        if problems:
            ok = False
            print(f"NOT CLEAN {path.name}: " + "; ".join(problems[:5]) + (" ..." if len(problems) > 5 else ""))
    if ok:
        print(f"clean: {len(paths)} notebook(s) carry no outputs or execution counts")
    return ok


def execute(path, timeout, save_to=None):
    # Imported here so that --check-only needs nothing beyond the standard library.
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    start = time.time()
    try:
        client.execute()
        error = None
    except CellExecutionError as e:
        error = re.sub(r"\x1b\[[0-9;]*m", "", str(e))  # without the terminal colours
    except Exception as e:  # kernel died, timeout, ...
        error = f"{type(e).__name__}: {e}"
    if save_to is not None:
        save_to.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, save_to / path.name)
    return time.time() - start, error


def use_this_python_as_kernel():
    """Make the kernel named "python3" the Python running this script (so the notebooks see the
    packages of this virtual environment), even if a user-wide "python3" kernel spec points
    elsewhere: a spec in a temporary folder put first on JUPYTER_PATH takes precedence."""
    folder = Path(tempfile.mkdtemp(prefix="run_all-kernel-"))
    atexit.register(shutil.rmtree, folder, True)
    spec = folder / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (run_all.py)",
        "language": "python",
    }))
    rest = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = str(folder) + (os.pathsep + rest if rest else "")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="notebooks to run (default: every *.ipynb in this folder)")
    parser.add_argument("--small", action="store_true", help="set SIM_NOTEBOOK_SMALL=1: small, quick runs")
    parser.add_argument("--check-only", action="store_true", help="only check that the notebooks carry no outputs")
    parser.add_argument("--save-to", type=Path, metavar="DIR", help="also write the executed notebooks into DIR (never over the originals)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell (default 600)")
    args = parser.parse_args()

    paths = [Path(p).resolve() for p in args.notebooks] or sorted(HERE.glob("*.ipynb"))
    if not paths:
        print("no notebooks found")
        return 1
    if not check_clean(sorted(HERE.glob("*.ipynb"))):
        print("Clear the outputs before committing (see the top of run_all.py).")
        return 1
    if args.check_only:
        return 0

    if args.small:
        os.environ["SIM_NOTEBOOK_SMALL"] = "1"
    use_this_python_as_kernel()
    print(f"sim: {os.environ.get('SIM_BIN', '../target/release/sim (default)')}; "
          f"small runs: {os.environ.get('SIM_NOTEBOOK_SMALL', '0')}")
    failed = []
    total = 0.0
    for path in paths:
        print(f"running {path.name} ...", flush=True)
        save_to = args.save_to.resolve() if args.save_to else None
        if save_to is not None and save_to == path.parent:
            parser.error("--save-to must not be the notebooks' own folder")
        seconds, error = execute(path, args.timeout, save_to)
        total += seconds
        if error:
            failed.append(path.name)
            print(f"FAILED  {path.name} after {seconds:.1f} s\n{error}", flush=True)
        else:
            print(f"ok      {path.name} {seconds:.1f} s", flush=True)
    print(f"total {total:.1f} s for {len(paths)} notebook(s); {len(failed)} failed" + (f": {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
