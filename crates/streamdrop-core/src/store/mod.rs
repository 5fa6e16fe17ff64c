//! The SQLite store: jobs (`jobs.rs`) and the journal of multipart uploads in
//! progress (`uploads.rs`), so both survive restarts and crashes. Nothing
//! secret is ever written to it.

mod jobs;
mod links;
mod uploads;

pub use jobs::Inserted;
pub use links::signature_of;
pub use uploads::{DonePart, UploadKey, UploadRecord};

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::Connection;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the job store at {path} cannot be opened: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error("the job store at {path} was written by a newer Streamdrop (schema {found}, this build knows {known}): update Streamdrop")]
    TooNew { path: PathBuf, found: i64, known: i64 },
    #[error("job store error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("the job store holds a corrupt row for job {id}: {what}")]
    Corrupt { id: String, what: String },
}

/// Each entry moves the schema one version up; never edit a shipped entry.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE jobs (
        id TEXT PRIMARY KEY NOT NULL,
        source_path BLOB NOT NULL,
        source_size INTEGER NOT NULL,
        source_mtime_ms INTEGER NOT NULL,
        bucket TEXT NOT NULL,
        object_key TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'uploading', 'uploaded', 'failed')),
        failure TEXT,
        updated_ms INTEGER NOT NULL
    );
    CREATE INDEX jobs_by_created ON jobs (created_ms);",
    // The upload journal; from here on a job may also be paused or cancelled.
    "CREATE TABLE uploads (
        id INTEGER PRIMARY KEY,
        target TEXT NOT NULL,
        bucket TEXT NOT NULL,
        object_key TEXT NOT NULL,
        source_path BLOB NOT NULL,
        source_size INTEGER NOT NULL,
        source_mtime_ms INTEGER NOT NULL,
        upload_id TEXT NOT NULL,
        part_size INTEGER NOT NULL,
        created_ms INTEGER NOT NULL,
        UNIQUE (target, bucket, object_key, source_path)
    );
    CREATE TABLE upload_parts (
        upload INTEGER NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
        part_number INTEGER NOT NULL,
        etag TEXT NOT NULL,
        crc32c INTEGER NOT NULL,
        size INTEGER NOT NULL,
        PRIMARY KEY (upload, part_number)
    );
    CREATE TABLE jobs_v2 (
        id TEXT PRIMARY KEY NOT NULL,
        source_path BLOB NOT NULL,
        source_size INTEGER NOT NULL,
        source_mtime_ms INTEGER NOT NULL,
        bucket TEXT NOT NULL,
        object_key TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'uploading', 'paused', 'uploaded', 'failed', 'cancelled')),
        failure TEXT,
        updated_ms INTEGER NOT NULL
    );
    INSERT INTO jobs_v2 SELECT * FROM jobs;
    DROP TABLE jobs;
    ALTER TABLE jobs_v2 RENAME TO jobs;
    CREATE INDEX jobs_by_created ON jobs (created_ms);",
    // The pipeline: copy and transcode stages after the upload, and what the
    // transcode stage must remember across restarts.
    "CREATE TABLE jobs_v3 (
        id TEXT PRIMARY KEY NOT NULL,
        source_path BLOB NOT NULL,
        source_size INTEGER NOT NULL,
        source_mtime_ms INTEGER NOT NULL,
        bucket TEXT NOT NULL,
        object_key TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN
            ('queued', 'uploading', 'paused', 'copying', 'transcoding', 'ready', 'failed', 'cancelled')),
        stage TEXT CHECK (stage IN ('upload', 'copy', 'transcode')),
        failure TEXT,
        media_info TEXT,
        backend_job_id TEXT,
        updated_ms INTEGER NOT NULL
    );
    INSERT INTO jobs_v3 (id, source_path, source_size, source_mtime_ms, bucket, object_key, created_ms,
                         state, stage, failure, updated_ms)
        SELECT id, source_path, source_size, source_mtime_ms, bucket, object_key, created_ms,
               CASE state WHEN 'uploaded' THEN 'queued' ELSE state END,
               CASE state WHEN 'uploaded' THEN 'copy' ELSE 'upload' END,
               failure, updated_ms
        FROM jobs;
    DROP TABLE jobs;
    ALTER TABLE jobs_v3 RENAME TO jobs;
    CREATE INDEX jobs_by_created ON jobs (created_ms);",
    // Links handed out, so the app can list them with their expiry. A signed
    // URL is a shareable capability, not a key: the private key never comes here.
    "CREATE TABLE links (
        id TEXT PRIMARY KEY NOT NULL,
        job_id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('stream', 'poster', 'original', 'preview')),
        url TEXT NOT NULL,
        expires_ms INTEGER NOT NULL,
        created_ms INTEGER NOT NULL
    );
    CREATE INDEX links_by_job ON links (job_id, created_ms);",
    // Jobs belong to a connection: an engine on another one must not run them
    // (its buckets are other buckets). Jobs made before connections were Local's.
    "ALTER TABLE jobs ADD COLUMN connection TEXT NOT NULL DEFAULT 'Local';",
    // Batches (a drop's jobs listed together, in drop order), where the original
    // is kept, what a resumed upload found already sent; `failure` now holds a
    // problem as JSON (`{"code":…}`), older rows a sentence.
    "ALTER TABLE jobs ADD COLUMN batch TEXT;
    ALTER TABLE jobs ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN original_bucket TEXT;
    ALTER TABLE jobs ADD COLUMN original_key TEXT;
    ALTER TABLE jobs ADD COLUMN resumed_bytes INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX jobs_by_batch ON jobs (created_ms DESC, batch, position);",
    // What the transcoder wrote (the output manifest, JSON), recorded when it finished.
    "ALTER TABLE jobs ADD COLUMN manifest TEXT;",
    // Folders and duplicates: where a file sat in what was dropped, and its
    // content's fingerprint, looked up by connection and size when a file is added.
    "ALTER TABLE jobs ADD COLUMN relative_path TEXT;
    ALTER TABLE jobs ADD COLUMN fingerprint TEXT;
    CREATE INDEX jobs_by_content ON jobs (connection, source_size, fingerprint) WHERE fingerprint IS NOT NULL;",
    // Pages of the list filtered by state, in the list's order (`jobs_by_batch` serves the unfiltered list).
    "CREATE INDEX jobs_by_state ON jobs (state, created_ms DESC, batch, position);",
    // "Clear finished": the row leaves the list but stays known, so its content
    // is still recognised as already uploaded and its links still resolve.
    "ALTER TABLE jobs ADD COLUMN cleared INTEGER NOT NULL DEFAULT 0;",
    // A clip's sidecars (the camera's files that belong with it), as JSON.
    "ALTER TABLE jobs ADD COLUMN sidecars TEXT;",
    // Revoked links: the edge refuses their signature (every URL of a stream
    // link carries the same one), looked up by it.
    "ALTER TABLE links ADD COLUMN revoked_ms INTEGER;
    ALTER TABLE links ADD COLUMN signature TEXT;
    CREATE INDEX links_by_signature ON links (signature) WHERE revoked_ms IS NOT NULL;",
];

