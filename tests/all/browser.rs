//! The flame graphs torch writes, opened in headless Chromium: they draw,
//! and inferno's script zooms and searches when a person clicks.

use std::path::Path;

use serde_json::{json, Value};

use crate::chromium::{decode_png, non_blank, open_page, save_artifact, Page, HEIGHT, WIDTH};
use crate::util::{path_str, profile_path, success, torch_in};

/// inferno's highlight for search matches (`searchcolor` in its script).
const SEARCH_COLOUR: &str = "rgb(230,0,230)";

/// Writes `<name>.svg` in `dir` from fixture profile `name` with the real
/// binary, and returns the file name.
fn flame_graph(dir: &Path, name: &str) -> String {
    let file = format!("{name}.svg");
    success(&torch_in(
        dir,
        &["-f", &file, path_str(&profile_path(name))],
    ));
    file
}

/// A flame graph open in a browser, once inferno's `init` has run.
struct Opened {
    page: Page,
    dir: tempfile::TempDir,
}

fn open_flame_graph(name: &str) -> Opened {
    let dir = tempfile::tempdir().unwrap();
    let file = flame_graph(dir.path(), name);
    let mut page = open_page(dir.path(), &file);
    wait_for_init(&mut page);
    Opened { page, dir }
}

fn wait_for_init(page: &mut Page) {
    // init() runs on the SVG's load event and sets these globals.
    page.wait_for(
        "typeof unzoombtn === 'object' && unzoombtn !== null && frames instanceof SVGElement",
    );
    let exceptions = page.exceptions();
    assert!(exceptions.is_empty(), "script errors: {exceptions:#?}");
}

/// Each frame's tooltip and the `x`, `width` and `fill` of its rect, and
/// whether it is hidden, in document order.
fn frames(page: &mut Page) -> Vec<Value> {
    let frames = page.eval(
        "[...document.querySelectorAll('#frames > g')].map(g => {
            const r = g.querySelector('rect');
            return { title: g.querySelector('title').textContent,
                     x: r.getAttribute('x'), width: r.getAttribute('width'),
                     fill: r.getAttribute('fill'), hidden: g.classList.contains('hide') };
        })",
    );
    frames.as_array().expect("an array of frames").clone()
}

fn percent(value: &Value) -> f64 {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not text: {value}"));
    text.strip_suffix('%')
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a percentage: {text}"))
}

#[test]
fn svg_renders_in_chromium() {
    let Opened { mut page, dir } = open_flame_graph("cpu");
    let document = page.eval(
        "({ type: document.contentType, root: document.documentElement.localName,
            frames: document.querySelectorAll('#frames > g').length,
            title: document.getElementById('title').textContent,
            viewport: [innerWidth, innerHeight] })",
    );
    assert_eq!(document["type"], "image/svg+xml", "{document}");
    assert_eq!(document["root"], "svg", "the SVG is the page: {document}");
    assert_eq!(document["title"], "Flame Graph", "{document}");
    assert_eq!(document["viewport"], json!([WIDTH, HEIGHT]), "{document}");
    let count = document["frames"].as_u64().unwrap();
    assert!(count > 10, "only {count} frames drawn");

    let png = page.screenshot();
    let image = decode_png(&png).unwrap();
    assert_eq!((image.width, image.height), (WIDTH, HEIGHT));
    if let Err(e) = non_blank(&png) {
        let saved = save_artifact("cpu-failed.png", &png);
        panic!("{}: {e}", saved.display());
    }

    // The whole graph, root frame and all, for the docs.
    let png = page.full_screenshot();
    let saved = save_artifact("cpu.png", &png);
    let image = decode_png(&png).unwrap();
    let height = page.eval("document.documentElement.height.baseVal.value");
    assert!(
        f64::from(image.height) >= height.as_f64().unwrap(),
        "{}: {}×{} px for an SVG {height} px high",
        saved.display(),
        image.width,
        image.height
    );
    if let Err(e) = non_blank(&png) {
        panic!("{}: {e}", saved.display());
    }

    // The heap profile too, in the same browser.
    let heap = flame_graph(dir.path(), "heap");
    page.open(&heap);
    wait_for_init(&mut page);
    let count = page
        .eval("document.querySelectorAll('#frames > g').length")
        .as_u64()
        .unwrap();
    assert!(count > 10, "only {count} heap frames drawn");
    let png = page.screenshot();
    let saved = save_artifact("heap.png", &png);
    if let Err(e) = non_blank(&png) {
        panic!("{}: {e}", saved.display());
    }
}

