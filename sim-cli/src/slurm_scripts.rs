//! The files `sim slurm` writes: the checks of its Slurm options, and the text of array.sbatch,
//! merge.sbatch and submit.sh (the design is in `slurm`). Every path in a script is absolute and
//! single-quoted for bash; the #SBATCH --output paths are double-quoted with `%` escaped.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

pub const ARRAY: &str = "array.sbatch";
pub const MERGE: &str = "merge.sbatch";
pub const SUBMIT: &str = "submit.sh";

/// What `sim slurm` generated, in DIR/slurm/sim-slurm.json; `status` reads it back.
#[derive(Serialize, Deserialize, Debug)]
pub struct Plan {
    pub sim_version: String,
    /// The sweep file, absolute.
    pub sweep_file: String,
    pub sweep_name: String,
    /// `Sweep::content_hash`: the shards' manifests carry the same.
    pub sweep_hash: String,
    /// Runs of the whole sweep.
    pub runs: u64,
    pub shards: u64,
    pub max_parallel: Option<u64>,
    /// The sim binary the scripts run, absolute.
    pub sim: String,
    /// The cluster folder, absolute.
    pub dir: String,
    /// SHA-256 of each script as sim wrote it.
    pub scripts: BTreeMap<String, String>,
}

// ---------------------------------------------------------------------------------------------
// Checking the options
// ---------------------------------------------------------------------------------------------

/// Checks a Slurm time limit: MINUTES, MINUTES:SECONDS, HOURS:MINUTES:SECONDS, DAYS-HOURS,
/// DAYS-HOURS:MINUTES or DAYS-HOURS:MINUTES:SECONDS (sbatch(1)), above zero.
pub fn check_time(text: &str) -> Result<(), String> {
    let why = || {
        format!("--time {text}: expected MINUTES, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS (Slurm's formats), e.g. 30, 2:00:00 or 1-12")
    };
    let number = |s: &str| -> Result<u64, String> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 9 { Err(why()) } else { s.parse().map_err(|_| why()) }
    };
    let below = |v: u64, limit: u64, unit: &str| -> Result<u64, String> {
        if v < limit { Ok(v) } else { Err(format!("--time {text}: {v} {unit} is out of range (0 to {})", limit - 1)) }
    };
    let (days, clock) = match text.split_once('-') {
        Some((d, rest)) => (Some(number(d)?), rest),
        None => (None, text),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    let total_seconds = match (days, parts.as_slice()) {
        (None, [m]) => number(m)? * 60,
        (None, [m, s]) => number(m)? * 60 + below(number(s)?, 60, "seconds")?,
        (None, [h, m, s]) => number(h)? * 3600 + below(number(m)?, 60, "minutes")? * 60 + below(number(s)?, 60, "seconds")?,
        (Some(d), [h]) => d * 86400 + below(number(h)?, 24, "hours")? * 3600,
        (Some(d), [h, m]) => d * 86400 + below(number(h)?, 24, "hours")? * 3600 + below(number(m)?, 60, "minutes")? * 60,
        (Some(d), [h, m, s]) => {
            d * 86400 + below(number(h)?, 24, "hours")? * 3600 + below(number(m)?, 60, "minutes")? * 60 + below(number(s)?, 60, "seconds")?
        }
        _ => return Err(why()),
    };
    if total_seconds == 0 {
        return Err(format!("--time {text}: a time limit must be above zero"));
    }
    Ok(())
}

/// Checks a memory size: a whole number with an optional unit K, M, G or T (sbatch --mem).
pub fn check_mem(text: &str) -> Result<(), String> {
    let digits = text.strip_suffix(['K', 'M', 'G', 'T', 'k', 'm', 'g', 't']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("--mem {text}: expected a whole number with an optional unit K, M, G or T, e.g. 4G or 500M"));
    }
    Ok(())
}

/// Checks a partition or account name: something an #SBATCH line can carry as it is.
pub fn check_name(flag: &str, text: &str) -> Result<(), String> {
    if text.is_empty() || text.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '\\' | '#')) {
        return Err(format!("--{flag} `{text}`: expected a Slurm name (no spaces, quotes, backslashes or #)"));
    }
    Ok(())
}

