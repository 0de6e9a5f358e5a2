//! The source database: every file a run looks at, read lazily and re-readable for rendering.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};

use crate::model::Language;

/// One input file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path on disk.
    pub path: PathBuf,
    /// Path as shown to users: relative to the input it was found under, with `/` separators.
    pub display: String,
    /// Language, by extension.
    pub language: Language,
    /// In-memory contents that replace the file on disk (editors' unsaved buffers).
    pub overlay: Option<Arc<str>>,
}

/// Why a file could not be read as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// The OS refused (missing, permission denied, a directory...).
    Io(String),
    /// The file is not valid UTF-8 (byte offset of the first bad byte).
    NotUtf8(usize),
    /// The file looks binary (contains NUL bytes).
    Binary,
    /// The file is larger than `max-file-size`: skipped.
    TooLarge {
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// The file says it is generated (`@generated`, `Code generated ... DO NOT EDIT`): skipped
    /// unless generated files are asked for.
    Generated,
}

impl ReadError {
    /// Whether the file is skipped on purpose (a limit of the run), not broken.
    pub fn is_skip(&self) -> bool {
        matches!(self, ReadError::TooLarge { .. } | ReadError::Generated)
    }
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "cannot read file: {e}"),
            ReadError::NotUtf8(at) => {
                write!(f, "file is not valid UTF-8 (invalid byte at offset {at})")
            }
            ReadError::Binary => write!(f, "file looks binary (contains NUL bytes)"),
            ReadError::TooLarge { size, limit } if *limit >= HARD_LIMIT => write!(
                f,
                "file skipped: {} is above the largest file looplint reads ({})",
                crate::readfile::human_size(*size),
                crate::readfile::human_size(*limit)
            ),
            ReadError::TooLarge { size, limit } => write!(
                f,
                "file skipped: {} is above `max-file-size` ({})",
                crate::readfile::human_size(*size),
                crate::readfile::human_size(*limit)
            ),
            ReadError::Generated => write!(
                f,
                "generated file skipped (`--include-generated` checks it)"
            ),
        }
    }
}

/// The size no source file may reach: offsets are 32-bit.
const HARD_LIMIT: u64 = u32::MAX as u64 - 1;

/// Default of `max-file-size`: 1 MB, as semgrep's `--max-target-bytes`.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 1_000_000;

/// Which files a run reads: a size limit, and whether generated files are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Files above this many bytes are skipped (0: no limit).
    pub max_file_size: u64,
    /// Whether files marked generated are checked.
    pub include_generated: bool,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            include_generated: false,
        }
    }
}

impl ReadLimits {
    /// The cap in bytes (`u64::MAX` for no limit).
    /// Offsets are 32-bit (as the Python parser's): no file reaches 4 GiB, whatever
    /// `max-file-size` says.
    fn cap(&self) -> u64 {
        match self.max_file_size {
            0 => HARD_LIMIT,
            n => n.min(HARD_LIMIT),
        }
    }
}

/// All files of a run, indexed by position.
#[derive(Debug, Default, Clone)]
pub struct SourceDb {
    /// The files.
    pub files: Vec<SourceFile>,
    /// Which files are read.
    pub limits: ReadLimits,
    /// Per file, whether its text holds a suppression marker: 0 not read yet, 1 no, 2 yes.
    /// Filled as files are read, so suppressions need not read unmarked files again.
    markers: Arc<OnceLock<Vec<AtomicU8>>>,
    /// Per file, the suppression directives a frontend read while it had the file parsed, so
    /// that suppressions need not parse it again.
    directives: Arc<OnceLock<Vec<OnceLock<Vec<crate::suppress::Directive>>>>>,
}

impl SourceDb {
    /// Adds a file and returns its index.
    pub fn add(&mut self, file: SourceFile) -> usize {
        self.files.push(file);
        self.files.len() - 1
    }

    /// The file at `index`.
    pub fn file(&self, index: usize) -> &SourceFile {
        &self.files[index]
    }

