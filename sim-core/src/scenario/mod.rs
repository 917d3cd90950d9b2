//! Scenarios: the TOML a user writes (`ScenarioFile`, every field optional, unknown fields are
//! errors) becomes a validated, fully resolved [`Scenario`]. Precedence, lowest first: built-in
//! defaults, the governance `preset`, the file, then `--set path=value` overrides. Errors carry the
//! file, line, column and field, and the allowed range where one applies.

pub mod events;
pub mod params;
pub mod sections;

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use params::{ParamSpec, Table, TimeStandard, did_you_mean};
pub use sections::*;

/// A validated scenario with every parameter resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// The governance preset the file chose, if any.
    pub preset: Option<String>,
    pub run: RunParams,
    pub population: PopulationParams,
    pub governance: Governance,
    pub demand: DemandParams,
    pub presentation: PresentationParams,
    pub routing: RoutingParams,
    pub effort: EffortParams,
    pub response: ResponseParams,
    pub outcome: OutcomeParams,
    pub targets: TargetParams,
    pub workforce: WorkforceParams,
    pub money: MoneyParams,
    pub staff: StaffParams,
    pub management: ManagementParams,
    pub citizens: CitizenParams,
    pub learning: LearningParams,
    pub safety: SafetyParams,
    pub need_types: Vec<NeedType>,
    /// Shocks and reforms in day order.
    pub events: Vec<Event>,
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            name: "default".into(),
            description: "Built-in default: top-down preset, high-variety demand".into(),
            preset: None,
            run: RunParams::default(),
            population: PopulationParams::default(),
            governance: Governance::default(),
            demand: DemandParams::default(),
            presentation: PresentationParams::default(),
            routing: RoutingParams::default(),
            effort: EffortParams::default(),
            response: ResponseParams::default(),
            outcome: OutcomeParams::default(),
            targets: TargetParams::default(),
            workforce: WorkforceParams::default(),
            money: MoneyParams::default(),
            staff: StaffParams::default(),
            management: ManagementParams::default(),
            citizens: CitizenParams::default(),
            learning: LearningParams::default(),
            safety: SafetyParams::default(),
            need_types: default_need_types(),
            events: Vec::new(),
        }
    }
}

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    name: Option<String>,
    description: Option<String>,
    run: Option<Table<RunRaw>>,
    population: Option<Table<PopulationRaw>>,
    governance: Option<Table<GovernanceRaw>>,
    demand: Option<Table<DemandRaw>>,
    presentation: Option<Table<PresentationRaw>>,
    routing: Option<Table<RoutingRaw>>,
    effort: Option<Table<EffortRaw>>,
    response: Option<Table<ResponseRaw>>,
    outcome: Option<Table<OutcomeRaw>>,
    targets: Option<Table<TargetRaw>>,
    workforce: Option<Table<WorkforceRaw>>,
    money: Option<Table<MoneyRaw>>,
    staff: Option<Table<StaffRaw>>,
    management: Option<Table<ManagementRaw>>,
    citizens: Option<Table<CitizenRaw>>,
    learning: Option<Table<LearningRaw>>,
    safety: Option<Table<SafetyRaw>>,
    need_types: Option<Vec<Table<NeedTypeRaw>>>,
    /// Parsed by kind in `events::parse`, so errors name the event's field.
    events: Option<Vec<Table<toml::Table>>>,
}

/// Where an error sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

/// Why a scenario could not be loaded. Every variant is bad input (exit code 2 in the CLI).
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{file}: cannot read the scenario: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}:{column}: invalid TOML: {message}", line = .at.line, column = .at.column)]
    Syntax { file: String, at: Location, message: String },
    #[error("{}: field `{field}`: {message}", location(.file, .at, .origin))]
    Field {
        file: String,
        at: Option<Location>,
        /// Set when the value came from somewhere other than the file (`--set ...`, a preset).
        origin: Option<String>,
        field: String,
        message: String,
    },
    #[error("--set {arg}: {message}")]
    Override { arg: String, message: String },
    /// Every range, consistency and event error of a file, found in one pass (syntax and type
    /// errors stop the parser, so those come one at a time).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Several(Vec<ScenarioError>),
}