#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

impl Store {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let open_err = |source| StoreError::Open { path: path.to_owned(), source };
        let mut conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        use_wal(&conn).map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(open_err)?;
        migrate(&mut conn, path)?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)) })
    }

    pub(crate) fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written, so the poison is harmless.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// How long a statement waits for another process's lock on the store.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Switches the store to write-ahead logging (kept in the file, so once is
/// enough). The switch needs the file to itself, and SQLite answers "busy" at
/// once, without the busy timeout, while another process opens the same new
/// store: it is tried again until the timeout.
fn use_wal(conn: &Connection) -> rusqlite::Result<()> {
    let deadline = Instant::now() + BUSY_TIMEOUT;
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            done => return done,
        }
    }
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    // The version is read under the write lock: two processes opening a new
    // store at once (the app and `streamdrop submit`) migrate it once, in turn.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::TooNew { path: path.to_owned(), found: version, known });
    }
    for sql in &MIGRATIONS[version as usize..] {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", known)?;
    tx.commit()?;
    Ok(())
}

// Paths are stored as raw bytes: file names on Linux need not be UTF-8.
#[cfg(unix)]
pub(crate) fn path_to_bytes(path: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str().as_bytes().to_vec()
}

#[cfg(unix)]
pub(crate) fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}

#[cfg(not(unix))]
pub(crate) fn path_to_bytes(path: &Path) -> Vec<u8> {
    path.to_string_lossy().into_owned().into_bytes()
}

#[cfg(not(unix))]
pub(crate) fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
}