/// sbatch options that `sim slurm` sets itself and that an --sbatch-arg would contradict.
const OWN_OPTIONS: &[(&str, &str)] = &[
    ("--array", "the array is 0-(N-1) from --shards, throttled by --max-parallel"),
    ("-a", "the array is 0-(N-1) from --shards, throttled by --max-parallel"),
    ("--output", "the logs go to DIR/slurm/logs, where `sim slurm status` finds them"),
    ("-o", "the logs go to DIR/slurm/logs, where `sim slurm status` finds them"),
    ("--error", "the logs go to DIR/slurm/logs, where `sim slurm status` finds them"),
    ("-e", "the logs go to DIR/slurm/logs, where `sim slurm status` finds them"),
    ("--dependency", "the merge waits for the array by itself"),
    ("-d", "the merge waits for the array by itself"),
    ("--cpus-per-task", "use --cpus-per-task"),
    ("-c", "use --cpus-per-task"),
    ("--partition", "use --partition"),
    ("-p", "use --partition"),
    ("--time", "use --time"),
    ("-t", "use --time"),
    ("--mem", "use --mem"),
    ("--account", "use --account"),
    ("-A", "use --account"),
];

pub fn check_sbatch_arg(text: &str) -> Result<(), String> {
    if !text.starts_with('-') || text.len() < 2 {
        return Err(format!("--sbatch-arg `{text}`: expected an sbatch option such as --qos=short or --constraint=skylake"));
    }
    if text.chars().any(|c| c.is_control()) {
        return Err(format!("--sbatch-arg `{}`: holds a line break or control character", text.escape_debug()));
    }
    let name = text.split(['=', ' ']).next().unwrap_or(text);
    let name = if name.starts_with("--") { name } else { &name[..2.min(name.len())] };
    if let Some((_, why)) = OWN_OPTIONS.iter().find(|(o, _)| *o == name) {
        return Err(format!("--sbatch-arg {text}: sim slurm sets {name} itself ({why})"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The scripts
// ---------------------------------------------------------------------------------------------

/// `text` quoted for bash: single quotes, each `'` as `'\''`.
pub fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// An #SBATCH --output file: the folder `dir` with its `%` escaped as `%%` (Slurm reads `%`
/// as a pattern there), then `file` with its patterns, in double quotes (sbatch reads quoted
/// #SBATCH arguments; `"` itself is refused in DIR).
fn sbatch_path(dir: &str, file: &str) -> String {
    format!("\"{}/{file}\"", dir.replace('%', "%%"))
}

/// The array spec: indices as ranges (`0-3`, `1,4-6`) and `%K`.
pub fn array_spec(indices: &[u64], max_parallel: Option<u64>) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < indices.len() {
        let start = indices[i];
        let mut end = start;
        while i + 1 < indices.len() && indices[i + 1] == end + 1 {
            end += 1;
            i += 1;
        }
        parts.push(if end > start { format!("{start}-{end}") } else { start.to_string() });
        i += 1;
    }
    let mut spec = parts.join(",");
    if let Some(k) = max_parallel {
        spec.push_str(&format!("%{k}"));
    }
    spec
}

/// The options that both scripts carry.
pub struct Options<'a> {
    pub job_name: String,
    pub partition: Option<&'a str>,
    pub time: Option<&'a str>,
    pub mem: Option<&'a str>,
    pub account: Option<&'a str>,
    pub extra: &'a [String],
}

impl Options<'_> {
    fn sbatch_lines(&self, out: &mut String) {
        for (flag, value) in [("partition", self.partition), ("time", self.time), ("mem", self.mem), ("account", self.account)] {
            if let Some(v) = value {
                let _ = writeln!(out, "#SBATCH --{flag}={v}");
            }
        }
        for a in self.extra {
            let _ = writeln!(out, "#SBATCH {a}");
        }
    }
}

/// The record function both job scripts use to leave their state for `sim slurm status`.
const RECORD_FN: &str = r#"# The task's state for `sim slurm status`, replaced atomically (a reader never sees half a file).
record() {
    mkdir -p "$dir/slurm/status" &&
        printf '%s\n' "$@" >"$state_file.tmp.$$" &&
        mv -f "$state_file.tmp.$$" "$state_file"
}
now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
"#;

/// The `#SBATCH` lines a job script opens with: its name, any `extra` options in order, CPUs, an
/// appended log at `log`, then the user's own options.
fn sbatch_header(o: &Options, job_name: &str, extra: &[String], cpus: u16, log: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "#!/bin/bash");
    let _ = writeln!(s, "#SBATCH --job-name={job_name}");
    for e in extra {
        let _ = writeln!(s, "#SBATCH {e}");
    }
    let _ = writeln!(s, "#SBATCH --cpus-per-task={cpus}");
    let _ = writeln!(s, "#SBATCH --output={log}");
    let _ = writeln!(s, "#SBATCH --open-mode=append");
    o.sbatch_lines(&mut s);
    s
}

