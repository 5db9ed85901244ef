//! Fetching profiles from `net/http/pprof` endpoints: timeouts, headers,
//! redirects, size limits, and errors that say what went wrong in terms a
//! person running it against production can act on.

use std::error::Error as _;
use std::fmt;
use std::io::{self, Read};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, Response};
use reqwest::redirect::Policy;

use crate::error::Error;
use crate::source::Target;

/// Time allowed to open a connection, independent of the total timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Redirects followed before giving up.
const MAX_REDIRECTS: usize = 10;

/// How to fetch: shared by every URL of a run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FetchOptions {
    /// Total time per request; `None`: the target's own default.
    pub timeout: Option<Duration>,
    /// Extra request headers (`-H 'Authorization: Bearer …'`).
    pub headers: Vec<Header>,
}

/// A request header whose value never appears in messages or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: String,
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: <hidden>", self.name)
    }
}

impl std::str::FromStr for Header {
    type Err = String;

    /// Parses `Name: value`.
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, value) = s
            .split_once(':')
            .ok_or_else(|| "expected 'Name: value'".to_owned())?;
        let name = name.trim();
        reqwest::header::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("{name:?} is not a valid header name"))?;
        let value = value.trim();
        reqwest::header::HeaderValue::from_str(value)
            .map_err(|_| format!("the value of {name} is not a valid header value"))?;
        Ok(Header {
            name: name.to_owned(),
            value: value.to_owned(),
        })
    }
}

/// Fetches `target`, returning the body as received.
pub fn fetch(target: &Target, options: &FetchOptions, max_size: u64) -> Result<Vec<u8>, Error> {
    let timeout = options.timeout.unwrap_or_else(|| target.default_timeout());
    let fail = |reason: String| Error::Fetch {
        url: target.display(),
        reason,
    };
    let client = client(target, options, timeout).map_err(|e| fail(e.to_string()))?;
    let started = Instant::now();
    let mut request = client.get(target.url.clone());
    for header in &options.headers {
        request = request.header(&header.name, &header.value);
    }
    let response = request
        .send()
        .map_err(|e| fail(describe(&e, timeout, target)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(fail(status_message(response)));
    }
    read_body(response, max_size, started + timeout).map_err(|e| {
        // reqwest reports a body cut by the total timeout as a plain body
        // error; the clock says which it was.
        if io_timeout(&e.0) || started.elapsed() >= timeout {
            fail(timeout_message(timeout))
        } else {
            fail(e.1)
        }
    })
}

fn client(target: &Target, options: &FetchOptions, timeout: Duration) -> reqwest::Result<Client> {
    let guard_headers = !options.headers.is_empty();
    let origin = target.url.origin();
    let policy = Policy::custom(move |attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS {
            return attempt.error(RedirectLoop);
        }
        if guard_headers && attempt.url().origin() != origin {
            // Credentials given with -H are for the origin the user named:
            // scheme, host and port. The target is named without its own.
            let mut to = attempt.url().clone();
            let _ = to.set_username("");
            let _ = to.set_password(None);
            return attempt.error(CrossHostRedirect(to.to_string()));
        }
        attempt.follow()
    });
    Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(timeout)
        .redirect(policy)
        .user_agent(concat!("torch/", env!("CARGO_PKG_VERSION")))
        .danger_accept_invalid_certs(target.insecure)
        .build()
}

#[derive(Debug)]
struct RedirectLoop;

impl fmt::Display for RedirectLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "more than {MAX_REDIRECTS} redirects (a redirect loop?)")
    }
}

impl std::error::Error for RedirectLoop {}

#[derive(Debug)]
struct CrossHostRedirect(String);

impl fmt::Display for CrossHostRedirect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "redirected to another host ({}); not sending your -H headers there",
            self.0
        )
    }
}

impl std::error::Error for CrossHostRedirect {}

