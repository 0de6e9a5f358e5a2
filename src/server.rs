//! `looplint server`: a language server over stdio that publishes looplint's findings.
//!
//! On open, change and save, the project holding the document (the nearest ancestor with a
//! `Cargo.toml`, `pyproject.toml`, `setup.py`, a looplint configuration or `.git`, else the
//! document's directory) is analysed as a whole, with every open document's unsaved text in place
//! of the file on disk, and the findings of each open document of that project are published.
//! Secondary labels become related information; each diagnostic's code links the rule's doc when
//! the docs are published somewhere ([`crate::report::links`]). Positions use UTF-8 offsets when the client offers them,
//! else UTF-16 code units, as the protocol requires.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument,
    Notification as _, PublishDiagnostics, ShowMessage,
};
use lsp_types::{
    CodeDescription, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity,
    InitializeParams, InitializeResult, Location, MessageType, NumberOrString, Position,
    PositionEncodingKind, PublishDiagnosticsParams, Range, SaveOptions, ServerCapabilities,
    ServerInfo, ShowMessageParams, TextDocumentSyncCapability, TextDocumentSyncKind,
    TextDocumentSyncOptions, TextDocumentSyncSaveOptions, Url,
};

use crate::diagnostic::{Finding, Severity};
use crate::model::Span;
use crate::project::{self, RuleArgs};
use crate::report::links::Links;
use crate::source::{LineIndex, SourceDb, SourceFile, language_of};

/// How the client counts columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Bytes of UTF-8.
    Utf8,
    /// UTF-16 code units (the protocol's default).
    Utf16,
}

/// Converts a byte offset of `text` to an LSP position in `encoding`.
pub fn position(text: &str, index: &LineIndex, offset: u32, encoding: Encoding) -> Position {
    let mut offset = (offset as usize).min(text.len());
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let line = index.line_of(offset as u32);
    let start = index.line_start(line) as usize;
    let prefix = text.get(start..offset).unwrap_or("");
    let character = match encoding {
        Encoding::Utf8 => prefix.len(),
        Encoding::Utf16 => prefix.chars().map(char::len_utf16).sum(),
    };
    Position::new(line as u32, character as u32)
}

/// An open document.
struct Doc {
    path: PathBuf,
    text: Arc<str>,
}

struct Server {
    conn: Connection,
    encoding: Encoding,
    docs: HashMap<Url, Doc>,
}

/// Runs the server on stdin/stdout until the client sends `exit`; returns the exit code.
pub fn run() -> i32 {
    let (conn, io_threads) = crate::server_io::stdio();
    // The analysis runs on this thread too: give it the stack of the lowering workers.
    let served = std::thread::Builder::new()
        .name("lsp-main".into())
        .stack_size(crate::frontend::stack::WORKER_STACK)
        .spawn(move || serve(conn).map_err(|e| e.to_string()))
        .map_err(|e| e.to_string())
        .and_then(|t| t.join().unwrap_or_else(|_| Err("internal error".into())));
    let code = match served {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: language server: {e}");
            1
        }
    };
    match io_threads.join() {
        Ok(()) => code,
        Err(e) => {
            eprintln!("error: language server I/O: {e}");
            1
        }
    }
}

