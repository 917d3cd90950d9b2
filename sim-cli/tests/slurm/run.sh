#!/usr/bin/env bash
# `sim slurm` on a real Slurm (issue 22): a single-node cluster from Debian's packages (slurm-wlm,
# munge) configured in a temporary folder, its daemons started here and stopped on exit.
#
#   1. `sim slurm --submit` of a 12-run sweep in N = 4 shards (a folder name with a space, so the
#      scripts' quoting meets real sbatch), waited for; the merged runs.csv and points.csv must be
#      byte-identical (cmp) to a direct `sim sweep` of the same file.
#   2. The same with shard 2 made to fail, then resumed: the failure is real, not a test hook in
#      sim. Before submitting, DIR/shards/2 is created holding a file sim did not write
#      (notes.txt); `sim sweep --out DIR/shards/2` refuses such a folder (exit 2, the output-folder
#      rule that sim never deletes what it did not write), as it would for a user's stray file on
#      a cluster. (Making the folder unwritable would not do: this runs as root.) Checked: the
#      task fails, the merge job never runs (Slurm cancels it: --kill-on-invalid-dep=yes), `sim
#      slurm status` names shard 2 as failed and exits 1; then notes.txt is removed, `sim slurm
#      status DIR --resubmit-missing` resubmits shard 2 alone with a fresh merge, and the outputs
#      equal the direct sweep's.
#
# Usage (as root, with slurm-wlm and munge installed):
#   sim-cli/tests/slurm/run.sh [--overhead] [SIM_BINARY]     (default target/release/sim)
# Takes about half a minute. --overhead then also measures Slurm's per-task scheduling overhead
# here (docs/cluster.md quotes it): trivial jobs and arrays timed from sbatch to an empty queue,
# and the test's sweep submitted with N = 1, 2, 4, 8 and 12 shards. Touches nothing outside its temporary
# folder: munged, slurmctld and slurmd get their key, sockets, state and logs there, and the
# client commands find the configuration through SLURM_CONF.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
overhead=0
if [ "${1:-}" = --overhead ]; then
    overhead=1
    shift
fi
sim=$(realpath "${1:-$root/target/release/sim}")
started=$(date +%s%N)

# Seconds since a `date +%s%N` stamp, to 0.1 s.
since() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }

fail() {
    echo "slurm test FAILED: $*" >&2
    exit 1
}
[ "$(id -u)" = 0 ] || fail "run as root (it starts munged, slurmctld and slurmd)"
for cmd in munged slurmctld slurmd sbatch squeue scontrol cmp python3; do
    command -v "$cmd" >/dev/null || fail "$cmd not found; apt-get install -y slurm-wlm munge"
done
[ -x "$sim" ] || fail "$sim not found; cargo build --release first"

