//! The scaling benchmarks (`benches/scaling.rs`, ids `scaling/<series>/<units>`) as a
//! markdown table on stdout and a plot, `benches/scaling.svg`: three log-log charts of time
//! per decode against input size, with the fitted per-unit cost on each.
//!
//! ```text
//! cargo run -p sio-benches --bin scaling-report -- [--criterion DIR] [--svg FILE]
//! ```
//!
//! The fit is `time = fixed + per_unit × units`, least squares on relative errors (weights
//! 1/time²) so that the small inputs count as much as the large ones; the log-log slope
//! (ordinary least squares on the logarithms) says whether growth is linear (slope 1).
//! The SVG is written by hand: no plotting dependency for three charts.

use sio_benches::report::{criterion_dir, read_json, time};
use std::{
    collections::BTreeMap,
    fmt::Write as _,
    path::{Path, PathBuf},
};

/// One series of the scaling benchmarks.
struct Series {
    /// The benchmark function name, `scaling/<id>/<units>`.
    id: &'static str,
    title: &'static str,
    /// What one unit of x is, singular.
    unit: &'static str,
    plural: &'static str,
    x_label: &'static str,
}

const SERIES: [Series; 3] = [
    Series {
        id: "sio_decode",
        title: "Socket.IO event, validated decode",
        unit: "byte",
        plural: "bytes",
        x_label: "event size (bytes)",
    },
    Series {
        id: "reassemble",
        title: "Binary event, Reassembler",
        unit: "attachment",
        plural: "attachments",
        x_label: "attachments (16 B each)",
    },
    Series {
        id: "payload_v4",
        title: "v4 polling body, decode",
        unit: "record",
        plural: "records",
        x_label: "records",
    },
];

/// The fit of one series.
struct Fit {
    per_unit: f64,
    fixed: f64,
    slope: f64,
    /// The log-log slope between the two largest inputs.
    top_slope: f64,
}

fn fit(points: &[(f64, f64)]) -> Option<Fit> {
    if points.len() < 2 {
        return None;
    }
    let (mut s0, mut sx, mut sxx, mut st, mut sxt) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &(x, t) in points {
        let w = 1.0 / (t * t);
        s0 += w;
        sx += w * x;
        sxx += w * x * x;
        st += w * t;
        sxt += w * x * t;
    }
    let per_unit = (s0 * sxt - sx * st) / (s0 * sxx - sx * sx);
    let fixed = (st - per_unit * sx) / s0;
    let n = points.len() as f64;
    let logs: Vec<(f64, f64)> = points.iter().map(|&(x, t)| (x.ln(), t.ln())).collect();
    let (mx, mt) = (
        logs.iter().map(|p| p.0).sum::<f64>() / n,
        logs.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let slope = logs.iter().map(|p| (p.0 - mx) * (p.1 - mt)).sum::<f64>()
        / logs.iter().map(|p| (p.0 - mx).powi(2)).sum::<f64>();
    let [.., (x1, t1), (x2, t2)] = logs[..] else {
        return None;
    };
    Some(Fit {
        per_unit,
        fixed,
        slope,
        top_slope: (t2 - t1) / (x2 - x1),
    })
}

/// Every `scaling/...` median (ns) under `dir` (criterion's `new/{benchmark,estimates}.json`,
/// read as bench-report reads them).
fn medians(dir: &Path, out: &mut BTreeMap<String, f64>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            medians(&path, out);
        } else if path.ends_with("new/benchmark.json") {
            let Some(new) = path.parent() else { continue };
            let (Some(meta), Some(estimates)) =
                (read_json(&path), read_json(&new.join("estimates.json")))
            else {
                continue;
            };
            if let (Some(id), Some(median)) = (
                meta["full_id"].as_str(),
                estimates["median"]["point_estimate"].as_f64(),
            ) && id.starts_with("scaling/")
            {
                out.insert(id.to_string(), median);
            }
        }
    }
}

/// A per-unit cost, in ns with 3 significant digits.
fn per_unit(ns: f64) -> String {
    let digits = if ns >= 100.0 {
        0
    } else if ns >= 10.0 {
        1
    } else if ns >= 1.0 {
        2
    } else {
        3
    };
    format!("{ns:.digits$} ns")
}