    /// Reads the text of the file at `index` (the overlay if there is one).
    pub fn read(&self, index: usize) -> Result<Arc<str>, ReadError> {
        let file = &self.files[index];
        let text = match &file.overlay {
            Some(text) if text.len() as u64 > self.limits.cap() => {
                return Err(ReadError::TooLarge {
                    size: text.len() as u64,
                    limit: self.limits.cap(),
                });
            }
            Some(text) => text.clone(),
            None => read_text_within(&file.path, file.language, self.limits.cap())?,
        };
        let text = self.generated(text)?;
        self.mark(index, &text);
        Ok(text)
    }

    /// Runs `f` over the text of the file at `index` as [`Self::read`] gives it, without
    /// keeping it: a UTF-8 file is read into a buffer that the thread keeps from file to file,
    /// and its suppression marker is left for `read` to record (a scan of imports pays for
    /// neither).
    pub fn with_text<R>(&self, index: usize, f: impl FnOnce(&str) -> R) -> Result<R, ReadError> {
        self.lend(index, false, f)
    }

    /// Runs `f` over the text of the file at `index` exactly as [`Self::read`] gives it, and
    /// records its suppression marker as `read` does, without keeping the text (see
    /// [`Self::with_text`]).
    pub fn with_read<R>(&self, index: usize, f: impl FnOnce(&str) -> R) -> Result<R, ReadError> {
        self.lend(index, true, f)
    }

    fn lend<R>(&self, index: usize, mark: bool, f: impl FnOnce(&str) -> R) -> Result<R, ReadError> {
        let file = &self.files[index];
        if file.overlay.is_some() {
            return self.read(index).map(|text| f(&text));
        }
        with_buffer(|bytes| {
            read_bytes_within(&file.path, self.limits.cap(), bytes)?;
            let text = match std::str::from_utf8(bytes) {
                Ok(text) if memchr::memchr(0, bytes).is_none() => text,
                // Binary, or another encoding: as `read` decodes it.
                _ => {
                    let text = self.generated(decode(bytes.clone(), file.language)?)?;
                    if mark {
                        self.mark(index, &text);
                    }
                    return Ok(f(&text));
                }
            };
            if !self.limits.include_generated && is_generated(text) {
                return Err(ReadError::Generated);
            }
            if mark {
                self.mark(index, text);
            }
            Ok(f(text))
        })
    }

    /// Records whether the text of the file at `index` holds a suppression marker.
    fn mark(&self, index: usize, text: &str) {
        let marked = has_marker(text.as_bytes(), self.files[index].language);
        let markers = self
            .markers
            .get_or_init(|| (0..self.files.len()).map(|_| AtomicU8::new(0)).collect());
        if let Some(slot) = markers.get(index) {
            slot.store(if marked { 2 } else { 1 }, Ordering::Relaxed);
        }
    }

    /// `text`, unless it is generated and generated files are skipped.
    fn generated(&self, text: Arc<str>) -> Result<Arc<str>, ReadError> {
        if !self.limits.include_generated && is_generated(&text) {
            return Err(ReadError::Generated);
        }
        Ok(text)
    }

    /// Keeps the suppression directives of the file at `index`, read from the text a frontend
    /// parsed (the first ones kept stand).
    pub fn set_directives(&self, index: usize, directives: Vec<crate::suppress::Directive>) {
        let all = self
            .directives
            .get_or_init(|| (0..self.files.len()).map(|_| OnceLock::new()).collect());
        if let Some(slot) = all.get(index) {
            let _ = slot.set(directives);
        }
    }

    /// The suppression directives of the file at `index`, if a frontend kept them.
    pub fn directives(&self, index: usize) -> Option<&[crate::suppress::Directive]> {
        self.directives.get()?.get(index)?.get().map(Vec::as_slice)
    }

    /// Whether the file holds a suppression marker, if it has been read already.
    pub fn has_marker(&self, index: usize) -> Option<bool> {
        match self.markers.get()?.get(index)?.load(Ordering::Relaxed) {
            1 => Some(false),
            2 => Some(true),
            _ => None,
        }
    }
}

