//! `sim serve`: a live workshop in the browser. Two or more regimes (the top-down and enablement
//! scenarios by default) are stepped together on one seed (common random numbers) by a stepping
//! thread; the facilitator's page (/) plays, pauses, steps and steers them and draws them on shared
//! axes as the days arrive by server-sent events; participants join at /join with a short code,
//! are each given a team, and steer its own levers. Every change is logged and the session exports
//! as scenario files that `sim run` replays bit for bit.
//!
//! - `session`: the regimes, participants, log and every event sent (no HTTP);
//! - `routes`: the router, the event stream and the POSTs (no simulation logic);
//! - `assets`: the pages and the vendored chart library, embedded in the binary.
//!
//! Safe by default: it listens on 127.0.0.1 unless --host says otherwise; only the facilitator's
//! key (printed at start) controls the run or sets service-wide levers; a participant's token sets
//! only their own team's levers; values are checked as `--set` checks them; days and participants
//! are capped.

pub mod assets;
pub mod catalogue;
pub mod debrief;
pub mod routes;
pub mod session;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sim_core::scenario::{Override, Scenario};

use crate::CliError;
use routes::Shared;
use session::Session;

const EXAMPLES: &str = "\
Examples:
  sim serve                             top-down and enablement side by side at http://127.0.0.1:8080/
  sim serve scenarios/top-down.toml scenarios/enablement.toml scenarios/austerity.toml --port 9000
  sim serve --max-days 730 --max-participants 12 --speed 50
  sim serve --host 0.0.0.0              let phones on the room's network join (http://THIS-MACHINE:8080/join)
The facilitator's address (with its key) and the join code are printed at start. On the page the facilitator
can pick other scenarios (shipped or their own files; the session starts again) and open the run's report
at /debrief. See docs/workshop.md.";

/// The default cap on a regime's citizens: the pace a room needs (100 days a second per regime)
/// holds to about this size on one core.
pub const DEFAULT_MAX_CITIZENS: usize = 250_000;

#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct ServeArgs {
    /// Scenario files (TOML), two or more, stepped together on one seed; the shipped top-down and
    /// enablement scenarios when omitted. A single file is run beside the built-in default.
    pub scenarios: Vec<PathBuf>,
    /// Address to listen on; 127.0.0.1 (this machine only) unless you mean the room to reach it.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0 picks a free one, printed at start).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Cap on the days a session runs (each scenario's run.days, at most this).
    #[arg(long, value_name = "N", default_value_t = 3650)]
    pub max_days: u32,
    /// Cap on participants who may join.
    #[arg(long, value_name = "N", default_value_t = 40)]
    pub max_participants: usize,
    /// Cap on each regime's citizens (files given here or picked on the page).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CITIZENS)]
    pub max_citizens: usize,
    /// Seed of every regime (common random numbers); the first scenario's run.seed when omitted.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Days per second while playing, at the start (the page changes it; 0.5 to 2000).
    #[arg(long, default_value_t = 20.0)]
    pub speed: f64,
    /// The facilitator's key (random when omitted); whoever holds it controls the session.
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
}

/// The caps every regime of a session keeps to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Caps {
    pub max_days: u32,
    pub max_citizens: usize,
}

/// A scenario from its TOML (`file` names it in messages), with run.days capped at `max_days`
/// (and a warm-up that would then be as long as the run halved, said in the returned note) and
/// refused if it has more than `max_citizens` citizens.
pub fn load_capped(text: &str, file: &str, caps: Caps) -> Result<(Scenario, Option<String>), CliError> {
    let s = Scenario::from_toml_str(text, file, &[])?;
    if s.population.citizens > caps.max_citizens {
        return Err(CliError::BadInput(format!(
            "{file}: population.citizens {} is more than a workshop runs at pace (the cap is {}, set by --max-citizens)",
            s.population.citizens, caps.max_citizens
        )));
    }
    if s.run.days <= caps.max_days {
        return Ok((s, None));
    }
    let max_days = caps.max_days;
    let mut set = vec![Override::parse(&format!("run.days={max_days}"))?];
    let mut note = None;
    if s.run.warmup_days >= max_days {
        let warmup = max_days / 2;
        note = Some(format!("{file}: run.warmup_days {} is not below --max-days {max_days}; the session uses {warmup}", s.run.warmup_days));
        set.push(Override::parse(&format!("run.warmup_days={warmup}"))?);
    }
    Ok((Scenario::from_toml_str(text, file, &set)?, note))
}

/// Gives regimes of the same name a number, so the page can tell them apart.
pub fn distinct_names(scenarios: &mut [Scenario]) {
    for i in 1..scenarios.len() {
        let name = scenarios[i].name.clone();
        let same = scenarios[..i].iter().filter(|s| s.name == name || s.name.starts_with(&format!("{name} ("))).count();
        if same > 0 {
            scenarios[i].name = format!("{name} ({})", same + 1);
        }
    }
}

