//! Jobs in the store.

use rusqlite::{params, OptionalExtension, Row};

use super::{path_from_bytes, path_to_bytes, Store, StoreError};
use crate::clock::now_ms;
use crate::model::{
    BatchId, ConnectionName, Job, JobId, JobState, MediaInfo, ObjectRef, Problem, ProblemCode, SourceFile, Stage,
    TranscodeRecord,
};

impl Store {
    pub fn insert(&self, job: &Job) -> Result<(), StoreError> {
        let (state, stage, failure) = encode_state(&job.state);
        let media = job.transcode.media.as_ref().map(|m| serde_json::to_string(m).expect("MediaInfo serializes"));
        self.conn().execute(
            "INSERT INTO jobs (id, source_path, source_size, source_mtime_ms, bucket, object_key,
                               created_ms, state, stage, failure, updated_ms, connection,
                               batch, position, original_bucket, original_key, resumed_bytes,
                               media_info, backend_job_id, manifest)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
            params![
                job.id.to_string(),
                path_to_bytes(&job.source.path),
                job.source.size as i64,
                job.source.modified_ms,
                job.destination.bucket,
                job.destination.key,
                job.created_ms,
                state,
                stage,
                failure,
                now_ms(),
                job.connection.as_str(),
                job.batch.to_string(),
                job.position,
                job.original.as_ref().map(|o| o.bucket.as_str()),
                job.original.as_ref().map(|o| o.key.as_str()),
                job.resumed_bytes as i64,
                media,
                job.transcode.backend_job_id,
                manifest_json(&job.transcode),
            ],
        )?;
        Ok(())
    }

    /// Records what a resumed upload found already sent.
    pub fn set_resumed_bytes(&self, id: JobId, bytes: u64) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE jobs SET resumed_bytes = ?2, updated_ms = ?3 WHERE id = ?1",
            params![id.to_string(), bytes as i64, now_ms()],
        )?;
        Ok(())
    }

    /// The file as it is now, read anew ("Add again"): its size, mtime and what
    /// it holds; what was learned of the old version is forgotten.
    pub fn set_source(&self, id: JobId, source: &SourceFile, media: &MediaInfo) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE jobs SET source_size = ?2, source_mtime_ms = ?3, media_info = ?4, backend_job_id = NULL, manifest = NULL,
                             resumed_bytes = 0, updated_ms = ?5 WHERE id = ?1",
            params![
                id.to_string(),
                source.size as i64,
                source.modified_ms,
                serde_json::to_string(media).expect("MediaInfo serializes"),
                now_ms()
            ],
        )?;
        Ok(())
    }

    pub fn set_state(&self, id: JobId, state: &JobState) -> Result<(), StoreError> {
        let (name, stage, failure) = encode_state(state);
        self.conn().execute(
            "UPDATE jobs SET state = ?2, stage = ?3, failure = ?4, updated_ms = ?5 WHERE id = ?1",
            params![id.to_string(), name, stage, failure, now_ms()],
        )?;
        Ok(())
    }

    /// Records what the transcode stage learned or started (or clears it, to start over).
    pub fn set_transcode(&self, id: JobId, record: &TranscodeRecord) -> Result<(), StoreError> {
        let media = record.media.as_ref().map(|m| serde_json::to_string(m).expect("MediaInfo serializes"));
        self.conn().execute(
            "UPDATE jobs SET media_info = ?2, backend_job_id = ?3, manifest = ?4, updated_ms = ?5 WHERE id = ?1",
            params![id.to_string(), media, record.backend_job_id, manifest_json(record), now_ms()],
        )?;
        Ok(())
    }

    pub fn get(&self, id: JobId) -> Result<Option<Job>, StoreError> {
        let conn = self.conn();
        let row = conn.query_row(&format!("{SELECT_JOB} WHERE id = ?1"), [id.to_string()], raw_job).optional()?;
        row.map(decode_job).transpose()
    }

    /// All jobs: the newest batch first, each batch's jobs in the order they were given.
    pub fn list(&self) -> Result<Vec<Job>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("{SELECT_JOB} ORDER BY created_ms DESC, batch, position, rowid"))?;
        let rows = stmt.query_map([], raw_job)?.collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(decode_job).collect()
    }
}

const SELECT_JOB: &str = "SELECT id, source_path, source_size, source_mtime_ms, bucket, object_key,
                                 created_ms, state, stage, failure, media_info, backend_job_id, connection,
                                 batch, position, original_bucket, original_key, resumed_bytes, manifest FROM jobs";

