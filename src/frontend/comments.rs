//! Comments and string literals of a source file, from the tokens of each language's own
//! lexer: rustc's (`rustc_lexer`) for Rust, ruff's for Python. Suppression comments are read
//! from them, so a `//` in a raw string, a `#` in an f-string or a `/* /* */ */` nested comment
//! is what the compiler or the interpreter takes it for.

use ruff_text_size::Ranged;

use crate::model::Language;

/// What a range of a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A comment (`//`, `/* */`, `#`); `doc` for Rust's doc comments (`///`, `//!`, `/** */`).
    Comment {
        /// Whether it is a doc comment.
        doc: bool,
    },
    /// A string, byte string or character literal, or the literal parts of an f-string.
    Str,
}

/// The comments and string literals of `text`, in order, as byte ranges. A Python file too
/// deep to parse (see [`super::nesting`]) gives none.
pub fn scan(text: &str, language: Language) -> Vec<(usize, usize, Kind)> {
    match language {
        Language::Rust => rust(text),
        Language::Python => python(text),
    }
}

fn rust(text: &str) -> Vec<(usize, usize, Kind)> {
    use rustc_lexer::{LiteralKind, TokenKind};
    let mut out = Vec::new();
    let mut at = rustc_lexer::strip_shebang(text).unwrap_or(0);
    let frontmatter = if at == 0 {
        rustc_lexer::FrontmatterAllowed::Yes
    } else {
        rustc_lexer::FrontmatterAllowed::No
    };
    for tok in rustc_lexer::tokenize(&text[at..], frontmatter) {
        let end = at + tok.len as usize;
        match tok.kind {
            TokenKind::LineComment { doc_style } | TokenKind::BlockComment { doc_style, .. } => {
                out.push((
                    at,
                    end,
                    Kind::Comment {
                        doc: doc_style.is_some(),
                    },
                ));
            }
            TokenKind::Literal { kind, .. }
                if !matches!(kind, LiteralKind::Int { .. } | LiteralKind::Float { .. }) =>
            {
                out.push((at, end, Kind::Str));
            }
            _ => {}
        }
        at = end;
    }
    out
}

/// Python's tokens, which ruff's parser hands out with their ranges (its lexer alone does
/// not): the file is parsed, on a stack sized for its depth.
fn python(text: &str) -> Vec<(usize, usize, Kind)> {
    let depth = super::nesting::estimate(text, Language::Python);
    if depth > super::nesting::LIMIT {
        return Vec::new();
    }
    super::stack::with_stack_for(depth, || {
        let parsed = ruff_python_parser::parse_unchecked(
            text,
            ruff_python_parser::ParseOptions::from(ruff_python_parser::Mode::Module),
        );
        python_tokens(parsed.tokens())
    })
}

/// The comments and string literals among the tokens of a parsed Python file.
pub fn python_tokens(tokens: &ruff_python_ast::token::Tokens) -> Vec<(usize, usize, Kind)> {
    use ruff_python_ast::token::TokenKind;
    tokens
        .iter()
        .filter_map(|t| {
            let kind = match t.kind() {
                TokenKind::Comment => Kind::Comment { doc: false },
                TokenKind::String
                | TokenKind::FStringStart
                | TokenKind::FStringMiddle
                | TokenKind::FStringEnd
                | TokenKind::TStringStart
                | TokenKind::TStringMiddle
                | TokenKind::TStringEnd => Kind::Str,
                _ => return None,
            };
            Some((t.start().to_usize(), t.end().to_usize(), kind))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comments(text: &str, language: Language) -> Vec<&str> {
        scan(text, language)
            .into_iter()
            .filter(|r| matches!(r.2, Kind::Comment { .. }))
            .map(|(a, b, _)| &text[a..b])
            .collect()
    }

    #[test]
    fn rust_comments_are_rustc_s() {
        let text = "let a = r#\"// no\"#; let c = '\"'; fn f<'a>(x: &'a str) {} /* a /* b */ c */ // yes\n/// doc\n";
        assert_eq!(
            comments(text, Language::Rust),
            vec!["/* a /* b */ c */", "// yes", "/// doc"]
        );
        let docs: Vec<bool> = scan(text, Language::Rust)
            .iter()
            .filter_map(|r| match r.2 {
                Kind::Comment { doc } => Some(doc),
                Kind::Str => None,
            })
            .collect();
        assert_eq!(docs, vec![false, false, true]);
        assert_eq!(
            comments("//// not doc\n", Language::Rust),
            vec!["//// not doc"]
        );
    }

    #[test]
    fn python_comments_are_the_tokenizer_s() {
        let text = "x = f\"{a['#']}\" # one\ny = '''\n# no\n''' # two\n";
        assert_eq!(comments(text, Language::Python), vec!["# one", "# two"]);
        // Text that does not parse still has its comments.
        assert_eq!(
            comments("def (:\n  # three\n", Language::Python),
            vec!["# three"]
        );
    }
}
