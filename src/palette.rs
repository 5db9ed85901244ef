//! The Go palette (`--colors=go`): each frame coloured by what kind of code
//! it is — runtime, standard library, the user's module, third-party, cgo/C,
//! unsymbolized — in that kind's colour family, with a shade fixed by the
//! function's name.
//!
//! The classes, their rules and their colours are data, in
//! `colors/go.palette`, compiled in; this module parses that file, decides
//! each frame's class from its name (and, without a known module, from
//! where its source file lives) and hands inferno a colour per name.

use std::collections::HashMap;

use inferno::flamegraph::color::{Color, PaletteMap};

use crate::fold::INLINE_MARK;
use crate::goname;
use crate::profile::Profile;

/// The palette file compiled into torch.
const BUILTIN: &str = include_str!("../colors/go.palette");

/// The colour of the root frame.
const ROOT: Color = Color {
    r: 0xc8,
    g: 0xc8,
    b: 0xc8,
};

/// One class of frame: how to recognise it, what the legend calls it, and
/// its colour family.
#[derive(Debug, Clone, PartialEq)]
pub struct Class {
    pub id: String,
    pub label: String,
    rules: Vec<Rule>,
    from: Color,
    to: Color,
}

#[derive(Debug, Clone, PartialEq)]
enum Rule {
    Prefix(String),
    Contains(String),
    Kind(Kind),
}

/// Tests that need more than text matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The frame that stands for samples recorded without a stack.
    NoStack,
    /// A goroutine dump's wait frame of a goroutine Go reports as leaked.
    Leaked,
    /// A goroutine dump's wait reason or state frame.
    Waiting,
    Unsymbolized,
    NotGo,
    OwnModule,
    StandardLibrary,
    Any,
}

/// The parsed palette: classes in the order they are tried.
#[derive(Debug, Clone, PartialEq)]
pub struct GoPalette {
    pub classes: Vec<Class>,
}

/// What is known about the program, to tell its own code from the rest.
#[derive(Debug, Clone, Default)]
pub struct Program {
    /// The user's module (`--module`, or the binary's build info).
    pub module: Option<String>,
    /// Modules the binary depends on (from its build info).
    pub dependencies: Vec<String>,
    /// Source file of each function name, from the profile.
    files: HashMap<String, String>,
    /// `$GOROOT/src/` as the profile's runtime frames spell it.
    goroot_src: Option<String>,
}

impl Program {
    /// Learns source files (and from them, where Go's own sources live)
    /// from the profile's functions.
    pub fn with_profile(mut self, profile: &Profile) -> Program {
        for function in &profile.functions {
            if function.filename.is_empty() {
                continue;
            }
            let name = crate::fold::clean_frame_name(&function.name).into_owned();
            if self.goroot_src.is_none() && name.starts_with("runtime.") {
                self.goroot_src = function
                    .filename
                    .rfind("/src/runtime/")
                    .map(|at| function.filename[..at + "/src/".len()].to_owned());
            }
            self.files.insert(name, function.filename.clone());
        }
        self
    }

    /// The name with its package, for names Go's assembly leaves without
    /// one (`cmpbody` in `$GOROOT/src/internal/bytealg/compare_amd64.s` is
    /// `internal/bytealg.cmpbody`): the package follows from the file.
    fn qualified<'a>(&self, name: &'a str) -> std::borrow::Cow<'a, str> {
        if goname::package_path(name).is_some() {
            return name.into();
        }
        let Some(file) = self.file_of(name) else {
            return name.into();
        };
        let Some((directory, _)) = file.rsplit_once('/') else {
            return name.into();
        };
        let go_source = file.ends_with(".s") || file.ends_with(".go");
        let package = match &self.goroot_src {
            Some(src) => directory.strip_prefix(src.as_str()),
            // -trimpath: Go's own files are named by package path.
            None => (!directory.starts_with('/')).then_some(directory),
        };
        match package {
            Some(package) if go_source && !package.is_empty() => format!("{package}.{name}").into(),
            _ => name.into(),
        }
    }

    fn file_of(&self, name: &str) -> Option<&str> {
        let found = self.files.get(name).or_else(|| {
            // `-lines` names end in ` file:line`.
            let (function, _) = name.rsplit_once(' ')?;
            self.files.get(function)
        });
        found.map(String::as_str)
    }

    /// True when `name` (in package `package`) is the user's own code.
    fn owns(&self, package: &str, name: &str) -> bool {
        if package == "main" {
            return true;
        }
        if let Some(module) = &self.module {
            // A module nested in the user's (its own go.mod) is a dependency.
            let nested_dependency = self
                .dependencies
                .iter()
                .any(|dep| dep.len() > module.len() && goname::in_module(package, dep));
            return goname::in_module(package, module) && !nested_dependency;
        }
        // No module known: code outside Go's sources and the module cache
        // was built from the user's tree.
        let Some(file) = self.file_of(name) else {
            return false;
        };
        let in_goroot = self
            .goroot_src
            .as_deref()
            .is_some_and(|src| file.starts_with(src));
        !in_goroot && !in_module_cache(file) && !goname::is_standard_library(package)
    }
}

