//! Jobs in the store.

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use super::{path_from_bytes, path_to_bytes, Store, StoreError};
use crate::clock::now_ms;
use crate::model::{
    BatchId, ConnectionName, IfExists, Job, JobId, JobQuery, JobState, MediaInfo, ObjectRef, Problem, ProblemCode,
    Sidecar, SourceFile, Stage, StateName, TranscodeRecord,
};

/// What [`Store::insert_batch`] did.
#[derive(Debug, Default)]
pub struct Inserted {
    pub jobs: Vec<Job>,
    /// Each job left out, with the stored job that has the same content and its state.
    pub duplicates: Vec<(Job, JobId, StateName)>,
}

impl Store {
    pub fn insert(&self, job: &Job) -> Result<(), StoreError> {
        insert_job(&self.conn(), job)
    }

    /// Records `jobs` in one transaction, checking each against the jobs of
    /// its connection (those stored before and those of this batch) for the
    /// same content: [`IfExists::Skip`] leaves the duplicates out,
    /// [`IfExists::Again`] records them all the same, [`IfExists::Fail`]
    /// records nothing when there is one. The check and the inserts are one
    /// write transaction, so the same card added twice at once (by two
    /// processes, too) gives its jobs once. The jobs recorded are numbered
    /// from 0 in the order given (`position`), without gaps for those left out.
    pub fn insert_batch(&self, jobs: Vec<Job>, if_exists: IfExists) -> Result<Inserted, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut inserted = Inserted::default();
        for mut job in jobs {
            match same_content(&tx, &job)? {
                Some((id, state)) if if_exists != IfExists::Again => inserted.duplicates.push((job, id, state)),
                _ => {
                    job.position = inserted.jobs.len() as u32;
                    insert_job(&tx, &job)?;
                    inserted.jobs.push(job);
                }
            }
        }
        if if_exists == IfExists::Fail && !inserted.duplicates.is_empty() {
            // Dropping the transaction rolls it back.
            inserted.jobs.clear();
            return Ok(inserted);
        }
        tx.commit()?;
        Ok(inserted)
    }

    /// Records what a resumed upload found already sent.
    pub fn set_resumed_bytes(&self, id: JobId, bytes: u64) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE jobs SET resumed_bytes = ?2, updated_ms = ?3 WHERE id = ?1",
            params![id.to_string(), bytes as i64, now_ms()],
        )?;
        Ok(())
    }

    /// The file as it is now, read anew ("Add again"): its size, mtime, what
    /// it holds and its fingerprint; what was learned of the old version is forgotten.
    pub fn set_source(
        &self,
        id: JobId,
        source: &SourceFile,
        media: &MediaInfo,
        fingerprint: &str,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE jobs SET source_size = ?2, source_mtime_ms = ?3, media_info = ?4, backend_job_id = NULL, manifest = NULL,
                             resumed_bytes = 0, fingerprint = ?6, updated_ms = ?5 WHERE id = ?1",
            params![
                id.to_string(),
                source.size as i64,
                source.modified_ms,
                serde_json::to_string(media).expect("MediaInfo serializes"),
                now_ms(),
                fingerprint,
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

    /// The page of jobs `query` asks for, in [`list`](Self::list)'s order, and
    /// how many jobs match in all.
    pub fn query(&self, query: &JobQuery) -> Result<(Vec<Job>, u32), StoreError> {
        let mut clauses = vec!["cleared = 0".to_owned()];
        let mut values: Vec<rusqlite::types::Value> = Vec::new();
        if !query.states.is_empty() {
            clauses.push(format!("state IN ({})", vec!["?"; query.states.len()].join(", ")));
            values.extend(query.states.iter().map(|s| s.as_str().to_owned().into()));
        }
        if let Some(search) = query.search.as_deref().filter(|s| !s.is_empty()) {
            // Jobs from before relative paths match on their file's path.
            clauses.push("COALESCE(relative_path, CAST(source_path AS TEXT)) LIKE ? ESCAPE '\\'".to_owned());
            values.push(format!("%{}%", escape_like(search)).into());
        }
        let filter = format!(" WHERE {}", clauses.join(" AND "));
        let conn = self.conn();
        let total: i64 = conn.query_row(
            &format!("SELECT COUNT(*) FROM jobs{filter}"),
            rusqlite::params_from_iter(values.iter()),
            |row| row.get(0),
        )?;
        let limit = query.limit.map_or(-1, i64::from);
        values.extend([limit.into(), i64::from(query.offset).into()]);
        let mut stmt = conn.prepare(&format!("{SELECT_JOB}{filter} ORDER BY {LIST_ORDER} LIMIT ? OFFSET ?"))?;
        let rows =
            stmt.query_map(rusqlite::params_from_iter(values.iter()), raw_job)?.collect::<Result<Vec<_>, _>>()?;
        let jobs = rows.into_iter().map(decode_job).collect::<Result<_, _>>()?;
        Ok((jobs, u32::try_from(total).unwrap_or(u32::MAX)))
    }

    /// The state of each job of `batch`, cleared ones included (a drop's end is told once).
    pub fn batch_states(&self, batch: &BatchId) -> Result<Vec<StateName>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT id, state FROM jobs WHERE batch = ?1")?;
        let rows = stmt
            .query_map([batch.to_string()], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(id, state)| state.parse().map_err(|e| StoreError::Corrupt { id, what: format!("{e}") }))
            .collect()
    }

    /// All jobs but those cleared from the list: the newest batch first, each
    /// batch's jobs in the order they were given.
    pub fn list(&self) -> Result<Vec<Job>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("{SELECT_JOB} WHERE cleared = 0 ORDER BY {LIST_ORDER}"))?;
        let rows = stmt.query_map([], raw_job)?.collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(decode_job).collect()
    }

    /// Takes the finished jobs (ready or cancelled) off the list and says
    /// which. Nothing stored is deleted: the rows stay, so [`get`](Self::get),
    /// links and the duplicate check still know them.
    pub fn clear_finished(&self) -> Result<Vec<JobId>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "UPDATE jobs SET cleared = 1 WHERE cleared = 0 AND state IN ('ready', 'cancelled') RETURNING id",
        )?;
        let ids = stmt.query_map([], |row| row.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
        ids.into_iter()
            .map(|id| id.parse().map_err(|_| StoreError::Corrupt { id: id.clone(), what: "its id".into() }))
            .collect()
    }
}