/// Whether raw text contains a suppression marker: `looplint:`, or `noqa` in Python.
pub fn has_marker(bytes: &[u8], language: Language) -> bool {
    // The spellings of `noqa` share their third byte, a `q` or a `Q` (rare in source): one
    // pass finds them all.
    let noqa = || {
        memchr::memchr2_iter(b'q', b'Q', bytes).any(|at| {
            at >= 2
                && bytes
                    .get(at - 2..at + 2)
                    .is_some_and(|w| matches!(w, b"noqa" | b"NOQA" | b"NoQA"))
        })
    };
    memchr::memmem::find(bytes, b"looplint:").is_some() || (language == Language::Python && noqa())
}

/// Whether a source says it is generated: `@generated` (as rustfmt and Phabricator read it), or
/// Go's `Code generated ... DO NOT EDIT`, on one of its first five lines.
pub fn is_generated(text: &str) -> bool {
    let head = &text[..crate::readfile::floor_char_boundary(text, 4096)];
    // The first five lines, whose markers cannot span two of them: most files hold neither.
    let five = memchr::memchr_iter(b'\n', head.as_bytes())
        .nth(4)
        .map_or(head, |end| &head[..end]);
    if !five.contains("@generated") && !five.contains("Code generated ") {
        return false;
    }
    head.lines().take(5).any(|line| {
        line.contains("@generated")
            || line
                .find("Code generated ")
                .is_some_and(|at| line[at..].contains("DO NOT EDIT"))
    })
}

/// Reads a source file as text, classifying failures. Python files are decoded by their
/// PEP 263 coding declaration when they are not UTF-8.
pub fn read_text(path: &Path, language: Language) -> Result<Arc<str>, ReadError> {
    read_text_within(path, language, u64::MAX)
}

/// Reads a regular source file of at most `cap` bytes as text (see [`read_text`]): into the
/// thread's buffer, then once into the shared text when it is UTF-8.
fn read_text_within(path: &Path, language: Language, cap: u64) -> Result<Arc<str>, ReadError> {
    with_buffer(|bytes| {
        read_bytes_within(path, cap, bytes)?;
        match std::str::from_utf8(bytes) {
            Ok(text) if memchr::memchr(0, bytes).is_none() => Ok(Arc::from(text)),
            _ => decode(bytes.clone(), language),
        }
    })
}

/// Reads the bytes of a source file of at most `cap` bytes into `bytes`.
fn read_bytes_within(path: &Path, cap: u64, bytes: &mut Vec<u8>) -> Result<(), ReadError> {
    use crate::readfile::{ReadFileError, read_into};
    read_into(path, cap, bytes).map_err(|e| match e {
        ReadFileError::TooLarge { size, limit } => ReadError::TooLarge { size, limit },
        other => ReadError::Io(other.to_string()),
    })
}

/// Largest buffer a thread keeps for the next file it reads (the default `max-file-size` is
/// 1 MB): reading into pages already in use spares a fresh allocation, and the faults of its
/// pages, per file.
const KEPT_BUFFER: usize = 4 << 20;

thread_local! {
    /// The buffer this thread reads source files into.
    static BUFFER: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Runs `f` with this thread's read buffer (a fresh one should `f` read another file within).
fn with_buffer<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    let mut bytes = BUFFER.with(std::cell::Cell::take);
    let r = f(&mut bytes);
    if bytes.capacity() <= KEPT_BUFFER {
        bytes.clear();
        BUFFER.with(|b| b.set(bytes));
    }
    r
}

