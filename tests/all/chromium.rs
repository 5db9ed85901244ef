//! Headless Chromium driven over the Chrome DevTools Protocol (CDP), and a
//! small HTTP server for the pages it opens. Shared by the browser tests.
//!
//! Chromium comes from `$CHROMIUM`, else `chromium` on PATH; scripts/test
//! installs it. When it is missing the tests fail, they never skip.
//!
//! Everything waits at most [`TIMEOUT`] for one step, so a browser that hangs
//! fails the test instead of hanging it. Browser tests take turns: only one
//! Chromium runs at a time, since the machine has two cores.

use std::collections::{HashMap, VecDeque};
use std::io::{self, BufRead, BufReader, Cursor, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::handshake::HandshakeError;
use tungstenite::{Message, WebSocket};

/// The longest wait for one step: Chromium starting, a reply, an event.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// The viewport, in CSS pixels (one device pixel each).
pub const WIDTH: u32 = 1280;
pub const HEIGHT: u32 = 900;

/// How long one socket read blocks before the deadline is checked again.
const POLL: Duration = Duration::from_millis(500);

/// Held by each running Chromium, so browser tests take turns.
static TURN: Mutex<()> = Mutex::new(());

/// Starts a server for `dir` and a browser, and opens `file` from it.
pub fn open_page(dir: &Path, file: &str) -> Page {
    let server = Server::start(dir);
    let mut page = Browser::launch().into_page();
    page.server = Some(server);
    page.open(file);
    page
}

/// The Chromium executable: `$CHROMIUM`, else `chromium` on PATH.
pub fn chromium_path() -> PathBuf {
    if let Some(path) = std::env::var_os("CHROMIUM").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "$CHROMIUM is {}, which is not a file (unset it to use chromium from PATH, \
             which scripts/test installs)",
            path.display()
        );
        return path;
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("chromium"))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "chromium is not on PATH and $CHROMIUM is not set: run scripts/test, \
                 which installs it (apt-get install chromium)"
            )
        })
}

/// A headless Chromium process and its browser-level CDP connection.
pub struct Browser {
    connection: Option<Connection>,
    child: Child,
    /// Host and port of the DevTools endpoint.
    endpoint: String,
    /// What Chromium printed on stderr (the last lines), for failures.
    log: Arc<Mutex<VecDeque<String>>>,
    _profile: tempfile::TempDir,
    _turn: MutexGuard<'static, ()>,
}

