//! Frontends: lower source files into the lifecycle model. Only this module tree imports a parser.
//!
//! Lowering never fails: a file that does not parse becomes a [`Problem`] and the rest of the
//! program is still lowered.

pub mod comments;
pub mod dump;
pub mod flow;
pub mod nesting;
pub mod python;
pub mod rust;
pub mod stack;

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::model::Program;

/// Whether a run's result is still wanted: asked before each file is lowered and before each
/// program is analysed, so that a run nobody waits for any more (the language server's, after a
/// newer edit) stops early. Counts the files it left unlowered.
pub struct Cancel<'a> {
    cancelled: &'a (dyn Fn() -> bool + Sync),
    skipped: AtomicUsize,
}

impl<'a> Cancel<'a> {
    /// A run that stops once `cancelled` returns true.
    pub fn new(cancelled: &'a (dyn Fn() -> bool + Sync)) -> Self {
        Cancel {
            cancelled,
            skipped: AtomicUsize::new(0),
        }
    }

    /// Whether the result is no longer wanted.
    pub fn stop(&self) -> bool {
        (self.cancelled)()
    }

    /// Whether the result is no longer wanted, counting `files` as left unlowered if so.
    pub fn skip(&self, files: usize) -> bool {
        let stop = self.stop();
        if stop {
            self.skipped.fetch_add(files, Ordering::Relaxed);
        }
        stop
    }

    /// How many files were left unlowered.
    pub fn skipped(&self) -> usize {
        self.skipped.load(Ordering::Relaxed)
    }
}

impl Default for Cancel<'static> {
    fn default() -> Self {
        Cancel::new(&|| false)
    }
}

/// A file-level problem met while lowering (a syntax error, an unreadable file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Index of the file in the source database.
    pub source: usize,
    /// Byte range of the problem (empty range at 0 when the whole file is concerned).
    pub start: u32,
    /// End of the byte range.
    pub end: u32,
    /// What went wrong.
    pub message: String,
    /// Whether the file could not be read at all (as opposed to not parsing).
    pub unreadable: bool,
    /// Whether the file parses, maybe, but is beyond what the analysis handles (nesting too
    /// deep): reported as a note, not as a syntax error.
    pub limit: bool,
}

impl Problem {
    /// The problem of a file that could not be read: an error when the OS refused, a finding
    /// when its content is not text, a note when it is above the size limit, and nothing for a
    /// generated file (skipped on purpose).
    pub fn from_read(source: usize, e: &crate::source::ReadError) -> Option<Self> {
        use crate::source::ReadError;
        if matches!(e, ReadError::Generated) {
            return None;
        }
        Some(Problem {
            source,
            start: 0,
            end: 0,
            message: e.to_string(),
            unreadable: matches!(e, ReadError::Io(_)),
            limit: e.is_skip(),
        })
    }

    /// The problem of a file nested deeper than [`nesting::LIMIT`].
    pub fn too_deep(source: usize, depth: u32) -> Self {
        Problem {
            source,
            start: 0,
            end: 0,
            message: format!(
                "nesting too deep to analyse (about {depth} levels; the limit is {})",
                nesting::LIMIT
            ),
            unreadable: false,
            limit: true,
        }
    }
}

/// A lowered program and the problems met on the way.
#[derive(Debug, Default)]
pub struct Lowered {
    /// The program.
    pub program: Program,
    /// Problems, one per failing file.
    pub problems: Vec<Problem>,
}
