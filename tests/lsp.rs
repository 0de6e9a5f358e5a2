//! `looplint server` tested as an editor uses it: the binary is spawned and spoken to in JSON-RPC
//! over its pipes (initialize, didOpen, publishDiagnostics, didChange, shutdown, exit).
//!
//! The Rust session edits a real `nested-block-on` bug away; the UTF-16 session uses a Python
//! suppression comment that silences nothing (`unused-suppression`) next to a non-ASCII character.

use std::path::Path;
use std::process::Stdio;

use serde_json::{Value, json};

#[path = "support/lsp_client.rs"]
mod lsp_client;

use lsp_client::Client;

impl Client {
    /// Starts the server in `dir`, its standard error shown with the test's output.
    fn start(dir: &Path) -> Client {
        Client::spawn(dir, Stdio::inherit())
    }

    /// Initializes without position encodings, with these `initializationOptions`; the server
    /// offers hover and code actions.
    fn init_with(&mut self, dir: &Path, options: Value) {
        let caps = self.initialize(dir, json!({}), options);
        assert_eq!(caps["hoverProvider"], true, "{caps}");
        assert!(caps["codeActionProvider"].is_object(), "{caps}");
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
    let r = c.request("textDocument/definition", json!({}));
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

/// Applies the single text edit of a code action (positions in UTF-16 units; ASCII here).
fn apply(text: &str, action: &Value, uri: &str) -> String {
    let edits = action["edit"]["changes"][uri].as_array().unwrap();
    assert_eq!(edits.len(), 1, "{action}");
    let e = &edits[0];
    let (line, ch) = (
        e["range"]["start"]["line"].as_u64().unwrap() as usize,
        e["range"]["start"]["character"].as_u64().unwrap() as usize,
    );
    assert_eq!(e["range"]["start"], e["range"]["end"], "an insertion");
    let offset = text
        .split_inclusive('\n')
        .take(line)
        .map(str::len)
        .sum::<usize>()
        + ch;
    format!(
        "{}{}{}",
        &text[..offset],
        e["newText"].as_str().unwrap(),
        &text[offset..]
    )
}

fn scratch(files: &[(&str, &str)]) -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().canonicalize().unwrap();
    for (name, text) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    (tmp, dir)
}

const NESTED_PY: &str =
    "import asyncio\n\n\nasync def main():\n    x = 1\n    asyncio.run(asyncio.sleep(x))\n";

#[test]
fn hover_and_code_actions_suppress_and_explain() {
    let (_tmp, dir) = scratch(&[("pyproject.toml", "[project]\nname = \"app\"\n")]);
    let uri = format!("file://{}/app.py", dir.display());
    let mut c = Client::start(&dir);
    c.init_with(&dir, Value::Null);
    c.open(&uri, "python", NESTED_PY);
    let diags = c.diagnostics_for(&uri);
    assert_eq!(diags.len(), 1, "{diags:?}");
    let d = diags[0].clone();
    assert_eq!(d["code"], "nested-block-on");

    // Hover: the rule's summary and the fix.
    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": d["range"]["start"]}),
    );
    let text = hover["result"]["contents"]["value"].as_str().unwrap();
    assert!(text.contains("`nested-block-on` (LL002)"), "{text}");
    assert!(text.contains("is reached from async code"), "{text}");
    assert!(text.contains("**Fix:**"), "{text}");
    let nothing = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(nothing["result"], Value::Null);