#[test]
fn clicking_a_frame_zooms() {
    let Opened {
        mut page,
        dir: _dir,
    } = open_flame_graph("cpu");
    let before = frames(&mut page);

    // The widest frame below half the width that is on screen, not the
    // root, and that a click at its centre would land on.
    let pick = page.eval(
        "(() => {
            const groups = [...document.querySelectorAll('#frames > g')];
            let best = null;
            groups.forEach((g, index) => {
                const rect = g.querySelector('rect');
                const width = parseFloat(rect.getAttribute('width'));
                if (g.querySelector('title').textContent.startsWith('all ') || !(width < 50)) return;
                const box = rect.getBoundingClientRect();
                const x = box.left + box.width / 2, y = box.top + box.height / 2;
                if (box.width < 6 || x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) return;
                const hit = document.elementFromPoint(x, y);
                if (!hit || hit.closest('#frames > g') !== g) return;
                if (!best || width > best.width) best = { index, x, y, width };
            });
            return best;
        })()",
    );
    assert!(!pick.is_null(), "no frame to click");
    let index = pick["index"].as_u64().unwrap() as usize;
    let original = percent(&before[index]["width"]);
    assert!(original < 50.0, "{pick}");

    page.click(pick["x"].as_f64().unwrap(), pick["y"].as_f64().unwrap());

    let state = |page: &mut Page| {
        page.eval(&format!(
            "(() => {{
                const g = document.querySelectorAll('#frames > g')[{index}];
                const rect = g.querySelector('rect');
                return {{ width: rect.getAttribute('width'),
                         pixels: rect.getBoundingClientRect().width,
                         container: document.getElementById('frames').width.baseVal.value,
                         hidden: document.querySelectorAll('#frames > g.hide').length,
                         self_hidden: g.classList.contains('hide'),
                         unzoom_hidden: document.getElementById('unzoom').classList.contains('hide'),
                         query: location.search }};
            }})()"
        ))
    };
    let zoomed = state(&mut page);
    let width = percent(&zoomed["width"]);
    assert!(
        (width - 100.0).abs() < 0.01,
        "{}: width {width}% after zooming, was {original}%",
        before[index]["title"]
    );
    let (pixels, container) = (
        zoomed["pixels"].as_f64().unwrap(),
        zoomed["container"].as_f64().unwrap(),
    );
    assert!(
        (pixels - container).abs() < 1.0,
        "drawn {pixels} px wide in a {container} px container"
    );
    assert!(
        zoomed["hidden"].as_u64().unwrap() > 0,
        "nothing hidden: {zoomed}"
    );
    assert_eq!(zoomed["self_hidden"], false, "{zoomed}");
    assert_eq!(
        zoomed["unzoom_hidden"], false,
        "Reset Zoom not shown: {zoomed}"
    );
    assert!(
        zoomed["query"].as_str().unwrap().contains("x="),
        "zoom not kept in the URL: {zoomed}"
    );

    let (x, y) = page.centre("#unzoom");
    page.click(x, y);

    let unzoomed = state(&mut page);
    let width = percent(&unzoomed["width"]);
    assert!(
        (width - original).abs() < 0.001,
        "width {width}% after Reset Zoom, was {original}%"
    );
    assert_eq!(unzoomed["hidden"], 0, "{unzoomed}");
    assert_eq!(unzoomed["unzoom_hidden"], true, "{unzoomed}");
    let after = frames(&mut page);
    for (b, a) in before.iter().zip(&after) {
        assert!(
            (percent(&b["x"]) - percent(&a["x"])).abs() < 0.001
                && (percent(&b["width"]) - percent(&a["width"])).abs() < 0.001,
            "not restored: {b} became {a}"
        );
    }
}

