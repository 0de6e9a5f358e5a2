//! What `looplint server` offers on a diagnostic besides publishing it: a hover with the rule's
//! summary and the fix, and code actions as `ruff server` offers them: suppress the finding on its
//! line or in the whole function (with looplint's comment, or `# noqa: LLxxx` in Python), and
//! open the rule's documentation.
//!
//! Edits follow the suppression grammar of [`crate::suppress`]: a trailing
//! `looplint: ignore[rule]` covers its line; the same comment on a line of its own covers the
//! next statement, and directly above a `fn`/`def` header the whole function.

use std::collections::HashMap;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, Command, Diagnostic, Hover, HoverContents,
    MarkupContent, MarkupKind, NumberOrString, Position, Range, TextEdit, Uri, WorkspaceEdit,
};

use crate::model::Language;
use crate::report::links::Links;
use crate::rules::{self, Rule};
use crate::server::Encoding;

/// The command that opens a rule's documentation (argument: the rule id).
pub const OPEN_RULE_DOC: &str = "looplint.openRuleDoc";

/// The rule a diagnostic reports, if it is one of looplint's.
pub fn rule_of(d: &Diagnostic) -> Option<&'static Rule> {
    match &d.code {
        Some(NumberOrString::String(id)) if d.source.as_deref() == Some("looplint") => {
            rules::find(id)
        }
        _ => None,
    }
}

fn contains(range: &Range, p: Position) -> bool {
    let key = |p: Position| (p.line, p.character);
    key(range.start) <= key(p) && key(p) <= key(range.end)
}

fn overlaps(a: &Range, b: &Range) -> bool {
    a.start.line <= b.end.line && b.start.line <= a.end.line
}

/// The `help:` lines of a published diagnostic's message.
fn help_of(d: &Diagnostic) -> Vec<&str> {
    d.message
        .lines()
        .filter_map(|l| l.strip_prefix("help: "))
        .collect()
}

/// The hover at `at`: for each of looplint's diagnostics there, the rule's summary, what it does
/// and the fix.
pub fn hover(diagnostics: &[Diagnostic], at: Position, links: &Links) -> Option<Hover> {
    let mut parts = Vec::new();
    let mut range = None;
    for d in diagnostics.iter().filter(|d| contains(&d.range, at)) {
        let Some(rule) = rule_of(d) else { continue };
        range.get_or_insert(d.range);
        let mut text = format!(
            "**{}** `{}` ({}): {}\n\n{}",
            rule.severity.name(),
            rule.id,
            rule.code,
            rule.summary,
            crate::report::sarif::what_it_does(rule)
        );
        for help in help_of(d) {
            text.push_str(&format!("\n\n**Fix:** {help}"));
        }
        match links.rule_doc(rule) {
            Some(url) => text.push_str(&format!("\n\n[Documentation]({url})")),
            None => text.push_str(&format!(
                "\n\nThe whole documentation: `looplint rule {}`.",
                rule.id
            )),
        }
        parts.push(text);
    }
    if parts.is_empty() {
        return None;
    }
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: parts.join("\n\n---\n\n"),
        }),
        range,
    })
}

/// The comment marker of a language.
fn comment(language: Language) -> &'static str {
    match language {
        Language::Rust => "//",
        Language::Python => "#",
    }
}

/// Whether a trimmed line starts a function (`fn`, `def`, with their qualifiers).
pub fn is_function_header(line: &str, language: Language) -> bool {
    let rest = crate::suppress::after_qualifiers(line, language);
    match language {
        Language::Rust => rest.starts_with("fn "),
        Language::Python => rest.starts_with("def "),
    }
}

fn indent(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

/// The 0-based line of the header of the function around `line`: the nearest function header at
/// or above it that is indented less than it (or is that line).
pub fn function_header(lines: &[&str], line: usize, language: Language) -> Option<usize> {
    let here = indent(lines.get(line)?).len();
    (0..=line).rev().find(|&l| {
        let text = lines[l];
        is_function_header(text.trim(), language) && (l == line || indent(text).len() < here)
    })
}

/// The name of the function whose header is `line`.
fn function_name(header: &str) -> &str {
    let after = header
        .split_once("fn ")
        .or_else(|| header.split_once("def "))
        .map_or("", |(_, r)| r);
    let end = after
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(after.len());
    &after[..end]
}

fn width(text: &str, encoding: Encoding) -> u32 {
    match encoding {
        Encoding::Utf8 => text.len() as u32,
        Encoding::Utf16 => text.chars().map(char::len_utf16).sum::<usize>() as u32,
    }
}

fn quick_fix(title: String, uri: &Uri, edit: TextEdit, d: &Diagnostic) -> CodeActionOrCommand {
    CodeActionOrCommand::CodeAction(CodeAction {
        title,
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![d.clone()]),
        edit: Some(WorkspaceEdit {
            changes: Some(HashMap::from([(uri.clone(), vec![edit])])),
            ..WorkspaceEdit::default()
        }),
        ..CodeAction::default()
    })
}

