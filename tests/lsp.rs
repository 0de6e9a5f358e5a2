//! `looplint server` tested as an editor uses it: the binary is spawned and spoken to in JSON-RPC
//! over its pipes (initialize, didOpen, publishDiagnostics, didChange, shutdown, exit).
//!
//! The Rust session edits a real `nested-block-on` bug away; the UTF-16 session uses a Python
//! suppression comment that silences nothing (`unused-suppression`) next to a non-ASCII character.

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

const BUGGY: &str = "fn fetch() -> u32 {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async { 1 })
}

#[tokio::main]
async fn main() {
    println!(\"{}\", fetch());
}
";

const FIXED: &str = "async fn fetch() -> u32 {
    1
}

#[tokio::main]
async fn main() {
    println!(\"{}\", fetch().await);
}
";

#[test]
fn diagnostics_follow_the_buffer() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().canonicalize().unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    // On disk the file is fixed; the editor's buffer is not.
    std::fs::write(dir.join("src/main.rs"), FIXED).unwrap();
    let uri = format!("file://{}/src/main.rs", dir.display());
    let mut c = Client::start(&dir);
    let init = c.request(
        "initialize",
        json!({"processId": null, "rootUri": format!("file://{}", dir.display()),
               "capabilities": {"general": {"positionEncodings": ["utf-8", "utf-16"]}}}),
    );
    assert_eq!(init["result"]["capabilities"]["positionEncoding"], "utf-8");
    c.notify("initialized", json!({}));
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "rust", "version": 1, "text": BUGGY}}),
    );
    let diags = c.diagnostics_for(&uri);
    assert_eq!(diags.len(), 1, "{diags:?}");
    let d = &diags[0];
    assert_eq!(d["code"], "nested-block-on");
    assert_eq!(d["source"], "looplint");
    assert_eq!(d["severity"], 1);
    assert_eq!(
        d["range"],
        json!({"start": {"line": 2, "character": 7}, "end": {"line": 2, "character": 15}})
    );
    // The rule docs are published nowhere this project names: no dead link.
    assert!(d.get("codeDescription").is_none(), "{d}");
    let related = d["relatedInformation"].as_array().unwrap();
    assert!(related.iter().any(|r| r["location"]["uri"] == uri
        && r["location"]["range"]["start"]["line"] == 7
        && r["message"].as_str().unwrap().contains("fetch")));

    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": FIXED}]}),
    );
    assert!(c.diagnostics_for(&uri).is_empty());

    // Unknown requests get an error, not silence.
    let r = c.request("textDocument/hover", json!({}));
    assert_eq!(r["error"]["code"], -32601);

    let resp = c.request("shutdown", Value::Null);
    assert!(resp.get("error").is_none(), "{resp}");
    c.notify("exit", Value::Null);
    assert!(c.child.wait().unwrap().success());
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

#[test]
fn rule_links_follow_the_configured_docs_url() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().canonicalize().unwrap();
    std::fs::write(
        dir.join(".looplint.toml"),
        "rule-docs-url = \"https://docs.example.org/looplint/{rule}.html\"\n",
    )
    .unwrap();
    std::fs::write(dir.join("app.py"), "x = 1\n").unwrap();
    let uri = format!("file://{}/app.py", dir.display());
    let mut c = Client::start(&dir);
    c.request(
        "initialize",
        json!({"processId": null, "rootUri": format!("file://{}", dir.display()), "capabilities": {}}),
    );
    c.notify("initialized", json!({}));
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1,
               "text": "x = 1  # looplint: ignore[nested-block-on]\n"}}),
    );
    let diags = c.diagnostics_for(&uri);
    assert_eq!(
        diags[0]["codeDescription"]["href"],
        "https://docs.example.org/looplint/unused-suppression.html"
    );
    c.request("shutdown", Value::Null);
    c.notify("exit", Value::Null);
    assert!(c.child.wait().unwrap().success());
}
