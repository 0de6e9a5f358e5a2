//! The language server's transport: LSP frames (`Content-Length` headers, then a JSON body) over
//! standard input and output, read with limits.
//!
//! Whatever a client sends, the server keeps serving: a header line or a frame larger than the
//! limits is never held in memory (an oversized body is read through and dropped), and a frame
//! that is malformed (no length, a length that is not a number, a body that is not JSON or not
//! a JSON-RPC message) is answered with a JSON-RPC error, as the specification asks, before
//! reading on. Only the end of the input or an `exit` notification ends the reading.

use std::io::{self, BufRead, Read, Write};
use std::sync::{Arc, Mutex};
use std::thread;

use crossbeam_channel::{Sender, bounded};
use lsp_server::{Connection, Message};

/// The largest frame body read (a whole document is sent on every change).
pub const MAX_FRAME: usize = 64 << 20;
/// The largest header line.
const MAX_HEADER_LINE: usize = 8 << 10;
/// The most header lines of one frame.
const MAX_HEADERS: usize = 32;

/// JSON-RPC: the body is not JSON.
const PARSE_ERROR: i32 = -32700;
/// JSON-RPC: the body is JSON but not a request, response or notification.
const INVALID_REQUEST: i32 = -32600;

/// The threads behind a [`Connection`] made by [`stdio`].
pub struct IoThreads {
    reader: thread::JoinHandle<io::Result<()>>,
    writer: thread::JoinHandle<io::Result<()>>,
}

impl IoThreads {
    /// Waits for both threads (the writer ends once every sender is dropped).
    pub fn join(self) -> io::Result<()> {
        let reader = self
            .reader
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the reader panicked")));
        let writer = self
            .writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the writer panicked")));
        reader.and(writer)
    }
}

/// A connection over standard input and output.
pub fn stdio() -> (Connection, IoThreads) {
    let out: Arc<Mutex<Box<dyn Write + Send>>> = Arc::new(Mutex::new(Box::new(io::stdout())));
    let (connection, reader, writer) = transport(io::BufReader::new(io::stdin()), out);
    let reader = thread::Builder::new()
        .name("lsp-reader".into())
        .spawn(reader)
        .expect("the reader thread starts");
    let writer = thread::Builder::new()
        .name("lsp-writer".into())
        .spawn(writer)
        .expect("the writer thread starts");
    (connection, IoThreads { reader, writer })
}

type Job = Box<dyn FnOnce() -> io::Result<()> + Send>;

/// A connection over `input` and `output`, and the reading and writing loops to run.
fn transport(
    input: impl BufRead + Send + 'static,
    output: Arc<Mutex<Box<dyn Write + Send>>>,
) -> (Connection, Job, Job) {
    let (to_client, outgoing) = bounded::<Message>(0);
    let (incoming, from_client) = bounded::<Message>(0);
    let writer_out = output.clone();
    let writer: Job = Box::new(move || {
        for msg in outgoing {
            let mut out = writer_out.lock().unwrap_or_else(|e| e.into_inner());
            msg.write(&mut *out)?;
        }
        Ok(())
    });
    let reader: Job = Box::new(move || read_loop(input, &incoming, &output));
    (
        Connection {
            sender: to_client,
            receiver: from_client,
        },
        reader,
        writer,
    )
}

/// What a frame turned out to be.
enum Frame {
    /// A body within the limits.
    Body(Vec<u8>),
    /// A problem with the frame, answered with this error code and message.
    Bad(i32, String),
    /// A body over [`MAX_FRAME`] bytes: answered at once, then read through and dropped.
    TooLarge(u64),
}

fn read_loop(
    mut input: impl BufRead,
    incoming: &Sender<Message>,
    output: &Mutex<Box<dyn Write + Send>>,
) -> io::Result<()> {
    loop {
        let frame = match read_frame(&mut input)? {
            None => return Ok(()),
            Some(frame) => frame,
        };
        let msg = match frame {
            Frame::Body(body) => match parse(&body) {
                Ok(msg) => msg,
                Err((code, message)) => {
                    answer_error(output, &body, code, &message)?;
                    continue;
                }
            },
            Frame::Bad(code, message) => {
                answer_error(output, &[], code, &message)?;
                continue;
            }
            Frame::TooLarge(length) => {
                let message =
                    format!("the message is too large ({length} bytes; the limit is {MAX_FRAME})");
                answer_error(output, &[], INVALID_REQUEST, &message)?;
                // The body is read through, never held: the next frame starts after it.
                io::copy(&mut input.by_ref().take(length), &mut io::sink())?;
                continue;
            }
        };
        let is_exit = matches!(&msg, Message::Notification(n) if n.method == "exit");
        if incoming.send(msg).is_err() || is_exit {
            return Ok(());
        }
    }
}

/// Parses a frame body into a message.
fn parse(body: &[u8]) -> Result<Message, (i32, String)> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| (PARSE_ERROR, format!("the message is not JSON: {e}")))?;
    serde_json::from_value(value).map_err(|_| {
        (
            INVALID_REQUEST,
            "the message is not a JSON-RPC request, response or notification".to_string(),
        )
    })
}

/// Writes a JSON-RPC error response. Its id is the request's when the body names one, else
/// null (the specification's answer when the id cannot be read).
fn answer_error(
    output: &Mutex<Box<dyn Write + Send>>,
    body: &[u8],
    code: i32,
    message: &str,
) -> io::Result<()> {
    let id = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("id").cloned())
        .filter(|id| id.is_string() || id.is_number())
        .unwrap_or(serde_json::Value::Null);
    let text = serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": { "code": code, "message": message },
    })
    .to_string();
    let mut out = output.lock().unwrap_or_else(|e| e.into_inner());
    write!(out, "Content-Length: {}\r\n\r\n{text}", text.len())?;
    out.flush()
}

