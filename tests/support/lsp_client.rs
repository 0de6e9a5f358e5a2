//! A JSON-RPC client for `looplint server`, as an editor speaks to it: the binary is spawned and
//! framed messages go over its pipes. Shared by the language-server tests (`tests/lsp.rs`,
//! `tests/lsp_frames.rs`), each of which includes this file as a module.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long a test waits for any one message before it fails instead of hanging.
pub const PATIENCE: Duration = Duration::from_secs(120);

/// A running server and the messages it sent, read on a thread of their own.
pub struct Client {
    /// The server process.
    pub child: Child,
    /// Its standard input (dropped to hang up).
    pub stdin: ChildStdin,
    messages: mpsc::Receiver<Value>,
    next_id: i64,
}

/// Reads one `Content-Length` framed message; `None` at the end of the stream or on a frame
/// that does not parse.
fn read_message(r: &mut BufReader<ChildStdout>) -> Option<Value> {
    let mut len = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            len = v.parse::<usize>().ok();
        }
    }
    let mut buf = vec![0; len?];
    r.read_exact(&mut buf).ok()?;
    serde_json::from_slice(&buf).ok()
}

impl Client {
    /// Starts `looplint server` in `dir`, not yet initialized; its standard error goes to
    /// `stderr`.
    pub fn spawn(dir: &Path, stderr: Stdio) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_looplint"))
            .arg("server")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("server starts");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            while let Some(m) = read_message(&mut stdout) {
                if tx.send(m).is_err() {
                    break;
                }
            }
        });
        Client {
            child,
            stdin,
            messages: rx,
            next_id: 1,
        }
    }

    /// Writes raw bytes to the server.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).unwrap();
        self.stdin.flush().unwrap();
    }

    /// Sends one framed message.
    pub fn send(&mut self, v: Value) {
        let body = v.to_string();
        self.raw(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
    }

    /// Sends a request and returns its response.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.request_seeing(method, params).0
    }

    /// Sends a request and returns its response with the messages that came before it.
    pub fn request_seeing(&mut self, method: &str, params: Value) -> (Value, Vec<Value>) {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let mut before = Vec::new();
        loop {
            let m = self.recv();
            if m["id"] == id && m.get("method").is_none() {
                return (m, before);
            }
            before.push(m);
        }
    }

    /// Sends a notification.
    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// `initialize` (with `capabilities` and `initializationOptions`), then `initialized`;
    /// returns the server's capabilities.
    pub fn initialize(&mut self, dir: &Path, capabilities: Value, options: Value) -> Value {
        let init = self.request(
            "initialize",
            json!({"processId": null, "rootUri": format!("file://{}", dir.display()),
                   "capabilities": capabilities, "initializationOptions": options}),
        );
        assert!(init.get("error").is_none(), "{init}");
        self.notify("initialized", json!({}));
        init["result"]["capabilities"].clone()
    }

    /// The next message; a server that dies or stays silent for long fails the test instead of
    /// hanging it.
    pub fn recv(&self) -> Value {
        self.messages
            .recv_timeout(PATIENCE)
            .expect("the server answers")
    }

    /// The diagnostics of the next publication for `uri`.
    pub fn diagnostics_for(&self, uri: &str) -> Vec<Value> {
        loop {
            let m = self.recv();
            if m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri {
                return m["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
            }
        }
    }

    /// `didOpen` at version 1.
    pub fn open(&mut self, uri: &str, language: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}}),
        );
    }

    /// `didChange` with the whole text.
    pub fn change(&mut self, uri: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        );
    }

    /// Waits until the latest diagnostics published for each document have the given counts
    /// (earlier publications may still be in the pipe).
    pub fn wait_for_counts(&self, expected: &[(&str, usize)]) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = HashMap::new();
        while expected.iter().any(|(u, n)| seen.get(*u) != Some(n)) {
            assert!(
                Instant::now() < deadline,
                "expected {expected:?}, last published {seen:?}"
            );
            let m = self.recv();
            if m["method"] == "textDocument/publishDiagnostics" {
                seen.insert(
                    m["params"]["uri"].as_str().unwrap().to_string(),
                    m["params"]["diagnostics"].as_array().unwrap().len(),
                );
            }
        }
    }

    /// `shutdown` and `exit`; the server must end cleanly.
    pub fn finish(mut self) {
        let resp = self.request("shutdown", Value::Null);
        assert!(resp.get("error").is_none(), "{resp}");
        self.notify("exit", Value::Null);
        assert!(self.child.wait().unwrap().success());
    }
}
