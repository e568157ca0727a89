//! The report's charts, drawn with plotters' SVG backend into strings.
//!
//! plotters is built without its default features: only the SVG backend and line series.
//! Without `ttf` it needs no font library (fontconfig, freetype); text is written as SVG
//! `<text>` and laid out by the browser, with plotters estimating widths. Text passed to
//! plotters is escaped by its SVG backend; peer-controlled labels are also sanitized and
//! shortened here first, so control characters never reach the page.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::graph::stats::Bucket;

use super::ReportError;

/// Width and height of one chart, pixels.
const SIZE: (u32, u32) = (560, 340);
/// Longest label drawn on an axis.
const LABEL_MAX: usize = 28;
const FONT: &str = "sans-serif";

const BAR: RGBColor = RGBColor(0x3b, 0x6e, 0xa8);
const FAILED: RGBColor = RGBColor(0xc0, 0x39, 0x2b);
const SKIPPED: RGBColor = RGBColor(0x95, 0x95, 0x95);
const REACHABLE: RGBColor = RGBColor(0x2e, 0x8b, 0x57);

fn err(e: impl std::fmt::Display) -> ReportError {
    ReportError::Chart(e.to_string())
}

fn label(s: &str) -> String {
    crate::sanitize::sanitize(s, LABEL_MAX)
}

/// Runs `draw` on a fresh SVG canvas and returns the SVG text.
fn svg(
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), ReportError>,
) -> Result<String, ReportError> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        draw(&root)?;
        root.present().map_err(err)?;
    }
    Ok(out)
}

/// A horizontal bar per label (labels on the left read well even when long).
pub fn horizontal_bars(
    title: &str,
    bars: &[(String, u64, RGBColor)],
) -> Result<String, ReportError> {
    svg(|root| {
        let n = bars.len().max(1) as u32;
        let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
        let labels: Vec<String> = bars.iter().map(|b| label(&b.0)).collect();
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(170)
            .build_cartesian_2d(0u64..max + max / 10 + 1, (0..n).into_segmented())
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n as usize)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .x_desc("nodes")
            .draw()
            .map_err(err)?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, (_, v, c))| {
                let i = i as u32;
                let mut r = Rectangle::new(
                    [
                        (0, SegmentValue::Exact(i)),
                        (*v, SegmentValue::Exact(i + 1)),
                    ],
                    c.filled(),
                );
                r.set_margin(3, 3, 0, 0);
                r
            }))
            .map_err(err)?;
        Ok(())
    })
}

/// A vertical bar per label over a logarithmic count axis (empty bars are left out).
pub fn log_bars(title: &str, x_desc: &str, bars: &[(String, u64)]) -> Result<String, ReportError> {
    svg(|root| {
        let n = bars.len().max(1) as u32;
        let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1) as f64;
        let labels: Vec<String> = bars.iter().map(|b| label(&b.0)).collect();
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 16))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d((0..n).into_segmented(), (0.5f64..max * 2.0).log_scale())
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n as usize)
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .y_desc("nodes (log scale)")
            .x_desc(x_desc)
            .draw()
            .map_err(err)?;
        chart
            .draw_series(
                bars.iter()
                    .enumerate()
                    .filter(|(_, b)| b.1 > 0)
                    .map(|(i, (_, v, ..))| {
                        let i = i as u32;
                        let mut r = Rectangle::new(
                            [
                                (SegmentValue::Exact(i), 0.5),
                                (SegmentValue::Exact(i + 1), *v as f64),
                            ],
                            BAR.filled(),
                        );
                        r.set_margin(0, 0, 2, 2);
                        r
                    }),
            )
            .map_err(err)?;
        Ok(())
    })
}

/// A horizontal bar per label over a logarithmic count axis (empty bars are left out).
pub fn horizontal_log_bars(title: &str, bars: &[(String, u64)]) -> Result<String, ReportError> {
    svg(|root| {
        let n = bars.len().max(1) as u32;
        let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1) as f64;
        let labels: Vec<String> = bars.iter().map(|b| label(&b.0)).collect();
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 16))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(110)
            .build_cartesian_2d((0.5f64..max * 2.0).log_scale(), (0..n).into_segmented())
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n as usize)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .x_desc("nodes (log scale)")
            .draw()
            .map_err(err)?;
        chart
            .draw_series(
                bars.iter()
                    .enumerate()
                    .filter(|(_, b)| b.1 > 0)
                    .map(|(i, (_, v))| {
                        let i = i as u32;
                        let mut r = Rectangle::new(
                            [
                                (0.5, SegmentValue::Exact(i)),
                                (*v as f64, SegmentValue::Exact(i + 1)),
                            ],
                            BAR.filled(),
                        );
                        r.set_margin(2, 2, 0, 0);
                        r
                    }),
            )
            .map_err(err)?;
        Ok(())
    })
}

