//! `looplint server`: a language server over stdio that publishes looplint's findings.
//!
//! On open, change and save, the project holding the document (the nearest ancestor with a
//! `Cargo.toml`, `pyproject.toml`, `setup.py`, a looplint configuration or `.git`, else the
//! document's directory) is analysed as a whole, with every open document's unsaved text in place
//! of the file on disk, and the findings of each open document of that project are published.
//! Secondary labels become related information; each diagnostic's code links the rule's doc when
//! the docs are published somewhere ([`crate::report::links`]). Positions use UTF-8 offsets when the client offers them,
//! else UTF-16 code units, as the protocol requires.
//!
//! Analyses run on a thread of their own, so requests (hover, code actions) are answered while a
//! project is analysed; each analysis has a generation per project. A newer edit makes the
//! analyses of its project stale: one still queued is never started, one running stops before
//! its next program, and a stale result is never published (each analysis logs its start, and
//! its stop when stale, in `window/logMessage`). Diagnostics carry the version of the document they were computed from. Settings ([`crate::server_settings`])
//! come from `initializationOptions` and `workspace/didChangeConfiguration`; hover and code
//! actions are in [`crate::server_actions`].

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{
    DidChangeConfiguration, DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument,
    DidSaveTextDocument, LogMessage, Notification as _, PublishDiagnostics, ShowMessage,
};
use lsp_types::request::{
    CodeActionRequest, ExecuteCommand, HoverRequest, Request as _, ShowDocument,
};
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionParams, CodeActionProviderCapability,
    CodeDescription, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity,
    ExecuteCommandOptions, ExecuteCommandParams, HoverParams, HoverProviderCapability,
    InitializeParams, InitializeResult, Location, LogMessageParams, MessageType, NumberOrString,
    Position, PositionEncodingKind, PublishDiagnosticsParams, Range, SaveOptions,
    ServerCapabilities, ServerInfo, ShowDocumentParams, ShowMessageParams,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions,
    TextDocumentSyncSaveOptions, Uri,
};

use crate::diagnostic::{Finding, Severity};
use crate::model::Span;
use crate::project;
use crate::report::links::Links;
use crate::server_actions as actions;
use crate::server_settings::Settings;
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
    let units = match encoding {
        Encoding::Utf8 => crate::source::Encoding::Utf8,
        Encoding::Utf16 => crate::source::Encoding::Utf16,
    };
    let (line, character) = index.position(text, offset, units);
    Position::new(line, character)
}

/// The `file:` URI of an absolute path (percent-encoded by the `url` crate, as editors write
/// them).
pub fn file_uri(path: &Path) -> Option<Uri> {
    url::Url::from_file_path(path).ok()?.as_str().parse().ok()
}

/// The path of a `file:` URI.
pub fn uri_path(uri: &Uri) -> Option<PathBuf> {
    url::Url::parse(uri.as_str()).ok()?.to_file_path().ok()
}

/// An open document.
struct Doc {
    path: PathBuf,
    text: Arc<str>,
    /// The version the client gave the text.
    version: i32,
}

/// What the message loop and the analysis thread share.
#[derive(Default)]
struct Shared {
    /// The newest analysis asked for each project root; older ones are stale.
    generations: HashMap<PathBuf, u64>,
    /// Open documents.
    open: HashSet<Uri>,
    /// The diagnostics last published for each open document (for hover and code actions).
    published: HashMap<Uri, Vec<Diagnostic>>,
}

/// One analysis of a project, with a snapshot of its open documents.
struct Job {
    root: PathBuf,
    generation: u64,
    settings: Settings,
    encoding: Encoding,
    /// Each open document of the project: uri, path, text and version.
    docs: Vec<(Uri, PathBuf, Arc<str>, i32)>,
}

type Error = Box<dyn std::error::Error + Send + Sync>;

struct Server {
    conn: Connection,
    encoding: Encoding,
    docs: HashMap<Uri, Doc>,
    settings: Settings,
    shared: Arc<Mutex<Shared>>,
    jobs: mpsc::Sender<Job>,
    generation: u64,
    next_request: i32,
}