impl Browser {
    /// Starts Chromium and connects to it, or panics saying why not.
    pub fn launch() -> Browser {
        let turn = TURN.lock().unwrap_or_else(PoisonError::into_inner);
        let profile = tempfile::tempdir().unwrap();
        let chromium = chromium_path();
        let mut child = Command::new(&chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-extensions",
                "--disable-sync",
                "--no-first-run",
                "--no-default-browser-check",
                "--hide-scrollbars",
                "--mute-audio",
                "--force-device-scale-factor=1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--window-size={WIDTH},{HEIGHT}"))
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium.display()));

        // Chromium says where it listens on stderr; keep reading it until it
        // exits, so it never blocks on a full pipe.
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(VecDeque::new()));
        let (found, listening) = mpsc::channel();
        let lines = Arc::clone(&log);
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = found.send(url.trim().to_owned());
                }
                let mut lines = lines.lock().unwrap_or_else(PoisonError::into_inner);
                if lines.len() == 40 {
                    lines.pop_front();
                }
                lines.push_back(line);
            }
        });

        // From here on, a panic kills Chromium through Drop.
        let mut browser = Browser {
            connection: None,
            child,
            endpoint: String::new(),
            log,
            _profile: profile,
            _turn: turn,
        };
        let deadline = Instant::now() + TIMEOUT;
        let url = loop {
            match listening.recv_timeout(Duration::from_millis(100)) {
                Ok(url) => break url,
                Err(RecvTimeoutError::Timeout) if Instant::now() < deadline => {
                    if let Ok(Some(status)) = browser.child.try_wait() {
                        panic!(
                            "chromium exited ({status}) before listening:\n{}",
                            browser.log()
                        );
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "chromium printed no `DevTools listening on` line within {TIMEOUT:?}:\n{}",
                    browser.log()
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "chromium closed stderr before listening:\n{}",
                    browser.log()
                ),
            }
        };
        // ws://127.0.0.1:PORT/devtools/browser/ID
        browser.endpoint = url
            .strip_prefix("ws://")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("unexpected DevTools URL {url}"))
            .to_owned();
        browser.connection = Some(Connection::connect(&url));
        browser
    }

    /// Chromium's recent stderr lines.
    pub fn log(&self) -> String {
        let lines = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        lines.iter().map(|line| format!("  {line}\n")).collect()
    }

    /// Opens a new blank page (a tab) that owns this browser.
    pub fn into_page(mut self) -> Page {
        let browser = self.connection.as_mut().unwrap();
        let target = browser.send("Target.createTarget", json!({ "url": "about:blank" }));
        let id = target["targetId"]
            .as_str()
            .unwrap_or_else(|| panic!("no targetId in {target}"));
        let url = format!("ws://{}/devtools/page/{id}", self.endpoint);
        let mut page = Page {
            connection: Connection::connect(&url),
            server: None,
            browser: self,
        };
        page.send("Page.enable", json!({}));
        page.send("Runtime.enable", json!({}));
        page.send(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": false }),
        );
        page
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ask politely, so Chromium takes its helper processes with it; then
        // kill it if it has not gone within a few seconds.
        if let Some(mut connection) = self.connection.take() {
            let _ = connection.start("Browser.close", json!({}));
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(None) => thread::sleep(Duration::from_millis(20)),
                Ok(Some(_)) | Err(_) => break,
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One WebSocket to a CDP target: numbered commands, their replies (matched
/// by id, in any order), and the events that arrive in between (queued).
pub struct Connection {
    socket: WebSocket<TcpStream>,
    next_id: u64,
    /// Method names of the commands sent, by id, for messages.
    sent: HashMap<u64, String>,
    replies: HashMap<u64, Value>,
    events: VecDeque<Value>,
}

impl Connection {
    /// Connects to `ws://host:port/path`.
    pub fn connect(url: &str) -> Connection {
        let address = url
            .strip_prefix("ws://")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("not a ws:// URL: {url}"));
        let stream =
            TcpStream::connect(address).unwrap_or_else(|e| panic!("connect to {url}: {e}"));
        stream.set_read_timeout(Some(POLL)).unwrap();
        stream.set_write_timeout(Some(TIMEOUT)).unwrap();
        stream.set_nodelay(true).unwrap();
        let deadline = Instant::now() + TIMEOUT;
        let mut handshake = tungstenite::client(url, stream);
        let socket = loop {
            match handshake {
                Ok((socket, _)) => break socket,
                Err(HandshakeError::Interrupted(mid)) if Instant::now() < deadline => {
                    handshake = mid.handshake();
                }
                Err(e) => panic!("WebSocket handshake with {url}: {e}"),
            }
        };
        Connection {
            socket,
            next_id: 1,
            sent: HashMap::new(),
            replies: HashMap::new(),
            events: VecDeque::new(),
        }
    }

    /// Sends a command and returns its id, without waiting for the reply.
    pub fn start(&mut self, method: &str, params: Value) -> Result<u64, String> {
        let id = self.next_id;
        self.next_id += 1;
        let message = json!({ "id": id, "method": method, "params": params });
        self.socket
            .send(Message::text(message.to_string()))
            .map_err(|e| format!("sending {method}: {e}"))?;
        self.sent.insert(id, method.to_owned());
        Ok(id)
    }

    /// Waits for the reply to command `id`: its result, or its error.
    pub fn reply(&mut self, id: u64) -> Result<Value, String> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(mut reply) = self.replies.remove(&id) {
                let method = self.sent.remove(&id).unwrap_or_default();
                return match reply.get("error") {
                    Some(error) => Err(format!("{method} failed: {error}")),
                    None => Ok(reply["result"].take()),
                };
            }
            let method = self.sent.get(&id).map_or("?", String::as_str).to_owned();
            self.receive(deadline, &format!("the reply to {method}"))?;
        }
    }

    /// Sends a command and waits for its result; panics on an error.
    pub fn send(&mut self, method: &str, params: Value) -> Value {
        self.start(method, params)
            .and_then(|id| self.reply(id))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Waits for the next event called `method` (perhaps queued already)
    /// and returns its params.
    pub fn event(&mut self, method: &str) -> Result<Value, String> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(at) = self.events.iter().position(|e| e["method"] == method) {
                let mut event = self.events.remove(at).unwrap();
                return Ok(event["params"].take());
            }
            self.receive(deadline, &format!("event {method}"))?;
        }
    }

    /// The events received and not yet taken, oldest first.
    pub fn events(&self) -> impl Iterator<Item = &Value> {
        self.events.iter()
    }

    /// Drops the queued events called `method`.
    pub fn forget(&mut self, method: &str) {
        self.events.retain(|e| e["method"] != method);
    }

    /// Reads one message into the replies or the events.
    fn receive(&mut self, deadline: Instant, waiting_for: &str) -> Result<(), String> {
        loop {
            if Instant::now() >= deadline {
                return Err(format!("no {waiting_for} within {TIMEOUT:?}"));
            }
            let message = match self.socket.read() {
                Ok(message) => message,
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    continue;
                }
                Err(e) => return Err(format!("waiting for {waiting_for}: {e}")),
            };
            let text = match message {
                Message::Text(text) => text,
                Message::Close(frame) => {
                    return Err(format!("waiting for {waiting_for}: closed ({frame:?})"))
                }
                _ => continue,
            };
            let message: Value = serde_json::from_str(text.as_str())
                .map_err(|e| format!("bad CDP message {text}: {e}"))?;
            match message["id"].as_u64() {
                Some(id) => {
                    self.replies.insert(id, message);
                }
                None => self.events.push_back(message),
            }
            return Ok(());
        }
    }
}

