//! `looplint server` against broken and hostile clients, over real pipes: every frame problem
//! (a length too large to hold, one that is no number, no length, a body that is not JSON or not
//! a JSON-RPC message, a header line without end) is answered with a JSON-RPC error and the
//! server goes on serving; deep documents and a FIFO manifest above a document do not take it
//! down or hang it.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

#[path = "support/lsp_client.rs"]
mod lsp_client;

use lsp_client::Client;

impl Client {
    /// Starts and initializes the server in `dir`, its standard error discarded.
    fn start(dir: &Path) -> Client {
        let mut c = Client::spawn(dir, Stdio::null());
        c.initialize(dir, json!({}), Value::Null);
        c
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
    // Closure heads that are runs of `<`: parsed with the stack they need (a syntax error),
    // or past the limit (a note); the server goes on.
    for (n, code) in [(6_783, "syntax-error"), (100_000, "analysis-limit")] {
        let run_rs = format!("fn f() {{ x.map(|{}| 1); }}", "<".repeat(n));
        let run_uri = format!("file://{}/src/run{n}.rs", project.display());
        c.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": run_uri, "languageId": "rust", "version": 1,
                   "text": run_rs}}),
        );
        let diags = c.diagnostics_for(&run_uri);
        assert!(diags.iter().any(|d| d["code"] == code), "{diags:?}");
    }
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