fn location(file: &str, at: &Option<Location>, origin: &Option<String>) -> String {
    match (at, origin) {
        (_, Some(o)) => format!("{file} ({o})"),
        (Some(at), None) => format!("{file}:{}:{}", at.line, at.column),
        (None, None) => file.to_string(),
    }
}

impl ScenarioError {
    /// The field the error is about, if any.
    pub fn field(&self) -> Option<&str> {
        match self.first() {
            ScenarioError::Field { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The first error (itself unless `Several`).
    pub fn first(&self) -> &ScenarioError {
        match self {
            ScenarioError::Several(all) if !all.is_empty() => all[0].first(),
            other => other,
        }
    }

    /// Every error (one unless `Several`).
    pub fn all(&self) -> Vec<&ScenarioError> {
        match self {
            ScenarioError::Several(all) => all.iter().collect(),
            other => vec![other],
        }
    }
}

/// One `--set path=value` override.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub path: Vec<PathSeg>,
    pub value: toml::Value,
    pub raw: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSeg {
    Key(String),
    Index(usize),
}

impl Override {
    /// Parses `governance.discretion=0.5` or `need_types[0].rate_per_year=0.3`. The value is read
    /// as TOML (number, bool, quoted string, array); anything else is taken as a bare string.
    pub fn parse(arg: &str) -> Result<Self, ScenarioError> {
        let err = |message: &str| ScenarioError::Override { arg: arg.to_string(), message: message.to_string() };
        let (path, value) = arg.split_once('=').ok_or_else(|| err("expected path=value, e.g. governance.discretion=0.5"))?;
        let path = path.trim();
        if path.is_empty() {
            return Err(err("the path before `=` is empty"));
        }
        let mut segs = Vec::new();
        for part in path.split('.') {
            let (key, rest) = match part.find('[') {
                Some(i) => (&part[..i], &part[i..]),
                None => (part, ""),
            };
            if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                return Err(err(&format!("`{part}` is not a field name")));
            }
            segs.push(PathSeg::Key(key.to_string()));
            let mut rest = rest;
            while !rest.is_empty() {
                let close = rest.find(']').ok_or_else(|| err("unclosed `[`"))?;
                let idx: usize = rest[1..close].parse().map_err(|_| err("index in [] must be a whole number"))?;
                segs.push(PathSeg::Index(idx));
                rest = &rest[close + 1..];
                if !rest.is_empty() && !rest.starts_with('[') {
                    return Err(err("unexpected text after `]`"));
                }
            }
        }
        let value_text = value.trim();
        let value = match toml::from_str::<toml::Table>(&format!("v = {value_text}")) {
            Ok(mut t) => t.remove("v").ok_or_else(|| err("no value"))?,
            Err(_) => toml::Value::String(value_text.to_string()),
        };
        Ok(Self { path: segs, value, raw: arg.to_string() })
    }

    fn dotted(&self) -> String {
        dotted(&self.path)
    }
}

fn dotted(path: &[PathSeg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            PathSeg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            PathSeg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

impl Scenario {
    /// Loads and validates a scenario file.
    pub fn from_file(path: &Path, overrides: &[Override]) -> Result<Self, ScenarioError> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| ScenarioError::Read { file: file.clone(), source })?;
        let text = utf8(bytes).map_err(|(at, message)| ScenarioError::Syntax { file: file.clone(), at, message })?;
        Self::from_toml_str(&text, &file, overrides)
    }

    /// The built-in default, with overrides.
    pub fn builtin(overrides: &[Override]) -> Result<Self, ScenarioError> {
        Self::from_toml_str("", "<built-in default>", overrides)
    }

    /// Parses and validates TOML text; `file` names it in errors.
    pub fn from_toml_str(text: &str, file: &str, overrides: &[Override]) -> Result<Self, ScenarioError> {
        let (spans, mut table) = parse_toml(text).map_err(|(at, message)| ScenarioError::Syntax { file: file.to_string(), at, message })?;
        let field_err = |path: &str, message: String, origin: Option<String>| ScenarioError::Field {
            file: file.to_string(),
            at: if origin.is_some() { None } else { locate(text, spans.get_ref(), path) },
            origin,
            field: path.to_string(),
            message,
        };

        // Overrides first, so `--set governance.preset=...` works too.
        let mut set_paths = BTreeSet::new();
        for o in overrides {
            apply_override(&mut table, o)?;
            set_paths.insert(o.dotted());
        }
        let origin_of = |path: &str| -> Option<String> {
            set_paths
                .iter()
                .find(|p| path == p.as_str() || path.starts_with(&format!("{p}.")) || path.starts_with(&format!("{p}[")))
                .map(|p| format!("--set {p}"))
        };

        // Seeds are full u64: TOML integers stop at 2^63 - 1, so larger ones are written as strings.
        // Taken out here and set after resolving.
        let mut seed = None;
        if let Some(toml::Value::Table(run)) = table.get_mut("run")
            && let Some(v) = run.remove("seed")
        {
            seed = Some(parse_seed(&v).map_err(|m| field_err("run.seed", m, origin_of("run.seed")))?);
        }

        // The preset fills governance fields the file leaves out.
        let mut preset_name = None;
        if let Some(toml::Value::Table(gov)) = table.get_mut("governance")
            && let Some(p) = gov.remove("preset")
        {
            let name = match p {
                toml::Value::String(s) => s,
                other => {
                    return Err(field_err(
                        "governance.preset",
                        format!("expected a preset name (one of {}), found {other}", Governance::PRESETS.join(", ")),
                        origin_of("governance.preset"),
                    ));
                }
            };
            if Governance::preset(&name).is_none() {
                return Err(field_err(
                    "governance.preset",
                    format!("unknown preset `{name}`; allowed: {}", Governance::PRESETS.join(", ")),
                    origin_of("governance.preset"),
                ));
            }
            preset_name = Some(name);
        }

        let raw: ScenarioFile = serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
            let mut path = e.path().to_string();
            // toml appends "in `path`" on its own line; the path is reported separately.
            let message = plain_serde_message(&e.inner().to_string());
            // An unknown field: point at the field itself, not its table.
            if let Some(name) = message.strip_prefix("unknown field `").and_then(|m| m.split('`').next())
                && !path.ends_with(name)
            {
                path = if path == "." || path.is_empty() { name.to_string() } else { format!("{path}.{name}") };
            }
            let path = path.trim_start_matches('.').to_string();
            // A parameter's name at the top level (`discretion = 0.5`): name its section.
            let mut message = message;
            if !path.contains(['.', '[']) && message.starts_with("unknown field") {
                let specs = Scenario::parameter_specs();
                if let Some(spec) = specs.iter().find(|p| p.name == path) {
                    let full =
                        if spec.section == "need_types" { format!("need_types[0].{path}") } else { format!("{}.{path}", spec.section) };
                    message = message.split("; did you mean").next().unwrap_or_default().to_string();
                    message.push_str(&format!("; did you mean `{full}`?"));
                }
            }
            let origin = origin_of(&path);
            field_err(&path, message, origin)
        })?;

        let governance_base = preset_name.as_deref().and_then(Governance::preset).unwrap_or_default();
        let need_types = match raw.need_types {
            None => default_need_types(),
            Some(list) => {
                let base = NeedType::default();
                list.into_iter().map(|r| NeedType::resolve(r.0, &base)).collect()
            }
        };
        let defaults = Scenario::default();
        let mut scenario = Scenario {
            name: raw.name.unwrap_or_else(|| if text.is_empty() { defaults.name.clone() } else { file_stem(file) }),
            description: raw.description.unwrap_or_default(),
            preset: preset_name,
            run: RunParams::resolve(raw.run.unwrap_or_default().0, &defaults.run),
            population: PopulationParams::resolve(raw.population.unwrap_or_default().0, &defaults.population),
            governance: Governance::resolve(raw.governance.unwrap_or_default().0, &governance_base),
            demand: DemandParams::resolve(raw.demand.unwrap_or_default().0, &defaults.demand),
            presentation: PresentationParams::resolve(raw.presentation.unwrap_or_default().0, &defaults.presentation),
            routing: RoutingParams::resolve(raw.routing.unwrap_or_default().0, &defaults.routing),
            effort: EffortParams::resolve(raw.effort.unwrap_or_default().0, &defaults.effort),
            response: ResponseParams::resolve(raw.response.unwrap_or_default().0, &defaults.response),
            outcome: OutcomeParams::resolve(raw.outcome.unwrap_or_default().0, &defaults.outcome),
            targets: TargetParams::resolve(raw.targets.unwrap_or_default().0, &defaults.targets),
            workforce: WorkforceParams::resolve(raw.workforce.unwrap_or_default().0, &defaults.workforce),
            money: MoneyParams::resolve(raw.money.unwrap_or_default().0, &defaults.money),
            staff: StaffParams::resolve(raw.staff.unwrap_or_default().0, &defaults.staff),
            management: ManagementParams::resolve(raw.management.unwrap_or_default().0, &defaults.management),
            citizens: CitizenParams::resolve(raw.citizens.unwrap_or_default().0, &defaults.citizens),
            learning: LearningParams::resolve(raw.learning.unwrap_or_default().0, &defaults.learning),
            safety: SafetyParams::resolve(raw.safety.unwrap_or_default().0, &defaults.safety),
            need_types,
            events: Vec::new(),
        };

        if let Some(seed) = seed {
            scenario.run.seed = seed;
        }
        // Ranges, consistency and events: every error of the file in one pass.
        let mut errors: Vec<ScenarioError> = scenario
            .invalid()
            .into_iter()
            .map(|(path, message)| {
                let origin = origin_of(&path);
                field_err(&path, message, origin)
            })
            .collect();
        // Events, in file order so each error names the event as the file lists it.
        let horizon_set = origin_of("run.days").is_some();
        for (i, t) in raw.events.unwrap_or_default().into_iter().enumerate() {
            let at = |(field, message): events::Problem| {
                let path = if field.is_empty() { format!("events[{i}]") } else { format!("events[{i}].{field}") };
                let origin = origin_of(&path);
                field_err(&path, message, origin)
            };
            match events::parse(&t.0).and_then(|e| events::check(&e, &scenario.governance, scenario.run.days, horizon_set).map(|()| e)) {
                Ok(e) => scenario.events.push(e),
                Err(p) => errors.push(at(p)),
            }
        }
        match errors.len() {
            0 => {}
            1 => return Err(errors.remove(0)),
            _ => return Err(ScenarioError::Several(errors)),
        }
        // Stable: events of one day keep the file's order.
        scenario.events.sort_by_key(Event::day);
        Ok(scenario)
    }