pub fn array_script(plan: &Plan, o: &Options, cpus: u16) -> String {
    let n = plan.shards;
    let indices: Vec<u64> = (0..n).collect();
    let array = [format!("--array={}", array_spec(&indices, plan.max_parallel)), "--requeue".to_string()];
    let mut s = sbatch_header(o, &o.job_name, &array, cpus, &sbatch_path(&plan.dir, "slurm/logs/%A_%a.out"));
    let _ = write!(
        s,
        r#"#
# Written by `sim slurm` (sim {version}) for sweep {name}: {runs} runs in {n} shards. Array task i
# runs `sim sweep --shard i/{n}` into DIR/shards/i (runs with run_id % {n} == i); --resume makes a
# requeued or resubmitted task continue where the last attempt stopped. The merge job
# (merge.sbatch) waits for every task. Edit freely (module loads, accounts): a later `sim slurm`
# never overwrites an edited script, and `sim slurm status DIR --resubmit-missing` submits it as
# it is.

# Load here what sim needs on the compute nodes (e.g. `module load ...`), if anything.

sim={sim}
sweep={sweep}
dir={dir}
: "${{SLURM_ARRAY_TASK_ID:?this script is a Slurm array job: submit it with sbatch (see submit.sh)}}"
state_file="$dir/slurm/status/$SLURM_ARRAY_TASK_ID"
{record}job="${{SLURM_ARRAY_JOB_ID:-?}}_$SLURM_ARRAY_TASK_ID"
started=$(now)
record state=running "job=$job" "host=$(hostname)" "started=$started"
# At the time limit or on scancel Slurm sends SIGTERM to every process of the task: sim stops
# (exit 143) and this trap keeps bash alive to record that.
trap 'echo "sim slurm: SIGTERM received" >&2' TERM

"$sim" sweep "$sweep" --shard "$SLURM_ARRAY_TASK_ID/{n}" --threads "${{SLURM_CPUS_PER_TASK:-1}}" --resume --out "$dir/shards/$SLURM_ARRAY_TASK_ID"
code=$?

record state=exited "exit=$code" "job=$job" "host=$(hostname)" "started=$started" "finished=$(now)"
exit "$code"
"#,
        version = plan.sim_version,
        name = plan.sweep_name,
        runs = plan.runs,
        sim = sh_quote(&plan.sim),
        sweep = sh_quote(&plan.sweep_file),
        dir = sh_quote(&plan.dir),
        record = RECORD_FN,
    );
    s
}

pub fn merge_script(plan: &Plan, o: &Options) -> String {
    let n = plan.shards;
    let mut s = sbatch_header(o, &format!("{}-merge", o.job_name), &[], 1, &sbatch_path(&plan.dir, "slurm/logs/merge_%j.out"));
    let _ = write!(
        s,
        r#"#
# Written by `sim slurm` (sim {version}) for sweep {name}: merges the {n} shard folders into
# DIR/merged, the same files as one unsharded `sim sweep`. Submitted to wait for the array job
# (--dependency=afterok:ARRAY --kill-on-invalid-dep=yes), so it runs only if every task succeeded.

# Load here what sim needs on the compute nodes (e.g. `module load ...`), if anything.

sim={sim}
dir={dir}
shards={n}
state_file="$dir/slurm/status/merge"
{record}job="${{SLURM_JOB_ID:-?}}"
started=$(now)
record state=running "job=$job" "host=$(hostname)" "started=$started"
trap 'echo "sim slurm: SIGTERM received" >&2' TERM

folders=()
for ((i = 0; i < shards; i++)); do folders+=("$dir/shards/$i"); done
"$sim" merge "${{folders[@]}}" --out "$dir/merged"
code=$?

record state=exited "exit=$code" "job=$job" "host=$(hostname)" "started=$started" "finished=$(now)"
exit "$code"
"#,
        version = plan.sim_version,
        name = plan.sweep_name,
        sim = sh_quote(&plan.sim),
        dir = sh_quote(&plan.dir),
        record = RECORD_FN,
    );
    s
}