#[test]
fn search_highlights_matches() {
    let Opened {
        mut page,
        dir: _dir,
    } = open_flame_graph("cpu");
    assert_eq!(page.eval("searchcolor"), SEARCH_COLOUR);
    let before = frames(&mut page);

    let (x, y) = page.centre("#search");
    let release = page.click_start(x, y);
    let dialog = page.event("Page.javascriptDialogOpening");
    assert_eq!(dialog["type"], "prompt", "{dialog}");
    page.send(
        "Page.handleJavaScriptDialog",
        json!({ "accept": true, "promptText": "runtime\\." }),
    );
    page.reply(release);

    let after = frames(&mut page);
    assert_eq!(before.len(), after.len());
    let mut matched = 0;
    for (b, a) in before.iter().zip(&after) {
        let title = a["title"].as_str().unwrap();
        if title.contains("runtime.") {
            matched += 1;
            assert_eq!(a["fill"], SEARCH_COLOUR, "{title} not highlighted");
        } else {
            assert_eq!(a["fill"], b["fill"], "{title} changed colour");
        }
    }
    assert!(matched > 0, "no runtime. frames in the CPU profile");

    let status = page.eval(
        "({ matched: document.getElementById('matched').textContent,
            matched_hidden: document.getElementById('matched').classList.contains('hide'),
            search: document.getElementById('search').textContent })",
    );
    let text = status["matched"].as_str().unwrap();
    let share: f64 = text
        .strip_prefix("Matched: ")
        .and_then(|t| t.strip_suffix('%'))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("#matched says {text:?}"));
    assert!(share > 0.0 && share <= 100.0, "{text}");
    assert_eq!(status["matched_hidden"], false, "{status}");
    assert_eq!(status["search"], "Reset Search", "{status}");
}

#[test]
fn short_labels_survive_zooming() {
    let dir = tempfile::tempdir().unwrap();
    let binary = path_str(&crate::util::bench_binary()).to_owned();
    success(&torch_in(
        dir.path(),
        &[
            "-f",
            "short.svg",
            "--short",
            &binary,
            path_str(&profile_path("bench-cpu")),
        ],
    ));
    let mut page = open_page(dir.path(), "short.svg");
    wait_for_init(&mut page);
    // Every label shown is (a cut of) the short name, never the full one.
    let labels_ok = "(() => {
        const bad = [];
        let shown = 0;
        for (const g of document.querySelectorAll('#frames > g[data-label]')) {
            if (g.classList.contains('hide')) continue;
            const label = g.getAttribute('data-label');
            const text = g.querySelector('text').textContent;
            if (text === '') continue;
            shown++;
            const kept = text.startsWith('..') ? text.slice(2) : text;
            if (!label.endsWith(kept)) bad.push([label, text]);
        }
        return { shown, bad };
    })()";
    let before = page.eval(labels_ok);
    assert!(before["shown"].as_u64().unwrap() > 3, "{before}");
    assert_eq!(before["bad"], json!([]), "{before}");
    // Zoom into the widest labelled frame below the root's width; inferno
    // redraws every label.
    let picked = page.eval(
        "(() => { let best = null, widest = 0;
                  for (const g of document.querySelectorAll('#frames > g[data-label]')) {
                      const w = parseFloat(g.querySelector('rect').getAttribute('width'));
                      if (w < 90 && w > widest) { best = g; widest = w; }
                  }
                  if (best) best.id = 'pick';
                  return widest; })()",
    );
    assert!(picked.as_f64().unwrap() > 5.0, "{picked}");
    let (x, y) = page.centre("#pick rect");
    page.click(x, y);
    let zoomed_width = page.eval("document.querySelector('#pick rect').getAttribute('width')");
    assert_eq!(zoomed_width, "100.0000%", "zoomed");
    let after = page.eval(labels_ok);
    assert!(after["shown"].as_u64().unwrap() > 0, "{after}");
    assert_eq!(after["bad"], json!([]), "{after}");
    // The zoomed frame, now full width, shows its whole short name.
    let full = page.eval(
        "(() => { const g = document.getElementById('pick');
                  return [g.getAttribute('data-label'), g.querySelector('text').textContent,
                          g.querySelector('title').textContent]; })()",
    );
    assert_eq!(full[0], full[1], "{full}");
    assert!(
        full[2].as_str().unwrap().starts_with("torchfixtures/"),
        "the tooltip keeps the full name: {full}"
    );
}