/// Decodes the bytes of a source file: UTF-8, or for Python the encoding its coding line
/// declares (`# -*- coding: latin-1 -*-` on one of the first two lines).
pub fn decode(bytes: Vec<u8>, language: Language) -> Result<Arc<str>, ReadError> {
    if bytes.contains(&0) {
        return Err(ReadError::Binary);
    }
    match String::from_utf8(bytes) {
        Ok(s) => Ok(Arc::from(s)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let declared = match language {
                Language::Python => coding_declaration(&bytes),
                Language::Rust => None,
            };
            match declared {
                Some(encoding) if encoding != encoding_rs::UTF_8 => {
                    let (text, had_errors) = encoding.decode_without_bom_handling(&bytes);
                    if had_errors {
                        Err(ReadError::NotUtf8(at))
                    } else {
                        Ok(Arc::from(text.into_owned()))
                    }
                }
                _ => Err(ReadError::NotUtf8(at)),
            }
        }
    }
}

/// The encoding a PEP 263 coding line names: a comment matching `coding[:=]\s*([-\w.]+)` on
/// the first or second line.
fn coding_declaration(bytes: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    for line in bytes.split(|&b| b == b'\n').take(2) {
        let line = String::from_utf8_lossy(line);
        let trimmed = line.trim_start_matches([' ', '\t', '\x0c']);
        if !trimmed.starts_with('#') {
            continue;
        }
        let Some(at) = trimmed.find("coding") else {
            continue;
        };
        let rest = &trimmed[at + "coding".len()..];
        let Some(rest) = rest.strip_prefix([':', '=']) else {
            continue;
        };
        let name: String = rest
            .trim_start_matches([' ', '\t'])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .collect();
        return encoding_for(&name);
    }
    None
}

/// The encoding of a Python codec name (`latin-1`, `iso_8859_15`, `koi8_r`, `cp1252`).
fn encoding_for(name: &str) -> Option<&'static encoding_rs::Encoding> {
    let lower = name.to_ascii_lowercase().replace('_', "-");
    let python_alias = match lower.as_str() {
        "latin-1" | "latin" | "l1" | "iso8859-1" | "8859" | "cp819" => "latin1",
        "utf8" | "utf-8-sig" => "utf-8",
        other => other,
    };
    encoding_rs::Encoding::for_label(python_alias.as_bytes())
        .or_else(|| encoding_rs::Encoding::for_label(python_alias.replace('-', "").as_bytes()))
}

/// A 1-based line and column (column in Unicode scalar values).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineCol {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in Unicode scalar values.
    pub column: u32,
}

/// How positions count columns: the units of a line's prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Bytes of UTF-8.
    Utf8,
    /// UTF-16 code units (the language server protocol's default).
    Utf16,
    /// Unicode scalar values (SARIF's `unicodeCodePoints`, the CLI's columns).
    Utf32,
}

/// Line starts of a text, for offset to line/column conversion: ruff's line index, which finds
/// line breaks as editors, the language server protocol and SARIF count them (LF, CRLF and a
/// lone CR) and counts columns in any [`Encoding`]. Offsets past the end or inside a character
/// are clamped to the character boundary before them.
#[derive(Clone)]
pub struct LineIndex {
    inner: ruff_source_file::LineIndex,
}

impl std::fmt::Debug for LineIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineIndex")
            .field("lines", &self.inner.line_count())
            .finish()
    }
}

impl LineIndex {
    /// Indexes `text`.
    pub fn new(text: &str) -> Self {
        LineIndex {
            inner: ruff_source_file::LineIndex::from_source_text(text),
        }
    }

    /// 0-based line of a byte offset.
    pub fn line_of(&self, offset: u32) -> usize {
        self.inner
            .line_index(ruff_text_size::TextSize::from(offset))
            .to_zero_indexed()
    }

    /// Number of lines (a text ending with a line break has an empty last line).
    pub fn line_count(&self) -> usize {
        self.inner.line_count()
    }

    /// Byte range of 0-based `line` in a text of `len` bytes, with its line break.
    pub fn line_range(&self, line: usize, len: usize) -> std::ops::Range<usize> {
        let start = self.line_start(line) as usize;
        let end = if line + 1 < self.line_count() {
            self.line_start(line + 1) as usize
        } else {
            len
        };
        start.min(len)..end.max(start).min(len)
    }