/// Module-cache sources: `…/pkg/mod/github.com/x/y@v1.2.3/…`, or with
/// `-trimpath`, `github.com/x/y@v1.2.3/…`.
fn in_module_cache(file: &str) -> bool {
    file.contains("/pkg/mod/") || file.contains("@v")
}

/// Why the palette file is wrong.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("colors/go.palette line {line}: {reason}")]
pub struct PaletteError {
    pub line: usize,
    pub reason: String,
}

impl GoPalette {
    /// The palette compiled in from `colors/go.palette`, parsed once.
    pub fn builtin() -> &'static GoPalette {
        static PARSED: std::sync::OnceLock<GoPalette> = std::sync::OnceLock::new();
        PARSED.get_or_init(|| {
            GoPalette::parse(BUILTIN).expect("colors/go.palette is checked by a unit test")
        })
    }

    /// Parses palette text (see `colors/go.palette` for the format).
    pub fn parse(text: &str) -> Result<GoPalette, PaletteError> {
        let mut classes: Vec<Class> = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let fail = |reason: String| PaletteError { line, reason };
            let content = raw.trim();
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            if let Some(id) = content.strip_prefix('[').and_then(|c| c.strip_suffix(']')) {
                classes.push(Class {
                    id: id.trim().to_owned(),
                    label: id.trim().to_owned(),
                    rules: Vec::new(),
                    from: Color::default(),
                    to: Color::default(),
                });
                continue;
            }
            let (key, value) = content
                .split_once('=')
                .map(|(k, v)| (k.trim(), v.trim()))
                .ok_or_else(|| fail(format!("expected `key = value`, found {content:?}")))?;
            let class = classes
                .last_mut()
                .ok_or_else(|| fail("a [class] must come first".into()))?;
            match key {
                "label" => class.label = value.to_owned(),
                "prefix" => class.rules.push(Rule::Prefix(value.to_owned())),
                "contains" => class.rules.push(Rule::Contains(value.to_owned())),
                "kind" => class
                    .rules
                    .push(Rule::Kind(parse_kind(value).map_err(fail)?)),
                "shades" => {
                    let mut ends = value.split_whitespace().map(parse_color);
                    match (ends.next(), ends.next(), ends.next()) {
                        (Some(from), Some(to), None) => {
                            class.from = from.map_err(&fail)?;
                            class.to = to.map_err(&fail)?;
                        }
                        _ => {
                            return Err(fail(format!("shades needs two colours, found {value:?}")))
                        }
                    }
                }
                other => return Err(fail(format!("unknown key {other:?}"))),
            }
        }
        if classes.is_empty() {
            return Err(PaletteError {
                line: 0,
                reason: "no classes".into(),
            });
        }
        Ok(GoPalette { classes })
    }

    /// The position of the class `name` belongs to; the last class catches
    /// names no rule matches.
    pub fn classify(&self, name: &str, program: &Program) -> usize {
        let name = name.strip_suffix(INLINE_MARK).unwrap_or(name);
        let name = program.qualified(name);
        let name = name.as_ref();
        self.classes
            .iter()
            .position(|class| class.rules.iter().any(|rule| matches(rule, name, program)))
            .unwrap_or(self.classes.len() - 1)
    }

    /// The colour of `name`: its class's family, at a shade fixed by the
    /// name (without the inline mark, so a function keeps one colour).
    pub fn color(&self, name: &str, program: &Program) -> Color {
        let class = &self.classes[self.classify(name, program)];
        let base = name.strip_suffix(INLINE_MARK).unwrap_or(name);
        shade(class.from, class.to, fnv1a(base.as_bytes()))
    }

    /// Colours for every frame of `stacks` that `map` does not have yet,
    /// and the classes that appear, for the legend (in palette order).
    pub fn fill<'a>(
        &self,
        stacks: impl IntoIterator<Item = &'a str>,
        program: &Program,
        map: &mut PaletteMap,
    ) -> Vec<&Class> {
        let mut used = vec![false; self.classes.len()];
        // inferno's root frame (`all`) has the empty name: a neutral grey.
        if map.get("").is_none() {
            map.insert("", ROOT);
        }
        // Deep stacks repeat the same names many times: classify each once,
        // and skip the frames a stack shares with the one before it.
        let mut names: std::collections::HashSet<&str> = std::collections::HashSet::new();
        let mut previous = "";
        for stack in stacks {
            let new = stack[shared_frames(previous, stack)..].split(';');
            names.extend(new.filter(|name| !name.is_empty()));
            previous = stack;
        }
        for name in names {
            used[self.classify(name, program)] = true;
            if map.get(name).is_none() {
                map.insert(name, self.color(name, program));
            }
        }
        self.classes
            .iter()
            .zip(used)
            .filter_map(|(class, used)| used.then_some(class))
            .collect()
    }
}

