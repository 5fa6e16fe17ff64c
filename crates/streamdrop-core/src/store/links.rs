//! Links in the store.

use rusqlite::{params, OptionalExtension};

use super::{Store, StoreError};
use crate::clock::now_ms;
use crate::model::{JobId, LinkKind, LinkView};

impl Store {
    pub fn insert_link(&self, link: &LinkView) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO links (id, job_id, kind, url, expires_ms, created_ms, signature)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                link.id,
                link.job_id.to_string(),
                link.kind.as_str(),
                link.url,
                link.expires_at,
                link.created_at,
                signature_of(&link.url)
            ],
        )?;
        Ok(())
    }

    /// Marks link `id` revoked (now, unless it already was); `None` when there is no such link.
    pub fn revoke_link(&self, id: &str) -> Result<Option<LinkView>, StoreError> {
        let Some(link) = self.link(id)? else { return Ok(None) };
        self.conn().execute(
            "UPDATE links SET revoked_ms = COALESCE(revoked_ms, ?2), signature = ?3 WHERE id = ?1",
            params![id, now_ms(), signature_of(&link.url)],
        )?;
        self.link(id)
    }

    /// Whether a revoked link was signed with `signature` (a URL's `Signature` value).
    pub fn is_revoked(&self, signature: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn()
            .query_row("SELECT 1 FROM links WHERE signature = ?1 AND revoked_ms IS NOT NULL", [signature], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// One link, by its id.
    pub fn link(&self, id: &str) -> Result<Option<LinkView>, StoreError> {
        let conn = self.conn();
        let row = conn.query_row(&format!("{SELECT_LINK} WHERE id = ?1"), [id], raw_link).optional()?;
        drop(conn);
        row.map(decode_link).transpose()
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
        let mut stmt =
            conn.prepare(&format!("{SELECT_LINK} WHERE job_id = ?1 ORDER BY created_ms DESC, rowid DESC"))?;
        let rows = stmt.query_map([job.to_string()], raw_link)?.collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(decode_link).collect()
    }
}

const SELECT_LINK: &str = "SELECT id, job_id, kind, url, expires_ms, created_ms, revoked_ms FROM links";

type RawLink = (String, String, String, String, i64, i64, Option<i64>);

fn raw_link(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawLink> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
}

fn decode_link((id, job, kind, url, expires_at, created_at, revoked_at): RawLink) -> Result<LinkView, StoreError> {
    let corrupt = |what: String| StoreError::Corrupt { id: id.clone(), what };
    let kind = kind.parse::<LinkKind>().map_err(|e| corrupt(e.to_string()))?;
    let job_id = job.parse::<JobId>().map_err(|_| corrupt("job id is not a UUID".into()))?;
    Ok(LinkView { id, job_id, kind, url, expires_at, created_at, revoked_at, deploying: false })
}

/// The `Signature` value of a signed URL's query, as the edge reads it.
pub fn signature_of(url: &str) -> Option<String> {
    let query = url::Url::parse(url).ok()?;
    let signature = query.query_pairs().find(|(name, _)| name == "Signature").map(|(_, value)| value.into_owned());
    signature
}
