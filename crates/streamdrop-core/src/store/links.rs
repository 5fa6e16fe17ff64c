//! Links in the store.

use rusqlite::params;

use super::{Store, StoreError};
use crate::model::{JobId, LinkKind, LinkView};

impl Store {
    pub fn insert_link(&self, link: &LinkView) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO links (id, job_id, kind, url, expires_ms, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![link.id, link.job_id.to_string(), link.kind.as_str(), link.url, link.expires_at, link.created_at],
        )?;
        Ok(())
    }

    /// When the last link signed with CloudFront key pair `key_pair_id` expires
    /// (ms since the epoch), if any was: the key must stay trusted until then.
    pub fn last_expiry_signed_by(&self, key_pair_id: &str) -> Result<Option<i64>, StoreError> {
        let id = key_pair_id.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let param = format!("%Key-Pair-Id={id}");
        Ok(self.conn().query_row(
            "SELECT MAX(expires_ms) FROM links \
             WHERE url LIKE ?1 ESCAPE '\\' OR url LIKE ?1 || '&%' ESCAPE '\\' OR url LIKE ?1 || '#%' ESCAPE '\\'",
            [param],
            |r| r.get(0),
        )?)
    }

    /// A job's links, newest first.
    pub fn links(&self, job: JobId) -> Result<Vec<LinkView>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, kind, url, expires_ms, created_ms FROM links WHERE job_id = ?1 ORDER BY created_ms DESC, rowid DESC",
        )?;
        let rows = stmt
            .query_map([job.to_string()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(id, kind, url, expires_at, created_at)| {
                let kind = kind
                    .parse::<LinkKind>()
                    .map_err(|e| StoreError::Corrupt { id: id.clone(), what: e.to_string() })?;
                Ok(LinkView { id, job_id: job, kind, url, expires_at, created_at })
            })
            .collect()
    }
}