/// Runs the server on stdin/stdout until the client sends `exit`; returns the exit code.
pub fn run() -> i32 {
    let (conn, io_threads) = crate::server_io::stdio();
    // The message loop; analyses run on a thread of their own (see `serve`), both with the
    // stack of the lowering workers.
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

fn serve(conn: Connection) -> Result<(), Error> {
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
    let settings = params
        .initialization_options
        .as_ref()
        .map(Settings::from_json)
        .unwrap_or_default();
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
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..CodeActionOptions::default()
        })),
        execute_command_provider: Some(ExecuteCommandOptions {
            commands: vec![actions::OPEN_RULE_DOC.to_string()],
            ..ExecuteCommandOptions::default()
        }),
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
    let shared = Arc::new(Mutex::new(Shared::default()));
    let (jobs, queue) = mpsc::channel();
    let sender = conn.sender.clone();
    let worker_shared = shared.clone();
    // The analysis thread lowers files: give it the stack of the lowering workers.
    std::thread::Builder::new()
        .name("looplint-analysis".into())
        .stack_size(crate::frontend::stack::WORKER_STACK)
        .spawn(move || {
            analysis_thread(&queue, &worker_shared, &|message| {
                let _ = sender.send(message);
            });
        })?;
    let mut server = Server {
        conn,
        encoding,
        docs: HashMap::new(),
        settings,
        shared,
        jobs,
        generation: 0,
        next_request: 0,
    };
    server.main_loop()
}

fn lock(shared: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    shared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs analyses off the message loop. Jobs queued while one runs are coalesced (the newest per
/// project wins), and a result is published only if no newer analysis of its project was asked
/// for meanwhile, so stale work never overwrites fresh diagnostics.
fn analysis_thread(queue: &mpsc::Receiver<Job>, shared: &Mutex<Shared>, send: &dyn Fn(Message)) {
    while let Ok(first) = queue.recv() {
        let mut pending: Vec<Job> = vec![first];
        while let Ok(next) = queue.try_recv() {
            pending.retain(|j| j.root != next.root);
            pending.push(next);
        }
        for job in pending {
            let current =
                |job: &Job| lock(shared).generations.get(&job.root) == Some(&job.generation);
            if !current(&job) {
                continue;
            }
            send(log(format!("looplint: analysing {}", job.root.display())));
            let stale = || !current(&job);
            let outcome =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| analyse(&job, &stale)))
                    .unwrap_or(Err(Unpublished::Panicked));
            let published = match outcome {
                Ok(published) => published,
                Err(Unpublished::Stale { unread, files }) => {
                    send(log(format!(
                        "looplint: stopped a stale analysis of {} (a newer edit came in; {unread} of {files} files left unread)",
                        job.root.display()
                    )));
                    continue;
                }
                Err(Unpublished::Failed(message)) => {
                    send(show_error(format!("looplint: {message}")));
                    continue;
                }
                Err(Unpublished::Panicked) => {
                    send(show_error(
                        "looplint: internal error while analysing; please report it".into(),
                    ));
                    continue;
                }
            };
            let mut state = lock(shared);
            if state.generations.get(&job.root) != Some(&job.generation) {
                continue;
            }
            for (uri, version, diagnostics) in published {
                if state.open.contains(&uri) {
                    state.published.insert(uri.clone(), diagnostics.clone());
                    send(publish(uri, Some(version), diagnostics));
                }
            }
        }
    }
}

/// The diagnostics of each document of a job, with the version they were computed from.
type Published = Vec<(Uri, i32, Vec<Diagnostic>)>;

/// Why an analysis publishes nothing.
enum Unpublished {
    /// A newer analysis of the project was asked for: this one stopped with `unread` of its
    /// `files` not lowered.
    Stale { unread: usize, files: usize },
    /// The project's configuration is unusable.
    Failed(String),
    /// The analysis panicked.
    Panicked,
}