    // Code actions: each suppression, applied as an editor applies it, silences the finding.
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": d["range"],
               "context": {"diagnostics": [d]}}),
    )["result"]
        .as_array()
        .unwrap()
        .clone();
    let titles: Vec<&str> = actions
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "Suppress `nested-block-on` on this line",
            "Suppress `nested-block-on` with `# noqa: LL002`",
            "Suppress `nested-block-on` in function `main`",
            "Open the documentation of `nested-block-on`",
        ]
    );
    let mut version = 1;
    for action in &actions[..3] {
        let edited = apply(NESTED_PY, action, &uri);
        version += 1;
        c.change(&uri, version, &edited);
        assert_eq!(c.diagnostics_for(&uri), Vec::<Value>::new(), "{edited}");
        version += 1;
        c.change(&uri, version, NESTED_PY);
        assert_eq!(c.diagnostics_for(&uri).len(), 1);
    }
    let function = apply(NESTED_PY, &actions[2], &uri);
    assert!(function.contains("\n# looplint: ignore[nested-block-on]\nasync def main():"));

    // Opening the doc: the server asks the editor to show it (a Markdown file, since the docs
    // are published nowhere this project names).
    let command = &actions[3]["command"];
    let (resp, before) = c.request_seeing(
        "workspace/executeCommand",
        json!({"command": command["command"], "arguments": command["arguments"]}),
    );
    assert!(resp.get("error").is_none(), "{resp}");
    let show = before
        .iter()
        .find(|m| m["method"] == "window/showDocument")
        .expect("the server asks to show the doc");
    let path = show["params"]["uri"]
        .as_str()
        .unwrap()
        .strip_prefix("file://")
        .unwrap();
    let doc = std::fs::read_to_string(path).unwrap();
    assert!(doc.contains("## What it does"));
    c.finish();
}

#[test]
fn rust_suppression_for_the_whole_function() {
    let (_tmp, dir) = scratch(&[(
        "Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )]);
    let uri = format!("file://{}/src/main.rs", dir.display());
    let mut c = Client::start(&dir);
    c.init_with(&dir, Value::Null);
    c.open(&uri, "rust", BUGGY);
    let d = c.diagnostics_for(&uri)[0].clone();
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": d["range"], "context": {"diagnostics": []}}),
    )["result"]
        .as_array()
        .unwrap()
        .clone();
    let function = actions
        .iter()
        .find(|a| a["title"] == "Suppress `nested-block-on` in function `fetch`")
        .expect("a whole-function suppression");
    let edited = apply(BUGGY, function, &uri);
    assert!(edited.starts_with("// looplint: ignore[nested-block-on]\nfn fetch()"));
    c.change(&uri, 2, &edited);
    assert!(c.diagnostics_for(&uri).is_empty());
    let line = &actions[0];
    assert_eq!(line["title"], "Suppress `nested-block-on` on this line");
    c.change(&uri, 3, &apply(BUGGY, line, &uri));
    assert!(c.diagnostics_for(&uri).is_empty());
    c.finish();
}

#[test]
fn settings_from_initialization_options_and_configuration_changes() {
    let blocking = "import time\n\n\nasync def test_pause():\n    time.sleep(1)\n";
    let (_tmp, dir) = scratch(&[("pyproject.toml", "[project]\nname = \"app\"\n")]);
    let app = format!("file://{}/app.py", dir.display());
    let test = format!("file://{}/tests/test_app.py", dir.display());
    let mut c = Client::start(&dir);
    c.init_with(&dir, json!({"ignore": ["nested-block-on"]}));
    c.open(&app, "python", NESTED_PY);
    assert!(
        c.diagnostics_for(&app).is_empty(),
        "ignored by the settings"
    );
    c.open(&test, "python", blocking);
    assert!(
        c.diagnostics_for(&test).is_empty(),
        "a warning in test code"
    );
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"looplint": {"allTargets": true}}}),
    );
    // Both documents are analysed again with the new settings.
    c.wait_for_counts(&[(&app, 1), (&test, 1)]);
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"looplint": {"select": "LL101", "allTargets": true}}}),
    );
    c.wait_for_counts(&[(&app, 0), (&test, 1)]);
    c.finish();
}