/// Bars of a log2 degree histogram, labelled `0`, `1`, `2-3`, …
pub fn degree_bars(title: &str, histogram: &[Bucket]) -> Result<String, ReportError> {
    let bars: Vec<(String, u64)> = histogram
        .iter()
        .map(|b| {
            let l = if b.min == b.max {
                b.min.to_string()
            } else {
                format!("{}-{}", b.min, b.max)
            };
            (l, b.count)
        })
        .collect();
    log_bars(title, "degree (log2 buckets)", &bars)
}

/// Bin edges of the clock skew histogram, seconds: finer near zero, where most nodes are.
const SKEW_EDGES: [f64; 12] = [
    -3600.0, -600.0, -300.0, -60.0, -10.0, -1.0, 1.0, 10.0, 60.0, 300.0, 600.0, 3600.0,
];

/// The clock skew histogram's bins: labels and counts.
pub fn skew_bins(skews: &[f64]) -> Vec<(String, u64)> {
    let mut counts = vec![0u64; SKEW_EDGES.len() + 1];
    for &s in skews.iter().filter(|s| s.is_finite()) {
        let bin = SKEW_EDGES.iter().take_while(|&&e| s >= e).count();
        counts[bin] += 1;
    }
    let edge = |e: f64| {
        let a = e.abs();
        let unit = if a >= 3600.0 {
            format!("{}h", a / 3600.0)
        } else if a >= 60.0 {
            format!("{}m", a / 60.0)
        } else {
            format!("{a}s")
        };
        if e < 0.0 { format!("-{unit}") } else { unit }
    };
    (0..counts.len())
        .map(|b| {
            let l = if b == 0 {
                format!("<{}", edge(SKEW_EDGES[0]))
            } else if b == SKEW_EDGES.len() {
                format!("≥{}", edge(SKEW_EDGES[b - 1]))
            } else {
                format!("{} .. {}", edge(SKEW_EDGES[b - 1]), edge(SKEW_EDGES[b]))
            };
            (l, counts[b])
        })
        .collect()
}

/// Per chain: how many nodes of its mempool network are reachable, failed, skipped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChainStatus {
    /// Chain id.
    pub chain: u16,
    /// Reachable, failed, skipped.
    pub counts: [u64; 3],
}

/// A grid: one column per chain, one row per status; cells shaded by share, with counts.
pub fn chain_grid(chains: &[ChainStatus]) -> Result<String, ReportError> {
    svg(|root| {
        let n = chains.len().max(1) as u32;
        let rows = ["reachable", "failed", "skipped"];
        let colours = [REACHABLE, FAILED, SKIPPED];
        let ids: Vec<String> = chains.iter().map(|c| c.chain.to_string()).collect();
        let mut chart = ChartBuilder::on(root)
            .caption(
                "Chains × status: nodes of each chain's mempool network",
                (FONT, 16),
            )
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(75)
            .build_cartesian_2d((0..n).into_segmented(), (0u32..3).into_segmented())
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(n as usize)
            .y_labels(3)
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => ids.get(*i as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => rows.get(*i as usize).map_or("", |s| s).to_string(),
                _ => String::new(),
            })
            .x_desc("chain")
            .draw()
            .map_err(err)?;
        let mut cells = Vec::new();
        let mut texts = Vec::new();
        for (x, c) in chains.iter().enumerate() {
            let total = c.counts.iter().sum::<u64>().max(1) as f64;
            for (y, &count) in c.counts.iter().enumerate() {
                let share = count as f64 / total;
                let (x, y) = (x as u32, y as u32);
                let mut r = Rectangle::new(
                    [
                        (SegmentValue::Exact(x), SegmentValue::Exact(y)),
                        (SegmentValue::Exact(x + 1), SegmentValue::Exact(y + 1)),
                    ],
                    colours[y as usize].mix(0.1 + 0.9 * share).filled(),
                );
                r.set_margin(1, 1, 1, 1);
                cells.push(r);
                texts.push(Text::new(
                    count.to_string(),
                    (SegmentValue::CenterOf(x), SegmentValue::CenterOf(y)),
                    (FONT, 10).into_font().color(&BLACK).pos(
                        plotters::style::text_anchor::Pos::new(
                            plotters::style::text_anchor::HPos::Center,
                            plotters::style::text_anchor::VPos::Center,
                        ),
                    ),
                ));
            }
        }
        chart.draw_series(cells).map_err(err)?;
        chart.draw_series(texts).map_err(err)?;
        Ok(())
    })
}