struct RawJob {
    id: String,
    source_path: Vec<u8>,
    source_size: i64,
    source_mtime_ms: i64,
    bucket: String,
    key: String,
    created_ms: i64,
    state: String,
    stage: Option<String>,
    failure: Option<String>,
    media_info: Option<String>,
    backend_job_id: Option<String>,
    manifest: Option<String>,
    connection: String,
    batch: Option<String>,
    position: i64,
    original_bucket: Option<String>,
    original_key: Option<String>,
    resumed_bytes: i64,
}

fn raw_job(row: &Row<'_>) -> rusqlite::Result<RawJob> {
    Ok(RawJob {
        id: row.get(0)?,
        source_path: row.get(1)?,
        source_size: row.get(2)?,
        source_mtime_ms: row.get(3)?,
        bucket: row.get(4)?,
        key: row.get(5)?,
        created_ms: row.get(6)?,
        state: row.get(7)?,
        stage: row.get(8)?,
        failure: row.get(9)?,
        media_info: row.get(10)?,
        backend_job_id: row.get(11)?,
        connection: row.get(12)?,
        batch: row.get(13)?,
        position: row.get(14)?,
        original_bucket: row.get(15)?,
        original_key: row.get(16)?,
        resumed_bytes: row.get(17)?,
        manifest: row.get(18)?,
    })
}

fn decode_job(raw: RawJob) -> Result<Job, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt { id: raw.id.clone(), what: what.to_owned() };
    let id = raw.id.parse::<JobId>().map_err(|_| corrupt("id is not a UUID"))?;
    let stage = || {
        raw.stage.as_deref().and_then(|s| s.parse::<Stage>().ok()).ok_or_else(|| corrupt("missing or unknown stage"))
    };
    let state = match raw.state.as_str() {
        "queued" => JobState::Queued { stage: stage()? },
        "uploading" => JobState::Uploading,
        "paused" => JobState::Paused,
        "copying" => JobState::Copying,
        "transcoding" => JobState::Transcoding,
        "ready" => JobState::Ready,
        "failed" => JobState::Failed { stage: stage()?, problem: decode_problem(raw.failure.as_deref()) },
        "cancelled" => JobState::Cancelled,
        _ => return Err(corrupt("unknown state")),
    };
    let manifest = match &raw.manifest {
        Some(json) => Some(serde_json::from_str(json).map_err(|_| corrupt("unreadable output manifest"))?),
        None => None,
    };
    let media = match &raw.media_info {
        Some(json) => Some(serde_json::from_str::<MediaInfo>(json).map_err(|_| corrupt("unreadable media info"))?),
        None => None,
    };
    let connection = ConnectionName::new(raw.connection.clone()).map_err(|_| corrupt("invalid connection name"))?;
    // Jobs from before batches are each a batch of their own: the job id is as unique.
    let batch = match &raw.batch {
        Some(batch) => batch.parse::<BatchId>().map_err(|_| corrupt("batch is not a UUID"))?,
        None => raw.id.parse::<BatchId>().map_err(|_| corrupt("id is not a UUID"))?,
    };
    Ok(Job {
        id,
        connection,
        source: SourceFile {
            path: path_from_bytes(raw.source_path),
            size: u64::try_from(raw.source_size).map_err(|_| corrupt("negative size"))?,
            modified_ms: raw.source_mtime_ms,
        },
        destination: ObjectRef::new(raw.bucket, raw.key),
        original: raw.original_bucket.zip(raw.original_key).map(|(bucket, key)| ObjectRef::new(bucket, key)),
        created_ms: raw.created_ms,
        batch,
        position: u32::try_from(raw.position).map_err(|_| corrupt("position out of range"))?,
        state,
        resumed_bytes: u64::try_from(raw.resumed_bytes).unwrap_or(0),
        transcode: TranscodeRecord { media, backend_job_id: raw.backend_job_id, manifest },
    })
}

fn manifest_json(record: &TranscodeRecord) -> Option<String> {
    record.manifest.as_ref().map(|m| serde_json::to_string(m).expect("a manifest serializes"))
}

/// A stored failure: a problem as JSON, or (from older versions) a sentence.
fn decode_problem(failure: Option<&str>) -> Problem {
    match failure {
        Some(text) if text.starts_with('{') => {
            serde_json::from_str(text).unwrap_or_else(|_| Problem::new(ProblemCode::Legacy).detail(text))
        }
        Some(text) => Problem::new(ProblemCode::Legacy).detail(text),
        None => Problem::new(ProblemCode::Internal),
    }
}

