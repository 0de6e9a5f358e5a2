//! Fingerprints: identifiers of findings that survive edits elsewhere in the file.
//!
//! A fingerprint hashes the rule, the display path, the enclosing item (the nearest line at or
//! above the primary span that starts a `fn`, `impl`, `def`, `class`...) and the primary span's
//! text with whitespace collapsed. Line numbers are not part of it, so adding lines above a
//! finding keeps its fingerprint. When the same key occurs several times in a file, the second and
//! later ones also hash their occurrence index. The hash is FNV-1a 64, printed as 16 hex digits:
//! it is stable across platforms and releases, unlike `std`'s `DefaultHasher`.

use std::collections::HashMap;

use crate::diagnostic::Finding;
use crate::report::Sources;
use crate::source::SourceDb;

/// FNV-1a, 64 bits.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// Fingerprints of `findings` (in the same order), as 16 lowercase hex digits each.
pub fn fingerprints(db: &SourceDb, sources: &Sources, findings: &[Finding]) -> Vec<String> {
    let mut seen: HashMap<Vec<u8>, u32> = HashMap::new();
    findings
        .iter()
        .map(|f| {
            let file = f.primary.file as usize;
            let path = db.files.get(file).map_or("", |s| s.display.as_str());
            let text = sources.text(file);
            let start = sources.range(f.primary).start;
            let mut key = Vec::new();
            for part in [
                f.rule,
                path,
                enclosing_item(text, start),
                &normalize(sources.snippet(f.primary)),
            ] {
                key.extend_from_slice(part.as_bytes());
                key.push(0);
            }
            let n = seen.entry(key.clone()).or_insert(0);
            if *n > 0 {
                key.extend_from_slice(n.to_string().as_bytes());
            }
            *n += 1;
            format!("{:016x}", fnv1a64(&key))
        })
        .collect()
}

/// The trimmed text of the nearest line at or above `offset` that starts an item, or `""`.
pub fn enclosing_item(text: &str, offset: usize) -> &str {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    text[..line_end]
        .lines()
        .rev()
        .map(str::trim)
        .find(|line| starts_item(line))
        .unwrap_or("")
}

/// Whether a trimmed line starts a Rust or Python item.
fn starts_item(line: &str) -> bool {
    let mut rest = line;
    if let Some(r) = rest.strip_prefix("pub") {
        if let Some(r) = r.strip_prefix('(') {
            rest = r.split_once(')').map_or("", |(_, r)| r).trim_start();
        } else if r.starts_with(' ') {
            rest = r.trim_start();
        }
    }
    loop {
        let before = rest;
        for q in ["async ", "unsafe ", "const ", "default ", "extern "] {
            if let Some(r) = rest.strip_prefix(q) {
                rest = r.trim_start();
            }
        }
        if rest.starts_with('"') {
            rest = rest[1..]
                .split_once('"')
                .map_or("", |(_, r)| r)
                .trim_start();
        }
        if rest == before {
            break;
        }
    }
    ["fn ", "impl ", "impl<", "trait ", "mod ", "def ", "class "]
        .iter()
        .any(|k| rest.starts_with(k))
}

/// Collapses every run of whitespace into one space and trims the ends.
pub fn normalize(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_reference_values() {
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn finds_the_enclosing_item() {
        let text =
            "use x;\nimpl Foo {\n    pub async fn get(&self) {\n        block_on(x);\n    }\n}\n";
        let at = text.find("block_on").unwrap();
        assert_eq!(enclosing_item(text, at), "pub async fn get(&self) {");
        assert_eq!(enclosing_item(text, 0), "");
        let py = "class A:\n    async def f(self):\n        time.sleep(1)\n";
        assert_eq!(
            enclosing_item(py, py.find("time").unwrap()),
            "async def f(self):"
        );
        assert!(starts_item("pub(crate) unsafe extern \"C\" fn f()"));
        assert!(!starts_item("fnord();"));
    }

    #[test]
    fn normalizes_whitespace() {
        assert_eq!(normalize("  a(\n   b,\tc )  "), "a( b, c )");
    }
}
