//! What to read and reading it: profile files, URLs of `net/http/pprof`
//! endpoints (fetched by [`crate::fetch`]), and the optional binary that may
//! come first on the command line (`torch storage.test mem.out`).

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Url;

use crate::error::Error;

/// Endpoint collected when the user names no source at all (as go-torch).
pub const DEFAULT_URL: &str = "http://localhost:8080";

/// How long the CPU endpoint profiles when `--seconds` is not given.
pub const DEFAULT_CPU_SECONDS: u64 = 30;

/// Bytes of one profile as read, with where they came from.
#[derive(Debug, Clone)]
pub struct RawProfile {
    pub bytes: Vec<u8>,
    pub origin: Origin,
    /// The executable the profile was taken from, when the user named one.
    pub binary: Option<PathBuf>,
    /// `bytes` were gunzipped from the file at `origin` as it was read:
    /// the file still holds them as received.
    pub gunzipped: bool,
}

impl RawProfile {
    /// Frees bytes gunzipped from a file once they are decoded: the file
    /// still has them ([`as_received`](Self::as_received)).
    pub fn release_gunzipped(&mut self) {
        if self.gunzipped {
            self.bytes = Vec::new();
        }
    }

    /// The profile's bytes exactly as received.
    pub fn as_received(&self) -> Result<std::borrow::Cow<'_, [u8]>, Error> {
        match (&self.origin, self.gunzipped) {
            (Origin::File(path), true) => {
                fs::read(path)
                    .map(std::borrow::Cow::Owned)
                    .map_err(|source| Error::Read {
                        path: path.clone(),
                        source,
                    })
            }
            _ => Ok(std::borrow::Cow::Borrowed(&self.bytes)),
        }
    }
}

/// Where a profile came from, for messages and for the graph's subtitle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    File(PathBuf),
    Url(Target),
}

impl Origin {
    /// How the input is named in messages.
    pub fn name(&self) -> String {
        match self {
            Origin::File(path) => path.display().to_string(),
            Origin::Url(target) => target.display(),
        }
    }
}

/// One thing to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    File(PathBuf),
    Url(Target),
}

/// A URL to fetch, with what torch knows about the profile behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL as requested, `seconds` already in the query where it belongs.
    pub url: Url,
    /// Skip certificate checks (`https+insecure://`).
    pub insecure: bool,
    /// How long the server collects before it answers (CPU profiles and
    /// delta profiles), if it does.
    pub seconds: Option<u64>,
    /// The server returns the difference over `seconds`, not a snapshot.
    pub delta: bool,
}

impl Target {
    /// The URL without any user:password part, safe to print.
    pub fn display(&self) -> String {
        let mut url = self.url.clone();
        let _ = url.set_username("");
        let _ = url.set_password(None);
        let shown = url.to_string();
        if self.insecure {
            shown.replacen("https://", "https+insecure://", 1)
        } else {
            shown
        }
    }

    /// pprof's rule: one and a half times the collection time, else 60 s;
    /// plus a margin for the transfer.
    pub fn default_timeout(&self) -> Duration {
        match self.seconds {
            Some(seconds) if seconds > 0 => Duration::from_secs_f64(seconds as f64 * 1.5 + 10.0),
            _ => Duration::from_secs(60),
        }
    }
}

/// What a sample type asks of a bare `host:port`: which endpoint it means,
/// and which endpoints can answer it at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Wanted {
    /// The CPU profile, or whatever the URL names.
    #[default]
    Any,
    /// A memory sample type (`-alloc_space`, …): the heap endpoint, as
    /// go-torch users expect.
    Memory,
    /// A blocking sample type (`-contentions`, `-total_delay`): the block
    /// or mutex endpoint, which must be named.
    Blocking,
}

impl Wanted {
    /// What the sample type called `name` wants.
    pub fn of(name: &str) -> Wanted {
        match name {
            "alloc_space" | "alloc_objects" | "inuse_space" | "inuse_objects" => Wanted::Memory,
            "delay" | "contentions" => Wanted::Blocking,
            _ => Wanted::Any,
        }
    }