/// Analyses a project with the job's documents in place of their files; returns the
/// diagnostics of each document, or why there are none (`stale` said the job was no longer
/// wanted before every program was analysed).
fn analyse(job: &Job, stale: &(dyn Fn() -> bool + Sync)) -> Result<Published, Unpublished> {
    let mut setup = project::setup(&job.root, None, false, &job.settings.rules.args())
        .map_err(Unpublished::Failed)?;
    if let Some(all) = job.settings.all_targets {
        setup.all_targets = all;
    }
    let mut db = setup.exclude(crate::discover::discover(&[&job.root]).db, &[]);
    db.limits = setup.read_limits();
    let mut docs_here: Vec<(&Uri, i32, usize)> = Vec::new();
    for (uri, path, text, version) in &job.docs {
        let index = match db.files.iter().position(|f| &f.path == path) {
            Some(i) => i,
            None => match language_of(path) {
                Some(language) => db.add(SourceFile {
                    path: path.clone(),
                    display: path.to_string_lossy().into_owned(),
                    language,
                    overlay: None,
                }),
                None => continue,
            },
        };
        db.files[index].overlay = Some(text.clone());
        docs_here.push((uri, *version, index));
    }
    let result = setup.check_until(&db, stale);
    if result.cancelled {
        return Err(Unpublished::Stale {
            unread: result.unlowered,
            files: db.files.len(),
        });
    }
    let links = Links::new(setup.config.rule_docs_url.as_deref());
    Ok(docs_here
        .into_iter()
        .map(|(uri, version, index)| {
            let diagnostics = result
                .findings
                .iter()
                .filter(|f| f.primary.file as usize == index)
                .map(|f| to_lsp(&db, f, &links, job.encoding))
                .collect();
            (uri.clone(), version, diagnostics)
        })
        .collect())
}

fn publish(uri: Uri, version: Option<i32>, diagnostics: Vec<Diagnostic>) -> Message {
    let params = PublishDiagnosticsParams {
        uri,
        diagnostics,
        version,
    };
    Message::Notification(Notification::new(
        PublishDiagnostics::METHOD.to_string(),
        params,
    ))
}

/// A line for the client's log of the server (`window/logMessage`).
fn log(message: String) -> Message {
    let params = LogMessageParams {
        typ: MessageType::LOG,
        message,
    };
    Message::Notification(Notification::new(LogMessage::METHOD.to_string(), params))
}

/// An error shown to the user (`window/showMessage`).
fn show_error(message: String) -> Message {
    let params = ShowMessageParams {
        typ: MessageType::ERROR,
        message,
    };
    Message::Notification(Notification::new(ShowMessage::METHOD.to_string(), params))
}

impl Server {
    fn main_loop(&mut self) -> Result<(), Error> {
        while let Ok(msg) = self.conn.receiver.recv() {
            let mut dirty = Vec::new();
            if self.handle(msg, &mut dirty)? {
                return Ok(());
            }
            // Coalesce a burst of edits into one analysis.
            while let Ok(next) = self.conn.receiver.try_recv() {
                if self.handle(next, &mut dirty)? {
                    return Ok(());
                }
            }
            self.schedule(dirty);
        }
        Ok(())
    }

    /// Handles one message; documents to re-analyse go to `dirty`. Returns whether the client
    /// asked to shut down.
    fn handle(&mut self, msg: Message, dirty: &mut Vec<Uri>) -> Result<bool, Error> {
        match msg {
            Message::Request(req) => {
                if self.conn.handle_shutdown(&req)? {
                    return Ok(true);
                }
                self.request(req)?;
            }
            Message::Notification(n) => self.notification(n, dirty),
            Message::Response(_) => {}
        }
        Ok(false)
    }

    fn respond(&self, id: RequestId, result: impl serde::Serialize) -> Result<(), Error> {
        let resp = Response::new_ok(id, result);
        self.conn.sender.send(Message::Response(resp))?;
        Ok(())
    }

