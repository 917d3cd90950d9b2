//! The HTTP face of a session: pages, assets, the state, the event stream, and the POSTs that
//! steer it. Every request body is parsed here by hand from bytes, so a malformed request gets a
//! 400 with a message (never a panic); refusals map to 401, 403, 409 and 422.

use std::convert::Infallible;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::watch;

use super::session::{Caller, Refusal, Sent, Session, session_file};
use super::{assets, catalogue, debrief};

/// What the handlers and the stepping thread share.
pub struct Shared {
    pub session: Mutex<Session>,
    /// Wakes the stepping thread after play, step or speed.
    pub wake: Condvar,
    /// The number of events sent so far; the event streams wait on it.
    pub sent: watch::Sender<usize>,
}

impl Shared {
    pub fn new(session: Session) -> Arc<Self> {
        let n = session.sent.len();
        Arc::new(Self { session: Mutex::new(session), wake: Condvar::new(), sent: watch::Sender::new(n) })
    }

    /// The session, even if a thread panicked while holding it (its state is still consistent:
    /// every change is made whole under the lock).
    pub fn lock(&self) -> MutexGuard<'_, Session> {
        self.session.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Tells the streams and the stepping thread that something changed.
    pub fn notify(&self, session: &Session) {
        self.sent.send_replace(session.sent.len());
        self.wake.notify_all();
    }
}

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(|| async { page(assets::FACILITATOR_HTML) }))
        .route("/join", get(|| async { page(assets::PARTICIPANT_HTML) }))
        .route("/assets/{name}", get(asset))
        .route("/api/state", get(state))
        .route("/api/events", get(events))
        .route("/api/control", post(control))
        .route("/api/lever", post(lever))
        .route("/api/join", post(join))
        .route("/api/log", get(log))
        .route("/api/export", get(export))
        .route("/api/timeseries", get(timeseries))
        .route("/api/scenarios", get(scenarios).post(pick_scenarios))
        .route("/api/me", get(me))
        .route("/debrief", get(debrief))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such page: the facilitator's page is /, participants join at /join") })
        .with_state(shared)
}

fn page(html: impl IntoResponse) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], html).into_response()
}

async fn asset(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    match assets::get(&name) {
        Some((mime, body)) => ([(header::CONTENT_TYPE, mime)], body).into_response(),
        None => error(StatusCode::NOT_FOUND, &format!("no asset `{name}`")),
    }
}

/// A JSON error body: `{"error": message}`.
pub fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"error": message}))).into_response()
}

fn refused(r: Refusal) -> Response {
    match r {
        Refusal::Unknown(m) => error(StatusCode::UNAUTHORIZED, &m),
        Refusal::Forbidden(m) => error(StatusCode::FORBIDDEN, &m),
        Refusal::Invalid(m) => error(StatusCode::UNPROCESSABLE_ENTITY, &m),
        Refusal::Full(m) => error(StatusCode::CONFLICT, &m),
    }
}

/// Parses a JSON body into `T` (whatever its Content-Type says), or says what is wrong (a 400).
fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("malformed JSON request: {e}"))
}

/// The token of a request: `Authorization: Bearer ...`, or the `token` of its body or query.
fn token(headers: &HeaderMap, from_body: Option<&str>) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string)
        .or_else(|| from_body.map(str::to_string))
}

#[derive(Deserialize, Default)]
struct KeyQuery {
    key: Option<String>,
    token: Option<String>,
    regime: Option<String>,
}

async fn state(State(shared): State<Arc<Shared>>, headers: HeaderMap, Query(q): Query<KeyQuery>) -> Response {
    let s = shared.lock();
    let facilitator = matches!(s.caller(token(&headers, q.key.as_deref()).as_deref()), Ok(Caller::Facilitator));
    axum::Json(s.state(facilitator)).into_response()
}