#[test]
fn index_page_shows_every_graph() {
    let dir = tempfile::tempdir().unwrap();
    let binary = path_str(&crate::util::bench_binary()).to_owned();
    success(&torch_in(
        dir.path(),
        &[
            "-q",
            "--output-dir",
            "flame",
            &binary,
            path_str(&profile_path("bench-cpu")),
            path_str(&profile_path("bench-mem")),
        ],
    ));
    let mut page = open_page(&dir.path().join("flame"), "index.html");
    page.wait_for("[...document.images].length > 0 && [...document.images].every(i => i.complete)");
    let images = page.eval(
        "[...document.images].map(i => ({ src: i.getAttribute('src'), width: i.naturalWidth,
                                          shown: i.getBoundingClientRect().width }))",
    );
    let images = images.as_array().unwrap();
    assert_eq!(images.len(), 6, "one preview per sample type: {images:?}");
    for image in images {
        assert!(
            image["width"].as_f64().unwrap() > 0.0,
            "not loaded: {image}"
        );
        assert!(
            image["shown"].as_f64().unwrap() > 100.0,
            "not shown: {image}"
        );
    }
    // Every link answers.
    let statuses = page.eval(
        "Promise.all([...document.querySelectorAll('a')].map(a =>
            fetch(a.href).then(r => [a.getAttribute('href'), r.status])))",
    );
    for status in statuses.as_array().unwrap() {
        assert_eq!(status[1], 200, "{status}");
    }
    let png = page.screenshot();
    let saved = save_artifact("index.png", &png);
    if let Err(e) = non_blank(&png) {
        panic!("{}: {e}", saved.display());
    }
    // A real click on the first preview opens that flame graph.
    let (x, y) = page.centre("img.preview");
    page.click(x, y);
    page.event("Page.loadEventFired");
    wait_for_init(&mut page);
    let opened = page.eval("[document.contentType, location.pathname]");
    assert_eq!(opened[0], "image/svg+xml", "{opened}");
    assert!(opened[1].as_str().unwrap().ends_with(".svg"), "{opened}");
}