    fn request(&mut self, req: Request) -> Result<(), Error> {
        match req.method.as_str() {
            HoverRequest::METHOD => {
                let Ok(p) = serde_json::from_value::<HoverParams>(req.params) else {
                    return self.invalid(req.id);
                };
                let uri = p.text_document_position_params.text_document.uri;
                let at = p.text_document_position_params.position;
                let hover = {
                    let state = lock(&self.shared);
                    let diagnostics = state.published.get(&uri).map_or(&[][..], Vec::as_slice);
                    let links = self.links_for(&uri);
                    actions::hover(diagnostics, at, &links)
                };
                self.respond(req.id, hover)
            }
            CodeActionRequest::METHOD => {
                let Ok(p) = serde_json::from_value::<CodeActionParams>(req.params) else {
                    return self.invalid(req.id);
                };
                let uri = p.text_document.uri;
                let found = self.docs.get(&uri).and_then(|doc| {
                    let language = language_of(&doc.path)?;
                    let state = lock(&self.shared);
                    let diagnostics = state.published.get(&uri)?;
                    Some(actions::code_actions(
                        &uri,
                        &doc.text,
                        language,
                        diagnostics,
                        &p.range,
                        self.encoding,
                    ))
                });
                self.respond(req.id, found.unwrap_or_default())
            }
            ExecuteCommand::METHOD => {
                let Ok(p) = serde_json::from_value::<ExecuteCommandParams>(req.params) else {
                    return self.invalid(req.id);
                };
                let rule = p
                    .arguments
                    .first()
                    .and_then(serde_json::Value::as_str)
                    .and_then(crate::rules::find);
                match (p.command.as_str(), rule) {
                    (actions::OPEN_RULE_DOC, Some(rule)) => {
                        self.open_rule_doc(rule)?;
                        self.respond(req.id, serde_json::Value::Null)
                    }
                    _ => self.invalid(req.id),
                }
            }
            _ => {
                let resp = Response::new_err(
                    req.id,
                    ErrorCode::MethodNotFound as i32,
                    format!("unhandled method {}", req.method),
                );
                self.conn.sender.send(Message::Response(resp))?;
                Ok(())
            }
        }
    }

    fn invalid(&self, id: RequestId) -> Result<(), Error> {
        let resp = Response::new_err(id, ErrorCode::InvalidParams as i32, "invalid params".into());
        self.conn.sender.send(Message::Response(resp))?;
        Ok(())
    }

    /// Where rule docs are linked for a document: its project's `rule-docs-url`, else the build's.
    fn links_for(&self, uri: &Uri) -> Links {
        let configured = self.docs.get(uri).and_then(|doc| {
            crate::config::Config::discover(&doc.path)
                .ok()
                .and_then(|c| c.rule_docs_url)
        });
        Links::new(configured.as_deref())
    }

    /// Shows a rule's documentation: its published page when there is one, else the doc written
    /// to a Markdown file in the temporary directory.
    fn open_rule_doc(&mut self, rule: &crate::rules::Rule) -> Result<(), Error> {
        let published = Links::new(None)
            .rule_doc(rule)
            .and_then(|u| u.parse::<Uri>().ok());
        let (uri, external) = match published {
            Some(uri) => (uri, true),
            None => {
                let dir = std::env::temp_dir().join("looplint-rule-docs");
                std::fs::create_dir_all(&dir)?;
                let file = dir.join(format!("{}.md", rule.id));
                std::fs::write(&file, rule.doc)?;
                let uri = file_uri(&file)
                    .ok_or_else(|| format!("{}: not an absolute path", file.display()))?;
                (uri, false)
            }
        };
        self.next_request += 1;
        let params = ShowDocumentParams {
            uri,
            external: Some(external),
            take_focus: Some(true),
            selection: None,
        };
        self.conn.sender.send(Message::Request(Request::new(
            RequestId::from(format!("looplint-show-{}", self.next_request)),
            ShowDocument::METHOD.to_string(),
            params,
        )))?;
        Ok(())
    }

