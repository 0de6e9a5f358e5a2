//! `looplint server` tested as an editor uses it: the binary is spawned and spoken to in JSON-RPC
//! over its pipes (initialize, didOpen, publishDiagnostics, didChange, shutdown, exit).
//!
//! The "buggy" document holds a suppression comment that silences nothing, which looplint reports
//! as `unused-suppression`; it needs no frontend. When the Python frontend reports
//! `nested-block-on`, a real lifecycle bug can take its place here.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;

use serde_json::{Value, json};

struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: mpsc::Receiver<Value>,
    next_id: i64,
}

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
    fn start(dir: &Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_looplint"))
            .arg("server")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
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

    fn send(&mut self, v: Value) {
        let body = v.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let m = self.recv();
            if m["id"] == id {
                return m;
            }
        }
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// The next message; a server that dies or stays silent for long fails the test instead of
    /// hanging it.
    fn recv(&self) -> Value {
        self.messages
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("the server answers")
    }

    fn diagnostics_for(&self, uri: &str) -> Vec<Value> {
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
}

fn session(encodings: Value, check: impl FnOnce(&mut Client, &str, &Value)) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().canonicalize().unwrap();
    std::fs::write(dir.join("pyproject.toml"), "[project]\nname = \"app\"\n").unwrap();
    // On disk the file is clean; the editor's buffer is not.
    std::fs::write(dir.join("app.py"), "x = 1\n").unwrap();
    let uri = format!("file://{}/app.py", dir.display());
    let mut c = Client::start(&dir);
    let init = c.request(
        "initialize",
        json!({
            "processId": null,
            "rootUri": format!("file://{}", dir.display()),
            "capabilities": { "general": { "positionEncodings": encodings } },
        }),
    );
    c.notify("initialized", json!({}));
    check(&mut c, &uri, &init["result"]);
    let resp = c.request("shutdown", Value::Null);
    assert!(resp.get("error").is_none(), "{resp}");
    c.notify("exit", Value::Null);
    let status = c.child.wait().unwrap();
    assert!(status.success());
}

#[test]
fn diagnostics_follow_the_buffer_utf8() {
    session(json!(["utf-8", "utf-16"]), |c, uri, init| {
        assert_eq!(init["capabilities"]["positionEncoding"], "utf-8");
        let buggy = "é = 1  # looplint: ignore[nested-block-on]\n";
        c.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": buggy}}),
        );
        let diags = c.diagnostics_for(uri);
        assert_eq!(diags.len(), 1, "{diags:?}");
        let d = &diags[0];
        assert_eq!(d["code"], "unused-suppression");
        assert_eq!(d["source"], "looplint");
        assert_eq!(d["severity"], 2);
        // `looplint:` starts at byte 10 (é is two bytes).
        assert_eq!(d["range"]["start"], json!({"line": 0, "character": 10}));
        assert!(
            d["codeDescription"]["href"]
                .as_str()
                .unwrap()
                .ends_with("rules/unused-suppression.md")
        );

        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": "é = 1\n"}]}),
        );
        assert!(c.diagnostics_for(uri).is_empty());

        // Unknown requests get an error, not silence.
        let r = c.request("textDocument/hover", json!({}));
        assert_eq!(r["error"]["code"], -32601);
    });
}

#[test]
fn utf16_columns_when_utf8_is_not_offered() {
    session(Value::Null, |c, uri, init| {
        assert_eq!(init["capabilities"]["positionEncoding"], "utf-16");
        c.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                   "text": "é = 1  # looplint: ignore[nested-block-on]\n"}}),
        );
        let diags = c.diagnostics_for(uri);
        assert_eq!(
            diags[0]["range"]["start"],
            json!({"line": 0, "character": 9})
        );
        // Saving re-analyses; closing clears.
        c.notify(
            "textDocument/didSave",
            json!({"textDocument": {"uri": uri}}),
        );
        assert_eq!(c.diagnostics_for(uri).len(), 1);
        c.notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": uri}}),
        );
        assert!(c.diagnostics_for(uri).is_empty());
    });
}