#[test]
fn analysis_runs_off_the_message_loop_and_stale_results_are_dropped() {
    // A project of a few thousand files: its analysis takes a while.
    let (_tmp, dir) = big_project(2500);
    let uri = format!("file://{}/app.py", dir.display());
    let mut c = Client::start(&dir);
    c.init_with(&dir, Value::Null);
    c.open(&uri, "python", NESTED_PY);
    // The server answers while the project is analysed.
    let (resp, before) = c.request_seeing(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 5, "character": 4}}),
    );
    assert!(resp.get("error").is_none(), "{resp}");
    assert!(
        !before
            .iter()
            .any(|m| m["method"] == "textDocument/publishDiagnostics"),
        "the answer came before the analysis finished"
    );
    // A newer edit makes the running analysis stale: its result is never published after the
    // fresh one, and the document ends clean.
    c.change(&uri, 2, "async def main():\n    pass\n");
    // A result of the first text may come before the fresh one, never after it (the hover
    // below sees the fresh diagnostics).
    loop {
        let m = c.recv();
        if m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == uri
            && m["params"]["diagnostics"].as_array().unwrap().is_empty()
        {
            break;
        }
    }
    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 5, "character": 4}}),
    );
    assert_eq!(hover["result"], Value::Null);
    c.finish();
}

/// A Python project of `files` independent modules (25 folders), whose analysis takes a while.
fn big_project(files: usize) -> (tempfile::TempDir, std::path::PathBuf) {
    let (tmp, dir) = scratch(&[("pyproject.toml", "[project]\nname = \"big\"\n")]);
    for i in 0..files {
        let p = dir.join(format!("pkg{}/m{i}.py", i % 25));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(
            p,
            format!("import asyncio\n\n\nasync def f{i}(x):\n    await asyncio.sleep(x)\n    return x + {i}\n"),
        )
        .unwrap();
    }
    (tmp, dir)
}

#[test]
fn a_burst_of_edits_publishes_the_last_version_only() {
    let (_tmp, dir) = big_project(1000);
    let uri = format!("file://{}/app.py", dir.display());
    let mut c = Client::start(&dir);
    c.init_with(&dir, Value::Null);
    c.open(&uri, "python", NESTED_PY);
    // The analysis of version 1 is under way.
    loop {
        let m = c.recv();
        if m["method"] == "window/logMessage"
            && m["params"]["message"]
                .as_str()
                .unwrap()
                .starts_with("looplint: analysing")
        {
            break;
        }
    }
    // A burst of edits, as typing makes them; only the last text matters.
    let last = "import time\n\n\nasync def tick():\n    time.sleep(1)\n";
    for version in 2..=6 {
        let text = if version % 2 == 0 {
            "async def main():\n    pass\n"
        } else {
            NESTED_PY
        };
        c.change(&uri, version, text);
    }
    c.change(&uri, 7, last);
    // Every publication for the document is of version 7, and the running analysis of version
    // 1 was stopped rather than finished and dropped.
    let mut stopped = None;
    let diagnostics = loop {
        let m = c.recv();
        if m["method"] == "window/logMessage"
            && let Some(line) = m["params"]["message"].as_str()
            && line.contains("stopped a stale analysis")
        {
            stopped = Some(unread_files(line));
        }
        if m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri {
            assert_eq!(
                m["params"]["version"], 7,
                "a stale version was published: {m}"
            );
            break m["params"]["diagnostics"].as_array().unwrap().clone();
        }
    };
    // It stopped while lowering the project's files, not only before analysing them.
    let (unread, files) = stopped.expect("the analysis of version 1 ran to its end");
    assert!(
        unread > 0 && files >= 1000,
        "{unread} of {files} files left unread"
    );
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0]["code"], "blocking-call-in-async");
    assert_eq!(diagnostics[0]["range"]["start"]["line"], 4);
    // Nothing older follows it.
    let hover = json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}});
    let (_, before) = c.request_seeing("textDocument/hover", hover);
    for m in &before {
        if m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri {
            assert_eq!(m["params"]["version"], 7, "{m}");
        }
    }
    c.finish();
}

/// The files a stopped analysis left unread, and the files of its project, from its log line
/// (`...; 12 of 1003 files left unread)`).
fn unread_files(line: &str) -> (usize, usize) {
    let tail = line.rsplit_once("; ").expect(line).1;
    let mut words = tail.split(' ');
    let unread = words.next().and_then(|w| w.parse().ok()).expect(line);
    let files = words.nth(1).and_then(|w| w.parse().ok()).expect(line);
    (unread, files)
}