impl Class {
    /// The two ends of the family.
    pub fn range(&self) -> (Color, Color) {
        (self.from, self.to)
    }

    /// The middle of the family, for the legend's swatch.
    pub fn swatch(&self) -> Color {
        shade(self.from, self.to, 512)
    }
}

/// Where the frames `stack` does not share with `previous` begin.
fn shared_frames(previous: &str, stack: &str) -> usize {
    let common = common_prefix(previous.as_bytes(), stack.as_bytes());
    let whole_frame = previous.len() == common || previous.as_bytes()[common] == b';';
    // Bytes, not a str slice: the shared bytes may end inside a character
    // (two names may begin with different characters that share a byte).
    match stack.as_bytes()[..common].iter().rposition(|&b| b == b';') {
        _ if common == stack.len() && whole_frame => stack.len(),
        Some(at) => at + 1,
        None => 0,
    }
}

/// How many leading bytes `a` and `b` share; compared a block at a time
/// (stacks of deep recursion run to kilobytes).
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 64;
    let n = a.len().min(b.len());
    let mut at = 0;
    while at + BLOCK <= n && a[at..at + BLOCK] == b[at..at + BLOCK] {
        at += BLOCK;
    }
    at + a[at..n]
        .iter()
        .zip(&b[at..n])
        .take_while(|(x, y)| x == y)
        .count()
}

fn matches(rule: &Rule, name: &str, program: &Program) -> bool {
    match rule {
        Rule::Prefix(prefix) => name.starts_with(prefix.as_str()),
        Rule::Contains(text) => name.contains(text.as_str()),
        Rule::Kind(kind) => is_kind(*kind, name, program),
    }
}

fn is_kind(kind: Kind, name: &str, program: &Program) -> bool {
    let package = goname::package_path(name);
    match kind {
        Kind::NoStack => name == crate::fold::NO_STACK_FRAME,
        Kind::Leaked => crate::profile::dump::is_wait_frame(name) && name.ends_with("(leaked)]"),
        Kind::Waiting => crate::profile::dump::is_wait_frame(name),
        Kind::Unsymbolized => name.starts_with("0x") || name == crate::fold::UNKNOWN_FRAME,
        Kind::NotGo => package.is_none(),
        Kind::OwnModule => package.is_some_and(|package| program.owns(package, name)),
        Kind::StandardLibrary => package.is_some_and(goname::is_standard_library),
        Kind::Any => true,
    }
}

