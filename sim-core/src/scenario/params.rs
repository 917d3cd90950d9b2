//! The parameter sections of a scenario: one declaration per parameter gives its type, default,
//! unit, valid range, source and doc. From it come the resolved struct, the raw serde struct that
//! rejects unknown fields, range validation and the table `sim describe` prints (one source of truth).

use serde::{Deserialize, Serialize};

/// What the code knows about one parameter.
#[derive(Debug, Clone, Serialize)]
pub struct ParamSpec {
    /// Section in the scenario file (`governance`, `need_types`, ...).
    pub section: &'static str,
    pub name: &'static str,
    pub unit: &'static str,
    /// Inclusive bounds for numbers; NaN for non-numeric parameters.
    pub min: f64,
    pub max: f64,
    /// The default rendered as TOML.
    pub default: String,
    /// Allowed values for text choices, empty for numbers.
    pub allowed: &'static str,
    pub source: &'static str,
    pub doc: &'static str,
}

/// A parameter value: numbers are range-checked, choices list what they allow.
pub trait ParamValue {
    fn as_number(&self) -> Option<f64> {
        None
    }
    fn allowed() -> &'static str {
        ""
    }
    fn render(&self) -> String;
}

impl ParamValue for f64 {
    fn as_number(&self) -> Option<f64> {
        Some(*self)
    }
    fn render(&self) -> String {
        format!("{self:?}")
    }
}
macro_rules! int_param {
    ($($t:ty),*) => {$(
        impl ParamValue for $t {
            fn as_number(&self) -> Option<f64> { Some(*self as f64) }
            fn render(&self) -> String { self.to_string() }
        }
    )*};
}
int_param!(u32, usize);
impl ParamValue for u64 {
    fn as_number(&self) -> Option<f64> {
        Some(*self as f64)
    }
    /// Above TOML's integer range (2^63 - 1) as a string, which the scenario reads back.
    fn render(&self) -> String {
        if *self > i64::MAX as u64 { format!("\"{self}\"") } else { self.to_string() }
    }
}
impl ParamValue for bool {
    fn allowed() -> &'static str {
        "true, false"
    }
    fn render(&self) -> String {
        self.to_string()
    }
}
impl ParamValue for String {
    fn allowed() -> &'static str {
        "any text"
    }
    fn render(&self) -> String {
        format!("{self:?}")
    }
}

/// A range violation found by `validate`: (field name, value, spec).
pub type RangeViolation = (&'static str, f64, ParamSpec);

/// Declares a parameter section. Each entry:
/// `/// doc` `name: Type = default, "unit", [min, max], "source";`
macro_rules! section {
    (
        $(#[$meta:meta])*
        pub struct $name:ident / $raw:ident in $key:literal {
            $(
                $(#[doc = $doc:literal])+
                $field:ident : $ty:ty = $default:expr, $unit:literal, [$min:expr, $max:expr], $source:literal;
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        pub struct $name {
            $( $(#[doc = $doc])+ pub $field: $ty, )*
        }

        /// As written in the file: every field optional, unknown fields rejected.
        #[derive(Debug, Default, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $raw {
            $( #[serde(default)] pub $field: Option<$ty>, )*
        }

        impl Default for $name {
            fn default() -> Self {
                Self { $( $field: $default, )* }
            }
        }

        impl $name {
            /// The section's key in the scenario file.
            pub const KEY: &'static str = $key;

            /// Specification of every parameter in this section, defaults taken from `base`.
            pub fn specs_with(base: &Self) -> Vec<$crate::scenario::params::ParamSpec> {
                use $crate::scenario::params::ParamValue;
                vec![$(
                    $crate::scenario::params::ParamSpec {
                        section: $key,
                        name: stringify!($field),
                        unit: $unit,
                        min: $min as f64,
                        max: $max as f64,
                        default: base.$field.render(),
                        allowed: <$ty as ParamValue>::allowed(),
                        source: $source,
                        doc: concat!($($doc),+).trim_ascii(),
                    },
                )*]
            }

            /// Specification with the built-in defaults.
            pub fn specs() -> Vec<$crate::scenario::params::ParamSpec> {
                Self::specs_with(&Self::default())
            }

            /// Fills missing fields from `base`.
            pub fn resolve(raw: $raw, base: &Self) -> Self {
                Self { $( $field: raw.$field.unwrap_or_else(|| base.$field.clone()), )* }
            }

            /// Every numeric field outside its range.
            pub fn validate(&self) -> Vec<$crate::scenario::params::RangeViolation> {
                use $crate::scenario::params::ParamValue;
                let specs = Self::specs_with(self);
                let mut bad = Vec::new();
                let mut i = 0usize;
                $(
                    if let Some(v) = self.$field.as_number() {
                        let (lo, hi) = ($min as f64, $max as f64);
                        if !v.is_finite() || v < lo || v > hi {
                            bad.push((stringify!($field), v, specs[i].clone()));
                        }
                    }
                    i += 1;
                )*
                let _ = i;
                bad
            }
        }
    };
}
pub(crate) use section;

/// How the time given to a case is set (MODEL.md §3 `time_standard`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeStandard {
    /// A fixed time per case set by procedure, the same whatever the need.
    Imposed,
    /// The worker gives the time the need requires, as they judge it.
    NeedLed,
}

/// `ParamValue` for an enum chosen by name in the scenario file: each variant and its name (as
/// serde spells it) written once, for both the allowed list and the rendering.
macro_rules! named_choices {
    ($ty:ty { $first:path => $first_name:literal $(, $variant:path => $name:literal)* $(,)? }) => {
        impl $crate::scenario::params::ParamValue for $ty {
            fn allowed() -> &'static str {
                concat!("\"", $first_name, "\"" $(, ", \"", $name, "\"")*)
            }
            fn render(&self) -> String {
                match self {
                    $first => concat!("\"", $first_name, "\"").into(),
                    $($variant => concat!("\"", $name, "\"").into(),)*
                }
            }
        }
    };
}
pub(crate) use named_choices;

named_choices!(TimeStandard { TimeStandard::Imposed => "imposed", TimeStandard::NeedLed => "need-led" });
named_choices!(crate::sd::Integrator { crate::sd::Integrator::Euler => "euler", crate::sd::Integrator::Rk4 => "rk4" });

/// A section that must be a TOML table. serde's derived structs also accept a sequence and fill
/// the fields in declaration order (`governance = [1, 2]` would set discretion and
/// approval_layers); this wrapper accepts only a table (issue 17).
#[derive(Debug, Default)]
pub struct Table<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Table<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for V<T> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a table (`[section]` with `key = value` lines, or `{ key = value }`)")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData)).map(Table)
    }
}

/// "did you mean `x`?" for a name not among `known`, when one is close enough.
pub fn did_you_mean<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .map(|k| (strsim::jaro_winkler(name, k), k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}