/// The list's order: the newest batch first, each batch in the order given.
const LIST_ORDER: &str = "created_ms DESC, batch, position, rowid";

/// `text` for a LIKE pattern with `\` as its escape: its `%` and `_` match only themselves.
fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

fn insert_job(conn: &Connection, job: &Job) -> Result<(), StoreError> {
    let (state, stage, failure) = encode_state(&job.state);
    let media = job.transcode.media.as_ref().map(|m| serde_json::to_string(m).expect("MediaInfo serializes"));
    conn.execute(
        "INSERT INTO jobs (id, source_path, source_size, source_mtime_ms, bucket, object_key,
                           created_ms, state, stage, failure, updated_ms, connection,
                           batch, position, original_bucket, original_key, resumed_bytes,
                           media_info, backend_job_id, manifest, relative_path, fingerprint, sidecars)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)",
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
            job.relative_path,
            job.fingerprint,
            encode_sidecars(&job.sidecars),
        ],
    )?;
    Ok(())
}

/// A stored job of `job`'s connection with the same size and fingerprint
/// that is not failed or cancelled (those hold no upload anyone counts on).
fn same_content(conn: &Connection, job: &Job) -> Result<Option<(JobId, StateName)>, StoreError> {
    let Some(fingerprint) = &job.fingerprint else { return Ok(None) };
    let found: Option<(String, String)> = conn
        .query_row(
            "SELECT id, state FROM jobs
             WHERE connection = ?1 AND source_size = ?2 AND fingerprint = ?3 AND state NOT IN ('failed', 'cancelled')
             ORDER BY created_ms, position LIMIT 1",
            params![job.connection.as_str(), job.source.size as i64, fingerprint],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let Some((id, state)) = found else { return Ok(None) };
    let corrupt = |what: &str| StoreError::Corrupt { id: id.clone(), what: what.to_owned() };
    Ok(Some((
        id.parse().map_err(|_| corrupt("id is not a UUID"))?,
        state.parse().map_err(|_| corrupt("unknown state"))?,
    )))
}

const SELECT_JOB: &str = "SELECT id, source_path, source_size, source_mtime_ms, bucket, object_key,
                                 created_ms, state, stage, failure, media_info, backend_job_id, connection,
                                 batch, position, original_bucket, original_key, resumed_bytes, manifest,
                                 relative_path, fingerprint, sidecars FROM jobs";

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
    relative_path: Option<String>,
    fingerprint: Option<String>,
    sidecars: Option<String>,
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
        relative_path: row.get(19)?,
        fingerprint: row.get(20)?,
        sidecars: row.get(21)?,
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
    let source = SourceFile {
        path: path_from_bytes(raw.source_path),
        size: u64::try_from(raw.source_size).map_err(|_| corrupt("negative size"))?,
        modified_ms: raw.source_mtime_ms,
    };
    Ok(Job {
        id,
        connection,
        // Jobs from before folders were each given by themselves.
        relative_path: raw.relative_path.unwrap_or_else(|| source.display_name()),
        fingerprint: raw.fingerprint,
        source,
        destination: ObjectRef::new(raw.bucket, raw.key),
        original: raw.original_bucket.zip(raw.original_key).map(|(bucket, key)| ObjectRef::new(bucket, key)),
        created_ms: raw.created_ms,
        batch,
        position: u32::try_from(raw.position).map_err(|_| corrupt("position out of range"))?,
        state,
        resumed_bytes: u64::try_from(raw.resumed_bytes).unwrap_or(0),
        transcode: TranscodeRecord { media, backend_job_id: raw.backend_job_id, manifest },
        sidecars: decode_sidecars(raw.sidecars.as_deref()).ok_or_else(|| corrupt("unreadable sidecars"))?,
    })
}

