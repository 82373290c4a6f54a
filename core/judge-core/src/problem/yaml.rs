//! Reading the YAML files of Kattis packages (`problem.yaml`,
//! `testdata.yaml`): one document, a mapping whose keys are checked against
//! the ones a format knows, and typed values with errors naming the file and
//! the key.

use yaml_rust2::{Yaml, YamlLoader};

use super::model::ProblemError;

/// A YAML mapping of a file, at a dotted path (`limits.`).
#[derive(Debug, Clone)]
pub(crate) struct Mapping<'a> {
    file: &'a str,
    at: String,
    entries: Vec<(&'a str, &'a Yaml)>,
}

/// Parses `text`, the contents of `file`: one document (none is an empty
/// mapping).
pub(crate) fn parse(file: &str, text: &str) -> Result<Yaml, ProblemError> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| {
        ProblemError::new(file, format!("line {}: {}", e.marker().line(), e.info()))
    })?;
    match docs.len() {
        0 => Ok(Yaml::Null),
        1 => Ok(docs.into_iter().next().unwrap_or(Yaml::Null)),
        n => Err(ProblemError::new(file, format!("{n} YAML documents where one is expected"))),
    }
}

impl<'a> Mapping<'a> {
    /// `yaml` as a mapping with string keys (`null` is an empty one).
    pub(crate) fn new(file: &'a str, at: &str, yaml: &'a Yaml) -> Result<Self, ProblemError> {
        let what = if at.is_empty() {
            "the file".to_string()
        } else {
            at.trim_end_matches('.').to_string()
        };
        let entries = match yaml {
            Yaml::Null => Vec::new(),
            Yaml::Hash(hash) => hash
                .iter()
                .map(|(k, v)| match k {
                    Yaml::String(key) => Ok((key.as_str(), v)),
                    other => {
                        Err(ProblemError::new(file, format!("{at}{other:?}: keys must be strings")))
                    }
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(ProblemError::new(file, format!("{what}: must be a mapping"))),
        };
        Ok(Mapping { file, at: at.to_string(), entries })
    }

    fn error(&self, key: &str, message: impl std::fmt::Display) -> ProblemError {
        ProblemError::new(self.file, format!("{}{key}: {message}", self.at))
    }

    /// Refuses keys not among `known` (typos, and what Gavel cannot honour).
    pub(crate) fn only(&self, known: &[&str]) -> Result<(), ProblemError> {
        match self.entries.iter().find(|(k, _)| !known.contains(k)) {
            Some((key, _)) => Err(self.error(key, "unknown or unsupported key")),
            None => Ok(()),
        }
    }

    /// The value of `key`; `null` counts as absent.
    pub(crate) fn get(&self, key: &str) -> Option<&'a Yaml> {
        self.entries.iter().find(|(k, _)| *k == key).map(|(_, v)| *v).filter(|v| !v.is_null())
    }

    /// A scalar value as text (numbers and booleans as written).
    pub(crate) fn text(&self, key: &str) -> Result<Option<String>, ProblemError> {
        self.get(key)
            .map(|value| scalar(value).ok_or_else(|| self.error(key, "must be a string")))
            .transpose()
    }

    /// A number ≥ 0 (an integer, a float, or a string holding one).
    pub(crate) fn number(&self, key: &str) -> Result<Option<f64>, ProblemError> {
        self.get(key)
            .map(|value| {
                scalar(value)
                    .and_then(|text| text.trim().parse::<f64>().ok())
                    .filter(|n| n.is_finite() && *n >= 0.0)
                    .ok_or_else(|| self.error(key, format!("{} is not a number ≥ 0", show(value))))
            })
            .transpose()
    }

    /// A nested mapping.
    pub(crate) fn mapping(&self, key: &str) -> Result<Option<Mapping<'a>>, ProblemError> {
        self.get(key)
            .map(|value| Mapping::new(self.file, &format!("{}{key}.", self.at), value))
            .transpose()
    }

    /// An error about `key` of this mapping.
    pub(crate) fn refuse(&self, key: &str, message: impl std::fmt::Display) -> ProblemError {
        self.error(key, message)
    }
}

/// A scalar as text.
pub(crate) fn scalar(value: &Yaml) -> Option<String> {
    match value {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A value for a message.
pub(crate) fn show(value: &Yaml) -> String {
    match scalar(value) {
        Some(text) => format!("{text:?}"),
        None => "a list or mapping".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_typed_and_errors_name_the_key() {
        let yaml = parse("p.yaml", "a: 1\nb: 2.5\nc: x y\nd:\n  e: -1\nf: [1]\n").unwrap();
        let m = Mapping::new("p.yaml", "", &yaml).unwrap();
        assert_eq!(m.number("a").unwrap(), Some(1.0));
        assert_eq!(m.number("b").unwrap(), Some(2.5));
        assert_eq!(m.text("c").unwrap().as_deref(), Some("x y"));
        assert_eq!(m.text("zz").unwrap(), None);
        let d = m.mapping("d").unwrap().unwrap();
        assert_eq!(
            d.number("e").unwrap_err().to_string(),
            "p.yaml: d.e: \"-1\" is not a number ≥ 0"
        );
        assert_eq!(m.text("f").unwrap_err().to_string(), "p.yaml: f: must be a string");
        assert_eq!(
            m.only(&["a", "b"]).unwrap_err().to_string(),
            "p.yaml: c: unknown or unsupported key"
        );
        assert_eq!(parse("p.yaml", "a: [1\n").unwrap_err().to_string().lines().count(), 1);
        assert!(parse("p.yaml", "a: [1\n").unwrap_err().to_string().starts_with("p.yaml: line "));
        assert!(
            Mapping::new("p.yaml", "", &parse("p.yaml", "").unwrap()).unwrap().get("a").is_none()
        );
        assert_eq!(
            Mapping::new("p.yaml", "", &parse("p.yaml", "- 1\n").unwrap()).unwrap_err().to_string(),
            "p.yaml: the file: must be a mapping"
        );
    }
}