    /// The path a URL without one gets.
    fn default_path(self) -> &'static str {
        match self {
            Wanted::Memory => "/debug/pprof/heap",
            Wanted::Any | Wanted::Blocking => "/debug/pprof/profile",
        }
    }
}

/// Splits arguments into an optional leading binary and the sources, the way
/// `go tool pprof BIN PROF` and go-torch take them: the first of several
/// arguments is the binary when it is an executable (ELF, Mach-O or PE).
pub fn resolve(
    arguments: &[String],
    seconds: Option<u64>,
) -> Result<(Option<PathBuf>, Vec<Source>), Error> {
    resolve_for(arguments, seconds, Wanted::Any)
}

/// [`resolve`], for a sample type: a bare `host:port` means the endpoint
/// it is in, and a URL of the CPU profile, which cannot have it, is an
/// error before anything is collected.
pub fn resolve_for(
    arguments: &[String],
    seconds: Option<u64>,
    wanted: Wanted,
) -> Result<(Option<PathBuf>, Vec<Source>), Error> {
    let mut binary = None;
    let mut rest = arguments;
    if let [first, tail @ ..] = arguments {
        if magic_of(Path::new(first))?
            .is_some_and(|m| crate::symbolize::formats::sniff(&m).is_some())
        {
            if tail.is_empty() {
                return Err(Error::BinaryWithoutProfile {
                    path: PathBuf::from(first),
                });
            }
            binary = Some(PathBuf::from(first));
            rest = tail;
        }
    }
    // A binary anywhere else is a mistake in the order, not a profile.
    if let Some(misplaced) = rest
        .iter()
        .skip(usize::from(binary.is_none()))
        .find(|argument| is_executable(Path::new(argument)))
    {
        return Err(Error::BinaryNotFirst {
            path: PathBuf::from(misplaced),
            profile: arguments[0].clone(),
        });
    }
    let sources = rest
        .iter()
        .map(|argument| classify_for(argument, seconds, wanted))
        .collect::<Result<_, _>>()?;
    Ok((binary, sources))
}

/// Whether `path` is an executable of any platform Go builds for: ELF,
/// Mach-O (thin or universal) or PE.
fn is_executable(path: &Path) -> bool {
    matches!(magic_of(path), Ok(Some(magic)) if crate::symbolize::formats::sniff(&magic).is_some())
}

/// A URL when it has a scheme, or is `host:port[/path]` (or `:port`, for
/// localhost, as pprof reads it) and no such file exists; a file otherwise.
pub fn classify(argument: &str, seconds: Option<u64>) -> Result<Source, Error> {
    classify_for(argument, seconds, Wanted::Any)
}

fn classify_for(argument: &str, seconds: Option<u64>, wanted: Wanted) -> Result<Source, Error> {
    let has_scheme = ["http://", "https://", "https+insecure://"]
        .iter()
        .any(|scheme| argument.starts_with(scheme));
    if has_scheme || (!Path::new(argument).exists() && looks_like_host_port(argument)) {
        let argument = match argument.starts_with(':') {
            true => format!("localhost{argument}"),
            false => argument.to_owned(),
        };
        let target = plan_url_for(&argument, seconds, wanted)?;
        check_endpoint(&target, wanted)?;
        return Ok(Source::Url(target));
    }
    Ok(Source::File(PathBuf::from(argument)))
}

/// Refuses a URL of the CPU profile when the sample type asked for is in
/// another profile: the collection would take its whole time for nothing.
fn check_endpoint(target: &Target, wanted: Wanted) -> Result<(), Error> {
    let endpoint = target.url.path().rsplit('/').next().unwrap_or_default();
    if endpoint == "trace" {
        return Err(Error::BadUrl {
            url: target.display(),
            reason: "an execution trace, which is not a profile; `go tool trace` reads it \
                     (save it with curl first)"
                .into(),
        });
    }
    let instead = match (endpoint, wanted) {
        ("profile", Wanted::Memory) => "/debug/pprof/heap (or /debug/pprof/allocs)",
        ("profile", Wanted::Blocking) => "/debug/pprof/block or /debug/pprof/mutex",
        _ => return Ok(()),
    };
    Err(Error::BadUrl {
        url: target.display(),
        reason: format!(
            "the CPU profile has only the sample types samples and cpu; \
             ask {instead} for this sample type"
        ),
    })
}