fn parse_kind(value: &str) -> Result<Kind, String> {
    Ok(match value {
        "no-stack" => Kind::NoStack,
        "leaked" => Kind::Leaked,
        "waiting" => Kind::Waiting,
        "unsymbolized" => Kind::Unsymbolized,
        "not-go" => Kind::NotGo,
        "own-module" => Kind::OwnModule,
        "standard-library" => Kind::StandardLibrary,
        "any" => Kind::Any,
        other => return Err(format!("unknown kind {other:?}")),
    })
}

fn parse_color(text: &str) -> Result<Color, String> {
    let hex = text
        .strip_prefix('#')
        .filter(|hex| hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()))
        .ok_or_else(|| format!("colours are #rrggbb, found {text:?}"))?;
    let channel = |at: usize| u8::from_str_radix(&hex[at..at + 2], 16).expect("checked hex");
    Ok(Color {
        r: channel(0),
        g: channel(2),
        b: channel(4),
    })
}

/// A point between `from` and `to`, placed by `hash`.
fn shade(from: Color, to: Color, hash: u64) -> Color {
    let t = (hash % 1024) as f64 / 1023.0;
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
    Color {
        r: mix(from.r, to.r),
        g: mix(from.g, to.g),
        b: mix(from.b, to.b),
    }
}