/// Reads one header line of at most [`MAX_HEADER_LINE`] bytes; a longer one is read through
/// and reported as `Err(())`. `Ok(None)` at the end of the input.
fn read_header_line(input: &mut impl BufRead) -> io::Result<Option<Result<String, ()>>> {
    let mut line = Vec::new();
    let mut too_long = false;
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(if line.is_empty() && !too_long {
                None
            } else {
                Some(finish_line(line, too_long))
            });
        }
        let (chunk, done) = match memchr::memchr(b'\n', buf) {
            Some(at) => (&buf[..=at], true),
            None => (buf, false),
        };
        let n = chunk.len();
        if line.len() + n > MAX_HEADER_LINE {
            too_long = true;
        } else {
            line.extend_from_slice(chunk);
        }
        input.consume(n);
        if done {
            return Ok(Some(finish_line(line, too_long)));
        }
    }
}

fn finish_line(line: Vec<u8>, too_long: bool) -> Result<String, ()> {
    if too_long {
        return Err(());
    }
    String::from_utf8(line)
        .map(|l| l.trim_end_matches(['\r', '\n']).to_string())
        .map_err(|_| ())
}

/// Reads the next frame: its headers, then its body (read through and dropped when it is over
/// [`MAX_FRAME`]). `Ok(None)` at the end of the input.
fn read_frame(input: &mut impl BufRead) -> io::Result<Option<Frame>> {
    let mut length: Option<Result<u64, String>> = None;
    let mut bad_header: Option<String> = None;
    let mut lines = 0;
    loop {
        let Some(line) = read_header_line(input)? else {
            return Ok(None);
        };
        let line = match line {
            Ok(line) => line,
            Err(()) => {
                lines += 1;
                bad_header.get_or_insert_with(|| "a header line is too long or not text".into());
                continue;
            }
        };
        if line.is_empty() {
            if lines == 0 {
                // Blank lines between frames are tolerated.
                continue;
            }
            break;
        }
        lines += 1;
        if lines > MAX_HEADERS {
            bad_header.get_or_insert_with(|| "too many header lines".into());
            continue;
        }
        match line.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                let value = value.trim();
                length = Some(
                    value
                        .parse::<u64>()
                        .map_err(|_| format!("`Content-Length: {value}` is not a length")),
                );
            }
            Some(_) => {}
            None => {
                bad_header.get_or_insert_with(|| format!("malformed header line `{line}`"));
            }
        }
    }
    let length = match length {
        Some(Ok(n)) => n,
        Some(Err(message)) => return Ok(Some(Frame::Bad(PARSE_ERROR, message))),
        None => {
            let message = bad_header.unwrap_or_else(|| "a frame has no Content-Length".into());
            return Ok(Some(Frame::Bad(PARSE_ERROR, message)));
        }
    };
    if length > MAX_FRAME as u64 {
        return Ok(Some(Frame::TooLarge(length)));
    }
    let mut body = Vec::new();
    input.by_ref().take(length).read_to_end(&mut body)?;
    if (body.len() as u64) < length {
        // The input ended inside the body.
        return Ok(None);
    }
    if let Some(message) = bad_header {
        return Ok(Some(Frame::Bad(PARSE_ERROR, message)));
    }
    Ok(Some(Frame::Body(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &[u8]) -> Vec<Result<String, (i32, String)>> {
        let mut r = io::BufReader::new(input);
        let mut out = Vec::new();
        while let Some(f) = read_frame(&mut r).unwrap() {
            out.push(match f {
                Frame::Body(b) => Ok(String::from_utf8(b).unwrap()),
                Frame::Bad(code, m) => Err((code, m)),
                Frame::TooLarge(n) => {
                    io::copy(&mut r.by_ref().take(n), &mut io::sink()).unwrap();
                    Err((INVALID_REQUEST, "too large".into()))
                }
            });
        }
        out
    }

    #[test]
    fn frames_are_read_within_limits() {
        let ok = b"Content-Length: 2\r\n\r\n{}";
        assert_eq!(frames(ok), vec![Ok("{}".to_string())]);
        let mut input = b"Content-Length: 99999999999999\r\n\r\nxyz".to_vec();
        input.extend_from_slice(ok);
        let got = frames(&input);
        assert_eq!(got.len(), 1, "the huge body swallows the rest: {got:?}");
        assert!(matches!(&got[0], Err((INVALID_REQUEST, m)) if m.contains("too large")));
        let mut input = b"Content-Length: abc\r\n\r\n".to_vec();
        input.extend_from_slice(ok);
        let got = frames(&input);
        assert!(matches!(&got[0], Err((PARSE_ERROR, _))));
        assert_eq!(got[1], Ok("{}".to_string()));
        let mut input = vec![b'x'; 100_000];
        input.extend_from_slice(b"\r\n\r\n");
        input.extend_from_slice(ok);
        let got = frames(&input);
        assert!(got[0].is_err());
        assert_eq!(got[1], Ok("{}".to_string()));
    }

    #[test]
    fn bodies_that_are_not_messages_are_errors() {
        assert_eq!(parse(b"{not json").unwrap_err().0, PARSE_ERROR);
        assert_eq!(parse(b"[1,2]").unwrap_err().0, INVALID_REQUEST);
        assert!(parse(br#"{"jsonrpc":"2.0","method":"exit"}"#).is_ok());
    }
}
