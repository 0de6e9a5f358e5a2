//! Keeps README's rule table in sync with the rule registry.
//!
//! The table sits between `<!-- rules:start -->` and `<!-- rules:end -->`. Run
//! `LOOPLINT_UPDATE_README=1 cargo test --test readme` to regenerate it.

use std::path::Path;

use looplint::model::Language;
use looplint::rules::RULES;

const START: &str = "<!-- rules:start -->\n";
const END: &str = "<!-- rules:end -->";

/// The table README should contain, generated from the registry.
fn expected_table() -> String {
    let mut out = String::from(
        "| Code | Rule | Severity | Languages | Summary |\n| --- | --- | --- | --- | --- |\n",
    );
    for rule in RULES {
        let languages: Vec<&str> = rule
            .languages
            .iter()
            .map(|l| match l {
                Language::Rust => "Rust",
                Language::Python => "Python",
            })
            .collect();
        out.push_str(&format!(
            "| {} | [`{}`](rules/{}.md) | {} | {} | {} |\n",
            rule.code,
            rule.id,
            rule.id,
            rule.severity.name(),
            languages.join(", "),
            rule.summary.replace('|', "\\|"),
        ));
    }
    out
}

#[test]
fn readme_rule_table_matches_the_registry() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md is readable");
    let start = readme
        .find(START)
        .expect("README has the rules:start marker")
        + START.len();
    let end = start
        + readme[start..]
            .find(END)
            .expect("README has the rules:end marker after rules:start");
    let table = &readme[start..end];
    let expected = expected_table();
    if table == expected {
        return;
    }
    if std::env::var_os("LOOPLINT_UPDATE_README").is_some() {
        let updated = format!("{}{}{}", &readme[..start], expected, &readme[end..]);
        std::fs::write(&path, updated).expect("README.md is writable");
        return;
    }
    panic!(
        "README's rule table is out of date; regenerate it with \
         `LOOPLINT_UPDATE_README=1 cargo test --test readme`, or paste:\n\n{expected}"
    );
}

#[test]
fn every_rule_doc_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for rule in RULES {
        assert!(
            root.join("rules").join(format!("{}.md", rule.id)).is_file(),
            "rules/{}.md is missing (the README table links to it)",
            rule.id
        );
    }
}
