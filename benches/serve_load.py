"""Load test of `sim serve` on loopback (issue 20; a benchmark, not a timed test).

N event-stream clients follow one session of the default regimes (top-down and enablement, run
long enough to keep playing) for D seconds at a set pace. It reports the days each client got, that
none was dropped or out of order, and the step rate the server held against the pace asked for.
Standard library only. Figures go in docs/performance.md.

Usage: python3 benches/serve_load.py [SIM_BIN] [--clients 50] [--seconds 60] [--speed 150]
"""

import argparse
import http.client
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

p = argparse.ArgumentParser()
p.add_argument("sim", nargs="?", default="target/release/sim")
p.add_argument("--clients", type=int, default=50)
p.add_argument("--seconds", type=float, default=60)
p.add_argument("--speed", type=float, default=150)
args = p.parse_args()

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
tmp = tempfile.mkdtemp(prefix="serve-load-")
days = min(int(args.speed * args.seconds * 1.5) + 400, 36_000)
files = []
for name in ["top-down", "enablement"]:
    with open(os.path.join(root, "scenarios", f"{name}.toml")) as f:
        text = f.read()
    path = os.path.join(tmp, f"{name}.toml")
    with open(path, "w") as f:
        f.write(text + f"\n[run]\ndays = {days}\n")
    files.append(path)

server = subprocess.Popen([args.sim, "serve", *files, "--port", "0", "--key", "load", "--max-days", str(days),
                           "--speed", str(args.speed)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
m = re.match(r"facilitator: http://([\d.]+):(\d+)/", server.stdout.readline())
host, port = m.group(1), int(m.group(2))
DAY = re.compile(rb'^data: \{"day":(\d+),')
results = [None] * args.clients
stop = threading.Event()


def client(i):
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.request("GET", "/api/events")
    resp = conn.getresponse()
    got = []
    while not stop.is_set():
        line = resp.fp.readline()
        if not line:
            break
        d = DAY.match(line)
        if d:
            got.append(int(d.group(1)))
    results[i] = got
    conn.close()


threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(args.clients)]
for t in threads:
    t.start()
time.sleep(1.0)
conn = http.client.HTTPConnection(host, port)
conn.request("POST", "/api/control", body='{"token":"load","action":"play"}', headers={"Content-Type": "application/json"})
conn.getresponse().read()
t0 = time.monotonic()
time.sleep(args.seconds)
conn.request("GET", "/api/state")
import json  # noqa: E402
stepped = json.loads(conn.getresponse().read())["day"]
elapsed = time.monotonic() - t0
time.sleep(2.0)  # let the streams drain what was sent
stop.set()
conn.request("POST", "/api/control", body='{"token":"load","action":"step"}', headers={"Content-Type": "application/json"})
conn.getresponse().read()
for t in threads:
    t.join(timeout=10)
server.terminate()
server.wait()

ok = True
for i, got in enumerate(results):
    if got is None or got != list(range(len(got))) or len(got) < stepped:
        ok = False
        print(f"client {i}: {0 if got is None else len(got)} days, in order: {got == list(range(len(got or [])))}", file=sys.stderr)
counts = [len(g or []) for g in results]
rate = stepped / elapsed
print(f"{args.clients} clients, {elapsed:.1f} s at a pace of {args.speed:g} days/s: the server stepped {stepped} days "
      f"({rate:.1f} days/s per regime, 2 regimes); each client received {min(counts)} to {max(counts)} days, "
      f"{'none dropped, all in order' if ok else 'SOME DROPPED OR OUT OF ORDER'}")
sys.exit(0 if ok else 1)
