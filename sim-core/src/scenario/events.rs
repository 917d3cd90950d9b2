//! Scheduled events as written (`[[events]]` tables), parsed by their `kind` into [`Event`]s and
//! checked, in file order, so every error names `events[i].FIELD` at its line and column
//! (serde's internally tagged enums buffer their content and lose the field's path).

use serde::Deserialize;

use super::params::did_you_mean;
use super::{Event, Governance, TEAM_LEVERS};

/// The kinds an event may have, as written after `kind =`.
pub const KINDS: &[&str] = &["demand_surge", "funding_cut", "staff_loss", "lever", "reform"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Surge {
    day: u32,
    multiplier: f64,
    duration_days: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Share {
    day: u32,
    share: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Lever {
    day: u32,
    lever: String,
    value: toml::Value,
    #[serde(default)]
    ramp_days: u32,
    #[serde(default)]
    team: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reform {
    day: u32,
    preset: String,
    #[serde(default)]
    ramp_days: u32,
}

/// A problem with one event: the field path inside it (`day`, `lever`, or empty for the event
/// itself) and the message.
pub type Problem = (String, String);

/// Parses one event table.
pub fn parse(table: &toml::Table) -> Result<Event, Problem> {
    let kind = match table.get("kind") {
        Some(toml::Value::String(k)) => k.as_str(),
        Some(other) => {
            return Err(("kind".into(), format!("expected the event's kind as text (one of {}), found {other}", KINDS.join(", "))));
        }
        None => return Err((String::new(), format!("missing field `kind` (one of {})", KINDS.join(", ")))),
    };
    let mut rest = table.clone();
    rest.remove("kind");
    let body = toml::Value::Table(rest);
    fn de<T: for<'de> Deserialize<'de>>(v: toml::Value) -> Result<T, Problem> {
        serde_path_to_error::deserialize(v).map_err(|e| {
            let mut path = e.path().to_string();
            let message = super::plain_serde_message(&e.inner().to_string());
            let named = message.strip_prefix("unknown field `").or_else(|| message.strip_prefix("missing field `"));
            if let Some(name) = named.and_then(|m| m.split('`').next())
                && message.starts_with("unknown")
            {
                path = name.to_string();
            }
            (path.trim_start_matches('.').to_string(), message)
        })
    }
    Ok(match kind {
        "demand_surge" => {
            let r: Surge = de(body)?;
            Event::DemandSurge { day: r.day, multiplier: r.multiplier, duration_days: r.duration_days }
        }
        "funding_cut" => {
            let r: Share = de(body)?;
            Event::FundingCut { day: r.day, share: r.share }
        }
        "staff_loss" => {
            let r: Share = de(body)?;
            Event::StaffLoss { day: r.day, share: r.share }
        }
        "lever" => {
            let r: Lever = de(body)?;
            // One path everywhere: `governance.discretion` as in --set and sweeps; the short
            // form `discretion` means the same.
            let lever = r.lever.strip_prefix("governance.").unwrap_or(&r.lever).to_string();
            Event::Lever { day: r.day, lever, value: r.value, ramp_days: r.ramp_days, team: r.team }
        }
        "reform" => {
            let r: Reform = de(body)?;
            Event::Reform { day: r.day, preset: r.preset, ramp_days: r.ramp_days }
        }
        other => {
            let hint = did_you_mean(other, KINDS.iter().copied()).map(|k| format!("; did you mean `{k}`?")).unwrap_or_default();
            return Err(("kind".into(), format!("unknown event kind `{other}`; allowed: {}{hint}", KINDS.join(", "))));
        }
    })
}

/// Checks one event against the run: `days` is the horizon, `horizon_set` true when it came from
/// an override (`--days`, `--set run.days`, a sweep's `days`), which may cut scheduled events off.
pub fn check(e: &Event, governance: &Governance, days: u32, horizon_set: bool) -> Result<(), Problem> {
    if e.day() >= days && !horizon_set {
        return Err((
            "day".into(),
            format!(
                "day {} is not in the run (days 0 to {}, run.days = {days}); the event would never happen",
                e.day(),
                days.saturating_sub(1)
            ),
        ));
    }
    match e {
        Event::DemandSurge { multiplier, .. } if !(0.0..=20.0).contains(multiplier) => {
            Err(("multiplier".into(), format!("{multiplier} is out of range; allowed 0 to 20")))
        }
        Event::DemandSurge { duration_days: 0, .. } => Err(("duration_days".into(), "must be at least 1 day".into())),
        Event::FundingCut { share, .. } | Event::StaffLoss { share, .. } if !(0.0..=1.0).contains(share) => {
            Err(("share".into(), format!("{share} is out of range; allowed 0 to 1")))
        }
        Event::Lever { lever, value, ramp_days, team, .. } => {
            let table = toml::Table::try_from(governance).map_err(|e| (String::new(), e.to_string()))?;
            let Some(current) = table.get(lever) else {
                let hint = did_you_mean(lever, table.keys().map(String::as_str))
                    .map(|k| format!("did you mean `governance.{k}`? "))
                    .unwrap_or_default();
                let names: Vec<&str> = table.keys().map(String::as_str).collect();
                return Err(("lever".into(), format!("unknown lever `{lever}`; {hint}levers: {}", names.join(", "))));
            };
            governance.with_lever(lever, value).map_err(|m| ("value".to_string(), m))?;
            if team.is_some() && !TEAM_LEVERS.contains(&lever.as_str()) {
                return Err((
                    "lever".into(),
                    format!("`{lever}` is service-wide; a team may set only {} for itself", TEAM_LEVERS.join(", ")),
                ));
            }
            if team.is_some() && *ramp_days > 0 {
                return Err(("ramp_days".into(), "a team's lever is set on `day`, not ramped; leave ramp_days out".into()));
            }
            let numeric = matches!(current, toml::Value::Integer(_) | toml::Value::Float(_));
            if *ramp_days > 0 && !numeric {
                return Err((
                    "ramp_days".into(),
                    format!("`{lever}` is not a number ({current}), so it cannot be ramped; leave ramp_days out to switch it on `day`"),
                ));
            }
            Ok(())
        }
        Event::Reform { preset, .. } if Governance::preset(preset).is_none() => {
            let hint =
                did_you_mean(preset, Governance::PRESETS.iter().copied()).map(|k| format!("; did you mean `{k}`?")).unwrap_or_default();
            Err(("preset".into(), format!("unknown preset `{preset}`; allowed: {}{hint}", Governance::PRESETS.join(", "))))
        }
        _ => Ok(()),
    }
}