    /// Applies a notification; documents to re-analyse go to `dirty`.
    fn notification(&mut self, n: Notification, dirty: &mut Vec<Uri>) {
        match n.method.as_str() {
            DidOpenTextDocument::METHOD => {
                if let Ok(p) =
                    serde_json::from_value::<lsp_types::DidOpenTextDocumentParams>(n.params)
                {
                    let doc = p.text_document;
                    self.open(doc.uri.clone(), doc.text, doc.version);
                    dirty.push(doc.uri);
                }
            }
            DidChangeTextDocument::METHOD => {
                if let Ok(p) =
                    serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(n.params)
                {
                    // Full sync: the last change holds the whole text.
                    if let Some(change) = p.content_changes.into_iter().last() {
                        let version = p.text_document.version;
                        self.open(p.text_document.uri.clone(), change.text, version);
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
                    let uri = p.text_document.uri;
                    self.docs.remove(&uri);
                    {
                        let mut state = lock(&self.shared);
                        state.open.remove(&uri);
                        state.published.remove(&uri);
                    }
                    let _ = self
                        .conn
                        .sender
                        .send(publish(uri.clone(), None, Vec::new()));
                    dirty.retain(|u| u != &uri);
                }
            }
            DidChangeConfiguration::METHOD => {
                if let Ok(p) =
                    serde_json::from_value::<lsp_types::DidChangeConfigurationParams>(n.params)
                {
                    let settings = Settings::from_json(&p.settings);
                    if settings != self.settings {
                        self.settings = settings;
                        dirty.extend(self.docs.keys().cloned());
                    }
                }
            }
            _ => {}
        }
    }

    fn open(&mut self, uri: Uri, text: String, version: i32) {
        if let Some(path) = uri_path(&uri) {
            let path = std::path::absolute(&path).unwrap_or(path);
            lock(&self.shared).open.insert(uri.clone());
            self.docs.insert(
                uri,
                Doc {
                    path,
                    text: Arc::from(text),
                    version,
                },
            );
        }
    }

    /// Queues an analysis of the projects of the `dirty` documents, each with a snapshot of its
    /// open documents; it makes any analysis of those projects still queued or running stale.
    fn schedule(&mut self, dirty: Vec<Uri>) {
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
            self.generation += 1;
            lock(&self.shared)
                .generations
                .insert(root.clone(), self.generation);
            let docs = self
                .docs
                .iter()
                .filter(|(_, doc)| doc.path.starts_with(&root))
                .map(|(uri, doc)| {
                    let text = doc.text.clone();
                    (uri.clone(), doc.path.clone(), text, doc.version)
                })
                .collect();
            let _ = self.jobs.send(Job {
                root,
                generation: self.generation,
                settings: self.settings.clone(),
                encoding: self.encoding,
                docs,
            });
        }
    }
}

fn range(db: &SourceDb, texts: &mut TextCache, span: Span, encoding: Encoding) -> Range {
    let (text, index) = texts.get(db, span.file as usize);
    Range::new(
        position(text, index, span.start, encoding),
        position(text, index, span.end, encoding),
    )
}

fn to_lsp(db: &SourceDb, f: &Finding, links: &Links, encoding: Encoding) -> Diagnostic {
    let mut texts = TextCache::default();
    let related: Vec<DiagnosticRelatedInformation> = f
        .labels
        .iter()
        .filter_map(|l| {
            let path = &db.files.get(l.span.file as usize)?.path;
            let uri = file_uri(&std::path::absolute(path).ok()?)?;
            Some(DiagnosticRelatedInformation {
                location: Location::new(uri, range(db, &mut texts, l.span, encoding)),
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
        range: range(db, &mut texts, f.primary, encoding),
        severity: Some(match f.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
            Severity::Note => DiagnosticSeverity::INFORMATION,
        }),
        code: Some(NumberOrString::String(f.rule.to_string())),
        code_description: links
            .rule_doc_by_id(f.rule)
            .and_then(|u| u.parse::<Uri>().ok())
            .map(|href| CodeDescription { href }),
        source: Some("looplint".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
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

    #[cfg(unix)]
    #[test]
    fn file_uris_round_trip() {
        let path = Path::new("/tmp/a b/é#1.py");
        let uri = file_uri(path).unwrap();
        assert_eq!(uri.as_str(), "file:///tmp/a%20b/%C3%A9%231.py");
        assert_eq!(uri_path(&uri).as_deref(), Some(path));
        assert!(file_uri(Path::new("relative.py")).is_none());
        let web: Uri = "https://example.org/x".parse().unwrap();
        assert_eq!(uri_path(&web), None);
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