    /// Byte offset where 0-based `line` starts (the last line's start past the end).
    pub fn line_start(&self, line: usize) -> u32 {
        let starts = self.inner.line_starts();
        starts[line.min(starts.len() - 1)].to_u32()
    }

    /// The 0-based line and 0-based column, in `encoding` units, of a byte offset of `text`.
    pub fn position(&self, text: &str, offset: u32, encoding: Encoding) -> (u32, u32) {
        let mut offset = (offset as usize).min(text.len());
        while offset > 0 && !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let encoding = match encoding {
            Encoding::Utf8 => ruff_source_file::PositionEncoding::Utf8,
            Encoding::Utf16 => ruff_source_file::PositionEncoding::Utf16,
            Encoding::Utf32 => ruff_source_file::PositionEncoding::Utf32,
        };
        let at = self.inner.source_location(
            ruff_text_size::TextSize::from(offset as u32),
            text,
            encoding,
        );
        (
            at.line.to_zero_indexed() as u32,
            at.character_offset.to_zero_indexed() as u32,
        )
    }

    /// Converts a byte offset into a 1-based line and column (in scalar values) in `text`.
    pub fn line_col(&self, text: &str, offset: u32) -> LineCol {
        let (line, column) = self.position(text, offset, Encoding::Utf32);
        LineCol {
            line: line + 1,
            column: column + 1,
        }
    }
}

/// The lines of `text` as [`LineIndex`] counts them (LF, CRLF or a lone CR ends one), without
/// their line breaks.
pub fn split_lines(text: &str) -> Vec<&str> {
    let index = LineIndex::new(text);
    (0..index.line_count())
        .map(|l| text[index.line_range(l, text.len())].trim_end_matches(['\n', '\r']))
        .collect()
}

/// Language of a path, by extension.
pub fn language_of(path: &Path) -> Option<Language> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("rs") => Some(Language::Rust),
        Some("py") | Some("pyi") => Some(Language::Python),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_coding_lines_decode() {
        let mut latin = b"# -*- coding: latin-1 -*-\nname = '".to_vec();
        latin.extend([0xe9, b'\'', b'\n']);
        let text = decode(latin.clone(), Language::Python).expect("decodes");
        assert!(text.contains("name = '\u{e9}'"));
        assert!(matches!(
            decode(latin, Language::Rust),
            Err(ReadError::NotUtf8(_))
        ));
        let mut koi = b"#!/usr/bin/env python\n# vim: set fileencoding=koi8_r :\nx = '".to_vec();
        koi.extend([0xd0, 0xd2, b'\'']);
        assert!(decode(koi, Language::Python).is_ok());
        let undeclared = vec![b'x', b'=', 0xff];
        assert!(matches!(
            decode(undeclared, Language::Python),
            Err(ReadError::NotUtf8(2))
        ));
    }

    #[test]
    fn columns_count_scalar_values() {
        let text = "aé\nxyz";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 3), LineCol { line: 1, column: 3 });
        assert_eq!(idx.line_col(text, 5), LineCol { line: 2, column: 2 });
    }

    #[test]
    fn positions_in_every_encoding() {
        // "😀" is 4 bytes, 2 UTF-16 units, 1 scalar value.
        let text = "a😀b\r\nc\rdé";
        let idx = LineIndex::new(text);
        assert_eq!(idx.position(text, 5, Encoding::Utf8), (0, 5));
        assert_eq!(idx.position(text, 5, Encoding::Utf16), (0, 3));
        assert_eq!(idx.position(text, 5, Encoding::Utf32), (0, 2));
        // CRLF and a lone CR both end a line, as editors count them.
        assert_eq!(idx.line_of(8), 1);
        assert_eq!(idx.line_col(text, 11), LineCol { line: 3, column: 2 });
        assert_eq!(idx.line_start(2), 10);
        assert_eq!(idx.line_start(99), 10);
        // Offsets inside a character or past the end are clamped.
        assert_eq!(idx.position(text, 3, Encoding::Utf16), (0, 1));
        assert_eq!(idx.line_col(text, 999), LineCol { line: 3, column: 3 });
    }
}