    /// Range and consistency checks: every failure as (field path, message), in table order.
    fn invalid(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let out_of_range = |section: &str, v: Vec<params::RangeViolation>| {
            v.into_iter()
                .map(|(name, value, spec)| {
                    (format!("{section}.{name}"), format!("{value} is out of range; allowed {} to {} ({})", spec.min, spec.max, spec.unit))
                })
                .collect::<Vec<_>>()
        };
        let checks = [
            out_of_range(RunParams::KEY, self.run.validate()),
            out_of_range(PopulationParams::KEY, self.population.validate()),
            out_of_range(Governance::KEY, self.governance.validate()),
            out_of_range(DemandParams::KEY, self.demand.validate()),
            out_of_range(PresentationParams::KEY, self.presentation.validate()),
            out_of_range(RoutingParams::KEY, self.routing.validate()),
            out_of_range(EffortParams::KEY, self.effort.validate()),
            out_of_range(ResponseParams::KEY, self.response.validate()),
            out_of_range(OutcomeParams::KEY, self.outcome.validate()),
            out_of_range(TargetParams::KEY, self.targets.validate()),
            out_of_range(WorkforceParams::KEY, self.workforce.validate()),
            out_of_range(MoneyParams::KEY, self.money.validate()),
            out_of_range(StaffParams::KEY, self.staff.validate()),
            out_of_range(ManagementParams::KEY, self.management.validate()),
            out_of_range(CitizenParams::KEY, self.citizens.validate()),
            out_of_range(LearningParams::KEY, self.learning.validate()),
            out_of_range(SafetyParams::KEY, self.safety.validate()),
        ];
        out.extend(checks.into_iter().flatten());
        for (i, nt) in self.need_types.iter().enumerate() {
            for (name, value, spec) in nt.validate() {
                out.push((
                    format!("need_types[{i}].{name}"),
                    format!("{value} is out of range; allowed {} to {} ({})", spec.min, spec.max, spec.unit),
                ));
            }
        }
        if self.need_types.is_empty() {
            out.push(("need_types".into(), "at least one need type is required".into()));
        }
        let mut names = BTreeSet::new();
        for (i, nt) in self.need_types.iter().enumerate() {
            if !names.insert(nt.name.as_str()) {
                out.push((format!("need_types[{i}].name"), format!("need type `{}` appears twice", nt.name)));
            }
        }
        if self.population.community_k % 2 == 1 {
            out.push((
                "population.community_k".into(),
                format!("{} must be even (a ring lattice links k/2 each side)", self.population.community_k),
            ));
        }
        if self.run.warmup_days >= self.run.days {
            out.push((
                "run.warmup_days".into(),
                format!("{} must be below run.days ({}) so the summary window is not empty", self.run.warmup_days, self.run.days),
            ));
        }
        if self.population.neighbourhoods > self.population.citizens {
            out.push(("population.neighbourhoods".into(), "must not exceed population.citizens".into()));
        }
        if self.staff.morale_base + 0.5 * self.staff.morale_from_resolution > 1.0 {
            out.push((
                "staff.morale_base".into(),
                format!(
                    "morale_base + morale_from_resolution / 2 = {} is the staff's starting morale and must be at most 1",
                    self.staff.morale_base + 0.5 * self.staff.morale_from_resolution
                ),
            ));
        }
        let g = &self.governance;
        if g.admin_share + g.prevention_share >= 0.95 {
            out.push((
                "governance.prevention_share".into(),
                format!(
                    "admin_share + prevention_share = {} leaves no time for cases; must be below 0.95",
                    g.admin_share + g.prevention_share
                ),
            ));
        }
        out
    }