/// A page (tab) of its own headless Chromium, perhaps with a server for
/// the files it opens. Dropping it stops both.
pub struct Page {
    connection: Connection,
    server: Option<Server>,
    browser: Browser,
}

impl Page {
    /// Sends a CDP command and returns its result; panics on an error.
    pub fn send(&mut self, method: &str, params: Value) -> Value {
        let id = self.start(method, params);
        self.reply(id)
    }

    /// Sends a CDP command and returns its id, for [`Page::reply`] later:
    /// for commands that only return once something else happened.
    pub fn start(&mut self, method: &str, params: Value) -> u64 {
        self.connection
            .start(method, params)
            .unwrap_or_else(|e| self.fail(&e))
    }

    /// The result of command `id`, waiting for it.
    pub fn reply(&mut self, id: u64) -> Value {
        self.connection.reply(id).unwrap_or_else(|e| self.fail(&e))
    }

    /// Waits for the next event called `method` and returns its params.
    pub fn event(&mut self, method: &str) -> Value {
        self.connection
            .event(method)
            .unwrap_or_else(|e| self.fail(&e))
    }

    /// The URL of `file` on this page's server.
    pub fn url(&self, file: &str) -> String {
        self.server
            .as_ref()
            .expect("a page opened with open_page")
            .url(file)
    }

    /// Opens `file` from this page's server and waits for it to load.
    pub fn open(&mut self, file: &str) {
        let url = self.url(file);
        self.navigate(&url);
    }

