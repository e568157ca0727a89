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
            crate::crawl::progress::print_above(&msg.to_string());
        }
    }
}

/// Creates the output folder and proves it is writable before any long work starts.
///
/// # Errors
/// A message naming the folder.
pub fn prepare_dir(dir: &Path) -> Result<()> {
    prepare_folder(dir, "output folder")
}

fn prepare_folder(dir: &Path, what: &str) -> Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create {what} {}", dir.display()))?;
    let probe = dir.join(".chainweb-crawler-write-test");
    std::fs::write(&probe, b"")
        .with_context(|| format!("{what} {} is not writable", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Creates the folder holding a database file and proves it is writable.
///
/// # Errors
/// A message naming the folder.
pub fn prepare_db_dir(db: &Path) -> Result<()> {
    match db.parent() {
        Some(p) if !p.as_os_str().is_empty() => prepare_folder(p, "database folder"),
        _ => Ok(()),
    }
}

/// Proves the folder of a file written later exists and is writable.
///
/// # Errors
/// A message naming the folder.
pub fn prepare_file_dir(file: &Path) -> Result<()> {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => {
            if !p.is_dir() {
                anyhow::bail!(
                    "folder {} of {} does not exist",
                    p.display(),
                    file.display()
                );
            }
            prepare_folder(p, "folder")
        }
        _ => Ok(()),
    }
}

/// Writes a file whole or not at all.
///
/// A regular file (or a new one) is written to a temporary file beside it, synced, then
/// renamed over it, so a reader never sees half a file; a symbolic link is followed and its
/// target replaced that way. Anything else (a device such as `/dev/null`, a FIFO) is written
/// in place: renaming over it would replace the device with a plain file.
///
/// # Errors
/// A message naming the file (never the temporary one).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |w| Ok(w.write_all(bytes)?))
}

/// [`write_atomic`] for content made piece by piece: `write` gets a buffered writer, so a
/// large file is never held in memory.
///
/// # Errors
/// A message naming the file (never the temporary one).
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    let cannot = || format!("cannot write {}", path.display());
    let target = match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(cannot)?;
            let mut w = std::io::BufWriter::new(f);
            write(&mut w).with_context(cannot)?;
            return w.flush().with_context(cannot);
        }
        Ok(_) => std::fs::canonicalize(path).with_context(cannot)?,
        Err(_) => path.to_path_buf(),
    };
    let mut tmp_name = target.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = target.with_file_name(tmp_name);
    let written = (|| -> Result<()> {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        write(&mut w)?;
        let f = w
            .into_inner()
            .map_err(std::io::IntoInnerError::into_error)?;
        f.sync_all()?;
        Ok(std::fs::rename(&tmp, &target)?)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(cannot);
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("cwc-output-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("scratch");
        d
    }

    #[test]
    fn a_symlink_is_followed_not_replaced() {
        let d = scratch("symlink");
        let target = d.join("target.dot");
        std::fs::write(&target, b"old").expect("write");
        let link = d.join("link.dot");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        write_atomic(&link, b"new").expect("write through link");
        assert_eq!(std::fs::read(&target).expect("read"), b"new");
        write_atomic_with(&link, |w| Ok(w.write_all(b"streamed")?)).expect("stream through link");
        assert!(
            std::fs::symlink_metadata(&link)
                .expect("meta")
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&target).expect("read"), b"streamed");
        let _ = std::fs::remove_dir_all(d);
    }

    #[test]
    fn a_fifo_is_written_in_place() {
        // A FIFO stands in for a device such as /dev/null: a test must never risk the
        // machine's real devices.
        let d = scratch("fifo");
        let fifo = d.join("out.fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("mkfifo unavailable; skipped");
            return;
        }
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).expect("read fifo"))
        };
        // Streamed: the writer the exports use must not rename over the FIFO either.
        write_atomic_with(&fifo, |w| Ok(w.write_all(b"through the pipe")?)).expect("write fifo");
        assert_eq!(reader.join().expect("reader"), b"through the pipe");
        let meta = std::fs::symlink_metadata(&fifo).expect("meta");
        assert!(!meta.is_file(), "the FIFO must not be replaced by a file");
        let _ = std::fs::remove_dir_all(d);
    }

    #[test]
    fn errors_name_the_target_and_leave_no_temporary_file() {
        let d = scratch("errors");
        let missing = d.join("no-such-dir").join("x.dot");
        let err = write_atomic(&missing, b"x").expect_err("missing folder");
        let text = format!("{err:#}");
        assert!(
            text.starts_with(&format!("cannot write {}", missing.display())),
            "{text}"
        );
        assert!(!text.contains(".tmp"), "{text}");
        let ok = d.join("x.dot");
        write_atomic(&ok, b"x").expect("write");
        let names: Vec<_> = std::fs::read_dir(&d)
            .expect("list")
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("x.dot")]);
        // A write that fails half way leaves the old file and no temporary one.
        let err = write_atomic_with(&ok, |w| {
            w.write_all(b"half")?;
            anyhow::bail!("the exporter failed")
        })
        .expect_err("failing writer");
        assert!(
            format!("{err:#}").contains("the exporter failed"),
            "{err:#}"
        );
        assert_eq!(std::fs::read(&ok).expect("read"), b"x");
        let names: Vec<_> = std::fs::read_dir(&d)
            .expect("list")
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("x.dot")]);
        let _ = std::fs::remove_dir_all(d);
    }
}