/// A power of ten as an axis label: `1`, `10`, `100`, `1k`, … `100M`.
fn decade_label(exp: i32) -> String {
    let (base, suffix) = match exp {
        ..=2 => (exp, ""),
        3..=5 => (exp - 3, "k"),
        6..=8 => (exp - 6, "M"),
        _ => (exp - 9, "G"),
    };
    format!("{}{suffix}", 10u64.pow(base.max(0) as u32))
}

fn time_label(exp: i32) -> String {
    let (base, unit) = match exp {
        ..=2 => (exp, "ns"),
        3..=5 => (exp - 3, "µs"),
        6..=8 => (exp - 6, "ms"),
        _ => (exp - 9, "s"),
    };
    format!("{} {unit}", 10u64.pow(base.max(0) as u32))
}

const PANEL_W: f64 = 340.0;
const HEIGHT: f64 = 330.0;
const LEFT: f64 = 62.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 64.0;
const BOTTOM: f64 = 48.0;

/// One chart at horizontal offset `x0`.
fn panel(svg: &mut String, x0: f64, series: &Series, points: &[(f64, f64)], fit: Option<&Fit>) {
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="20" text-anchor="middle" font-weight="bold">{}</text>"#,
        x0 + PANEL_W / 2.0,
        series.title
    );
    if points.is_empty() {
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle">not measured</text>"#,
            x0 + PANEL_W / 2.0,
            HEIGHT / 2.0
        );
        return;
    }
    let lg = f64::log10;
    let fold = |f: fn(f64, f64) -> f64, v: &dyn Fn(&(f64, f64)) -> f64, init: f64| {
        points.iter().map(v).fold(init, f)
    };
    let x_lo = lg(fold(f64::min, &|p| p.0, f64::MAX)).floor() as i32;
    let x_hi = (lg(fold(f64::max, &|p| p.0, 0.0)).ceil() as i32).max(x_lo + 1);
    let y_lo = lg(fold(f64::min, &|p| p.1, f64::MAX)).floor() as i32;
    let y_hi = (lg(fold(f64::max, &|p| p.1, 0.0)).ceil() as i32).max(y_lo + 1);
    let (w, h) = (PANEL_W - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
    let px = |x: f64| x0 + LEFT + (lg(x) - f64::from(x_lo)) / f64::from(x_hi - x_lo) * w;
    let py = |t: f64| TOP + h - (lg(t) - f64::from(y_lo)) / f64::from(y_hi - y_lo) * h;
    let _ = writeln!(
        svg,
        r##"<rect x="{}" y="{TOP}" width="{w}" height="{h}" fill="none" stroke="#444"/>"##,
        x0 + LEFT
    );
    for e in x_lo..=x_hi {
        let x = px(10f64.powi(e));
        let _ = writeln!(
            svg,
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{}" stroke="#ddd"/><text x="{x:.1}" y="{}" text-anchor="middle" font-size="11">{}</text>"##,
            TOP + h,
            TOP + h + 15.0,
            decade_label(e)
        );
    }
    for e in y_lo..=y_hi {
        let y = py(10f64.powi(e));
        let _ = writeln!(
            svg,
            r##"<line x1="{}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end" font-size="11">{}</text>"##,
            x0 + LEFT,
            x0 + LEFT + w,
            x0 + LEFT - 4.0,
            y + 4.0,
            time_label(e)
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle" font-size="12">{}</text>"#,
        x0 + LEFT + w / 2.0,
        HEIGHT - 12.0,
        series.x_label
    );
    let _ = writeln!(
        svg,
        r#"<text transform="translate({},{}) rotate(-90)" text-anchor="middle" font-size="12">time per decode (median)</text>"#,
        x0 + 14.0,
        TOP + h / 2.0
    );
    if let Some(fit) = fit {
        // The fitted line, sampled log-uniformly across the x range (where it is positive).
        let (a, b) = (lg(points[0].0), lg(points[points.len() - 1].0));
        let line: Vec<String> = (0..=48)
            .map(|i| 10f64.powf(a + (b - a) * f64::from(i) / 48.0))
            .map(|x| (x, fit.fixed + fit.per_unit * x))
            .filter(|&(_, t)| t > 0.0)
            .map(|(x, t)| format!("{:.1},{:.1}", px(x), py(t)))
            .collect();
        let _ = writeln!(
            svg,
            r##"<polyline points="{}" fill="none" stroke="#d62728" stroke-dasharray="5,4"/>"##,
            line.join(" ")
        );
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="37" text-anchor="middle" font-size="12">fit: {} per {} + {} fixed</text>"#,
            x0 + PANEL_W / 2.0,
            per_unit(fit.per_unit),
            series.unit,
            time(fit.fixed.max(0.0)),
        );
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="52" text-anchor="middle" font-size="11">log-log slope {:.2} (two largest: {:.2}); dashed: the fit</text>"#,
            x0 + PANEL_W / 2.0,
            fit.slope,
            fit.top_slope
        );
    }
    let measured: Vec<String> = points
        .iter()
        .map(|&(x, t)| format!("{:.1},{:.1}", px(x), py(t)))
        .collect();
    let _ = writeln!(
        svg,
        r##"<polyline points="{}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>"##,
        measured.join(" ")
    );
    for &(x, t) in points {
        let _ = writeln!(
            svg,
            r##"<circle cx="{:.1}" cy="{:.1}" r="3" fill="#1f77b4"/>"##,
            px(x),
            py(t)
        );
    }
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut criterion = criterion_dir(&root);
    let mut svg_path = root.join("scaling.svg");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--criterion", Some(dir)) => criterion = dir.into(),
            ("--svg", Some(file)) => svg_path = file.into(),
            _ => {
                eprintln!("usage: scaling-report [--criterion DIR] [--svg FILE]");
                std::process::exit(2);
            }
        }
    }
    let mut results = BTreeMap::new();
    medians(&criterion, &mut results);
    if results.is_empty() {
        eprintln!("no scaling results under {}", criterion.display());
        std::process::exit(1);
    }

    let mut svg = String::new();
    let width = PANEL_W * SERIES.len() as f64;
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{HEIGHT}" viewBox="0 0 {width} {HEIGHT}" font-family="sans-serif" font-size="13">"#
    );
    let _ = writeln!(
        svg,
        r#"<rect width="{width}" height="{HEIGHT}" fill="white"/>"#
    );
    let mut points_table =
        String::from("| series | size | median | per unit |\n|---|---:|---:|---:|\n");
    let mut fit_table = String::from(
        "| series | fitted cost per unit | fixed cost | log-log slope (all points) | slope (two largest) |\n|---|---:|---:|---:|---:|\n",
    );
    for (i, series) in SERIES.iter().enumerate() {
        let prefix = format!("scaling/{}/", series.id);
        let mut points: Vec<(f64, f64)> = results
            .iter()
            .filter_map(|(id, &t)| Some((id.strip_prefix(&prefix)?.parse::<f64>().ok()?, t)))
            .collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        for &(x, t) in &points {
            let _ = writeln!(
                points_table,
                "| {} | {x} {} | {} | {} per {} |",
                series.title,
                if x == 1.0 { series.unit } else { series.plural },
                time(t),
                per_unit(t / x),
                series.unit
            );
        }
        let fit = fit(&points);
        if let Some(f) = &fit {
            let _ = writeln!(
                fit_table,
                "| {} | {} per {} | {} | {:.2} | {:.2} |",
                series.title,
                per_unit(f.per_unit),
                series.unit,
                time(f.fixed.max(0.0)),
                f.slope,
                f.top_slope
            );
        }
        panel(&mut svg, PANEL_W * i as f64, series, &points, fit.as_ref());
    }
    svg.push_str("</svg>\n");
    if let Err(e) = std::fs::write(&svg_path, &svg) {
        eprintln!("writing {}: {e}", svg_path.display());
        std::process::exit(1);
    }
    // The file name only: the report goes into the README, where the plot sits beside it.
    let name = svg_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    println!(
        "\n#### Scaling (`scaling/*`; plot: `{}`)\n",
        name.unwrap_or_default()
    );
    println!("{points_table}\n{fit_table}");
}
