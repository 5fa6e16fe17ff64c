//! Turns paths from a drop or a file dialog into readable source files, or a
//! clear per-item reason why not. Nothing here modifies the user's files.

use std::fs::File;
use std::io::ErrorKind;
use std::path::Path;
use std::time::UNIX_EPOCH;

use crate::jobs::{Rejection, SourceFile};

/// Checks that `path` is a regular file we can read, and records its size and mtime.
pub fn inspect(path: &Path) -> Result<SourceFile, Rejection> {
    let reject = |reason: String| Rejection { path: path.display().to_string(), reason };
    let meta = std::fs::metadata(path).map_err(|e| {
        reject(match e.kind() {
            ErrorKind::NotFound => "file not found: it may have been moved or deleted".into(),
            ErrorKind::PermissionDenied => "permission denied: Streamdrop cannot read this file".into(),
            _ => format!("cannot read this file: {e}"),
        })
    })?;
    if meta.is_dir() {
        return Err(reject("is a folder: drop the video files inside it instead".into()));
    }
    if !meta.is_file() {
        return Err(reject("is not a regular file (a device, socket or pipe): only files can be uploaded".into()));
    }
    // Opening proves readability now rather than failing halfway through the upload.
    File::open(path).map_err(|e| {
        reject(match e.kind() {
            ErrorKind::PermissionDenied => "permission denied: Streamdrop cannot read this file".into(),
            _ => format!("cannot open this file: {e}"),
        })
    })?;
    let modified_ms = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    Ok(SourceFile { path: path.to_path_buf(), size: meta.len(), modified_ms })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_regular_file_with_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clip one.mp4");
        std::fs::write(&path, b"12345").unwrap();
        let source = inspect(&path).unwrap();
        assert_eq!(source.size, 5);
        assert_eq!(source.display_name(), "clip one.mp4");
        assert!(source.modified_ms > 0);
    }

    #[test]
    fn rejects_folders_missing_files_and_pipes_with_reasons() {
        let dir = tempfile::tempdir().unwrap();
        let folder = inspect(dir.path()).unwrap_err();
        assert!(folder.reason.contains("folder"), "{folder:?}");

        let missing = inspect(&dir.path().join("nope.mov")).unwrap_err();
        assert!(missing.reason.contains("not found"), "{missing:?}");

        let fifo = dir.path().join("pipe");
        let status = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(status.success());
        let pipe = inspect(&fifo).unwrap_err();
        assert!(pipe.reason.contains("not a regular file"), "{pipe:?}");
    }
}
