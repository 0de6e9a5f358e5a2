//! `looplint server` against broken and hostile clients, over real pipes: every frame problem
//! (a length too large to hold, one that is no number, no length, a body that is not JSON or not
//! a JSON-RPC message, a header line without end) is answered with a JSON-RPC error and the
//! server goes on serving; deep documents and a FIFO manifest above a document do not take it
//! down or hang it.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

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
            .stderr(Stdio::null())
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
        let mut c = Client {
            child,
            stdin,
            messages: rx,
            next_id: 1,
        };
        let uri = format!("file://{}", dir.display());
        c.request(
            "initialize",
            json!({"processId": null, "rootUri": uri, "capabilities": {}}),
        );
        c.notify("initialized", json!({}));
        c
    }

    fn raw(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).unwrap();
        self.stdin.flush().unwrap();
    }

    fn send(&mut self, v: Value) {
        let body = v.to_string();
        self.raw(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
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

    fn recv(&self) -> Value {
        self.messages
            .recv_timeout(Duration::from_secs(120))
            .expect("the server answers")
    }

    /// The next error response (an answer to a broken frame).
    fn error(&self) -> Value {
        loop {
            let m = self.recv();
            if m.get("error").is_some() {
                return m;
            }
        }
    }

    /// A request still gets its answer: the server is alive and reading in step.
    fn still_serving(&mut self) {
        let r = self.request("looplint/unknown", json!({}));
        assert_eq!(r["error"]["code"], -32601, "{r}");
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

    fn finish(mut self) {
        let resp = self.request("shutdown", Value::Null);
        assert!(resp.get("error").is_none(), "{resp}");
        self.notify("exit", Value::Null);
        assert!(self.child.wait().unwrap().success());
    }
}

#[test]
fn malformed_frames_get_errors_and_the_server_reads_on() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = Client::start(tmp.path());
    // A body that is not JSON.
    c.raw(b"Content-Length: 9\r\n\r\n{not json");
    assert_eq!(c.error()["error"]["code"], -32700);
    c.still_serving();
    // JSON that is no JSON-RPC message: the error carries its id.
    c.raw(b"Content-Length: 22\r\n\r\n{\"id\": 7, \"foo\": true}");
    let e = c.error();
    assert_eq!(e["error"]["code"], -32600);
    assert_eq!(e["id"], 7);
    c.still_serving();
    // A length that is no number, then a frame without a length.
    c.raw(b"Content-Length: lots\r\n\r\n");
    assert_eq!(c.error()["error"]["code"], -32700);
    c.raw(b"Content-Type: application/json\r\n\r\n");
    assert_eq!(c.error()["error"]["code"], -32700);
    c.still_serving();
    // A header line with no end in sight (1 MB) is read through, never held.
    let mut long = vec![b'x'; 1 << 20];
    long.extend_from_slice(b"\r\n\r\n");
    c.raw(&long);
    assert!(c.error().get("error").is_some());
    c.still_serving();
    // A body over the frame limit is read through and dropped.
    let size = (64 << 20) + 1;
    c.raw(format!("Content-Length: {size}\r\n\r\n").as_bytes());
    let chunk = vec![b' '; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len());
        c.raw(&chunk[..n]);
        left -= n;
    }
    let e = c.error();
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("too large"),
        "{e}"
    );
    c.still_serving();
    c.finish();
}

#[test]
fn an_impossible_length_is_refused_without_allocating() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = Client::start(tmp.path());
    c.raw(b"Content-Length: 99999999999999\r\n\r\n{}");
    // The rest of the input belongs to that body: the server answers, then reads it through
    // until the client hangs up, and ends cleanly.
    let e = c.error();
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("too large"),
        "{e}"
    );
    drop(c.stdin);
    let status = c.child.wait().unwrap();
    assert!(status.code().is_some(), "killed by a signal: {status:?}");
}

#[test]
fn deep_documents_and_special_manifests_do_not_stop_the_server() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().canonicalize().unwrap();
    let project = dir.join("app");
    std::fs::create_dir_all(project.join("src")).unwrap();
    // A FIFO manifest above the documents: reading it would wait for a writer forever.
    #[cfg(unix)]
    {
        let status = Command::new("mkfifo")
            .arg(dir.join("Cargo.toml"))
            .status()
            .unwrap();
        assert!(status.success());
    }
    let mut c = Client::start(&project);
    let deep_py = format!("x = {}1{}\n", "[".repeat(40_000), "]".repeat(40_000));
    let py_uri = format!("file://{}/src/deep.py", project.display());
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": py_uri, "languageId": "python", "version": 1,
               "text": deep_py}}),
    );
    let diags = c.diagnostics_for(&py_uri);
    assert!(
        diags.iter().all(|d| d["code"] == "analysis-limit"),
        "{diags:?}"
    );
    let deep_rs = format!("fn f() {{ let c = {}1; }}\n", "|| ".repeat(1_000));
    let rs_uri = format!("file://{}/src/deep.rs", project.display());
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": rs_uri, "languageId": "rust", "version": 1,
               "text": deep_rs}}),
    );
    c.diagnostics_for(&rs_uri);
    // A finding in an ordinary document is still published.
    let ok_uri = format!("file://{}/src/tick.py", project.display());
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": ok_uri, "languageId": "python", "version": 1,
               "text": "import time\n\n\nasync def tick():\n    time.sleep(1)\n"}}),
    );
    let diags = c.diagnostics_for(&ok_uri);
    assert!(
        diags.iter().any(|d| d["code"] == "blocking-call-in-async"),
        "{diags:?}"
    );
    c.still_serving();
    c.finish();
}
