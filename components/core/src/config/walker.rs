//! A JSON walker that keeps the path it took, so every configuration error names its field.

use super::ConfigError;
use crate::model::Event;
use serde_json::{Map, Value};

/// A JSON walker that remembers where it is, so errors name the field. The path is a chain of
/// borrowed steps, spelled out only when an error needs it: walking a 1,000-service file builds
/// no strings, which matters because every component instance parses the config.
pub(super) struct Field<'p, 'a> {
    file: &'static str,
    parent: Option<&'p Field<'p, 'a>>,
    step: PathStep<'p>,
    value: Option<&'a Value>,
}

#[derive(Clone, Copy)]
enum PathStep<'p> {
    Root,
    Key(&'p str),
    Index(usize),
}

impl<'p, 'a> Field<'p, 'a> {
    pub(super) fn root(file: &'static str, value: &'a Value) -> Self {
        Field {
            file,
            parent: None,
            step: PathStep::Root,
            value: Some(value),
        }
    }

    /// `services[2].notifications.channels`.
    pub(super) fn path(&self) -> String {
        let mut steps = Vec::new();
        let mut at = Some(self);
        while let Some(f) = at {
            steps.push(f.step);
            at = f.parent;
        }
        let mut path = String::new();
        for step in steps.into_iter().rev() {
            match step {
                PathStep::Root => {}
                PathStep::Key(k) if path.is_empty() => path.push_str(k),
                PathStep::Key(k) => {
                    path.push('.');
                    path.push_str(k);
                }
                PathStep::Index(i) => path.push_str(&format!("[{i}]")),
            }
        }
        if path.is_empty() {
            path.push_str("(top level)");
        }
        path
    }

    pub(super) fn error(&self, problem: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file,
            path: self.path(),
            problem: problem.into(),
        }
    }

    pub(super) fn key<'c>(&'c self, key: &'c str) -> Field<'c, 'a> {
        Field {
            file: self.file,
            parent: Some(self),
            step: PathStep::Key(key),
            value: self.value.and_then(|v| v.get(key)),
        }
    }

    pub(super) fn present(&self) -> bool {
        !matches!(self.value, None | Some(Value::Null))
    }

    pub(super) fn object(&self) -> Result<&'a Map<String, Value>, ConfigError> {
        match self.value {
            Some(Value::Object(m)) => Ok(m),
            None | Some(Value::Null) => Err(self.error("is required")),
            _ => Err(self.error("must be an object")),
        }
    }

    pub(super) fn array<'c>(&'c self) -> Result<Vec<Field<'c, 'a>>, ConfigError> {
        match self.value {
            Some(Value::Array(items)) => Ok(items
                .iter()
                .enumerate()
                .map(|(i, v)| Field {
                    file: self.file,
                    parent: Some(self),
                    step: PathStep::Index(i),
                    value: Some(v),
                })
                .collect()),
            None | Some(Value::Null) => Err(self.error("is required")),
            _ => Err(self.error("must be an array")),
        }
    }

    pub(super) fn string(&self) -> Result<&'a str, ConfigError> {
        match self.value {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
            Some(Value::String(_)) => Err(self.error("must not be empty")),
            None | Some(Value::Null) => Err(self.error("is required")),
            _ => Err(self.error("must be a string")),
        }
    }

    pub(super) fn string_or(&self, default: &'a str) -> Result<&'a str, ConfigError> {
        if self.present() {
            self.string()
        } else {
            Ok(default)
        }
    }

    pub(super) fn bool_or(&self, default: bool) -> Result<bool, ConfigError> {
        match self.value {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            _ => Err(self.error("must be true or false")),
        }
    }

    /// A whole number from 1 to [`MAX_NUMBER`](super::MAX_NUMBER).
    pub(super) fn positive_or(&self, default: u64) -> Result<u64, ConfigError> {
        self.number_or(default, 1, "must be a positive integer")
    }

    /// A whole number from 0 to [`MAX_NUMBER`](super::MAX_NUMBER).
    pub(super) fn non_negative_or(&self, default: u64) -> Result<u64, ConfigError> {
        self.number_or(default, 0, "must be a non-negative integer")
    }

    fn number_or(&self, default: u64, least: u64, wrong: &str) -> Result<u64, ConfigError> {
        match self.value {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(v) if v > super::MAX_NUMBER => Err(self.error(format!(
                    "must be at most {} (ten years in seconds)",
                    super::MAX_NUMBER
                ))),
                Some(v) if v >= least => Ok(v),
                _ => Err(self.error(wrong)),
            },
            _ => Err(self.error(wrong)),
        }
    }

    pub(super) fn events(&self) -> Result<Option<Vec<Event>>, ConfigError> {
        if !self.present() {
            return Ok(None);
        }
        self.array()?
            .iter()
            .map(|f| {
                let s = f.string()?;
                Event::parse(s).ok_or_else(|| {
                    f.error(format!(
                        "unknown event \"{s}\" (expected down, up or degraded)"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

pub(super) fn parse_json(file: &'static str, text: &str) -> Result<Value, ConfigError> {
    serde_json::from_str(text).map_err(|e| ConfigError {
        file,
        path: "(top level)".into(),
        problem: format!("is not valid JSON ({e})"),
    })
}