    /// Opens `url` and waits for its load event.
    pub fn navigate(&mut self, url: &str) {
        self.connection.forget("Page.loadEventFired");
        let result = self.send("Page.navigate", json!({ "url": url }));
        if let Some(error) = result.get("errorText") {
            panic!("opening {url}: {error}");
        }
        self.event("Page.loadEventFired");
    }

    /// Evaluates `js` (awaiting it, if a promise) and returns its value,
    /// `null` for `undefined`; panics if it throws.
    pub fn eval(&mut self, js: &str) -> Value {
        let mut result = self.send(
            "Runtime.evaluate",
            json!({ "expression": js, "returnByValue": true, "awaitPromise": true }),
        );
        if let Some(details) = result.get("exceptionDetails") {
            let why = details["exception"]["description"]
                .as_str()
                .or(details["text"].as_str())
                .unwrap_or("?");
            panic!("{js}\nthrew: {why}");
        }
        result["result"]["value"].take()
    }

    /// Waits until the JavaScript expression `condition` is true.
    pub fn wait_for(&mut self, condition: &str) {
        let deadline = Instant::now() + TIMEOUT;
        while self.eval(&format!("!!({condition})")) != Value::Bool(true) {
            if Instant::now() >= deadline {
                self.fail(&format!("still not true after {TIMEOUT:?}: {condition}"));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// The centre of the first element matching `selector`, in viewport
    /// coordinates; panics if there is none or it has no size.
    pub fn centre(&mut self, selector: &str) -> (f64, f64) {
        let selector_js = Value::String(selector.to_owned());
        let box_ = self.eval(&format!(
            "(() => {{ const e = document.querySelector({selector_js}); if (!e) return null; \
             const r = e.getBoundingClientRect(); \
             return {{ x: r.left + r.width / 2, y: r.top + r.height / 2, w: r.width, h: r.height }}; }})()"
        ));
        assert!(!box_.is_null(), "no element matches {selector}");
        let size = (box_["w"].as_f64().unwrap(), box_["h"].as_f64().unwrap());
        assert!(
            size.0 > 0.0 && size.1 > 0.0,
            "{selector} is not shown: {box_}"
        );
        (box_["x"].as_f64().unwrap(), box_["y"].as_f64().unwrap())
    }

    /// Clicks at (`x`, `y`) with the left button, as a person would: the
    /// mouse moves there, goes down and up.
    pub fn click(&mut self, x: f64, y: f64) {
        let id = self.click_start(x, y);
        self.reply(id);
    }

    /// Like [`Page::click`], but returns without waiting for the button's
    /// release to be handled (which waits on a dialog the click opens): pass
    /// the returned id to [`Page::reply`] once that is dealt with.
    pub fn click_start(&mut self, x: f64, y: f64) -> u64 {
        self.send(
            "Input.dispatchMouseEvent",
            json!({ "type": "mouseMoved", "x": x, "y": y }),
        );
        let button = json!({ "x": x, "y": y, "button": "left", "buttons": 1, "clickCount": 1 });
        let mut press = button.clone();
        press["type"] = json!("mousePressed");
        self.send("Input.dispatchMouseEvent", press);
        let mut release = button;
        release["type"] = json!("mouseReleased");
        release["buttons"] = json!(0);
        self.start("Input.dispatchMouseEvent", release)
    }

    /// A PNG screenshot of the viewport.
    pub fn screenshot(&mut self) -> Vec<u8> {
        let shot = self.send("Page.captureScreenshot", json!({ "format": "png" }));
        let data = shot["data"].as_str().expect("screenshot data");
        base64_decode(data).unwrap_or_else(|e| panic!("screenshot: {e}"))
    }

    /// A PNG screenshot of the whole document, beyond the viewport too.
    pub fn full_screenshot(&mut self) -> Vec<u8> {
        let metrics = self.send("Page.getLayoutMetrics", json!({}));
        let size = &metrics["cssContentSize"];
        let clip = json!({
            "x": 0, "y": 0, "scale": 1,
            "width": size["width"].as_f64().expect("content width"),
            "height": size["height"].as_f64().expect("content height"),
        });
        let shot = self.send(
            "Page.captureScreenshot",
            json!({ "format": "png", "captureBeyondViewport": true, "clip": clip }),
        );
        let data = shot["data"].as_str().expect("screenshot data");
        base64_decode(data).unwrap_or_else(|e| panic!("screenshot: {e}"))
    }

    /// Uncaught JavaScript exceptions reported so far, as text.
    pub fn exceptions(&self) -> Vec<String> {
        self.connection
            .events()
            .filter(|e| e["method"] == "Runtime.exceptionThrown")
            .map(|e| {
                let details = &e["params"]["exceptionDetails"];
                details["exception"]["description"]
                    .as_str()
                    .or(details["text"].as_str())
                    .unwrap_or("?")
                    .to_owned()
            })
            .collect()
    }

    fn fail(&self, error: &str) -> ! {
        panic!("{error}\nchromium's stderr:\n{}", self.browser.log())
    }
}

/// Serves the files of one directory over HTTP on 127.0.0.1, for GET only,
/// until dropped.
pub struct Server {
    address: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    pub fn start(root: &Path) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let root = root.to_path_buf();
        let thread = thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let root = root.clone();
                // A connection Chromium opens and leaves idle must not hold
                // up the next one; each ends with its request or a timeout.
                thread::spawn(move || {
                    let _ = serve(stream, &root);
                });
            }
        });
        Server {
            address,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self, file: &str) -> String {
        format!("http://{}/{file}", self.address)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.address, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Answers one request on `stream` with a file from `root`.
fn serve(mut stream: TcpStream, root: &Path) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    let mut head = Vec::new();
    let mut buf = [0; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf)?;
        if n == 0 || head.len() > 64 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head);
    let mut words = head.lines().next().unwrap_or("").split(' ');
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let (status, content_type, body) = if method != "GET" {
        (
            "405 Method Not Allowed",
            "text/plain",
            b"GET only\n".to_vec(),
        )
    } else {
        match local_path(root, target).and_then(|path| Some((std::fs::read(&path).ok()?, path))) {
            Some((body, path)) => ("200 OK", content_type(&path), body),
            None => ("404 Not Found", "text/plain", b"not found\n".to_vec()),
        }
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(&body)?;
    stream.flush()
}

/// The file a request target names under `root`; none outside it.
fn local_path(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next()?;
    let path = percent_decode(path.strip_prefix('/')?)?;
    let path = if path.is_empty() || path.ends_with('/') {
        format!("{path}index.html")
    } else {
        path
    };
    let relative = Path::new(&path);
    if !relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
    {
        return None;
    }
    Some(root.join(relative))
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("svg") => "image/svg+xml",
        Some("html") => "text/html; charset=utf-8",
        Some("md") => "text/markdown; charset=utf-8",
        Some("png") => "image/png",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut bits, mut count) = (0u32, 0);
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return Err(format!("not base64: {:?}", c as char)),
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Ok(out)
}