/// A sidecar as stored: its path's bytes in base64 (a path need not be UTF-8).
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredSidecar {
    path: String,
    relative: String,
}

fn encode_sidecars(sidecars: &[Sidecar]) -> Option<String> {
    use base64::Engine as _;
    let stored: Vec<StoredSidecar> = sidecars
        .iter()
        .map(|s| StoredSidecar {
            path: base64::engine::general_purpose::STANDARD.encode(path_to_bytes(&s.path)),
            relative: s.relative_path.clone(),
        })
        .collect();
    (!stored.is_empty()).then(|| serde_json::to_string(&stored).expect("sidecars serialize"))
}

/// `None` when the column is unreadable; no column (older jobs) is no sidecars.
fn decode_sidecars(json: Option<&str>) -> Option<Vec<Sidecar>> {
    use base64::Engine as _;
    let Some(json) = json else { return Some(Vec::new()) };
    let stored: Vec<StoredSidecar> = serde_json::from_str(json).ok()?;
    stored
        .into_iter()
        .map(|s| {
            let bytes = base64::engine::general_purpose::STANDARD.decode(s.path).ok()?;
            Some(Sidecar { path: path_from_bytes(bytes), relative_path: s.relative })
        })
        .collect()
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
            relative_path: name.to_owned(),
            fingerprint: None,
            destination: ObjectRef::new("uploads", format!("k/{name}")),
            original: None,
            created_ms,
            batch: BatchId::new(),
            position: 0,
            state: JobState::QUEUED,
            resumed_bytes: 0,
            transcode: TranscodeRecord::default(),
            sidecars: Vec::new(),
        }
    }

    #[test]
    fn jobs_and_states_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.sqlite3");
        let (a, mut b) = (job("a.mov", 1), job("b é.mov", 2));
        b.connection = ConnectionName::new("Production AWS").unwrap();
        #[cfg(unix)]
        let odd = <std::ffi::OsString as std::os::unix::ffi::OsStringExt>::from_vec(b"/card/C0001\xffM01.XML".to_vec());
        #[cfg(not(unix))]
        let odd = std::ffi::OsString::from("/card/C0001M01.XML");
        b.sidecars = vec![
            Sidecar { path: PathBuf::from(odd), relative_path: "A001/C0001M01.XML".into() },
            Sidecar {
                path: PathBuf::from("/card/THMBNL/C0001T01.JPG"),
                relative_path: "A001/THMBNL/C0001T01.JPG".into(),
            },
        ];
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
        assert_eq!(jobs[0].sidecars, b.sidecars, "sidecars keep their paths byte for byte");
        assert!(jobs[1].sidecars.is_empty());
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
    fn clearing_finished_jobs_takes_them_off_the_list_and_forgets_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("jobs.sqlite3")).unwrap();
        let with = |name: &str, fingerprint: &str| Job { fingerprint: Some(fingerprint.to_owned()), ..job(name, 1) };
        let jobs = [
            with("ready.MP4", "s1:r"),
            with("cancelled.MP4", "s1:c"),
            with("failed.MP4", "s1:f"),
            with("going.MP4", "s1:g"),
        ];
        for job in &jobs {
            store.insert(job).unwrap();
        }
        store.set_state(jobs[0].id, &JobState::Ready).unwrap();
        store.set_state(jobs[1].id, &JobState::Cancelled).unwrap();
        let problem = crate::model::Problem::new(crate::model::ProblemCode::FileMissing).with("file", "failed.MP4");
        store.set_state(jobs[2].id, &JobState::Failed { stage: Stage::Upload, problem }).unwrap();

        let mut cleared = store.clear_finished().unwrap();
        cleared.sort_by_key(|id| id.to_string());
        let mut expected = vec![jobs[0].id, jobs[1].id];
        expected.sort_by_key(|id| id.to_string());
        assert_eq!(cleared, expected);
        let mut listed: Vec<_> = store.list().unwrap().iter().map(|j| j.relative_path.clone()).collect();
        listed.sort();
        assert_eq!(listed, ["failed.MP4", "going.MP4"], "the failed one still needs a decision");
        assert_eq!(store.query(&JobQuery::default()).unwrap().1, 2);
        assert!(store.clear_finished().unwrap().is_empty(), "cleared once");
        // Still known: by id, and as content already uploaded.
        assert_eq!(store.get(jobs[0].id).unwrap().unwrap().state, JobState::Ready);
        let again = store.insert_batch(vec![with("ready again.MP4", "s1:r")], IfExists::Skip).unwrap();
        assert_eq!(again.duplicates.len(), 1);
    }

    #[test]
    fn a_batch_leaves_out_fails_on_or_takes_content_already_on_its_connection() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("jobs.sqlite3")).unwrap();
        let with = |name: &str, fingerprint: &str| Job { fingerprint: Some(fingerprint.to_owned()), ..job(name, 1) };
        let first = with("C0001.MP4", "s1:aa");
        let inserted = store.insert_batch(vec![first.clone(), with("C0002.MP4", "s1:bb")], IfExists::Skip).unwrap();
        assert_eq!((inserted.jobs.len(), inserted.duplicates.len()), (2, 0));

        // Same content under another name and path, a new file, and the new file twice in one batch.
        let again =
            vec![with("copy of C0001.MP4", "s1:aa"), with("C0003.MP4", "s1:cc"), with("C0003 copy.MP4", "s1:cc")];
        let again: Vec<_> = again.into_iter().zip(0..).map(|(j, position)| Job { position, ..j }).collect();
        let skipped = store.insert_batch(again, IfExists::Skip).unwrap();
        let kept: Vec<_> = skipped.jobs.iter().map(|j| (j.relative_path.as_str(), j.position)).collect();
        assert_eq!(kept, [("C0003.MP4", 0)], "numbered without gaps");
        assert_eq!(store.get(skipped.jobs[0].id).unwrap().unwrap().position, 0);
        let dups: Vec<_> = skipped.duplicates.iter().map(|(j, id, _)| (j.relative_path.as_str(), *id)).collect();
        assert_eq!(dups, [("copy of C0001.MP4", first.id), ("C0003 copy.MP4", skipped.jobs[0].id)]);
        assert_eq!(store.list().unwrap().len(), 3);

        // Fail: nothing of the batch is recorded, not even its new file.
        let failed =
            store.insert_batch(vec![with("new.MP4", "s1:dd"), with("C0001.MP4", "s1:aa")], IfExists::Fail).unwrap();
        assert!(failed.jobs.is_empty());
        assert_eq!(failed.duplicates.len(), 1);
        assert_eq!(store.list().unwrap().len(), 3);

        // Again: recorded all the same.
        let taken = store.insert_batch(vec![with("C0001.MP4", "s1:aa")], IfExists::Again).unwrap();
        assert_eq!((taken.jobs.len(), store.list().unwrap().len()), (1, 4));

        // Other connections, other sizes, and failed or cancelled jobs do not count.
        let elsewhere =
            Job { connection: ConnectionName::new("Production AWS").unwrap(), ..with("C0002.MP4", "s1:bb") };
        let bigger = Job { source: SourceFile { size: 43, ..first.source.clone() }, ..with("C0001.MP4", "s1:aa") };
        let inserted = store.insert_batch(vec![elsewhere, bigger], IfExists::Fail).unwrap();
        assert_eq!(inserted.jobs.len(), 2);
        for job in store.list().unwrap().iter().filter(|j| j.fingerprint.as_deref() == Some("s1:cc")) {
            store.set_state(job.id, &JobState::Cancelled).unwrap();
        }
        let inserted = store.insert_batch(vec![with("C0003.MP4", "s1:cc")], IfExists::Fail).unwrap();
        assert_eq!((inserted.jobs.len(), inserted.duplicates.len()), (1, 0));
    }

    #[test]
    fn pages_of_ten_thousand_jobs_filter_by_state_and_name_in_the_lists_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("jobs.sqlite3")).unwrap();
        // 100 batches of 100 clips; every 7th failed, every 10th named with a '%' and a '_'.
        let mut jobs = Vec::new();
        for b in 0..100 {
            let batch = BatchId::new();
            for p in 0..100u32 {
                let n = b * 100 + p;
                let name =
                    if n % 10 == 0 { format!("A{b:03}/C{p:04} 50%_off.MP4") } else { format!("A{b:03}/C{p:04}.MP4") };
                let mut j = job(&name, i64::from(b));
                (j.batch, j.position) = (batch, p);
                if n % 7 == 0 {
                    j.state = failed_copy();
                }
                jobs.push(j);
            }
        }
        store.insert_batch(jobs, IfExists::Again).unwrap();

        let all = store.list().unwrap();
        let (page, total) = store.query(&JobQuery { offset: 150, limit: Some(50), ..JobQuery::default() }).unwrap();
        assert_eq!(total, 10_000);
        assert_eq!(
            page.iter().map(|j| j.id).collect::<Vec<_>>(),
            all[150..200].iter().map(|j| j.id).collect::<Vec<_>>()
        );

        let failed = JobQuery { states: vec![StateName::Failed], limit: Some(20), ..JobQuery::default() };
        let (page, total) = store.query(&failed).unwrap();
        assert_eq!(total, (0..10_000).filter(|n| n % 7 == 0).count() as u32);
        let expected: Vec<_> =
            all.iter().filter(|j| j.state.name() == StateName::Failed).take(20).map(|j| j.id).collect();
        assert_eq!(page.iter().map(|j| j.id).collect::<Vec<_>>(), expected);

        // Search ignores ASCII case; '%' and '_' in it match only themselves.
        let search = |text: &str| JobQuery { search: Some(text.to_owned()), ..JobQuery::default() };
        assert_eq!(store.query(&search("a042/c00")).unwrap().1, 100);
        assert_eq!(store.query(&search("50%_off")).unwrap().1, 1000);
        assert_eq!(store.query(&search("C0_0")).unwrap().1, 0, "'_' is not a wildcard");
        let both = JobQuery { states: vec![StateName::Queued], ..search("A000/C001") };
        let (page, total) = store.query(&both).unwrap();
        let names: Vec<_> = page.iter().map(|j| j.relative_path.as_str()).collect();
        assert_eq!(total as usize, names.len());
        assert!(names.iter().all(|n| n.starts_with("A000/C001")) && !names.contains(&"A000/C0014.MP4"), "{names:?}");

        // The state filter is served by its index, not by reading every row.
        let plan: Vec<String> = store
            .conn()
            .prepare(&format!("EXPLAIN QUERY PLAN {SELECT_JOB} WHERE state IN (?1) ORDER BY {LIST_ORDER}"))
            .unwrap()
            .query_map(["failed"], |row| row.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(plan.iter().any(|step| step.contains("jobs_by_state")), "{plan:?}");
    }

    #[test]
    fn a_new_store_opened_by_many_at_once_is_migrated_once() {
        for _ in 0..5 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("jobs.sqlite3");
            let start = std::sync::Arc::new(std::sync::Barrier::new(6));
            let openers: Vec<_> = (0..6)
                .map(|_| {
                    let (path, start) = (path.clone(), start.clone());
                    std::thread::spawn(move || {
                        start.wait();
                        Store::open(&path).map(|_| ())
                    })
                })
                .collect();
            for opener in openers {
                opener.join().unwrap().expect("every opener gets the store");
            }
            let store = Store::open(&path).unwrap();
            store.insert(&job("after.mov", 1)).unwrap();
            assert_eq!(store.list().unwrap().len(), 1);
        }
    }

    #[test]
    fn refuses_a_store_from_a_newer_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.sqlite3");
        Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
        let err = Store::open(&path).expect_err("must refuse");
        assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err}");
    }
}