/// Node counts of one crawl, for the history chart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrawlCounts {
    /// Crawl id.
    pub id: i64,
    /// Start time, ISO-8601.
    pub started_at: String,
    /// Known, reachable, failed, skipped nodes.
    pub counts: [u64; 4],
}

/// Lines of known / reachable / failed / skipped nodes, one point per crawl, oldest left.
pub fn history(crawls: &[CrawlCounts]) -> Result<String, ReportError> {
    svg(|root| {
        let n = crawls.len();
        let max = crawls
            .iter()
            .flat_map(|c| c.counts)
            .max()
            .unwrap_or(0)
            .max(1) as f64;
        let names: Vec<String> = crawls
            .iter()
            .map(|c| format!("#{} {}", c.id, c.started_at.get(..10).unwrap_or("")))
            .collect();
        let mut chart = ChartBuilder::on(root)
            .caption("Nodes per crawl", (FONT, 16))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(55)
            .build_cartesian_2d(-0.5f64..(n.max(1) as f64 - 0.5), 0f64..max * 1.1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_labels(n.clamp(1, 8))
            .x_label_formatter(&|v| {
                let i = v.round();
                if (v - i).abs() < 1e-6 && i >= 0.0 {
                    names.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|v| format!("{v:.0}"))
            .y_desc("nodes")
            .draw()
            .map_err(err)?;
        let series = [
            ("known", BAR),
            ("reachable", REACHABLE),
            ("failed", FAILED),
            ("skipped", SKIPPED),
        ];
        for (k, (name, colour)) in series.into_iter().enumerate() {
            let points: Vec<(f64, f64)> = crawls
                .iter()
                .enumerate()
                .map(|(i, c)| (i as f64, c.counts[k] as f64))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))
                .map_err(err)?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2))
                });
            chart
                .draw_series(
                    points
                        .into_iter()
                        .map(|p| Circle::new(p, 3, colour.filled())),
                )
                .map_err(err)?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(err)?;
        Ok(())
    })
}

/// Colours of the failure-reason chart.
pub fn reason_colours() -> (RGBColor, RGBColor) {
    (FAILED, SKIPPED)
}

/// The plain bar colour.
pub fn bar_colour() -> RGBColor {
    BAR
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skew_bins_cover_every_value_once() {
        let bins = skew_bins(&[-1e9, -5.0, 0.0, 0.5, 59.9, 60.0, 1e9, f64::NAN]);
        assert_eq!(bins.len(), 13);
        assert_eq!(bins.iter().map(|b| b.1).sum::<u64>(), 7);
        assert_eq!(bins[0], ("<-1h".to_string(), 1));
        assert_eq!(bins[5], ("-10s .. -1s".to_string(), 1));
        assert_eq!(bins[6], ("-1s .. 1s".to_string(), 2));
        assert_eq!(bins[8], ("10s .. 1m".to_string(), 1));
        assert_eq!(bins[9], ("1m .. 5m".to_string(), 1));
        assert_eq!(bins[12], ("≥1h".to_string(), 1));
    }

    #[test]
    fn labels_are_escaped_by_the_svg_backend() {
        let svg =
            horizontal_bars("t", &[("<b>\"x\"&\u{1b}".to_string(), 3, bar_colour())]).unwrap();
        assert!(svg.contains("&lt;b&gt;"), "{svg}");
        assert!(!svg.contains("<b>"));
        assert!(!svg.contains('\u{1b}'));
    }

    #[test]
    fn every_chart_draws_on_empty_input() {
        for s in [
            horizontal_bars("t", &[]).unwrap(),
            log_bars("t", "x", &[]).unwrap(),
            horizontal_log_bars("t", &[]).unwrap(),
            degree_bars("t", &[]).unwrap(),
            chain_grid(&[]).unwrap(),
            history(&[]).unwrap(),
        ] {
            assert!(s.starts_with("<svg"), "{s}");
            assert!(s.trim_end().ends_with("</svg>"));
        }
    }
}