    /// The scenario as a file that loads back to an equal `Scenario` with every parameter written
    /// out, events included (those on or after the last day never happen and are left out).
    pub fn to_toml(&self) -> String {
        let mut plain = self.clone();
        plain.run.seed = 0;
        plain.preset = None;
        plain.events.retain(|e| e.day() < self.run.days);
        let mut table = toml::Table::try_from(&plain).expect("a scenario serialises to TOML");
        table.remove("preset");
        if let Some(toml::Value::Table(run)) = table.get_mut("run") {
            // TOML integers stop at 2^63 - 1; larger seeds are written as text (see `parse_seed`).
            let seed = i64::try_from(self.run.seed).map_or_else(|_| toml::Value::String(self.run.seed.to_string()), toml::Value::Integer);
            run.insert("seed".into(), seed);
        }
        if let (Some(preset), Some(toml::Value::Table(g))) = (&self.preset, table.get_mut("governance")) {
            g.insert("preset".into(), toml::Value::String(preset.clone()));
        }
        toml::to_string(&table).expect("a TOML table serialises")
    }

    /// SHA-256 of the resolved parameters (canonical JSON), for the manifest.
    pub fn content_hash(&self) -> String {
        let json = serde_json::to_vec(self).expect("a scenario always serialises");
        let digest = Sha256::digest(&json);
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Every parameter's specification, with this scenario's values as defaults where `current`.
    pub fn parameter_specs() -> Vec<ParamSpec> {
        let mut v = Vec::new();
        v.extend(RunParams::specs());
        v.extend(PopulationParams::specs());
        v.extend(Governance::specs());
        v.extend(DemandParams::specs());
        v.extend(PresentationParams::specs());
        v.extend(RoutingParams::specs());
        v.extend(EffortParams::specs());
        v.extend(ResponseParams::specs());
        v.extend(OutcomeParams::specs());
        v.extend(TargetParams::specs());
        v.extend(WorkforceParams::specs());
        v.extend(MoneyParams::specs());
        v.extend(StaffParams::specs());
        v.extend(ManagementParams::specs());
        v.extend(CitizenParams::specs());
        v.extend(LearningParams::specs());
        v.extend(SafetyParams::specs());
        v.extend(NeedType::specs());
        v
    }
}

/// A seed as written in a file or `--set`: a whole number from 0 to 2^64 - 1, as a TOML integer
/// (up to 2^63 - 1) or a string of digits (any u64, e.g. `seed = "18446744073709551615"`).
pub fn parse_seed(v: &toml::Value) -> Result<u64, String> {
    let hint = "expected a whole number from 0 to 18446744073709551615 (write seeds above 9223372036854775807 \
                as a string, e.g. seed = \"18446744073709551615\")";
    match v {
        toml::Value::Integer(i) if *i >= 0 => Ok(*i as u64),
        toml::Value::String(s) => s.trim().parse::<u64>().map_err(|_| format!("`{s}`: {hint}")),
        other => Err(format!("{other}: {hint}")),
    }
}

/// The field and plain message of a serde error in a whole file (sweep and calibration files):
/// an unknown or missing field is named itself, not the table that holds it.
pub(crate) fn field_and_message(e: &serde_path_to_error::Error<toml::de::Error>) -> (String, String) {
    let mut field = e.path().to_string();
    let message = plain_serde_message(&e.inner().to_string());
    let named = message.strip_prefix("unknown field `").or_else(|| message.strip_prefix("missing field `"));
    if let Some(name) = named.and_then(|m| m.split('`').next())
        && !field.ends_with(name)
    {
        field = if field == "." || field.is_empty() { name.to_string() } else { format!("{field}.{name}") };
    }
    (field.trim_start_matches('.').to_string(), message)
}

/// A serde/toml error message as users should read it: without toml's trailing "in `path`" line
/// (the path is reported separately) and with Rust type names in words.
/// An unknown field gets "did you mean" when one of the expected names is close.
pub(crate) fn plain_serde_message(full: &str) -> String {
    let mut m = full
        .split("\nin `")
        .next()
        .unwrap_or(full)
        .trim()
        .replace("expected usize", "expected a whole number")
        .replace("expected u32", "expected a whole number")
        .replace("expected u64", "expected a whole number")
        .replace("expected f64", "expected a number");
    if let Some(rest) = m.strip_prefix("unknown field `")
        && let Some((name, expected)) = rest.split_once('`')
    {
        let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        if let Some(k) = did_you_mean(name, known.iter().copied()) {
            m.push_str(&format!("; did you mean `{k}`?"));
        }
    }
    m
}

/// File bytes as text; invalid UTF-8 as (line and column of the first bad byte, message with its
/// byte offset, counted from 0).
pub fn utf8(bytes: Vec<u8>) -> Result<String, (Location, String)> {
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let valid = std::str::from_utf8(&bytes[..offset]).unwrap_or_default();
        (line_col(valid, offset), format!("invalid UTF-8 at byte {offset} (counted from 0); save the file as UTF-8"))
    })
}