/// A decoded image: its size and its pixels as RGBA, row by row.
pub struct Pixels {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<[u8; 4]>,
}

pub fn decode_png(png: &[u8]) -> Result<Pixels, String> {
    let mut decoder = png::Decoder::new(Cursor::new(png));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(|e| format!("PNG: {e}"))?;
    let size = reader.output_buffer_size().ok_or("PNG too large")?;
    let mut buf = vec![0; size];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| format!("PNG: {e}"))?;
    let samples = info.color_type.samples();
    let mut rgba = Vec::with_capacity(info.width as usize * info.height as usize);
    for row in buf.chunks(info.line_size).take(info.height as usize) {
        for p in row[..info.width as usize * samples].chunks(samples) {
            rgba.push(match *p {
                [r, g, b, a] => [r, g, b, a],
                [r, g, b] => [r, g, b, 255],
                [l, a] => [l, l, l, a],
                [l] => [l, l, l, 255],
                _ => unreachable!("{samples} samples a pixel"),
            });
        }
    }
    Ok(Pixels {
        width: info.width,
        height: info.height,
        rgba,
    })
}

/// Whether a PNG shows something: more than 5% of its pixels differ from
/// the most common colour, and it has at least 20 colours.
pub fn non_blank(png: &[u8]) -> Result<(), String> {
    let image = decode_png(png)?;
    let mut counts: HashMap<[u8; 4], usize> = HashMap::new();
    for pixel in &image.rgba {
        *counts.entry(*pixel).or_default() += 1;
    }
    let (common, most) = counts
        .iter()
        .max_by_key(|(_, n)| **n)
        .ok_or("an empty image")?;
    let total = image.rgba.len();
    let differ = 100.0 * (total - most) as f64 / total as f64;
    if differ <= 5.0 {
        return Err(format!(
            "blank: only {differ:.1}% of the {}×{} pixels differ from the most common colour {common:?}",
            image.width, image.height
        ));
    }
    if counts.len() < 20 {
        return Err(format!(
            "blank: only {} colours in the {}×{} image",
            counts.len(),
            image.width,
            image.height
        ));
    }
    Ok(())
}

