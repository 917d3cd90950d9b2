//! Route tests of `sim serve`: requests through the router without a socket (`oneshot`). Bad
//! requests get their status and message and never panic; a participant steers only their own
//! team; the join code and the cap hold; a late event stream gets the history first; and a
//! steered session's export replays to the same timeseries.csv bytes.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sim_core::Simulation;
use sim_core::scenario::Scenario;
use tower::ServiceExt;

use super::routes::{Shared, router};
use super::{ServeArgs, session};

const KEY: &str = "facilitator-key";

/// The default regimes (top-down, enablement) capped at `days`, with at most `cap` participants.
fn shared(days: u32, cap: usize) -> Arc<Shared> {
    let args = ServeArgs {
        scenarios: Vec::new(),
        host: "127.0.0.1".into(),
        port: 0,
        max_days: days,
        max_participants: cap,
        max_citizens: super::DEFAULT_MAX_CITIZENS,
        seed: Some(11),
        speed: 20.0,
        key: Some(KEY.into()),
    };
    Shared::new(session(&args).unwrap())
}

fn step(shared: &Shared, days: u32) {
    let mut s = shared.lock();
    for _ in 0..days {
        s.step();
    }
    shared.notify(&s);
}

async fn send(app: &Router, method: &str, uri: &str, body: &str) -> (StatusCode, String) {
    let req =
        Request::builder().method(method).uri(uri).header("content-type", "application/json").body(Body::from(body.to_string())).unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

async fn post(app: &Router, uri: &str, body: Value) -> (StatusCode, Value) {
    let (status, text) = send(app, "POST", uri, &body.to_string()).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn get_json(app: &Router, uri: &str) -> Value {
    let (status, text) = send(app, "GET", uri, "").await;
    assert_eq!(status, StatusCode::OK, "{uri}: {text}");
    serde_json::from_str(&text).unwrap()
}

fn join_code(shared: &Shared) -> String {
    shared.lock().join_code.clone()
}

#[tokio::test]
async fn malformed_requests_get_400_with_a_message() {
    let app = router(shared(30, 4));
    for uri in ["/api/lever", "/api/control", "/api/join"] {
        for body in ["{not json", "", "[1, 2]", "{\"token\": 5}", "{\"unexpected\": true}"] {
            let (status, text) = send(&app, "POST", uri, body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{uri} with {body:?}: {text}");
            let v: Value = serde_json::from_str(&text).unwrap();
            assert!(v["error"].as_str().unwrap().starts_with("malformed JSON request"), "{text}");
        }
    }
    let (status, v) = post(&app, "/api/lever", json!({"token": KEY, "lever": "discretion", "value": [0.5]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    let (status, _) = send(&app, "GET", "/api/nothing-here", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(&app, "GET", "/api/export?regime=7", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn out_of_range_values_get_422_with_the_located_message_and_change_nothing() {
    let shared = shared(30, 4);
    let app = router(shared.clone());
    let (status, v) = post(&app, "/api/lever", json!({"token": KEY, "lever": "discretion", "value": 1.5})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let msg = v["error"].as_str().unwrap();
    assert!(msg.contains("governance.discretion") && msg.contains("out of range"), "{msg}");
    let (status, v) = post(&app, "/api/lever", json!({"token": KEY, "lever": "time_standard", "value": "whatever"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (status, v) = post(&app, "/api/lever", json!({"token": KEY, "lever": "no_such_lever", "value": 1})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (status, v) = post(&app, "/api/control", json!({"token": KEY, "action": "speed", "speed": 1e9})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (status, v) = post(&app, "/api/control", json!({"token": KEY, "action": "dance"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(shared.lock().log.is_empty(), "nothing refused is logged");
    assert!(shared.lock().regimes.iter().all(|r| r.sim.scenario().events.is_empty()), "nothing refused is scheduled");
    // A valid change is made in every regime and logged once per regime.
    let (status, v) = post(&app, "/api/lever", json!({"token": KEY, "lever": "governance.discretion", "value": 0.5})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let log = get_json(&app, "/api/log").await;
    assert_eq!(log["log"].as_array().unwrap().len(), 2, "{log}");
    assert_eq!(log["log"][0]["who"], "facilitator");
    assert_eq!(log["log"][0]["lever"], "discretion");
}

#[tokio::test]
async fn control_needs_the_facilitators_key() {
    let shared = shared(30, 4);
    let app = router(shared.clone());
    let (status, _) = post(&app, "/api/control", json!({"action": "play"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = post(&app, "/api/control", json!({"token": "guess", "action": "play"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, p) = post(&app, "/api/join", json!({"code": join_code(&shared), "name": "Ana"})).await;
    let (status, _) = post(&app, "/api/control", json!({"token": p["token"], "action": "play"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!shared.lock().playing);
    let (status, _) = post(&app, "/api/control", json!({"token": KEY, "action": "play"})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(shared.lock().playing);
    // The join code is shown to the facilitator only.
    assert!(get_json(&app, "/api/state").await["join_code"].is_null());
    assert_eq!(get_json(&app, &format!("/api/state?key={KEY}")).await["join_code"], json!(join_code(&shared)));
}

#[tokio::test]
async fn a_participant_steers_only_their_own_team() {
    let shared = shared(30, 8);
    let app = router(shared.clone());
    let code = join_code(&shared);
    let (status, v) = post(&app, "/api/join", json!({"code": "nope", "name": "Eve"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    let mut people = Vec::new();
    for name in ["Ana", "Ben", "Cai", "Dee"] {
        let (status, p) = post(&app, "/api/join", json!({"code": code.to_lowercase(), "name": name})).await;
        assert_eq!(status, StatusCode::OK, "{p}");
        people.push(p);
    }
    // Four different teams, both regimes used.
    let teams: std::collections::BTreeSet<(u64, u64)> =
        people.iter().map(|p| (p["regime"].as_u64().unwrap(), p["team"].as_u64().unwrap())).collect();
    assert_eq!(teams.len(), 4);
    assert!(teams.iter().any(|t| t.0 == 0) && teams.iter().any(|t| t.0 == 1));
    let ana = &people[0];
    let ben = &people[1];
    // Another team, another regime, a service-wide lever: refused.
    let (status, v) = post(
        &app,
        "/api/lever",
        json!({"token": ana["token"], "lever": "discretion", "value": 0.9, "regime": ben["regime"], "team": ben["team"]}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    assert!(v["error"].as_str().unwrap().contains("only their own team"), "{v}");
    let (status, v) = post(
        &app,
        "/api/lever",
        json!({"token": ana["token"], "lever": "discretion", "value": 0.9, "team": (ana["team"].as_u64().unwrap() + 1)}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    let (status, v) = post(&app, "/api/lever", json!({"token": ana["token"], "lever": "target_pressure", "value": 0.0})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    // A participant's out-of-range value: 422.
    let (status, v) = post(&app, "/api/lever", json!({"token": ana["token"], "lever": "prevention_share", "value": 5})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(shared.lock().log.is_empty());
    // Their own team: done, logged with their name, and in force in that team only.
    step(&shared, 3);
    let (status, v) = post(&app, "/api/lever", json!({"token": ana["token"], "lever": "discretion", "value": 0.9})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, v) =
        post(&app, "/api/lever", json!({"token": ben["token"], "lever": "prevention_share", "value": 0.3, "team": ben["team"]})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let log = get_json(&app, "/api/log").await["log"].clone();
    assert_eq!(log.as_array().unwrap().len(), 2);
    assert_eq!((log[0]["day"].as_u64(), log[0]["who"].as_str(), log[0]["team"].clone()), (Some(3), Some("Ana"), ana["team"].clone()));
    step(&shared, 1);
    let s = shared.lock();
    let (r, t) = (ana["regime"].as_u64().unwrap() as usize, ana["team"].as_u64().unwrap() as usize);
    let teams = s.regimes[r].sim.teams();
    assert_eq!(teams[t].discretion, 0.9);
    assert_eq!(teams[t].own_levers, vec!["discretion"]);
    assert!(teams.iter().enumerate().filter(|(i, _)| *i != t).all(|(_, other)| other.own_levers.is_empty()));
}

#[tokio::test]
async fn the_join_cap_holds() {
    let shared = shared(30, 2);
    let app = router(shared.clone());
    let code = join_code(&shared);
    for _ in 0..2 {
        let (status, _) = post(&app, "/api/join", json!({"code": code})).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, v) = post(&app, "/api/join", json!({"code": code, "name": "late"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert!(v["error"].as_str().unwrap().contains("full"), "{v}");
    assert_eq!(shared.lock().participants.len(), 2);
}

/// Reads server-sent events from a body until `until` says stop (or 10 s pass).
async fn read_events(body: &mut Body, mut until: impl FnMut(&[(String, Value)]) -> bool) -> Vec<(String, Value)> {
    let mut text = String::new();
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !until(&events) {
        let frame = tokio::time::timeout_at(deadline, body.frame()).await.expect("events in time").expect("stream open").unwrap();
        if let Ok(data) = frame.into_data() {
            text.push_str(std::str::from_utf8(&data).unwrap());
        }
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            let kind = block.lines().find_map(|l| l.strip_prefix("event: ")).unwrap_or("message").to_string();
            let data: String = block.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
            if !data.is_empty() {
                events.push((kind, serde_json::from_str(&data).unwrap()));
            }
        }
    }
    events
}

fn days_of(events: &[(String, Value)]) -> Vec<u64> {
    events.iter().filter(|(k, _)| k == "day").map(|(_, v)| v["day"].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn a_late_event_stream_gets_the_history_first_then_the_live_days() {
    let shared = shared(40, 4);
    let app = router(shared.clone());
    step(&shared, 12);
    let resp = app.clone().oneshot(Request::get("/api/events").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut body = resp.into_body();
    let history = read_events(&mut body, |e| days_of(e).len() >= 12).await;
    assert_eq!(days_of(&history), (0..12).collect::<Vec<_>>(), "days 0 to 11 in order, none missing");
    assert_eq!(history[0].0, "control", "the state the history starts from");
    let regimes = &history.iter().find(|(k, _)| k == "day").unwrap().1["regimes"];
    assert_eq!(regimes.as_array().unwrap().len(), 2, "both regimes each day");
    assert_eq!(regimes[0]["m"].as_array().unwrap().len(), super::session::CHART_METRICS.len());
    // Then the live days, through the stepping thread.
    let stepping = shared.clone();
    std::thread::spawn(move || super::stepper(stepping));
    let (status, _) = post(&app, "/api/control", json!({"token": KEY, "action": "step"})).await;
    assert_eq!(status, StatusCode::OK);
    let live = read_events(&mut body, |e| !days_of(e).is_empty()).await;
    assert_eq!(days_of(&live), vec![12]);
}

#[tokio::test]
async fn a_steered_sessions_export_replays_to_the_same_timeseries_bytes() {
    let shared = shared(90, 4);
    let app = router(shared.clone());
    let code = join_code(&shared);
    let (_, ana) = post(&app, "/api/join", json!({"code": code, "name": "Ana"})).await;
    let (_, ben) = post(&app, "/api/join", json!({"code": code, "name": "Ben"})).await;
    step(&shared, 10);
    let (status, _) = post(&app, "/api/lever", json!({"token": KEY, "lever": "discretion", "value": 0.6})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post(&app, "/api/lever", json!({"token": ana["token"], "lever": "time_standard", "value": "need-led"})).await;
    assert_eq!(status, StatusCode::OK);
    step(&shared, 25);
    let (status, _) = post(&app, "/api/lever", json!({"token": ben["token"], "lever": "prevention_share", "value": 0.4})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post(&app, "/api/lever", json!({"token": KEY, "lever": "target_pressure", "value": 0.2, "regime": 1})).await;
    assert_eq!(status, StatusCode::OK);
    step(&shared, 100);
    assert!(shared.lock().finished());
    let (status, v) = post(&app, "/api/lever", json!({"token": KEY, "lever": "discretion", "value": 0.1})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "nothing changes after the end: {v}");
    let all = get_json(&app, "/api/export").await;
    for regime in 0..2 {
        let (status, exported) = send(&app, "GET", &format!("/api/export?regime={regime}"), "").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(all["regimes"][regime]["toml"].as_str(), Some(exported.as_str()));
        let (status, steered) = send(&app, "GET", &format!("/api/timeseries?regime={regime}"), "").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(steered.lines().count(), 91, "a header and 90 days");
        let scenario = Scenario::from_toml_str(&exported, "exported.toml", &[]).unwrap();
        assert_eq!(scenario.run.seed, 11);
        assert!(!scenario.events.is_empty(), "the lever changes are the exported scenario's events");
        let replayed = Simulation::new(&scenario, scenario.run.seed).finish();
        let mut bytes = Vec::new();
        crate::run_files::write_timeseries(&mut bytes, &replayed.series).unwrap();
        assert!(String::from_utf8(bytes).unwrap() == steered, "regime {regime}: the replay differs from the steered session");
        // And the steering mattered: without its events the scenario runs differently.
        let mut unsteered = scenario.clone();
        unsteered.events.clear();
        let mut plain = Vec::new();
        crate::run_files::write_timeseries(&mut plain, &Simulation::new(&unsteered, 11).finish().series).unwrap();
        assert!(String::from_utf8(plain).unwrap() != steered, "regime {regime}: steering changed nothing");
    }
}

#[tokio::test]
async fn the_pages_and_assets_are_served_from_the_binary() {
    let app = router(shared(30, 4));
    for (uri, kind, needle) in [
        ("/", "text/html", "facilitator.js"),
        ("/join", "text/html", "participant.js"),
        ("/assets/uPlot.iife.min.js", "text/javascript", "uPlot"),
        ("/assets/uPlot-LICENSE.txt", "text/plain", "MIT"),
        ("/assets/facilitator.js", "text/javascript", "/api/control"),
        ("/assets/common.js", "text/javascript", "EventSource"),
    ] {
        let resp = app.clone().oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{uri}");
        assert!(resp.headers()["content-type"].to_str().unwrap().starts_with(kind), "{uri}");
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        assert!(String::from_utf8_lossy(&body).contains(needle), "{uri} holds {needle}");
    }
}

#[tokio::test]
async fn the_facilitator_picks_scenarios_on_the_page_and_the_session_starts_again() {
    let shared = shared(60, 8);
    let app = router(shared.clone());
    let listed = get_json(&app, "/api/scenarios").await;
    let files: Vec<&str> = listed["scenarios"].as_array().unwrap().iter().map(|s| s["file"].as_str().unwrap()).collect();
    assert!(files.contains(&"austerity.toml") && files.contains(&"top-down.toml"), "{files:?}");
    assert!(!files.contains(&"city-1m.toml"), "too big for a workshop");
    let code = join_code(&shared);
    let (_, ana) = post(&app, "/api/join", json!({"code": code, "name": "Ana"})).await;
    let (_, ben) = post(&app, "/api/join", json!({"code": code, "name": "Ben"})).await;
    step(&shared, 20);
    let (status, _) = post(&app, "/api/lever", json!({"token": KEY, "lever": "discretion", "value": 0.6})).await;
    assert_eq!(status, StatusCode::OK);
    // An open page's stream is told to start over.
    let resp = app.clone().oneshot(Request::get("/api/events").body(Body::empty()).unwrap()).await.unwrap();
    let mut open_page = resp.into_body();
    read_events(&mut open_page, |e| days_of(e).len() >= 20).await;

    // Refused: a participant; an unknown file; one scenario; a file with a bad value (the
    // located message); a file above the citizens cap; malformed JSON.
    let choose = |list: Value| json!({"token": KEY, "scenarios": list});
    let (status, v) =
        post(&app, "/api/scenarios", json!({"token": ana["token"], "scenarios": [{"file": "austerity.toml"}, {"file": "surge.toml"}]}))
            .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    let (status, v) = post(&app, "/api/scenarios", choose(json!([{"file": "nope.toml"}, {"file": "surge.toml"}]))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v["error"].as_str().unwrap().contains("austerity.toml"), "names the shipped ones: {v}");
    let (status, v) = post(&app, "/api/scenarios", choose(json!([{"file": "surge.toml"}]))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let bad = "name = \"mine\"\n\n[governance]\ndiscretion = 7.0\n";
    let (status, v) = post(&app, "/api/scenarios", choose(json!([{"file": "surge.toml"}, {"file": "mine.toml", "toml": bad}]))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = v["error"].as_str().unwrap();
    assert!(message.contains("mine.toml:4") && message.contains("governance.discretion"), "file, line and field: {message}");
    let huge = "name = \"huge\"\n\n[population]\ncitizens = 5000000\n";
    let (status, v) = post(&app, "/api/scenarios", choose(json!([{"file": "surge.toml"}, {"file": "huge.toml", "toml": huge}]))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v["error"].as_str().unwrap().contains("--max-citizens"), "{v}");
    let (status, _) = send(&app, "POST", "/api/scenarios", "{\"token\": ").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(shared.lock().day(), 20, "nothing refused changed the session");

    // A shipped file and an uploaded one, on a new seed.
    let mine = "name = \"mine\"\ndescription = \"uploaded\"\n\n[governance]\npreset = \"enablement\"\n";
    let (status, v) = post(
        &app,
        "/api/scenarios",
        json!({"token": KEY, "seed": 3, "scenarios": [{"file": "austerity.toml"}, {"file": "mine.toml", "toml": mine}]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let state = get_json(&app, &format!("/api/state?key={KEY}")).await;
    let names: Vec<&str> = state["regimes"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["austerity", "mine"]);
    assert_eq!((state["day"].as_u64(), state["seed"].as_u64(), state["days"].as_u64()), (Some(0), Some(3), Some(60)), "capped days");
    assert!(state["log"].as_array().unwrap().is_empty(), "a new session's log");
    let reset = read_events(&mut open_page, |e| e.iter().any(|(k, _)| k == "reset")).await;
    assert_eq!(reset.last().unwrap().1["regimes"], json!(["austerity", "mine"]));
    // Participants keep their tokens and learn their new teams.
    for p in [&ana, &ben] {
        let me = get_json(&app, &format!("/api/me?token={}", p["token"].as_str().unwrap())).await;
        assert_eq!(me["name"], p["name"]);
        let team = &state["regimes"][me["regime"].as_u64().unwrap() as usize]["teams"][me["team"].as_u64().unwrap() as usize];
        assert_eq!(team["delivers"], json!(true), "{me}");
    }
    let (status, _) = post(&app, "/api/lever", json!({"token": ben["token"], "lever": "discretion", "value": 0.7})).await;
    assert_eq!(status, StatusCode::OK);
    // A page opened now reads the new session only: no day of the old one, the joins again.
    step(&shared, 2);
    let resp = app.clone().oneshot(Request::get("/api/events").body(Body::empty()).unwrap()).await.unwrap();
    let mut late = resp.into_body();
    let history = read_events(&mut late, |e| days_of(e).len() >= 2).await;
    assert_eq!(days_of(&history), vec![0, 1]);
    assert!(!history.iter().any(|(k, _)| k == "reset"));
    assert_eq!(history.iter().filter(|(k, _)| k == "join").count(), 2);
    assert_eq!(history.iter().filter(|(k, _)| k == "log").count(), 1, "Ben's change in the new session");
}

#[tokio::test]
async fn a_teams_own_lever_values_are_in_the_state() {
    let shared = shared(40, 4);
    let app = router(shared.clone());
    let (_, ana) = post(&app, "/api/join", json!({"code": join_code(&shared), "name": "Ana"})).await;
    let (r, t) = (ana["regime"].as_u64().unwrap() as usize, ana["team"].as_u64().unwrap() as usize);
    let before = get_json(&app, "/api/state").await;
    let team = &before["regimes"][r]["teams"][t];
    let service = before["levers"].as_array().unwrap().iter().find(|l| l["name"] == "discretion").unwrap()["values"][r].clone();
    assert_eq!(team["levers"]["discretion"], service, "the service's value until the team sets its own");
    assert_eq!(team["own_levers"], json!([]));
    let (status, _) = post(&app, "/api/lever", json!({"token": ana["token"], "lever": "discretion", "value": 0.35})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post(&app, "/api/lever", json!({"token": ana["token"], "lever": "time_standard", "value": "need-led"})).await;
    assert_eq!(status, StatusCode::OK);
    // In force from the next day on.
    step(&shared, 1);
    let after = get_json(&app, "/api/state").await;
    let team = &after["regimes"][r]["teams"][t];
    assert_eq!(team["levers"]["discretion"], json!(0.35));
    assert_eq!(team["levers"]["time_standard"], json!("need-led"));
    assert_eq!(team["own_levers"], json!(["discretion", "time_standard"]));
    let (status, v) = send(&app, "GET", "/api/me?token=nope", "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{v}");
}

#[tokio::test]
async fn the_debrief_is_the_runs_report() {
    let shared = shared(120, 4);
    let app = router(shared.clone());
    let (status, html) = send(&app, "GET", "/debrief", "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Nothing has run yet"), "{html}");
    step(&shared, 10);
    let (status, _) = post(&app, "/api/lever", json!({"token": KEY, "lever": "discretion", "value": 0.6, "regime": 0})).await;
    assert_eq!(status, StatusCode::OK);
    step(&shared, 110);
    let (status, html) = send(&app, "GET", "/debrief", "").await;
    assert_eq!(status, StatusCode::OK);
    let opts = roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() };
    let doc = roxmltree::Document::parse_with_options(&html, opts).unwrap_or_else(|e| panic!("the debrief does not parse: {e}"));
    let text: String = doc.descendants().filter(|n| n.is_text()).map(|n| n.text().unwrap_or("")).collect();
    assert!(text.contains("Debrief: top-down vs enablement") && text.contains("the run has ended"), "{text}");
    assert!(text.contains("enablement against top-down") && text.contains("failure demand"), "the differences: {text}");
    assert!(text.contains("not yet evidence") && text.contains("sim compare top-down-session.toml enablement-session.toml"), "{text}");
    assert!(doc.descendants().filter(|n| n.has_tag_name("svg")).count() >= 2, "the dashboard and true vs reported, inline");
    // The summaries are the regimes' own: the table's first row is each regime's value.
    let s = shared.lock();
    for r in &s.regimes {
        let v = r.sim.summary().get("failure_demand_share").unwrap();
        assert!(text.contains(&crate::words::value(sim_core::metrics::Metric::FailureDemandShare, v)), "{} {v}", r.name);
    }
    assert!(text.contains("discretion") && text.contains("facilitator"), "the log");
    // Every link stays on this server.
    for node in doc.descendants().filter(|n| n.has_tag_name("a")) {
        let href = node.attribute("href").unwrap_or("");
        assert!(href.starts_with('#') || href.starts_with("/api/"), "{href}");
    }
}
