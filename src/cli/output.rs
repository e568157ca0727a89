//! Where results go: the output folder, stdout, and notes on stderr.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::args::{Opts, ProgressWhen};

/// How to talk to the user.
#[derive(Debug, Clone, Copy)]
pub struct Ui {
    /// Draw progress bars (only on a terminal).
    pub progress: bool,
    /// Print notes on stderr.
    pub notes: bool,
}

impl Ui {
    /// From the global options.
    pub fn new(opts: &Opts) -> Self {
        Ui {
            progress: !opts.quiet && opts.progress != ProgressWhen::Never,
            notes: !opts.quiet,
        }
    }

    /// A note for the user on stderr.
    pub fn note(&self, msg: impl std::fmt::Display) {
        if self.notes {
            eprintln!("{msg}");
        }
    }
}

/// Creates the output folder and proves it is writable before any long work starts.
///
/// # Errors
/// A message naming the folder.
pub fn prepare_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create output folder {}", dir.display()))?;
    let probe = dir.join(".chainweb-crawler-write-test");
    std::fs::write(&probe, b"")
        .with_context(|| format!("output folder {} is not writable", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Creates the folder holding a database file.
///
/// # Errors
/// A message naming the folder.
pub fn prepare_db_dir(db: &Path) -> Result<()> {
    match db.parent() {
        Some(p) if !p.as_os_str().is_empty() => prepare_dir(p),
        _ => Ok(()),
    }
}

/// Writes a file whole or not at all (temporary file, then rename).
///
/// # Errors
/// A message naming the file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp-write");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Writes a file through a buffered writer and renames it into place, so a large file is
/// never held in memory and a reader never sees half of one.
///
/// # Errors
/// A message naming the file.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    let tmp = path.with_extension("tmp-write");
    let file =
        std::fs::File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    let mut w = std::io::BufWriter::new(file);
    write(&mut w).with_context(|| format!("cannot write {}", tmp.display()))?;
    w.flush()
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    drop(w);
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Writes bytes to a file, or to stdout for `-`.
///
/// # Errors
/// A message naming the file.
pub fn write_to(path: &Path, bytes: &[u8]) -> Result<()> {
    if path == Path::new("-") {
        let mut out = std::io::stdout().lock();
        out.write_all(bytes).context("cannot write to stdout")?;
        out.flush().context("cannot write to stdout")
    } else {
        write_atomic(path, bytes)
    }
}

/// The standard result files of a crawl.
pub struct OutputFiles {
    /// DOT of the cut network.
    pub dot: PathBuf,
    /// GraphML of all networks.
    pub graphml: PathBuf,
    /// Statistics as JSON.
    pub stats: PathBuf,
}

impl OutputFiles {
    /// The file names inside `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        OutputFiles {
            dot: dir.join("cut.dot"),
            graphml: dir.join("network.graphml"),
            stats: dir.join("stats.json"),
        }
    }
}