/// Server-sent events: every event so far, then each new one as it comes. A stream that falls
/// behind reads the events it missed from the session's record, so no day is ever dropped.
async fn events(State(shared): State<Arc<Shared>>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut rx = shared.sent.subscribe();
    rx.borrow_and_update();
    let from = shared.lock().history_from;
    struct Follow {
        shared: Arc<Shared>,
        rx: watch::Receiver<usize>,
        next: usize,
        queue: std::collections::VecDeque<Sent>,
    }
    let start = Follow { shared, rx, next: from, queue: Default::default() };
    let stream = futures_util::stream::unfold(start, |mut f| async move {
        loop {
            if let Some(sent) = f.queue.pop_front() {
                let event = Event::default().event(sent.kind).data(&*sent.data);
                return Some((Ok(event), f));
            }
            {
                let s = f.shared.lock();
                if s.sent.len() > f.next {
                    // At most a batch at a time, so one slow page never holds the lock long.
                    let end = s.sent.len().min(f.next + 512);
                    f.queue.extend(s.sent[f.next..end].iter().cloned());
                    f.next = end;
                    continue;
                }
            }
            if f.rx.changed().await.is_err() {
                return None;
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ControlRequest {
    token: Option<String>,
    action: String,
    speed: Option<f64>,
}

async fn control(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let req: ControlRequest = match parse(&body) {
        Ok(r) => r,
        Err(m) => return error(StatusCode::BAD_REQUEST, &m),
    };
    let mut s = shared.lock();
    let result = s.caller(token(&headers, req.token.as_deref()).as_deref()).and_then(|c| s.control(&c, &req.action, req.speed));
    match result {
        Ok(()) => {
            shared.notify(&s);
            axum::Json(json!({"playing": s.playing, "speed": s.speed, "day": s.day()})).into_response()
        }
        Err(r) => refused(r),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LeverRequest {
    token: Option<String>,
    lever: String,
    value: Value,
    regime: Option<usize>,
    team: Option<u32>,
}

/// A lever's value as TOML: whole numbers as integers (counts such as `approval_layers` need
/// them; a float lever takes them too), other numbers as floats, strings and booleans as they are.
fn lever_value(v: &Value) -> Result<toml::Value, String> {
    match v {
        Value::Number(n) if n.is_i64() => Ok(toml::Value::Integer(n.as_i64().unwrap_or_default())),
        Value::Number(n) => n.as_f64().map(toml::Value::Float).ok_or_else(|| format!("{n} is not a number a lever can take")),
        Value::String(s) => Ok(toml::Value::String(s.clone())),
        Value::Bool(b) => Ok(toml::Value::Boolean(*b)),
        other => Err(format!("a lever's value is a number, a string or true/false, not {other}")),
    }
}

async fn lever(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let req: LeverRequest = match parse(&body) {
        Ok(r) => r,
        Err(m) => return error(StatusCode::BAD_REQUEST, &m),
    };
    let value = match lever_value(&req.value) {
        Ok(v) => v,
        Err(m) => return error(StatusCode::BAD_REQUEST, &m),
    };
    let mut s = shared.lock();
    let result = s
        .caller(token(&headers, req.token.as_deref()).as_deref())
        .and_then(|c| s.set_lever(&c, req.regime, req.team, &req.lever, value, req.value.clone()));
    match result {
        Ok(()) => {
            shared.notify(&s);
            axum::Json(json!({"ok": true, "day": s.day()})).into_response()
        }
        Err(r) => refused(r),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JoinRequest {
    code: String,
    #[serde(default)]
    name: String,
}

async fn join(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let req: JoinRequest = match parse(&body) {
        Ok(r) => r,
        Err(m) => return error(StatusCode::BAD_REQUEST, &m),
    };
    let mut s = shared.lock();
    match s.join(&req.code, &req.name) {
        Ok(p) => {
            shared.notify(&s);
            let regime = &s.regimes[p.regime].name;
            axum::Json(json!({"token": p.token, "name": p.name, "regime": p.regime, "regime_name": regime, "team": p.team})).into_response()
        }
        Err(r) => refused(r),
    }
}

async fn log(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(json!({"log": shared.lock().log})).into_response()
}

/// The regime a query names, by index or name, or why there is none (a 404).
fn pick_regime(s: &Session, which: Option<&str>) -> Result<Option<usize>, String> {
    let Some(which) = which else { return Ok(None) };
    let found = which.parse::<usize>().ok().filter(|&i| i < s.regimes.len()).or_else(|| s.regimes.iter().position(|r| r.name == which));
    match found {
        Some(i) => Ok(Some(i)),
        None => Err(format!(
            "no regime `{which}`; the regimes are {}",
            s.regimes.iter().enumerate().map(|(i, r)| format!("{i} ({})", r.name)).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// The session as scenario files: `?regime=N` (or its name) gives that regime's TOML, which `sim
/// run` replays bit for bit; without it, every regime's TOML in one JSON object.
async fn export(State(shared): State<Arc<Shared>>, Query(q): Query<KeyQuery>) -> Response {
    let s = shared.lock();
    match pick_regime(&s, q.regime.as_deref()) {
        Err(m) => error(StatusCode::NOT_FOUND, &m),
        Ok(Some(i)) => {
            let r = &s.regimes[i];
            let disposition = format!("attachment; filename=\"{}\"", session_file(&r.name));
            ([(header::CONTENT_TYPE, "application/toml; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, disposition)], r.sim.replay_toml())
                .into_response()
        }
        Ok(None) => axum::Json(json!({
            "day": s.day(),
            "regimes": s.regimes.iter().map(|r| json!({"name": r.name, "file": session_file(&r.name), "toml": r.sim.replay_toml()})).collect::<Vec<_>>(),
        }))
        .into_response(),
    }
}

/// The days stepped so far of one regime as `sim run` writes timeseries.csv.
async fn timeseries(State(shared): State<Arc<Shared>>, Query(q): Query<KeyQuery>) -> Response {
    let s = shared.lock();
    let i = match pick_regime(&s, q.regime.as_deref()) {
        Err(m) => return error(StatusCode::NOT_FOUND, &m),
        Ok(Some(i)) => i,
        Ok(None) => return error(StatusCode::BAD_REQUEST, "say which regime: /api/timeseries?regime=0"),
    };
    let mut bytes = Vec::new();
    match crate::run_files::write_timeseries(&mut bytes, s.regimes[i].sim.metrics().history) {
        Ok(()) => ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], bytes).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &format!("could not write the time series: {e}")),
    }
}

/// The shipped scenarios the page offers: file, name, description, citizens and days.
async fn scenarios(State(shared): State<Arc<Shared>>) -> Response {
    let caps = shared.lock().caps;
    let list: Vec<Value> = catalogue::SHIPPED
        .iter()
        .filter_map(|(file, text)| {
            let (s, _) = super::load_capped(text, file, caps).ok()?;
            Some(json!({"file": file, "name": s.name, "description": s.description, "citizens": s.population.citizens, "days": s.run.days}))
        })
        .collect();
    axum::Json(json!({"scenarios": list, "defaults": catalogue::DEFAULTS, "max_regimes": super::session::MAX_REGIMES})).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioChoice {
    /// A shipped scenario's file name, or the name of the uploaded file whose text is `toml`.
    file: String,
    toml: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenariosRequest {
    token: Option<String>,
    scenarios: Vec<ScenarioChoice>,
    seed: Option<u64>,
}

/// The facilitator picks the scenarios (shipped, or files uploaded from the page): the session
/// starts again at day 0 with them. A file that does not load is refused with its located message.
async fn pick_scenarios(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let req: ScenariosRequest = match parse(&body) {
        Ok(r) => r,
        Err(m) => return error(StatusCode::BAD_REQUEST, &m),
    };
    let (caller, caps) = {
        let s = shared.lock();
        (s.caller(token(&headers, req.token.as_deref()).as_deref()), s.caps)
    };
    let caller = match caller {
        Ok(c) => c,
        Err(r) => return refused(r),
    };
    if caller != Caller::Facilitator {
        return refused(Refusal::Forbidden("only the facilitator picks the scenarios".into()));
    }
    // Parsing and building happen outside the lock, so the running session keeps its pace.
    let mut loaded = Vec::new();
    for choice in &req.scenarios {
        let text = match (&choice.toml, catalogue::shipped(&choice.file)) {
            (Some(text), _) => text.as_str(),
            (None, Some(text)) => text,
            (None, None) => {
                let names: Vec<&str> = catalogue::SHIPPED.iter().map(|(n, _)| *n).collect();
                return refused(Refusal::Invalid(format!(
                    "no shipped scenario `{}`; they are {} (or upload a file with its `toml`)",
                    choice.file,
                    names.join(", ")
                )));
            }
        };
        match super::load_capped(text, &choice.file, caps) {
            Ok((scenario, _)) => loaded.push(scenario),
            Err(e) => return refused(Refusal::Invalid(e.to_string())),
        }
    }
    super::distinct_names(&mut loaded);
    let mut s = shared.lock();
    let seed = req.seed.unwrap_or(s.seed);
    match s.restart(&caller, &loaded, seed) {
        Ok(()) => {
            shared.notify(&s);
            axum::Json(json!({"ok": true, "regimes": s.regimes.iter().map(|r| r.name.clone()).collect::<Vec<_>>(), "seed": s.seed, "days": s.days}))
                .into_response()
        }
        Err(r) => refused(r),
    }
}

/// A participant's team now (it changes when the facilitator picks new scenarios).
async fn me(State(shared): State<Arc<Shared>>, headers: HeaderMap, Query(q): Query<KeyQuery>) -> Response {
    let s = shared.lock();
    match s.caller(token(&headers, q.token.as_deref()).as_deref()) {
        Ok(Caller::Participant(i)) => {
            let p = &s.participants[i];
            axum::Json(json!({"name": p.name, "regime": p.regime, "regime_name": s.regimes[p.regime].name, "team": p.team, "seed": s.seed}))
                .into_response()
        }
        Ok(Caller::Facilitator) => error(StatusCode::BAD_REQUEST, "the facilitator steers no team of their own"),
        Err(r) => refused(r),
    }
}

/// The debrief: the run's report so far (figures, summaries, differences, the log), as a page.
async fn debrief(State(shared): State<Arc<Shared>>) -> Response {
    let input = debrief::Input::of(&shared.lock());
    match tokio::task::spawn_blocking(move || debrief::render(&input)).await {
        Ok(Ok(html)) => page(html),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, &format!("could not draw the debrief: {e}")),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &format!("the debrief stopped: {e}")),
    }
}
