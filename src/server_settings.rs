//! Settings of `looplint server`, from `initializationOptions` and
//! `workspace/didChangeConfiguration`: `select`, `extendSelect`, `ignore` (lists of rule ids,
//! codes or prefixes, or one comma-separated string) and `allTargets`. They apply on top of the
//! project's configuration file, as the command-line options of the same names do. Keys may be
//! camelCase or kebab-case, at the top level or under a `looplint` object.

use serde_json::Value;

use crate::project::RuleArgs;

/// The editor's settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// `select`, `extendSelect`, `ignore`.
    pub rules: Rules,
    /// `allTargets`: warnings in test, example and bench code too (`None`: the configuration's).
    pub all_targets: Option<bool>,
}

/// The rule options of [`Settings`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    /// `select`.
    pub select: Vec<String>,
    /// `extendSelect`.
    pub extend_select: Vec<String>,
    /// `ignore`.
    pub ignore: Vec<String>,
}

impl Rules {
    /// As the command line's rule options.
    pub fn args(&self) -> RuleArgs {
        RuleArgs {
            select: self.select.clone(),
            extend_select: self.extend_select.clone(),
            ignore: self.ignore.clone(),
        }
    }
}

fn list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        _ => Vec::new(),
    }
}

impl Settings {
    /// Reads settings from a JSON value; unknown keys and wrong types are ignored.
    pub fn from_json(v: &Value) -> Settings {
        let v = v.get("looplint").unwrap_or(v);
        let get = |camel: &str, kebab: &str| v.get(camel).or_else(|| v.get(kebab));
        Settings {
            rules: Rules {
                select: list(get("select", "select")),
                extend_select: list(get("extendSelect", "extend-select")),
                ignore: list(get("ignore", "ignore")),
            },
            all_targets: get("allTargets", "all-targets").and_then(Value::as_bool),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_both_spellings_and_shapes() {
        let s = Settings::from_json(&json!({"looplint": {
            "select": ["LL0"], "extend-select": "LL101, LL102", "allTargets": true
        }}));
        assert_eq!(s.rules.select, vec!["LL0"]);
        assert_eq!(s.rules.extend_select, vec!["LL101", "LL102"]);
        assert_eq!(s.all_targets, Some(true));
        assert_eq!(Settings::from_json(&Value::Null), Settings::default());
        let s = Settings::from_json(&json!({"ignore": "LL106", "allTargets": "yes"}));
        assert_eq!(s.rules.ignore, vec!["LL106"]);
        assert_eq!(s.all_targets, None);
    }
}
