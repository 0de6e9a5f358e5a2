//! Links to rule documentation and to looplint itself, emitted only where they resolve.
//!
//! A rule's doc link comes from the configuration's `rule-docs-url` (a URL template with `{rule}`
//! or `{code}`), else from the build: `LOOPLINT_RULE_DOCS_URL` set when looplint was compiled,
//! else `rules/<id>.md` in the repository that `Cargo.toml` names. With none of them, no link is
//! emitted: SARIF carries the whole doc in `help`, and the editor shows it on hover.

use crate::rules::Rule;

/// Where links point, resolved once per run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Links {
    /// URL template of a rule's doc (`{rule}` is the id, `{code}` the code).
    rule_docs: Option<String>,
}

/// The rule-doc template the build names, if any.
fn built_in_template() -> Option<String> {
    if let Some(url) = option_env!("LOOPLINT_RULE_DOCS_URL").filter(|u| !u.is_empty()) {
        return Some(url.to_string());
    }
    let repo = env!("CARGO_PKG_REPOSITORY");
    (!repo.is_empty())
        .then(|| format!("{}/blob/main/rules/{{rule}}.md", repo.trim_end_matches('/')))
}

impl Links {
    /// Links from the configured `rule-docs-url`, else the build's.
    pub fn new(configured: Option<&str>) -> Self {
        Links {
            rule_docs: configured.map(str::to_string).or_else(built_in_template),
        }
    }

    /// The link to `rule`'s documentation, if looplint knows where it is published.
    pub fn rule_doc(&self, rule: &Rule) -> Option<String> {
        let template = self.rule_docs.as_deref()?;
        Some(
            template
                .replace("{rule}", rule.id)
                .replace("{code}", rule.code),
        )
    }

    /// The link to `rule_id`'s documentation (see [`Links::rule_doc`]).
    pub fn rule_doc_by_id(&self, rule_id: &str) -> Option<String> {
        self.rule_doc(crate::rules::find(rule_id)?)
    }
}

/// Where to read about looplint: the repository or home page that `Cargo.toml` names, if any.
pub fn information_uri() -> Option<&'static str> {
    [env!("CARGO_PKG_REPOSITORY"), env!("CARGO_PKG_HOMEPAGE")]
        .into_iter()
        .find(|u| !u.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        let rule = crate::rules::find("nested-block-on").unwrap();
        let links = Links::new(Some("https://example.org/r/{code}/{rule}"));
        assert_eq!(
            links.rule_doc(rule).as_deref(),
            Some("https://example.org/r/LL002/nested-block-on")
        );
        let none = Links { rule_docs: None };
        assert_eq!(none.rule_doc(rule), None);
    }
}
