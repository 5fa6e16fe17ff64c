//! Where diagnostics go: always stderr, and for a process that runs the engine
//! for people (the app) also a log file in the data dir, which a failed job's
//! Details point to. Nothing secret reaches either: problems redact their
//! detail, and the file is its user's alone like everything in the data dir.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

use tracing_subscriber::fmt::writer::MakeWriterExt;

use crate::DataDir;

/// Past this size the log is moved to `streamdrop.log.1` (replacing the one
/// before) when the next run starts, so it never grows without bound.
pub const ROTATE_AT_BYTES: u64 = 10 * 1024 * 1024;

/// Installs the process's logger: events at `default_filter` (or as
/// `STREAMDROP_LOG` says) to stderr and, with `log_to`, to its log file too.
/// A log file that cannot be opened is said on stderr; the process runs on.
pub fn init(default_filter: &str, log_to: Option<&DataDir>) {
    let filter =
        || tracing_subscriber::EnvFilter::try_from_env("STREAMDROP_LOG").unwrap_or_else(|_| default_filter.into());
    let file = log_to.map(|data_dir| (data_dir.log_file(), open(&data_dir.log_file())));
    match file {
        Some((_, Ok(file))) => {
            let to_file = std::sync::Mutex::new(file);
            tracing_subscriber::fmt()
                .with_env_filter(filter())
                .with_ansi(false)
                .with_writer(std::io::stderr.and(to_file))
                .init();
        }
        other => {
            tracing_subscriber::fmt().with_env_filter(filter()).with_writer(std::io::stderr).init();
            if let Some((path, Err(err))) = other {
                tracing::warn!("cannot write the log file {}: {err}; logging to the terminal only", path.display());
            }
        }
    }
}

/// Opens `path` for appending, after moving a log past [`ROTATE_AT_BYTES`] aside.
fn open(path: &Path) -> io::Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    if std::fs::metadata(path).is_ok_and(|m| m.len() > ROTATE_AT_BYTES) {
        std::fs::rename(path, path.with_extension("log.1"))?;
    }
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_past_its_size_is_moved_aside_and_a_new_one_begins() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("logs/streamdrop.log");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, vec![b'x'; ROTATE_AT_BYTES as usize + 1]).unwrap();
        let mut file = open(&path).unwrap();
        io::Write::write_all(&mut file, b"new run\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new run\n");
        assert_eq!(std::fs::metadata(path.with_extension("log.1")).unwrap().len(), ROTATE_AT_BYTES + 1);

        // Under the limit, a run appends.
        let mut again = open(&path).unwrap();
        io::Write::write_all(&mut again, b"next run\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new run\nnext run\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