pub fn submit_script(plan: &Plan) -> String {
    let n = plan.shards;
    let indices: Vec<u64> = (0..n).collect();
    format!(
        r#"#!/bin/bash
# Written by `sim slurm` (sim {version}) for sweep {name}: submits the array of {n} shards and
# the merge that waits for it, as `sim slurm ... --submit` does (which also records the job ids
# in jobs.json and marks the shards queued for `sim slurm status`). SIM_SBATCH overrides sbatch.
set -euo pipefail
slurm={slurm}
sbatch=${{SIM_SBATCH:-sbatch}}
cd {dir}
array=$("$sbatch" --parsable --array={spec} --requeue "$slurm/{ARRAY}")
array=${{array%%;*}}
merge=$("$sbatch" --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes "$slurm/{MERGE}")
merge=${{merge%%;*}}
echo "submitted array job $array ({n} shards) and merge job $merge"
echo "follow it with: "{sim}" slurm status "{dir}
"#,
        version = plan.sim_version,
        name = plan.sweep_name,
        slurm = sh_quote(&format!("{}/slurm", plan.dir)),
        dir = sh_quote(&plan.dir),
        spec = array_spec(&indices, plan.max_parallel),
        sim = sh_quote(&plan.sim),
    )
}

/// A job name from the sweep's name: letters, digits, `-`, `_` and `.`; others become `_`.
pub fn job_name(sweep: &str) -> String {
    let clean: String = sweep.chars().take(40).map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
    format!("sim-{clean}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_limits_in_slurms_formats() {
        for ok in ["30", "90", "5:30", "2:00:00", "1-0", "1-12", "2-03:30", "0-00:00:10", "100:00:00"] {
            assert!(check_time(ok).is_ok(), "{ok}");
        }
        for bad in ["", "0", "0:00", "1h", "1:2:3:4", "-5", "1-", "1-25", "1:60", "1:00:60", "a-1", "1.5", "10 "] {
            assert!(check_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn memory_sizes() {
        for ok in ["4G", "500M", "1024", "2t", "0"] {
            assert!(check_mem(ok).is_ok(), "{ok}");
        }
        for bad in ["", "G", "4GB", "1.5G", "-1", "4 G"] {
            assert!(check_mem(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn array_specs_compress_runs_of_indices() {
        assert_eq!(array_spec(&[0, 1, 2, 3], None), "0-3");
        assert_eq!(array_spec(&[0, 1, 2, 3], Some(2)), "0-3%2");
        assert_eq!(array_spec(&[1, 3], None), "1,3");
        assert_eq!(array_spec(&[0, 2, 3, 4, 7, 9, 10], Some(5)), "0,2-4,7,9-10%5");
        assert_eq!(array_spec(&[5], None), "5");
    }

    #[test]
    fn quoting_survives_any_path() {
        assert_eq!(sh_quote("/a b/c"), "'/a b/c'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        assert_eq!(sbatch_path("/x/50% b", "slurm/logs/%A_%a.out"), "\"/x/50%% b/slurm/logs/%A_%a.out\"");
    }

    #[test]
    fn sbatch_args_that_would_contradict_sim_are_refused() {
        assert!(check_sbatch_arg("--qos=short").is_ok());
        assert!(check_sbatch_arg("--constraint=skylake").is_ok());
        assert!(check_sbatch_arg("--mail-type=END").is_ok());
        assert!(check_sbatch_arg("--array=0-9").is_err());
        assert!(check_sbatch_arg("-o /tmp/x").is_err());
        assert!(check_sbatch_arg("--time=10").is_err());
        assert!(check_sbatch_arg("qos=short").is_err());
        assert!(check_sbatch_arg("--qos=a\nb").is_err());
    }
}