#[test]
fn legend_and_footer_never_cover_each_other() {
    // Five and more legend entries (unnamed addresses from a second
    // program, the runtime, the standard library, the module, inlined
    // frames) and a footer naming two sources with very long names.
    let dir = tempfile::tempdir().unwrap();
    let long = format!("{}-cpu.pb.gz", "a-very-long-service-name".repeat(6));
    std::fs::copy(profile_path("cpu"), dir.path().join(&long)).unwrap();
    let nonames = crate::util::fixtures_dir().join("profiles/symtest-default/cpu-nonames.pb.gz");
    std::fs::copy(&nonames, dir.path().join("nonames.pb.gz")).unwrap();
    for width in ["600", "800", "1200"] {
        let file = format!("w{width}.svg");
        success(&torch_in(
            dir.path(),
            &["-q", "--width", width, "-f", &file, &long, "nonames.pb.gz"],
        ));
        let mut page = open_page(dir.path(), &file);
        wait_for_init(&mut page);
        let boxes = page.eval(
            "[...document.querySelectorAll('#legend > *')].map(e => {
                const b = e.getBBox();
                return { id: e.id, tag: e.tagName, text: e.textContent,
                         x: b.x, y: b.y, right: b.x + b.width, bottom: b.y + b.height };
            })",
        );
        let boxes = boxes.as_array().expect("boxes").clone();
        let svg_width: f64 = width.parse().unwrap();
        let svg_height = page
            .eval("document.documentElement.height.baseVal.value")
            .as_f64()
            .unwrap();
        let legend_texts = boxes
            .iter()
            .filter(|b| b["tag"] == "text" && b["id"] != "footer")
            .count();
        assert!(
            legend_texts >= 5,
            "{width}: {legend_texts} legend entries: {boxes:#?}"
        );
        let footer = boxes
            .iter()
            .find(|b| b["id"] == "footer")
            .expect("a footer");
        let number = |b: &Value, key: &str| b[key].as_f64().unwrap();
        for b in &boxes {
            assert!(
                number(b, "x") >= 0.0 && number(b, "right") <= svg_width,
                "{width}: outside: {b}"
            );
            assert!(
                number(b, "bottom") <= svg_height,
                "{width}: below the image: {b}"
            );
        }
        for (i, a) in boxes.iter().enumerate() {
            for b in &boxes[i + 1..] {
                let overlap = number(a, "x") < number(b, "right")
                    && number(b, "x") < number(a, "right")
                    && number(a, "y") < number(b, "bottom")
                    && number(b, "y") < number(a, "bottom");
                assert!(!overlap, "{width}: {a} covers {b}");
            }
        }
        // The footer was cut to fit; the notes keep it whole.
        let footer_text = footer["text"].as_str().unwrap();
        assert!(footer_text.contains('…'), "{width}: {footer_text}");
        let svg = std::fs::read_to_string(dir.path().join(&file)).unwrap();
        assert!(
            svg.contains(&format!("source: {long}, nonames.pb.gz;")),
            "{width}: the notes name both sources whole"
        );
        let png = page.screenshot();
        save_artifact(&format!("legend-{width}.png"), &png);
    }
}

#[test]
fn labels_keep_their_end_before_and_after_zooming() {
    let mut opened = open_flame_graph("cpu");
    let page = &mut opened.page;
    // Every label shown is the frame's name, or `..` and the name's end.
    let labels_ok = "(() => {
        const bad = [];
        let cut = 0;
        for (const g of document.querySelectorAll('#frames > g')) {
            if (g.classList.contains('hide')) continue;
            const name = g.querySelector('title').textContent.replace(/ \\([^(]*\\)$/, '');
            const text = g.querySelector('text').textContent;
            if (text === '' || text === name) continue;
            cut++;
            if (!text.startsWith('..') || !name.endsWith(text.slice(2))) bad.push([name, text]);
        }
        return { cut, bad };
    })()";
    let before = page.eval(labels_ok);
    assert!(
        before["cut"].as_u64().unwrap() > 0,
        "some labels are cut: {before}"
    );
    assert_eq!(before["bad"], json!([]), "{before}");
    // Zoom into a narrow frame: inferno's script redraws every label.
    page.eval(
        "(() => { let best = null, widest = 0;
                  for (const g of document.querySelectorAll('#frames > g')) {
                      const w = parseFloat(g.querySelector('rect').getAttribute('width'));
                      if (w < 60 && w > widest) { best = g; widest = w; }
                  }
                  best.id = 'pick'; })()",
    );
    let (x, y) = page.centre("#pick rect");
    page.click(x, y);
    let after = page.eval(labels_ok);
    assert_eq!(after["bad"], json!([]), "{after}");
}