/// Loads the session's scenarios within `caps` (notes on stderr).
pub fn load_scenarios(files: &[PathBuf], caps: Caps) -> Result<Vec<Scenario>, CliError> {
    if caps.max_days == 0 {
        return Err(CliError::BadInput("--max-days 0: a session needs at least one day".into()));
    }
    let cap = |text: &str, file: &str| -> Result<Scenario, CliError> {
        let (s, note) = load_capped(text, file, caps)?;
        if let Some(note) = note {
            eprintln!("note: {note}");
        }
        Ok(s)
    };
    let mut out = Vec::new();
    if files.is_empty() {
        for name in catalogue::DEFAULTS {
            out.push(cap(catalogue::shipped(name).unwrap_or_default(), name)?);
        }
    } else {
        for f in files {
            let text = std::fs::read_to_string(f).map_err(|e| CliError::BadInput(format!("{}: {e}", f.display())))?;
            out.push(cap(&text, &f.display().to_string())?);
        }
        if out.len() == 1 {
            let default = Scenario::builtin(&[])?;
            out.insert(0, cap(&default.to_toml(), "built-in default")?);
        }
    }
    distinct_names(&mut out);
    Ok(out)
}

/// Builds the session of `args` (without starting anything).
pub fn session(args: &ServeArgs) -> Result<Session, CliError> {
    let caps = Caps { max_days: args.max_days, max_citizens: args.max_citizens };
    let scenarios = load_scenarios(&args.scenarios, caps)?;
    let seed = args.seed.unwrap_or(scenarios[0].run.seed);
    let (lo, hi) = session::SPEED_RANGE;
    if !(lo..=hi).contains(&args.speed) {
        return Err(CliError::BadInput(format!("--speed {}: outside {lo} to {hi} days per second", args.speed)));
    }
    let key = args.key.clone().unwrap_or_else(|| session::random_hex(16));
    if key.is_empty() {
        return Err(CliError::BadInput("--key: the facilitator's key may not be empty".into()));
    }
    let join_code = session::random_hex(4).to_uppercase();
    Ok(Session::new(&scenarios, seed, key, join_code, args.max_participants, args.speed).with_caps(caps))
}

/// Steps the session while it plays (at its speed) or has steps pending; runs on a blocking
/// thread until the process ends.
pub fn stepper(shared: Arc<Shared>) {
    let mut next = Instant::now();
    let mut s = shared.lock();
    loop {
        let due = s.pending_steps > 0 || (s.playing && !s.finished());
        if !due {
            s = shared.wake.wait(s).unwrap_or_else(|e| e.into_inner());
            next = Instant::now();
            continue;
        }
        if s.pending_steps == 0 {
            let now = Instant::now();
            if now < next {
                let (guard, _) = shared.wake.wait_timeout(s, next - now).unwrap_or_else(|e| e.into_inner());
                s = guard;
                continue;
            }
            // Keep the pace over time, but never try to catch up more than a second's worth.
            next = (next + Duration::from_secs_f64(1.0 / s.speed)).max(now - Duration::from_secs(1));
        } else {
            s.pending_steps -= 1;
        }
        s.step();
        shared.sent.send_replace(s.sent.len());
        // Let the request handlers in between days.
        drop(s);
        std::thread::yield_now();
        s = shared.lock();
    }
}

pub fn serve(args: ServeArgs) -> Result<(), CliError> {
    let session = session(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(format!("could not start the web server's runtime: {e}")))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
            .await
            .map_err(|e| CliError::BadInput(format!("could not listen on {}:{}: {e}", args.host, args.port)))?;
        let addr = listener.local_addr().map_err(|e| CliError::Failed(format!("no local address: {e}")))?;
        let shown_host = if addr.ip().is_unspecified() { "THIS-MACHINE".to_string() } else { addr.ip().to_string() };
        let base = format!("http://{shown_host}:{}", addr.port());
        {
            let names: Vec<&str> = session.regimes.iter().map(|r| r.name.as_str()).collect();
            eprintln!("sim serve: {} on seed {}, {} days; stop with Ctrl-C", names.join(" vs "), session.seed, session.days);
        }
        println!("facilitator: {base}/?key={}", session.key);
        println!("participants: {base}/join (join code {})", session.join_code);
        let shared = Shared::new(session);
        let stepping = Arc::clone(&shared);
        tokio::task::spawn_blocking(move || stepper(stepping));
        axum::serve(listener, routes::router(shared)).await.map_err(|e| CliError::Failed(format!("the web server stopped: {e}")))
    })
}