/// FNV-1a: a fixed hash, the same on every machine and in every version.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_frames_never_cut_a_character() {
        // 'ɐ' is C9 90 and 'ɑ' is C9 91: one shared byte, no shared character.
        assert_eq!(shared_frames("a;ɐ", "a;ɑ"), 2);
        assert_eq!(shared_frames("ɐ", "ɑ"), 0);
        assert_eq!(shared_frames("a;b", "a;b"), 3);
    }

    fn class_of(name: &str, program: &Program) -> String {
        let palette = GoPalette::builtin();
        palette.classes[palette.classify(name, program)].id.clone()
    }

    #[test]
    fn the_builtin_palette_parses_and_covers_every_kind() {
        let palette = GoPalette::builtin();
        let ids: Vec<&str> = palette.classes.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "no-stack",
                "leaked",
                "waiting",
                "unsymbolized",
                "cgo",
                "runtime",
                "module",
                "stdlib",
                "third-party"
            ]
        );
    }

    #[test]
    fn frames_are_classified_by_what_they_are() {
        let program = Program {
            module: Some("example.com/m".into()),
            dependencies: vec!["example.com/m/tools".into()],
            ..Program::default()
        };
        let cases = [
            ("runtime.mallocgc", "runtime"),
            ("internal/runtime/maps.(*Map).Get", "runtime"),
            ("runtime/pprof.StartCPUProfile", "stdlib"),
            ("net/http.(*conn).serve", "stdlib"),
            ("example.com/m/store.(*DB).Get", "module"),
            ("example.com/m/store.(*DB).Get (inline)", "module"),
            ("example.com/m/tools.Run", "third-party"),
            ("example.com/mother.F", "third-party"),
            ("main.main", "module"),
            ("github.com/x/y.F", "third-party"),
            ("main._Cfunc_sqrt", "cgo"),
            ("_cgo_topofstack", "cgo"),
            ("__libc_start_main", "cgo"),
            ("0x45e2c1", "unsymbolized"),
            ("<unknown>", "unsymbolized"),
            ("[no-stack]", "no-stack"),
            ("[chan receive]", "waiting"),
            ("[sync.Mutex.Lock]", "waiting"),
            ("[IO wait]", "waiting"),
            ("[running]", "waiting"),
            ("[select (leaked)]", "leaked"),
            ("[vdso]", "cgo"),
        ];
        for (name, want) in cases {
            assert_eq!(class_of(name, &program), want, "{name}");
        }
    }

    #[test]
    fn without_a_module_the_source_file_decides() {
        let mut profile = Profile::default();
        for (name, file) in [
            ("runtime.main", "/usr/local/go/src/runtime/proc.go"),
            ("net/http.Serve", "/usr/local/go/src/net/http/server.go"),
            ("example.com/m/db.Get", "/home/me/m/db/db.go"),
            (
                "github.com/x/y.F",
                "/root/go/pkg/mod/github.com/x/y@v1.0.0/y.go",
            ),
            ("github.com/z/w.F", "github.com/z/w@v1.0.0/w.go"),
        ] {
            profile.functions.push(crate::profile::Function {
                name: name.into(),
                filename: file.into(),
                ..Default::default()
            });
        }
        let program = Program::default().with_profile(&profile);
        assert_eq!(class_of("example.com/m/db.Get", &program), "module");
        assert_eq!(class_of("github.com/x/y.F", &program), "third-party");
        assert_eq!(class_of("github.com/z/w.F", &program), "third-party");
        assert_eq!(class_of("net/http.Serve", &program), "stdlib");
    }

    #[test]
    fn assembly_without_a_package_takes_it_from_its_file() {
        let mut profile = Profile::default();
        for (name, file) in [
            ("runtime.main", "/go/src/runtime/proc.go"),
            ("gcWriteBarrier", "/go/src/runtime/asm_amd64.s"),
            ("cmpbody", "/go/src/internal/bytealg/compare_amd64.s"),
            ("sqlite3_step", "/home/me/m/sqlite3.c"),
        ] {
            profile.functions.push(crate::profile::Function {
                name: name.into(),
                filename: file.into(),
                ..Default::default()
            });
        }
        let program = Program::default().with_profile(&profile);
        assert_eq!(class_of("gcWriteBarrier", &program), "runtime");
        assert_eq!(class_of("cmpbody", &program), "stdlib");
        assert_eq!(class_of("sqlite3_step", &program), "cgo");
    }

    #[test]
    fn shades_are_fixed_by_name_and_stay_in_the_family() {
        let palette = GoPalette::builtin();
        let program = Program::default();
        let a = palette.color("runtime.mallocgc", &program);
        assert_eq!(a, palette.color("runtime.mallocgc", &program));
        assert_eq!(a, palette.color("runtime.mallocgc (inline)", &program));
        // Pinned: the shade must not depend on the machine or the run.
        assert_eq!(fnv1a(b"runtime.mallocgc") % 1024, 0x309);
        let runtime = palette.classes.iter().find(|c| c.id == "runtime").unwrap();
        for channel in [
            (a.r, runtime.from.r, runtime.to.r),
            (a.b, runtime.from.b, runtime.to.b),
        ] {
            let (value, from, to) = channel;
            assert!(value >= from.min(to) && value <= from.max(to));
        }
    }

    #[test]
    fn stacks_skip_the_frames_they_share() {
        assert_eq!(shared_frames("", "a;b"), 0);
        assert_eq!(shared_frames("a;b;c", "a;b;d"), 4);
        assert_eq!(shared_frames("a;bc", "a;bd"), 2);
        assert_eq!(shared_frames("a;b", "a;b;c"), 2);
        assert_eq!(shared_frames("a;b", "a;b"), 3);
        assert_eq!(shared_frames("a;bc", "a;b"), 2);
        let long = "x".repeat(200);
        assert_eq!(
            common_prefix(long.as_bytes(), format!("{long}y").as_bytes()),
            200
        );
        assert_eq!(
            common_prefix(format!("{long}a").as_bytes(), format!("{long}b").as_bytes()),
            200
        );
        let mut map = PaletteMap::default();
        let palette = GoPalette::builtin();
        let used = palette.fill(
            ["a.x;b.y", "a.x;b.y", "a.x;b.y;c.z", "a.x;b.w"],
            &Program::default(),
            &mut map,
        );
        for name in ["a.x", "b.y", "c.z", "b.w"] {
            assert!(map.get(name).is_some(), "{name}");
        }
        let used: Vec<&str> = used.iter().map(|class| class.id.as_str()).collect();
        assert_eq!(used, ["stdlib"], "no class for an empty name");
    }

    #[test]
    fn bad_palettes_name_the_line() {
        let error = GoPalette::parse("[a]\nshades = #12345\n").unwrap_err();
        assert_eq!(error.line, 2);
        assert!(GoPalette::parse("label = x\n").is_err());
        assert!(GoPalette::parse("[a]\nkind = nonsense\n").is_err());
    }
}