/// A line of its own holding `directive`, inserted above line `at` with that line's indentation.
fn line_above(lines: &[&str], at: usize, language: Language, directive: &str) -> TextEdit {
    TextEdit {
        range: Range::new(Position::new(at as u32, 0), Position::new(at as u32, 0)),
        new_text: format!("{}{} {directive}\n", indent(lines[at]), comment(language)),
    }
}

/// The code actions for looplint's diagnostics on the lines of `range` in a document.
pub fn code_actions(
    uri: &Uri,
    text: &str,
    language: Language,
    diagnostics: &[Diagnostic],
    range: &Range,
    encoding: Encoding,
) -> Vec<CodeActionOrCommand> {
    let lines = crate::source::split_lines(text);
    let mut out = Vec::new();
    for d in diagnostics.iter().filter(|d| overlaps(&d.range, range)) {
        let Some(rule) = rule_of(d) else { continue };
        let line = d.range.start.line as usize;
        let Some(&text_line) = lines.get(line) else {
            continue;
        };
        let directive = format!("looplint: ignore[{}]", rule.id);
        // A trailing comment when the line has none yet; else a comment line above it.
        let trailing = !text_line.contains(comment(language));
        let edit = if trailing {
            let end = Position::new(line as u32, width(text_line, encoding));
            TextEdit {
                range: Range::new(end, end),
                new_text: format!(
                    "{}{} {directive}",
                    if language == Language::Python {
                        "  "
                    } else {
                        " "
                    },
                    comment(language)
                ),
            }
        } else {
            line_above(&lines, line, language, &directive)
        };
        out.push(quick_fix(
            format!("Suppress `{}` on this line", rule.id),
            uri,
            edit,
            d,
        ));
        if language == Language::Python && trailing {
            let end = Position::new(line as u32, width(text_line, encoding));
            out.push(quick_fix(
                format!("Suppress `{}` with `# noqa: {}`", rule.id, rule.code),
                uri,
                TextEdit {
                    range: Range::new(end, end),
                    new_text: format!("  # noqa: {}", rule.code),
                },
                d,
            ));
        }
        if let Some(header) = function_header(&lines, line, language) {
            out.push(quick_fix(
                format!(
                    "Suppress `{}` in function `{}`",
                    rule.id,
                    function_name(lines[header])
                ),
                uri,
                line_above(&lines, header, language, &directive),
                d,
            ));
        }
        out.push(CodeActionOrCommand::CodeAction(CodeAction {
            title: format!("Open the documentation of `{}`", rule.id),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![d.clone()]),
            command: Some(Command {
                title: format!("Open the documentation of `{}`", rule.id),
                command: OPEN_RULE_DOC.to_string(),
                arguments: Some(vec![serde_json::Value::from(rule.id)]),
            }),
            ..CodeAction::default()
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_function_around_a_line() {
        let rust = [
            "impl A {",
            "    #[tokio::main]",
            "    pub(crate) async fn run(&self) {",
            "        let x = 1;",
            "        block_on(x);",
            "    }",
            "}",
        ];
        assert_eq!(function_header(&rust, 4, Language::Rust), Some(2));
        assert_eq!(function_header(&rust, 2, Language::Rust), Some(2));
        assert_eq!(function_header(&rust, 0, Language::Rust), None);
        assert_eq!(function_name(rust[2]), "run");
        let py = [
            "async def main():",
            "    def inner():",
            "        pass",
            "    x = 1",
        ];
        assert_eq!(function_header(&py, 3, Language::Python), Some(0));
        assert_eq!(function_header(&py, 2, Language::Python), Some(1));
        assert!(!is_function_header("fnord();", Language::Rust));
    }
}