tmp=$(mktemp -d /tmp/sim-slurm-test.XXXXXX)
chmod 755 "$tmp"
pids=()
stop() {
    local code=$?
    # Only the daemons started here, by the pid files they wrote.
    if [ -n "${SLURM_CONF:-}" ] && [ -f "$tmp/slurmctld.pid" ]; then
        scontrol shutdown >/dev/null 2>&1 || true
    fi
    for f in slurmd slurmctld munged; do
        [ -f "$tmp/$f.pid" ] && pids+=("$(cat "$tmp/$f.pid")")
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill "$pid" 2>/dev/null || true
    done
    if [ "$code" != 0 ]; then
        echo "--- logs (kept in $tmp) ---" >&2
        tail -n 20 "$tmp"/*.log "$tmp"/work/*/slurm/logs/* 2>/dev/null >&2 || true
    else
        rm -rf "$tmp"
    fi
}
trap stop EXIT

# --- munge: a fresh key, socket, pid and log in $tmp -------------------------------------------
mkdir -m 700 "$tmp/munge"
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$tmp/munge/munge.key"
munged --force --key-file="$tmp/munge/munge.key" --socket="$tmp/munge/socket" \
    --pid-file="$tmp/munged.pid" --log-file="$tmp/munged.log" --seed-file="$tmp/munge/seed"

# --- Slurm: one node with 2 CPUs, no accounting, everything in $tmp ------------------------------
node=$(hostname -s)
mkdir -p "$tmp/state" "$tmp/spool"
cat >"$tmp/slurm.conf" <<EOF
ClusterName=simtest
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$tmp/munge/socket
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
SlurmdParameters=config_overrides
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
NodeName=$node NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$tmp/slurm.conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N "$node"
for _ in $(seq 100); do
    [ "$(sinfo -h -o %t 2>/dev/null)" = idle ] && break
    sleep 0.2
done
[ "$(sinfo -h -o %t)" = idle ] || fail "the node did not come up: $(sinfo 2>&1)"
echo "slurm up: $(sinfo -h -o '%P %D %c %t') after $(since "$started") s"

# --- the sweep ------------------------------------------------------------------------------------
work="$tmp/work"
mkdir -p "$work"
cd "$work"
cat >sweep.toml <<EOF
# 2 x 2 grid, 3 replicates: 12 runs of the small base over 250 days.
name = "slurm-test"
base = '$root/scenarios/sweeps/small-base.toml'
days = 250
replicates = 3
seed = 22

[design]
kind = "grid"
levels = 2

[[parameters]]
path = "governance.discretion"
min = 0.2
max = 0.8

[[parameters]]
path = "governance.target_pressure"
min = 0.2
max = 0.8
EOF
"$sim" -q sweep sweep.toml --out direct >/dev/null

# Waits until the queue is empty (at most 120 s).
wait_queue() {
    for _ in $(seq 600); do
        [ -z "$(squeue -h 2>/dev/null)" ] && return 0
        sleep 0.2
    done
    squeue >&2
    fail "jobs still queued after 120 s"
}
same_as_direct() {
    for f in runs.csv points.csv; do
        cmp "direct/$f" "$1/merged/$f" || fail "$1/merged/$f differs from a direct sim sweep"
    done
}
merge_job() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["submissions"][-1]["merge_job"])' "$1/slurm/jobs.json"; }

# --- 1: submit, wait, compare -----------------------------------------------------------------------
t=$(date +%s%N)
"$sim" slurm sweep.toml --shards 4 --max-parallel 2 --time 5 --out "case one" --submit
wait_queue
"$sim" slurm status "case one" || fail "status of case one: exit $?"
same_as_direct "case one"
echo "case 1 ok: 4 shards merged, runs.csv and points.csv identical to the direct sweep ($(since "$t") s)"

# --- 2: shard 2 fails, the merge does not run; fixed, resubmitted, identical -----------------------
t=$(date +%s%N)
"$sim" -q slurm sweep.toml --shards 4 --max-parallel 2 --time 5 --out two >/dev/null
mkdir -p two/shards/2
echo "a file sim did not write: sim sweep refuses this folder" >two/shards/2/notes.txt
"$sim" slurm sweep.toml --shards 4 --max-parallel 2 --time 5 --out two --submit
merge=$(merge_job two)
wait_queue
[ ! -e two/merged ] || fail "the merge ran although shard 2 failed"
scontrol show job "$merge" | grep -q "JobState=CANCELLED" ||
    fail "merge job $merge was not cancelled: $(scontrol show job "$merge" | grep JobState)"
set +e
"$sim" slurm status two >status.txt 2>status.err
code=$?
set -e
cat status.txt status.err
[ "$code" = 1 ] || fail "sim slurm status exited $code with a failed shard, not 1"
grep -Eq '^2 +failed +.*exit 2' status.txt || fail "status does not name shard 2 as failed"
grep -q 'shard(s) 2 failed' status.err || fail "status's error does not name shard 2"
rm two/shards/2/notes.txt
"$sim" slurm status two --resubmit-missing >resubmit.txt || fail "--resubmit-missing: exit $?"
cat resubmit.txt
grep -q -- '--array=2%2' resubmit.txt || fail "--resubmit-missing did not resubmit shard 2 alone"
wait_queue
"$sim" slurm status two || fail "status after --resubmit-missing: exit $?"
same_as_direct two
echo "case 2 ok: shard 2 failed, merge cancelled, status exit 1; resubmitted and identical ($(since "$t") s)"

echo "slurm test passed in $(since "$started") s"

if [ "$overhead" = 1 ]; then
    echo "--- scheduling overhead on this single-node Slurm (2 CPUs, default scheduler settings) ---"
    t=$(date +%s%N)
    sbatch --parsable --output=/dev/null --wrap=true >/dev/null
    wait_queue
    echo "one job running \`true\`, sbatch to an empty queue: $(since "$t") s"
    t=$(date +%s%N)
    sbatch --parsable --output=/dev/null --array=0-19 --wrap=true >/dev/null
    wait_queue
    s20=$(since "$t")
    echo "an array of 20 tasks running \`true\` on 2 CPUs: $s20 s, $(awk -v s="$s20" 'BEGIN { printf "%.2f", s * 2 / 20 }') CPU-seconds per task"
    for n in 1 2 4 8 12; do
        t=$(date +%s%N)
        "$sim" -q slurm sweep.toml --shards "$n" --out "n$n" --submit >/dev/null
        wait_queue
        "$sim" -q slurm status "n$n" >/dev/null || fail "n$n did not finish"
        echo "sim slurm of the 12-run sweep, $n shards (no --max-parallel), submit to merged: $(since "$t") s"
    done
    t=$(date +%s%N)
    "$sim" -q sweep sweep.toml --threads 1 --out direct1 >/dev/null
    echo "the same sweep directly, one thread: $(since "$t") s"
fi
