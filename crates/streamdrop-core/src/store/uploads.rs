//! The journal of multipart uploads in progress: the upload id and every part
//! the server has confirmed, written as each part completes. After a crash or
//! a kill, the next run sends only what is missing.

use rusqlite::{params, OptionalExtension};

use super::{path_from_bytes, path_to_bytes, Store, StoreError};
use crate::clock::now_ms;
use crate::model::{ObjectRef, SourceFile};

/// What identifies one upload: where it goes, and which file it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadKey {
    /// The storage it goes to (`local`, or an endpoint), so two servers never share a journal entry.
    pub target: String,
    pub dest: ObjectRef,
    pub source_path: std::path::PathBuf,
}

/// A part the server confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DonePart {
    pub number: u32,
    pub etag: String,
    pub crc32c: u32,
    pub size: u64,
}

/// An upload in progress, as journalled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRecord {
    pub row: i64,
    /// The file as it was when the upload began.
    pub source: SourceFile,
    pub upload_id: String,
    pub part_size: u64,
    pub parts: Vec<DonePart>,
}

impl Store {
    pub fn find_upload(&self, key: &UploadKey) -> Result<Option<UploadRecord>, StoreError> {
        let conn = self.conn();
        let found = conn
            .query_row(
                "SELECT id, source_path, source_size, source_mtime_ms, upload_id, part_size FROM uploads
                 WHERE target = ?1 AND bucket = ?2 AND object_key = ?3 AND source_path = ?4",
                params![key.target, key.dest.bucket, key.dest.key, path_to_bytes(&key.source_path)],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, i64>(5)?,
                    ))
                },
            )
            .optional()?;
        let Some((row, path, size, mtime, upload_id, part_size)) = found else { return Ok(None) };
        let mut stmt = conn.prepare(
            "SELECT part_number, etag, crc32c, size FROM upload_parts WHERE upload = ?1 ORDER BY part_number",
        )?;
        let parts = stmt
            .query_map([row], |r| {
                Ok(DonePart { number: r.get(0)?, etag: r.get(1)?, crc32c: r.get(2)?, size: r.get::<_, i64>(3)? as u64 })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(UploadRecord {
            row,
            source: SourceFile { path: path_from_bytes(path), size: size as u64, modified_ms: mtime },
            upload_id,
            part_size: part_size as u64,
            parts,
        }))
    }

    /// Records a new multipart upload, replacing any older entry for the same key.
    pub fn begin_upload(
        &self,
        key: &UploadKey,
        source: &SourceFile,
        upload_id: &str,
        part_size: u64,
    ) -> Result<i64, StoreError> {
        let conn = self.conn();
        conn.execute(
            "DELETE FROM uploads WHERE target = ?1 AND bucket = ?2 AND object_key = ?3 AND source_path = ?4",
            params![key.target, key.dest.bucket, key.dest.key, path_to_bytes(&key.source_path)],
        )?;
        conn.execute(
            "INSERT INTO uploads (target, bucket, object_key, source_path, source_size, source_mtime_ms, upload_id, part_size, created_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                key.target,
                key.dest.bucket,
                key.dest.key,
                path_to_bytes(&key.source_path),
                source.size as i64,
                source.modified_ms,
                upload_id,
                part_size as i64,
                now_ms()
            ],
        )?;
        Ok(conn.last_insert_rowid())
    }

    pub fn record_part(&self, upload_row: i64, part: &DonePart) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT OR REPLACE INTO upload_parts (upload, part_number, etag, crc32c, size) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![upload_row, part.number, part.etag, part.crc32c, part.size as i64],
        )?;
        Ok(())
    }

    /// Drops the journal entry (and its parts) once the upload completed or was aborted.
    pub fn forget_upload(&self, upload_row: i64) -> Result<(), StoreError> {
        self.conn().execute("DELETE FROM uploads WHERE id = ?1", [upload_row])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_journalled_and_forgotten_with_their_upload() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.sqlite3")).unwrap();
        let source = SourceFile { path: "/card/A001.mov".into(), size: 20, modified_ms: 5 };
        let key =
            UploadKey { target: "local".into(), dest: ObjectRef::new("b", "k"), source_path: source.path.clone() };
        assert!(store.find_upload(&key).unwrap().is_none());

        let row = store.begin_upload(&key, &source, "up-1", 10).unwrap();
        store.record_part(row, &DonePart { number: 2, etag: "\"e2\"".into(), crc32c: 22, size: 10 }).unwrap();
        store.record_part(row, &DonePart { number: 1, etag: "\"e1\"".into(), crc32c: 11, size: 10 }).unwrap();
        let found = store.find_upload(&key).unwrap().unwrap();
        assert_eq!(found.upload_id, "up-1");
        assert_eq!(found.source, source);
        assert_eq!(found.parts.iter().map(|p| p.number).collect::<Vec<_>>(), [1, 2]);

        // Another target never sees this entry.
        let other = UploadKey { target: "http://127.0.0.1:9".into(), ..key.clone() };
        assert!(store.find_upload(&other).unwrap().is_none());

        store.forget_upload(row).unwrap();
        assert!(store.find_upload(&key).unwrap().is_none());
        let orphan_parts: i64 = store.conn().query_row("SELECT count(*) FROM upload_parts", [], |r| r.get(0)).unwrap();
        assert_eq!(orphan_parts, 0);
    }
}