fn encode_state(state: &JobState) -> (&'static str, Option<&'static str>, Option<String>) {
    let failure = match state {
        JobState::Failed { problem, .. } => Some(serde_json::to_string(problem).expect("a problem serializes")),
        _ => None,
    };
    (state.name().as_str(), state.stage().map(Stage::as_str), failure)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;
    use std::path::PathBuf;

    fn job(name: &str, created_ms: i64) -> Job {
        Job {
            id: JobId::new(),
            connection: ConnectionName::local(),
            source: SourceFile { path: PathBuf::from(format!("/videos/{name}")), size: 42, modified_ms: 7 },
            destination: ObjectRef::new("uploads", format!("k/{name}")),
            original: None,
            created_ms,
            batch: BatchId::new(),
            position: 0,
            state: JobState::QUEUED,
            resumed_bytes: 0,
            transcode: TranscodeRecord::default(),
        }
    }

    #[test]
    fn jobs_and_states_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.sqlite3");
        let (a, mut b) = (job("a.mov", 1), job("b é.mov", 2));
        b.connection = ConnectionName::new("Production AWS").unwrap();
        {
            let store = Store::open(&path).unwrap();
            store.insert(&a).unwrap();
            store.insert(&b).unwrap();
            store.set_state(a.id, &failed_copy()).unwrap();
            let media = MediaInfo { duration_secs: 2.5, video: None, has_audio: true };
            store
                .set_transcode(
                    b.id,
                    &TranscodeRecord { media: Some(media), backend_job_id: Some("local-1".into()), manifest: None },
                )
                .unwrap();
        }
        let store = Store::open(&path).unwrap();
        let jobs = store.list().unwrap();
        assert_eq!(jobs.iter().map(|j| j.id).collect::<Vec<_>>(), vec![b.id, a.id], "newest first");
        assert_eq!(jobs[1].state, failed_copy());
        assert_eq!(jobs[0].source, b.source);
        assert_eq!((jobs[0].connection.as_str(), jobs[1].connection.as_str()), ("Production AWS", "Local"));
        assert_eq!(jobs[0].transcode.backend_job_id.as_deref(), Some("local-1"));
        assert_eq!(jobs[0].transcode.media.as_ref().map(|m| m.duration_secs), Some(2.5));
        assert_eq!(store.get(a.id).unwrap().unwrap().source, a.source);
        assert!(store.get(JobId::new()).unwrap().is_none());
    }

    fn failed_copy() -> JobState {
        let problem = Problem::new(ProblemCode::StorageError)
            .with("action", "copy the file")
            .with("code", "DiskOnFire")
            .detail("disk on fire");
        JobState::Failed { stage: Stage::Copy, problem }
    }

    #[test]
    fn a_batch_lists_in_the_order_given_under_newer_batches() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("jobs.sqlite3")).unwrap();
        let (older, newer) = (BatchId::new(), BatchId::new());
        let mut made = Vec::new();
        for (batch, created, names) in [(older, 10, ["c", "a", "b"]), (newer, 20, ["z", "y", "x"])] {
            for (position, name) in names.iter().enumerate() {
                let mut j = job(name, created);
                j.batch = batch;
                j.position = position as u32;
                made.push(j);
            }
        }
        // Inserted out of order: the listing must not depend on it.
        for j in made.iter().rev() {
            store.insert(j).unwrap();
        }
        let names: Vec<_> = store.list().unwrap().iter().map(|j| j.source.display_name()).collect();
        assert_eq!(names, ["z", "y", "x", "c", "a", "b"]);
    }

    #[test]
    fn failures_written_by_older_versions_read_as_legacy_problems() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("jobs.sqlite3")).unwrap();
        let j = job("old.mov", 1);
        store.insert(&j).unwrap();
        store.conn().execute("UPDATE jobs SET state = 'failed', stage = 'upload', failure = 'S3 UploadPart failed: AccessDenied' WHERE id = ?1", [j.id.to_string()]).unwrap();
        let JobState::Failed { problem, .. } = store.get(j.id).unwrap().unwrap().state else { panic!("failed") };
        assert_eq!(problem.code, ProblemCode::Legacy);
        assert_eq!(problem.detail.as_deref(), Some("S3 UploadPart failed: AccessDenied"));
    }

    #[test]
    fn refuses_a_store_from_a_newer_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.sqlite3");
        Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
        let err = Store::open(&path).err().expect("must refuse");
        assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err}");
    }
}