fn serve(conn: Connection) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let (id, params) = conn.initialize_start()?;
    let params: InitializeParams = serde_json::from_value(params)?;
    let offers_utf8 = params
        .capabilities
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_ref())
        .is_some_and(|e| e.contains(&PositionEncodingKind::UTF8));
    let encoding = if offers_utf8 {
        Encoding::Utf8
    } else {
        Encoding::Utf16
    };
    let capabilities = ServerCapabilities {
        position_encoding: Some(match encoding {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
        }),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::FULL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
                ..TextDocumentSyncOptions::default()
            },
        )),
        ..ServerCapabilities::default()
    };
    let result = InitializeResult {
        capabilities,
        server_info: Some(ServerInfo {
            name: "looplint".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
    };
    conn.initialize_finish(id, serde_json::to_value(result)?)?;
    let mut server = Server {
        conn,
        encoding,
        docs: HashMap::new(),
    };
    server.main_loop()
}

impl Server {
    fn main_loop(&mut self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        while let Ok(msg) = self.conn.receiver.recv() {
            match msg {
                Message::Request(req) => {
                    if self.conn.handle_shutdown(&req)? {
                        return Ok(());
                    }
                    self.unknown_request(req)?;
                }
                Message::Notification(n) => {
                    let mut dirty = Vec::new();
                    self.notification(n, &mut dirty);
                    // Coalesce a burst of edits into one analysis.
                    while let Ok(next) = self.conn.receiver.try_recv() {
                        match next {
                            Message::Notification(n) => self.notification(n, &mut dirty),
                            Message::Request(req) => {
                                if self.conn.handle_shutdown(&req)? {
                                    return Ok(());
                                }
                                self.unknown_request(req)?;
                            }
                            Message::Response(_) => {}
                        }
                    }
                    self.analyse(dirty)?;
                }
                Message::Response(_) => {}
            }
        }
        Ok(())
    }

    fn unknown_request(
        &self,
        req: Request,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let resp = Response::new_err(
            req.id,
            ErrorCode::MethodNotFound as i32,
            format!("unhandled method {}", req.method),
        );
        self.conn.sender.send(Message::Response(resp))?;
        Ok(())
    }

    /// Applies a notification; documents to re-analyse go to `dirty`.
    fn notification(&mut self, n: Notification, dirty: &mut Vec<Url>) {
        match n.method.as_str() {
            DidOpenTextDocument::METHOD => {
                if let Ok(p) =
                    serde_json::from_value::<lsp_types::DidOpenTextDocumentParams>(n.params)
                {
                    self.open(p.text_document.uri.clone(), p.text_document.text);
                    dirty.push(p.text_document.uri);
                }
            }
            DidChangeTextDocument::METHOD => {
                if let Ok(p) =
                    serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(n.params)
                {
                    // Full sync: the last change holds the whole text.
                    if let Some(change) = p.content_changes.into_iter().last() {
                        self.open(p.text_document.uri.clone(), change.text);
                        dirty.push(p.text_document.uri);
                    }
                }
            }
            DidSaveTextDocument::METHOD => {
                if let Ok(p) =
                    serde_json::from_value::<lsp_types::DidSaveTextDocumentParams>(n.params)
                {
                    dirty.push(p.text_document.uri);
                }
            }
            DidCloseTextDocument::METHOD => {
                if let Ok(p) =
                    serde_json::from_value::<lsp_types::DidCloseTextDocumentParams>(n.params)
                {
                    self.docs.remove(&p.text_document.uri);
                    let _ = self.publish(p.text_document.uri.clone(), Vec::new());
                    dirty.retain(|u| u != &p.text_document.uri);
                }
            }
            _ => {}
        }
    }

    fn open(&mut self, uri: Url, text: String) {
        if let Ok(path) = uri.to_file_path() {
            let path = std::path::absolute(&path).unwrap_or(path);
            self.docs.insert(
                uri,
                Doc {
                    path,
                    text: Arc::from(text),
                },
            );
        }
    }

    fn publish(
        &self,
        uri: Url,
        diagnostics: Vec<Diagnostic>,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let params = PublishDiagnosticsParams {
            uri,
            diagnostics,
            version: None,
        };
        self.conn
            .sender
            .send(Message::Notification(Notification::new(
                PublishDiagnostics::METHOD.to_string(),
                params,
            )))?;
        Ok(())
    }

    fn show_error(&self, message: String) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.conn
            .sender
            .send(Message::Notification(Notification::new(
                ShowMessage::METHOD.to_string(),
                ShowMessageParams {
                    typ: MessageType::ERROR,
                    message,
                },
            )))?;
        Ok(())
    }

    /// Analyses the projects of the `dirty` documents and publishes the findings of their open
    /// documents.
    fn analyse(&self, dirty: Vec<Url>) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let mut roots: Vec<PathBuf> = Vec::new();
        for uri in &dirty {
            if let Some(doc) = self.docs.get(uri) {
                let root = project_root(&doc.path);
                if !roots.contains(&root) {
                    roots.push(root);
                }
            }
        }
        for root in roots {
            let setup = match project::setup(&root, None, false, &RuleArgs::default()) {
                Ok(s) => s,
                Err(message) => {
                    self.show_error(format!("looplint: {message}"))?;
                    continue;
                }
            };
            let mut db = setup.exclude(crate::discover::discover(&[&root]).db, &[]);
            db.limits = setup.read_limits();
            let mut docs_here: Vec<(&Url, usize)> = Vec::new();
            for (uri, doc) in &self.docs {
                if !doc.path.starts_with(&root) {
                    continue;
                }
                let index = match db.files.iter().position(|f| f.path == doc.path) {
                    Some(i) => i,
                    None => match language_of(&doc.path) {
                        Some(language) => db.add(SourceFile {
                            path: doc.path.clone(),
                            display: doc.path.to_string_lossy().into_owned(),
                            language,
                            overlay: None,
                        }),
                        None => continue,
                    },
                };
                db.files[index].overlay = Some(doc.text.clone());
                docs_here.push((uri, index));
            }
            let result = setup.check(&db);
            let links = Links::new(setup.config.rule_docs_url.as_deref());
            for (uri, index) in docs_here {
                let diagnostics = result
                    .findings
                    .iter()
                    .filter(|f| f.primary.file as usize == index)
                    .map(|f| self.to_lsp(&db, f, &links))
                    .collect();
                self.publish(uri.clone(), diagnostics)?;
            }
        }
        Ok(())
    }

    fn range(&self, db: &SourceDb, texts: &mut TextCache, span: Span) -> Range {
        let (text, index) = texts.get(db, span.file as usize);
        Range::new(
            position(text, index, span.start, self.encoding),
            position(text, index, span.end, self.encoding),
        )
    }

    fn to_lsp(&self, db: &SourceDb, f: &Finding, links: &Links) -> Diagnostic {
        let mut texts = TextCache::default();
        let related: Vec<DiagnosticRelatedInformation> = f
            .labels
            .iter()
            .filter_map(|l| {
                let path = &db.files.get(l.span.file as usize)?.path;
                let uri = Url::from_file_path(std::path::absolute(path).ok()?).ok()?;
                Some(DiagnosticRelatedInformation {
                    location: Location::new(uri, self.range(db, &mut texts, l.span)),
                    message: l.message.clone(),
                })
            })
            .collect();
        let mut message = f.message.clone();
        for n in &f.notes {
            message.push_str(&format!("\nnote: {n}"));
        }
        if let Some(h) = &f.help {
            message.push_str(&format!("\nhelp: {h}"));
        }
        Diagnostic {
            range: self.range(db, &mut texts, f.primary),
            severity: Some(match f.severity {
                Severity::Error => DiagnosticSeverity::ERROR,
                Severity::Warning => DiagnosticSeverity::WARNING,
                Severity::Note => DiagnosticSeverity::INFORMATION,
            }),
            code: Some(NumberOrString::String(f.rule.to_string())),
            code_description: links
                .rule_doc_by_id(f.rule)
                .and_then(|u| Url::parse(&u).ok())
                .map(|href| CodeDescription { href }),
            source: Some("looplint".into()),
            message,
            related_information: (!related.is_empty()).then_some(related),
            tags: None,
            data: None,
        }
    }
}