/// Writes `bytes` to `target/browser/<name>` (beside the test binary's
/// target directory) and returns that path.
pub fn save_artifact(name: &str, bytes: &[u8]) -> PathBuf {
    let target = Path::new(env!("CARGO_BIN_EXE_torch"))
        .parent()
        .and_then(Path::parent)
        .expect("the target directory");
    let dir = target.join("browser");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path
}

#[test]
fn base64_round_trips_known_text() {
    assert_eq!(base64_decode("").unwrap(), b"");
    assert_eq!(base64_decode("Zm9v").unwrap(), b"foo");
    assert_eq!(base64_decode("Zm9vYg==").unwrap(), b"foob");
    assert_eq!(base64_decode("Zm9vYmE=").unwrap(), b"fooba");
    assert!(base64_decode("Zm9v!").is_err());
}

#[test]
fn server_paths_stay_inside_the_root() {
    let root = Path::new("/srv");
    assert_eq!(
        local_path(root, "/a%20b.svg?x=1"),
        Some(PathBuf::from("/srv/a b.svg"))
    );
    assert_eq!(
        local_path(root, "/"),
        Some(PathBuf::from("/srv/index.html"))
    );
    assert_eq!(local_path(root, "/../etc/passwd"), None);
    assert_eq!(local_path(root, "/%2e%2e/x"), None);
    assert_eq!(local_path(root, "//etc/passwd"), None);
}

#[test]
fn non_blank_tells_pictures_from_blank_pages() {
    let png = |width: u32, height: u32, pixel: &dyn Fn(u32, u32) -> [u8; 3]| {
        let mut bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(png::ColorType::Rgb);
        let mut writer = encoder.write_header().unwrap();
        let data: Vec<u8> = (0..height)
            .flat_map(|y| (0..width).flat_map(move |x| pixel(x, y)))
            .collect();
        writer.write_image_data(&data).unwrap();
        writer.finish().unwrap();
        bytes
    };
    let white = png(64, 64, &|_, _| [255, 255, 255]);
    assert!(non_blank(&white).unwrap_err().contains("0.0%"));
    let two_colours = png(64, 64, &|x, _| if x < 32 { [0; 3] } else { [255; 3] });
    assert!(non_blank(&two_colours).unwrap_err().contains("2 colours"));
    let dot = png(64, 64, &|x, y| {
        if (x, y) == (1, 1) {
            [0; 3]
        } else {
            [255; 3]
        }
    });
    assert!(non_blank(&dot).is_err());
    let gradient = png(64, 64, &|x, y| [(x * 4) as u8, (y * 4) as u8, 128]);
    assert_eq!(non_blank(&gradient), Ok(()));
    assert!(non_blank(b"not a PNG").is_err());
}
