//! Where Streamdrop keeps its data. Every binary and test resolves it the same
//! way, so a test pointing `STREAMDROP_DATA_DIR` at a temp dir never touches a
//! real user's data.
//!
//! The data dir is private to the user: it holds every original and output,
//! and the job store holds signed URLs. Opening one makes it 0700 and sets
//! this process's umask to 077, so what the engine, the embedded S3 server and
//! ffmpeg create there is the user's alone; starting an engine also tightens
//! what an earlier version left readable.

use std::path::{Path, PathBuf};

/// Environment variable that overrides the platform data directory.
pub const DATA_DIR_ENV: &str = "STREAMDROP_DATA_DIR";

/// The root of everything Streamdrop stores on this machine.
#[derive(Debug, Clone)]
pub struct DataDir(PathBuf);

#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("no data directory: this platform has none; pass --data-dir or set {DATA_DIR_ENV}")]
    NoPlatformDir,
    #[error("cannot create the data directory {path}: {source}")]
    Create { path: PathBuf, source: std::io::Error },
    #[error("another Streamdrop (the app or `streamdrop serve`) is already running jobs on {path}; stop it, or use another --data-dir")]
    Busy { path: PathBuf },
    #[error("cannot lock {path}: {source}")]
    Lock { path: PathBuf, source: std::io::Error },
}

/// Proof that this process is the one running jobs on a data dir; released
/// when the last clone drops (the engine holds one, the control channel's
/// owner may hold another).
#[derive(Debug, Clone)]
pub struct EngineLock {
    _file: std::sync::Arc<std::fs::File>,
}

impl DataDir {
    /// Resolves, in order: an explicit flag, `STREAMDROP_DATA_DIR`, the platform's data dir.
    /// Creates the directory if needed.
    pub fn resolve(flag: Option<PathBuf>) -> Result<Self, DataDirError> {
        let from_env = std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()).map(PathBuf::from);
        let path = match flag.or(from_env) {
            Some(path) => path,
            None => dirs::data_dir().ok_or(DataDirError::NoPlatformDir)?.join("streamdrop"),
        };
        Self::at(path)
    }

    /// Uses exactly `path`, creating it if needed, private to this user.
    pub fn at(path: impl Into<PathBuf>) -> Result<Self, DataDirError> {
        let path = path.into();
        let create_err = |source| DataDirError::Create { path: path.clone(), source };
        private::create_files_privately();
        std::fs::create_dir_all(&path).map_err(create_err)?;
        private::restrict(&path).map_err(create_err)?;
        // An absolute path keeps messages and the store stable if the cwd changes.
        let path = std::fs::canonicalize(&path).unwrap_or(path);
        Ok(Self(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The SQLite job store.
    pub fn store_file(&self) -> PathBuf {
        self.0.join("streamdrop.sqlite3")
    }

    /// Claims the data dir for one engine. Two engines on one store would run
    /// every job twice and race on its state.
    pub fn lock_for_engine(&self) -> Result<EngineLock, DataDirError> {
        let path = self.0.join("engine.lock");
        let lock_err = |source| DataDirError::Lock { path: path.clone(), source };
        let file =
            std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(lock_err)?;
        match file.try_lock() {
            Ok(()) => Ok(EngineLock { _file: std::sync::Arc::new(file) }),
            Err(std::fs::TryLockError::WouldBlock) => Err(DataDirError::Busy { path: self.0.clone() }),
            Err(std::fs::TryLockError::Error(source)) => Err(lock_err(source)),
        }
    }

    /// Like [`lock_for_engine`](Self::lock_for_engine), waiting up to 5 s:
    /// a process that just closed on this data dir (an app restart) may need
    /// a moment to let go.
    pub fn claim_for_engine(&self) -> Result<EngineLock, DataDirError> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let lock = loop {
            match self.lock_for_engine() {
                Err(DataDirError::Busy { .. }) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(100))
                }
                other => break other?,
            }
        };
        let tightened = private::tighten(&self.0);
        if tightened > 0 {
            tracing::info!("made {tightened} file(s) in {} private to this user", self.0.display());
        }
        Ok(lock)
    }

    /// The app's log (see [`crate::logging`]): what a failed job's Details point to.
    pub fn log_file(&self) -> PathBuf {
        self.0.join("logs").join("streamdrop.log")
    }

    /// Object data of the embedded S3 server: one folder per bucket.
    pub fn local_storage_root(&self) -> PathBuf {
        self.0.join("local-s3")
    }

    /// What the embedded S3 server knows of multipart uploads in progress (part
    /// checksums). Beside the object data, not in it: s3s-fs lists every folder there as a bucket.
    pub fn local_part_ledger(&self) -> PathBuf {
        self.0.join("local-s3-parts")
    }
}

/// Files and folders only their owner can read.
mod private {
    use std::path::Path;

    /// What this process creates from now on is its user's alone (umask 077).
    pub fn create_files_privately() {
        #[cfg(unix)]
        // SAFETY: umask only swaps the process's file-creation mask; it cannot fail.
        unsafe {
            libc::umask(0o077);
        }
    }

    /// `path` (a folder) to 0700.
    pub fn restrict(path: &Path) -> std::io::Result<()> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))?;
        }
        #[cfg(not(unix))]
        let _ = path;
        Ok(())
    }

    /// Takes group and other permissions off everything below `root` (links
    /// are not followed); returns how many entries changed.
    pub fn tighten(root: &Path) -> usize {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mut changed = 0;
            let mut pending = vec![root.to_path_buf()];
            while let Some(dir) = pending.pop() {
                let Ok(entries) = std::fs::read_dir(&dir) else { continue };
                for entry in entries.flatten() {
                    let Ok(meta) = entry.path().symlink_metadata() else { continue };
                    if meta.file_type().is_symlink() {
                        continue;
                    }
                    if meta.is_dir() {
                        pending.push(entry.path());
                    }
                    let mode = meta.permissions().mode();
                    if mode & 0o077 != 0 {
                        let private = std::fs::Permissions::from_mode(mode & 0o7700);
                        if std::fs::set_permissions(entry.path(), private).is_ok() {
                            changed += 1;
                        }
                    }
                }
            }
            changed
        }
        #[cfg(not(unix))]
        {
            let _ = root;
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_path_wins_and_is_created() {
        let tmp = tempfile::tempdir().unwrap();
        let wanted = tmp.path().join("nested/dir");
        let dir = DataDir::resolve(Some(wanted.clone())).unwrap();
        assert!(wanted.is_dir());
        assert_eq!(dir.path(), std::fs::canonicalize(&wanted).unwrap());
        assert!(dir.store_file().starts_with(dir.path()));
    }

    #[test]
    fn one_engine_per_data_dir() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::at(tmp.path()).unwrap();
        let first = dir.lock_for_engine().unwrap();
        let second = dir.lock_for_engine().unwrap_err();
        assert!(second.to_string().contains("already running jobs"), "{second}");
        drop(first);
        dir.lock_for_engine().expect("free again once the first engine is gone");
    }
}