/// Texts and line indexes of files, read once per diagnostic.
#[derive(Default)]
struct TextCache {
    files: HashMap<usize, (Arc<str>, LineIndex)>,
}

impl TextCache {
    fn get(&mut self, db: &SourceDb, file: usize) -> (&str, &LineIndex) {
        let entry = self.files.entry(file).or_insert_with(|| {
            let text: Arc<str> = if file < db.files.len() {
                db.read(file).unwrap_or_else(|_| Arc::from(""))
            } else {
                Arc::from("")
            };
            let index = LineIndex::new(&text);
            (text, index)
        });
        (&entry.0, &entry.1)
    }
}

/// The root of the project holding `file`; a file outside any project is its own root (it is
/// analysed alone, not with every file of its directory).
pub fn project_root(file: &Path) -> PathBuf {
    const MARKERS: &[&str] = &[
        "Cargo.toml",
        "pyproject.toml",
        "setup.py",
        "setup.cfg",
        ".looplint.toml",
        "looplint.toml",
        ".git",
    ];
    let dir = file.parent().unwrap_or(file);
    let mut found: Option<PathBuf> = None;
    for d in dir.ancestors() {
        if MARKERS.iter().any(|m| d.join(m).exists()) {
            // A Cargo workspace root above a member wins; otherwise the nearest marker.
            let is_ws =
                crate::readfile::read_string(&d.join("Cargo.toml"), crate::readfile::CONFIG_LIMIT)
                    .ok()
                    .and_then(|t| t.parse::<toml::Table>().ok())
                    .is_some_and(|t| t.contains_key("workspace"));
            if found.is_none() || is_ws {
                found = Some(d.to_path_buf());
            }
            if is_ws || d.join(".git").exists() {
                break;
            }
        }
    }
    found.unwrap_or_else(|| file.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_outside_any_project_is_analysed_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("scratch.py");
        assert_eq!(project_root(&file), file);
        std::fs::write(tmp.path().join("pyproject.toml"), "").unwrap();
        assert_eq!(project_root(&file), tmp.path());
    }

    #[test]
    fn positions_in_both_encodings() {
        let text = "aé😀x\nz";
        let idx = LineIndex::new(text);
        let x = text.find('x').unwrap() as u32;
        assert_eq!(position(text, &idx, x, Encoding::Utf8), Position::new(0, 7));
        assert_eq!(
            position(text, &idx, x, Encoding::Utf16),
            Position::new(0, 4)
        );
        assert_eq!(
            position(text, &idx, 99, Encoding::Utf16),
            Position::new(1, 1)
        );
        // An offset inside a character is moved to its start.
        assert_eq!(position(text, &idx, 2, Encoding::Utf8), Position::new(0, 1));
    }
}