/// Reads at most `max_size` bytes of body. A failure comes with the I/O
/// error (to tell a timeout) and the message to show otherwise.
///
/// The whole exchange has one deadline: a server that sends a byte now and
/// then would otherwise keep every single read within the timeout forever.
fn read_body(
    response: Response,
    max_size: u64,
    deadline: Instant,
) -> Result<Vec<u8>, (io::Error, String)> {
    let expected = response.content_length();
    let mut body = Vec::new();
    let mut reader = response.take(max_size.saturating_add(1));
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        if Instant::now() >= deadline {
            let e = io::Error::new(io::ErrorKind::TimedOut, "the deadline passed");
            let message = format!("timed out after {} bytes of the response", body.len());
            return Err((e, message));
        }
        match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(read) => body.extend_from_slice(&chunk[..read]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                let message = format!("the response was cut off after {} bytes ({e})", body.len());
                return Err((e, message));
            }
        }
    }
    let problem = if body.len() as u64 > max_size {
        format!("the response is larger than the {max_size}-byte limit (--max-size)")
    } else {
        match expected {
            Some(length) if length != body.len() as u64 => format!(
                "the response was cut off after {} of {length} bytes",
                body.len()
            ),
            _ => return Ok(body),
        }
    };
    Err((io::Error::other(problem.clone()), problem))
}

fn io_timeout(e: &io::Error) -> bool {
    if e.kind() == io::ErrorKind::TimedOut {
        return true;
    }
    let mut cause: Option<&dyn std::error::Error> = e.get_ref().map(|inner| inner as _);
    while let Some(error) = cause {
        if let Some(reqwest_error) = error.downcast_ref::<reqwest::Error>() {
            if reqwest_error.is_timeout() {
                return true;
            }
        }
        cause = error.source();
    }
    false
}

/// A non-2xx answer. Go's pprof handlers mark their own errors with
/// `X-Go-Pprof` and explain them in the body ("Unknown profile").
fn status_message(response: Response) -> String {
    let status = response.status();
    let from_pprof = response.headers().contains_key("x-go-pprof");
    let mut text = String::new();
    let _ = response.take(4096).read_to_string(&mut text);
    let detail = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let code = format!("HTTP {status}");
    match (from_pprof, status.as_u16()) {
        (true, _) if !detail.is_empty() => format!("{code}: {}", shorten(detail)),
        (false, 404) => format!("{code} (is net/http/pprof imported, and is the path right?)"),
        _ => code,
    }
}

fn shorten(text: &str) -> String {
    const LIMIT: usize = 200;
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn timeout_message(timeout: Duration) -> String {
    format!(
        "timed out after {} s (wait longer with --timeout SECONDS)",
        timeout.as_secs_f64()
    )
}

/// Whether a failed TLS handshake met a plain-HTTP server: its answer is
/// not a TLS record at all.
fn speaks_plain_http(chain: &str) -> bool {
    [
        "invalidcontenttype",
        "corrupt message",
        "wrong version number",
        "invalidmessage",
    ]
    .iter()
    .any(|sign| chain.contains(sign))
}

/// Explains a failed request.
fn describe(error: &reqwest::Error, timeout: Duration, target: &Target) -> String {
    let https = target.url.scheme() == "https";
    if error.is_timeout() && error.is_connect() {
        // Not --timeout's: the connection itself never opened.
        return format!(
            "could not connect within {} s (is the server overloaded, its listen queue full?)",
            CONNECT_TIMEOUT.as_secs()
        );
    }
    if error.is_timeout() {
        return timeout_message(timeout);
    }
    let mut chain = Vec::new();
    let mut refused = false;
    let mut cause = error.source();
    while let Some(e) = cause {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            refused |= io.kind() == io::ErrorKind::ConnectionRefused;
        }
        if e.is::<RedirectLoop>() || e.is::<CrossHostRedirect>() {
            return e.to_string();
        }
        chain.push(e.to_string());
        cause = e.source();
    }
    let all = chain.join(": ").to_ascii_lowercase();
    let innermost = chain.last().cloned().unwrap_or_else(|| error.to_string());
    if refused || all.contains("connection refused") {
        "connection refused: is the service running, is net/http/pprof imported, and is the port right?".into()
    } else if all.contains("dns error") || all.contains("failed to lookup address") {
        format!("cannot resolve the host name ({innermost})")
    } else if https && speaks_plain_http(&all) {
        let mut plain = target.clone();
        plain.insecure = false;
        let _ = plain.url.set_scheme("http");
        format!(
            "the server answered in plain HTTP, not TLS: use {}",
            plain.display()
        )
    } else if https && error.is_connect() {
        // Past TCP, an https connection can only fail in the TLS handshake.
        format!("TLS handshake failed: {innermost} (https+insecure:// skips certificate checks)")
    } else if error.is_connect() {
        format!("cannot connect: {innermost}")
    } else {
        innermost
    }
}