fn file_stem(file: &str) -> String {
    Path::new(file).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| file.to_string())
}

pub(crate) fn line_col(text: &str, offset: usize) -> Location {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    Location { line, column }
}

/// TOML text as a table, and where each of its keys was written (for [`locate`]); a syntax error
/// as its location and message. Scenario, sweep and calibration files are all read through it.
pub(crate) fn parse_toml(text: &str) -> Result<(toml::Spanned<toml::de::DeTable<'_>>, toml::Table), (Location, String)> {
    let syntax = |e: toml::de::Error| {
        let at = e.span().map(|s| line_col(text, s.start)).unwrap_or(Location { line: 1, column: 1 });
        (at, e.message().trim().to_string())
    };
    let spans = toml::de::DeTable::parse(text).map_err(syntax)?;
    let table = toml::from_str(text).map_err(syntax)?;
    Ok((spans, table))
}

/// Finds the line of a dotted path (`governance.discretion`, `need_types[1].name`) in the file,
/// falling back to the nearest enclosing table that exists.
pub(crate) fn locate(text: &str, root: &toml::de::DeTable<'_>, path: &str) -> Option<Location> {
    use toml::de::DeValue;
    let mut segs = Vec::new();
    for part in path.split('.') {
        let (key, rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        segs.push(PathSeg::Key(key.to_string()));
        for idx in rest.split(['[', ']']).filter(|s| !s.is_empty()) {
            if let Ok(i) = idx.parse() {
                segs.push(PathSeg::Index(i));
            }
        }
    }
    let mut best: Option<usize> = None;
    let mut table: Option<&toml::de::DeTable<'_>> = Some(root);
    let mut array: Option<&[toml::Spanned<DeValue<'_>>]> = None;
    for (n, seg) in segs.iter().enumerate() {
        let next = match (seg, table, array) {
            (PathSeg::Key(k), Some(t), _) => {
                t.iter().find(|(key, _)| key.get_ref().as_ref() == k.as_str()).map(|(key, v)| (key.span().start, v))
            }
            (PathSeg::Index(i), _, Some(a)) => a.get(*i).map(|v| (v.span().start, v)),
            _ => None,
        };
        let Some((start, value)) = next else { break };
        // The whole path found and its value a scalar: point at the value itself.
        let scalar = !matches!(value.get_ref(), DeValue::Table(_) | DeValue::Array(_));
        best = Some(if n + 1 == segs.len() && scalar { value.span().start } else { start });
        table = None;
        array = None;
        match value.get_ref() {
            DeValue::Table(t) => table = Some(t),
            DeValue::Array(a) => array = Some(a),
            _ => {}
        }
    }
    best.map(|offset| line_col(text, offset))
}

fn apply_override(table: &mut toml::Table, o: &Override) -> Result<(), ScenarioError> {
    let mut root = toml::Value::Table(std::mem::take(table));
    let result = set_path(&mut root, 0, o);
    if let toml::Value::Table(t) = root {
        *table = t;
    }
    result
}

fn set_path(cursor: &mut toml::Value, i: usize, o: &Override) -> Result<(), ScenarioError> {
    let err = |message: String| ScenarioError::Override { arg: o.raw.clone(), message };
    let is_last = i + 1 == o.path.len();
    match &o.path[i] {
        PathSeg::Key(k) => {
            let toml::Value::Table(t) = cursor else {
                return Err(err(format!("`{}` is not a table", dotted(&o.path[..i]))));
            };
            if is_last {
                t.insert(k.clone(), o.value.clone());
                return Ok(());
            }
            if matches!(o.path[i + 1], PathSeg::Index(_)) && k == "need_types" && !t.contains_key(k) {
                // Indexing the built-in need types: materialise them so one field can change.
                let defaults = toml::Value::try_from(default_need_types()).expect("need types serialise");
                t.insert(k.clone(), defaults);
            }
            let next = t.entry(k.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
            set_path(next, i + 1, o)
        }
        PathSeg::Index(idx) => {
            let toml::Value::Array(a) = cursor else {
                return Err(err(format!("`{}` is not a list", dotted(&o.path[..i]))));
            };
            let len = a.len();
            let Some(item) = a.get_mut(*idx) else {
                return Err(err(format!("index {idx} is past the end of `{}` ({len} entries)", dotted(&o.path[..i]))));
            };
            if is_last {
                *item = o.value.clone();
                return Ok(());
            }
            set_path(item, i + 1, o)
        }
    }
}

#[cfg(test)]
mod tests;