fn looks_like_host_port(argument: &str) -> bool {
    let authority = argument.split('/').next().unwrap_or_default();
    match authority.rsplit_once(':') {
        Some((host, port)) => {
            // An empty host is pprof's `:8080`, localhost.
            !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && !host.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// Turns what the user typed into the URL to request: adds `http://` and the
/// CPU endpoint to a bare `host:port`, and `seconds` where Go expects it.
pub fn plan_url(argument: &str, seconds: Option<u64>) -> Result<Target, Error> {
    plan_url_for(argument, seconds, Wanted::Any)
}

/// [`plan_url`], a bare `host:port` getting the endpoint `wanted` means.
fn plan_url_for(argument: &str, seconds: Option<u64>, wanted: Wanted) -> Result<Target, Error> {
    let (text, insecure) = match argument.strip_prefix("https+insecure://") {
        Some(rest) => (format!("https://{rest}"), true),
        None if argument.contains("://") => (argument.to_owned(), false),
        None => (format!("http://{argument}"), false),
    };
    let mut url = Url::parse(&text).map_err(|e| Error::BadUrl {
        url: argument.to_owned(),
        reason: e.to_string(),
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::BadUrl {
            url: argument.to_owned(),
            reason: "only http:// and https:// URLs with a host are supported".into(),
        });
    }
    if url.path() == "/" || url.path().is_empty() {
        url.set_path(wanted.default_path());
    }
    let (seconds, delta) = collection_seconds(&mut url, seconds);
    Ok(Target {
        url,
        insecure,
        seconds,
        delta,
    })
}

/// Sets `?seconds=` as Go's handlers expect: always for the CPU endpoint
/// (30 by default), for the others only when asked (Go then answers with a
/// delta profile), and never next to `debug=` (Go refuses the pair).
fn collection_seconds(url: &mut Url, asked: Option<u64>) -> (Option<u64>, bool) {
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    if query.iter().any(|(k, _)| k == "debug") {
        return (None, false);
    }
    let endpoint = url.path().rsplit('/').next().unwrap_or_default().to_owned();
    let cpu = endpoint == "profile";
    let already = query
        .iter()
        .find(|(k, _)| k == "seconds")
        .and_then(|(_, v)| v.parse::<u64>().ok());
    let seconds = match (already, asked, cpu) {
        (Some(given), _, _) => Some(given),
        (None, Some(asked), _) => Some(asked),
        (None, None, true) => Some(DEFAULT_CPU_SECONDS),
        (None, None, false) => None,
    };
    if let (None, Some(seconds)) = (already, seconds) {
        url.query_pairs_mut()
            .append_pair("seconds", &seconds.to_string());
    }
    (seconds, seconds.is_some() && !cpu)
}

/// The first four bytes of `path`, if it is a regular file that has them.
/// Only a regular file is peeked at: reading a pipe (`<(cat p.pb)`,
/// /dev/stdin) would take its first bytes from the profile. A file that
/// cannot be opened is `None` (a URL, or an error reported when it is
/// read); one that cannot be read is an error.
fn magic_of(path: &Path) -> Result<Option<[u8; 4]>, Error> {
    if !fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return Ok(None);
    }
    let Ok(mut file) = fs::File::open(path) else {
        return Ok(None);
    };
    let mut magic = [0u8; 4];
    match file.read_exact(&mut magic) {
        Ok(()) => Ok(Some(magic)),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => Ok(None),
        Err(source) => Err(Error::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Reads a profile from a stream (`-`, standard input) whole, refusing
/// one larger than `max_size`.
fn read_stream(
    stream: impl Read,
    path: &Path,
    binary: Option<&Path>,
    max_size: u64,
) -> Result<RawProfile, Error> {
    let mut bytes = Vec::new();
    stream
        .take(max_size.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
    if bytes.len() as u64 > max_size {
        return Err(Error::TooLarge {
            input: "standard input".into(),
            limit: max_size,
        });
    }
    Ok(RawProfile {
        bytes,
        origin: Origin::File(path.to_path_buf()),
        binary: binary.map(Path::to_path_buf),
        gunzipped: false,
    })
}

/// Reads a profile file whole, refusing one larger than `max_size`.
pub fn read_file(path: &Path, binary: Option<&Path>, max_size: u64) -> Result<RawProfile, Error> {
    let read_error = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    if path == Path::new("-") {
        return read_stream(std::io::stdin().lock(), path, binary, max_size);
    }
    let file = fs::File::open(path).map_err(read_error)?;
    // Room for the whole file at once: growing would double the buffer.
    let size = file.metadata().map_or(0, |m| m.len()).min(max_size);
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0).saturating_add(1));
    file.take(max_size.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > max_size {
        return Err(Error::TooLarge {
            input: path.display().to_string(),
            limit: max_size,
        });
    }
    Ok(RawProfile {
        bytes,
        origin: Origin::File(path.to_path_buf()),
        binary: binary.map(Path::to_path_buf),
        gunzipped: false,
    })
}

/// [`read_file`], but a gzip file is decompressed as it is read: the
/// compressed bytes (a third of the profile's size or more) are never
/// held in memory. Anything else is read whole.
pub fn read_file_gunzipped(
    path: &Path,
    binary: Option<&Path>,
    max_size: u64,
) -> Result<RawProfile, Error> {
    let Some((file, size, trailer)) = open_gzip_file(path) else {
        return read_file(path, binary, max_size);
    };
    let reader = std::io::BufReader::with_capacity(1 << 16, file);
    let bytes = crate::profile::gunzip_from(reader, trailer, size, max_size).map_err(|source| {
        Error::Decode {
            input: path.display().to_string(),
            source,
        }
    })?;
    Ok(RawProfile {
        bytes,
        origin: Origin::File(path.to_path_buf()),
        binary: binary.map(Path::to_path_buf),
        gunzipped: true,
    })
}

/// `path` opened at its start, with its size and last four bytes, if it
/// is a regular file of gzip data ([`magic_of`] peeks only at those).
/// `None` sends the caller to the plain read, which reports any error.
fn open_gzip_file(path: &Path) -> Option<(fs::File, u64, Option<[u8; 4]>)> {
    use std::io::{Seek, SeekFrom};
    let magic = magic_of(path).ok().flatten()?;
    if !crate::profile::is_gzip(&magic) {
        return None;
    }
    let mut file = fs::File::open(path).ok()?;
    let size = file.metadata().ok()?.len();
    let mut trailer = [0u8; 4];
    let trailer = match file.seek(SeekFrom::End(-4)) {
        Ok(_) => file.read_exact(&mut trailer).ok().map(|()| trailer),
        Err(_) => None,
    };
    file.seek(SeekFrom::Start(0)).ok()?;
    Some((file, size, trailer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(argument: &str, seconds: Option<u64>) -> (String, Option<u64>, bool) {
        let t = plan_url(argument, seconds).unwrap();
        (t.url.to_string(), t.seconds, t.delta)
    }

    fn url_for(argument: &str, wanted: Wanted) -> Result<String, String> {
        match resolve_for(&[argument.to_owned()], None, wanted) {
            Ok((_, sources)) => match &sources[..] {
                [Source::Url(target)] => Ok(target.url.to_string()),
                other => panic!("{argument}: not one URL: {other:?}"),
            },
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn a_memory_sample_type_means_the_heap_endpoint() {
        let heap = "http://h:8080/debug/pprof/heap";
        assert_eq!(url_for("h:8080", Wanted::Memory).unwrap(), heap);
        assert_eq!(url_for("http://h:8080", Wanted::Memory).unwrap(), heap);
        assert_eq!(url_for("http://h:8080/", Wanted::Memory).unwrap(), heap);
        assert_eq!(Wanted::of("alloc_space"), Wanted::Memory);
        assert_eq!(Wanted::of("inuse_objects"), Wanted::Memory);
        assert_eq!(Wanted::of("cpu"), Wanted::Any);
        // A path the user gave is kept, as long as it can answer.
        assert_eq!(
            url_for("h:8080/debug/pprof/allocs", Wanted::Memory).unwrap(),
            "http://h:8080/debug/pprof/allocs"
        );
        assert_eq!(
            url_for("h:8080", Wanted::Any).unwrap(),
            "http://h:8080/debug/pprof/profile?seconds=30"
        );
    }

    #[test]
    fn the_cpu_profile_is_refused_for_other_sample_types_before_collecting() {
        let error = url_for("h:8080/debug/pprof/profile", Wanted::Memory).unwrap_err();
        assert!(error.contains("/debug/pprof/heap"), "{error}");
        // Blocking types are in two profiles: the user must say which.
        let error = url_for("h:8080", Wanted::Blocking).unwrap_err();
        assert!(
            error.contains("/debug/pprof/block or /debug/pprof/mutex"),
            "{error}"
        );
        assert!(url_for("h:8080/debug/pprof/mutex", Wanted::Blocking).is_ok());
    }

    #[test]
    fn a_port_alone_means_localhost() {
        assert_eq!(
            url_for(":8080", Wanted::Any).unwrap(),
            "http://localhost:8080/debug/pprof/profile?seconds=30"
        );
        assert_eq!(
            url_for(":6060/debug/pprof/heap", Wanted::Any).unwrap(),
            "http://localhost:6060/debug/pprof/heap"
        );
    }

    #[test]
    fn cpu_endpoint_always_gets_seconds() {
        let want = "http://h:8080/debug/pprof/profile?seconds=30";
        assert_eq!(url("h:8080", None), (want.into(), Some(30), false));
        let want = "http://h:8080/debug/pprof/profile?seconds=5";
        assert_eq!(url("http://h:8080/debug/pprof/profile", Some(5)).0, want);
        assert_eq!(
            url("http://h:1/debug/pprof/profile?seconds=7", Some(5)).1,
            Some(7)
        );
    }

    #[test]
    fn other_endpoints_get_seconds_only_when_asked() {
        let heap = "http://h:1/debug/pprof/heap";
        assert_eq!(url(heap, None), (heap.into(), None, false));
        let delta = "http://h:1/debug/pprof/heap?seconds=10";
        assert_eq!(url(heap, Some(10)), (delta.into(), Some(10), true));
        let debug = "http://h:1/debug/pprof/heap?debug=1";
        assert_eq!(url(debug, Some(10)), (debug.into(), None, false));
    }

    #[test]
    fn insecure_scheme_and_credentials() {
        let t = plan_url("https+insecure://u:secret@h:1/debug/pprof/heap", None).unwrap();
        assert!(t.insecure);
        assert_eq!(t.url.scheme(), "https");
        assert_eq!(t.display(), "https+insecure://h:1/debug/pprof/heap");
    }

    #[test]
    fn host_port_versus_files() {
        assert!(matches!(
            classify("localhost:6060", None),
            Ok(Source::Url(_))
        ));
        assert!(matches!(
            classify("127.0.0.1:6060/debug/pprof/heap", None),
            Ok(Source::Url(_))
        ));
        assert!(matches!(classify("mem.out", None), Ok(Source::File(_))));
        assert!(matches!(
            classify("dir/cpu.pprof", None),
            Ok(Source::File(_))
        ));
        assert!(plan_url("ftp://h/x", None).is_err());
    }

    #[test]
    fn timeouts_follow_pprof() {
        let cpu = plan_url("h:1", None).unwrap();
        assert_eq!(cpu.default_timeout(), Duration::from_secs(55));
        let heap = plan_url("http://h:1/debug/pprof/heap", None).unwrap();
        assert_eq!(heap.default_timeout(), Duration::from_secs(60));
    }
}
