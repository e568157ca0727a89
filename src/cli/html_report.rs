//! `report`: the self-contained HTML report of a stored crawl; also written by `crawl` and
//! `demo`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::store::{CrawlId, Store};

use super::Exit;
use super::args::{CrawlSel, ReportArgs};
use super::output::{self, Ui};

/// The report's file name in an output folder.
pub const REPORT_FILE: &str = "report.html";

/// Renders crawl `id` of the database `db` as HTML.
fn render(db: &Path, id: CrawlId) -> Result<String> {
    let store =
        Store::open(db).with_context(|| format!("cannot open database {}", db.display()))?;
    crate::report::render_from_store(&store, id).with_context(|| {
        format!(
            "cannot write the report of crawl {} from {}",
            id.0,
            db.display()
        )
    })
}

/// Writes the report of crawl `id` into `out/report.html` and returns the path.
///
/// # Errors
/// Database or file-system failures, naming the file.
pub fn write(db: &Path, id: CrawlId, out: &Path) -> Result<PathBuf> {
    let path = out.join(REPORT_FILE);
    output::write_atomic(&path, render(db, id)?.as_bytes())?;
    Ok(path)
}

/// `chainweb-crawler report`.
pub fn run(a: ReportArgs, ui: &Ui) -> Result<Exit> {
    if !a.db.exists() {
        bail!(
            "database {} does not exist (run `chainweb-crawler crawl` or `demo` first, or pass --db)",
            a.db.display()
        );
    }
    let store =
        Store::open(&a.db).with_context(|| format!("cannot open database {}", a.db.display()))?;
    let id = match a.crawl {
        CrawlSel::Latest => store
            .latest_crawl()?
            .with_context(|| format!("database {} holds no crawl yet", a.db.display()))?,
        CrawlSel::Id(i) => CrawlId(i),
    };
    drop(store);
    let html = render(&a.db, id)?;
    if a.output != Path::new("-") {
        output::prepare_db_dir(&a.output)?;
    }
    output::write_to(&a.output, html.as_bytes())?;
    if a.output != Path::new("-") {
        ui.note(format!("wrote {}", a.output.display()));
    }
    Ok(Exit::Success)
}
