//! What a Go function name says about itself: its package path, its short
//! form for labels (`--short`), and whether it is Go at all.
//!
//! Go names a function `import/path/pkg.Symbol`, where the symbol may hold
//! receivers (`(*T).M`), closures (`F.func1`) and type arguments
//! (`F[go.shape.int]`), which may contain more paths. The linker escapes
//! dots in the last element of an import path (`yaml%2ev3`), so the first
//! dot after the path's last slash always ends the package path.

/// The import path of the package `name` belongs to (`net/http`,
/// `github.com/org/repo/pkg`, `main`), or `None` when `name` is not shaped
/// like a Go function name.
pub fn package_path(name: &str) -> Option<&str> {
    if !looks_like_go(name) {
        return None;
    }
    let head = &name[..symbol_start(name)];
    let element = head.rfind('/').map_or(0, |slash| slash + 1);
    let dot = head[element..].find('.')?;
    let path = &name[..element + dot];
    (!path.is_empty() && !path.ends_with('/')).then_some(path)
}

/// Where receivers or type arguments begin: nothing before it is part of
/// a nested name.
fn symbol_start(name: &str) -> usize {
    name.find(['(', '[', ' ']).unwrap_or(name.len())
}

/// False for names no Go toolchain produces: C and C++ symbols, shared
/// library placeholders, addresses.
fn looks_like_go(name: &str) -> bool {
    let head = &name[..symbol_start(name)];
    let c_suffix = [
        ".cold",
        ".part.",
        ".isra.",
        ".constprop.",
        ".lto_priv",
        "@plt",
    ]
    .iter()
    .any(|suffix| head.contains(suffix));
    !(name.is_empty()
        || name.starts_with("__")
        || name.starts_with('[')
        || name.starts_with("0x")
        || head.contains("::")
        || c_suffix
        || !head.contains('.'))
}

/// True for packages of the standard library: their import path's first
/// element has no dot (`net/http`, `internal/abi`, `vendor/golang.org/…`),
/// except `main`, which is the program's own.
pub fn is_standard_library(path: &str) -> bool {
    let first = path.split('/').next().unwrap_or(path);
    !first.contains('.') && path != "main" && !first.contains(':')
}

/// True when `package` is `module` or one of its packages.
pub fn in_module(package: &str, module: &str) -> bool {
    package == module
        || (package.starts_with(module) && package.as_bytes().get(module.len()) == Some(&b'/'))
}

/// The name without its package's import path, as pprof labels its flame
/// graph: `github.com/org/repo/pkg.(*T).M` → `pkg.(*T).M`, and a major
/// version element is skipped: `github.com/x/y/v2.F` → `y.F`. With `-lines`
/// names (`pkg.F file.go:12`) only the function part changes. Names that
/// are not Go are returned as they are.
pub fn short_name(name: &str) -> std::borrow::Cow<'_, str> {
    let Some(path) = package_path(name) else {
        return name.into();
    };
    let rest = &name[path.len()..];
    let mut elements = path.rsplit('/');
    let last = elements.next().unwrap_or(path);
    let package = match (is_major_version(last), elements.next()) {
        (true, Some(previous)) => previous,
        _ => last,
    };
    if package.len() == path.len() {
        return name.into();
    }
    format!("{package}{rest}").into()
}

/// `v2`, `v10`: the element Go adds to a module path for major versions.
fn is_major_version(element: &str) -> bool {
    element
        .strip_prefix('v')
        .is_some_and(|n| n.len() < 4 && n.parse::<u32>().is_ok_and(|n| n >= 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_paths() {
        let cases = [
            ("runtime.mallocgc", Some("runtime")),
            ("net/http.(*conn).serve", Some("net/http")),
            (
                "github.com/org/repo/pkg.(*T).M",
                Some("github.com/org/repo/pkg"),
            ),
            ("main.main.func1", Some("main")),
            (
                "example.com/m/pkg.Map[go.shape.int,github.com/x/y.T]",
                Some("example.com/m/pkg"),
            ),
            (
                "gopkg.in/yaml%2ev3.(*parser).parse",
                Some("gopkg.in/yaml%2ev3"),
            ),
            ("type:.eq.main.T", Some("type:")),
            ("__libc_start_main", None),
            ("memcpy", None),
            ("std::vector<int>::push_back", None),
            ("foo.cold", None),
            ("0x45e2c1", None),
            ("[libc.so.6]", None),
            ("", None),
        ];
        for (name, want) in cases {
            assert_eq!(package_path(name), want, "{name}");
        }
    }

    #[test]
    fn standard_library_is_dotless() {
        assert!(is_standard_library("runtime"));
        assert!(is_standard_library("net/http"));
        assert!(is_standard_library("vendor/golang.org/x/net/http2/hpack"));
        assert!(!is_standard_library("main"));
        assert!(!is_standard_library("github.com/a/b"));
        assert!(!is_standard_library("type:"));
    }

    #[test]
    fn modules_contain_their_packages_only() {
        assert!(in_module("example.com/m", "example.com/m"));
        assert!(in_module("example.com/m/pkg", "example.com/m"));
        assert!(!in_module("example.com/mother", "example.com/m"));
    }

    #[test]
    fn short_names_drop_the_path() {
        let cases = [
            ("github.com/org/repo/pkg.(*T).M", "pkg.(*T).M"),
            ("github.com/x/y/v2.F", "y.F"),
            ("net/http.(*conn).serve", "http.(*conn).serve"),
            ("runtime.mallocgc", "runtime.mallocgc"),
            (
                "example.com/m/pkg.Map[go.shape.int,github.com/x/y.T]",
                "pkg.Map[go.shape.int,github.com/x/y.T]",
            ),
            ("main.work /src/m/main.go:12", "main.work /src/m/main.go:12"),
            (
                "example.com/m/pkg.work /src/m/pkg/a.go:3",
                "pkg.work /src/m/pkg/a.go:3",
            ),
            ("__libc_start_main", "__libc_start_main"),
            ("0x45e2c1", "0x45e2c1"),
        ];
        for (name, want) in cases {
            assert_eq!(short_name(name), want, "{name}");
        }
    }
}
