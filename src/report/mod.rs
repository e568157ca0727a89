//! A self-contained HTML report of one crawl: summary table, topology map, charts.
//!
//! The page needs nothing but itself: CSS, the charts (SVG from plotters) and a small
//! script (hover, pan and zoom, the network selector, a self-check) are inline. The same
//! crawl always gives the same bytes: the layout is deterministic, every map is ordered,
//! and the page holds no time but the crawl's own.
//!
//! Peer-controlled text (hostnames, ids, versions, reasons) is sanitized (control and bidi
//! characters escaped) and then HTML-escaped, or placed in JSON that the script only ever
//! assigns as text.

pub mod charts;
pub mod history;
pub mod html;
pub mod layout;
pub mod map;

use crate::store::{CrawlData, Store, StoreError};

pub use charts::CrawlCounts;

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A chart failed to draw.
    #[error("cannot draw a chart: {0}")]
    Chart(String),
    /// The map's data could not be serialized.
    #[error("cannot serialize the map data: {0}")]
    Json(#[from] serde_json::Error),
    /// Reading the crawl history failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The report of `data`, with `history` (node counts of this and earlier crawls of the same
/// network, oldest first) for the chart over time.
///
/// # Errors
/// [`ReportError::Chart`] or [`ReportError::Json`]; neither happens with plain data.
pub fn render(data: &CrawlData, history: &[CrawlCounts]) -> Result<String, ReportError> {
    html::page(data, history)
}

/// Loads crawl `id` of `store` with its history and renders the report.
///
/// # Errors
/// Store errors (no such crawl, unreadable rows) and those of [`render`].
pub fn render_from_store(store: &Store, id: crate::store::CrawlId) -> Result<String, ReportError> {
    let data = store.load_crawl(id)?;
    let history = history::load(store, &data.crawl)?;
    render(&data, &history)
}
