//! Signed playback links that play anywhere. A stream link signs ONE wildcard
//! custom policy over the job's prefix and writes per-link copies of the
//! master and variant playlists (under `<prefix>/links/<link-id>/`) in which
//! every URI is absolute and carries that signed query; the link is that
//! master playlist, signed. Safari, VLC, ffplay and hls.js all play it,
//! because no player has to carry a query string across a relative URI.
//! Poster and original links are single signed URLs. Every link is recorded
//! with its expiry so the app can list them.

mod playlist;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::credentials::ConnectionName;
use crate::engine::JobOutputs;
use crate::jobs::{now_ms, JobId, JobState};
use crate::signing::{query_string, sign_url, Policy, SignedQuery, SigningKey};
use crate::storage::ObjectRef;
use crate::store::{Store, StoreError};
use crate::transcode::OutputLayout;

/// What a link opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkKind {
    /// The HLS stream (master playlist).
    Stream,
    Poster,
    /// The uploaded original file.
    Original,
    /// A short-lived stream link for the app's own player; not listed.
    Preview,
}

impl LinkKind {
    pub fn name(self) -> &'static str {
        match self {
            LinkKind::Stream => "stream",
            LinkKind::Poster => "poster",
            LinkKind::Original => "original",
            LinkKind::Preview => "preview",
        }
    }
}

impl FromStr for LinkKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [LinkKind::Stream, LinkKind::Poster, LinkKind::Original, LinkKind::Preview]
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("{s:?} is not a link kind: use stream, poster or original"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkView {
    pub id: String,
    pub job_id: JobId,
    pub kind: LinkKind,
    pub url: String,
    /// Unix milliseconds.
    pub expires_at: i64,
    pub created_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("the job is not ready yet: links can be made once it has been transcoded")]
    NotReady,
    #[error("no job with id {0}")]
    UnknownJob(JobId),
    #[error("a link must last between 1 second and 365 days")]
    BadLifetime,
    #[error("cannot sign the link: {0}")]
    Sign(String),
    #[error("cannot read or write the job's playlists: {0}")]
    Storage(String),
    #[error("the job's playlist is not usable: {0}")]
    Playlist(String),
    #[error("this job has no poster (audio-only sources have none)")]
    NoPoster,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the job runs on connection {0:?}; its links are made there")]
    OtherConnection(String),
    #[error(transparent)]
    Connection(#[from] crate::credentials::ConnectionError),
}

/// The job's poster image, if the transcode made one. Backends name it
/// differently (`poster.jpg`, MediaConvert's `poster.0000000.jpg`), so it is
/// looked up by the prefix every backend shares.
pub async fn find_poster(client: &Client, layout: &OutputLayout) -> Option<ObjectRef> {
    let prefix = format!("{}/poster", layout.prefix);
    let listed = client.list_objects_v2().bucket(&layout.bucket).prefix(&prefix).send().await.ok()?;
    let mut keys: Vec<&str> =
        listed.contents().iter().filter_map(|o| o.key()).filter(|k| k.ends_with(".jpg")).collect();
    keys.sort_unstable();
    keys.first().map(|key| ObjectRef::new(&layout.bucket, *key))
}

/// The longest link lifetime offered.
pub const MAX_LIFETIME_SECS: u64 = 365 * 24 * 3600;

/// Makes links for one edge (CloudFront, or the local edge) with one signing key.
pub struct Linker {
    client: Client,
    /// Whose jobs these links are for: another connection's outputs are in other buckets.
    connection: ConnectionName,
    /// `https://dxxxx.cloudfront.net` or `http://127.0.0.1:PORT`, no trailing slash.
    base_url: String,
    /// The distribution bucket the edge serves.
    bucket: String,
    key: Arc<SigningKey>,
    store: Store,
}

impl fmt::Debug for Linker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Linker").field("base_url", &self.base_url).field("key", &self.key).finish()
    }
}

impl Linker {
    pub fn new(
        client: Client,
        connection: ConnectionName,
        base_url: &str,
        bucket: &str,
        key: Arc<SigningKey>,
        store: Store,
    ) -> Self {
        Self {
            client,
            connection,
            base_url: base_url.trim_end_matches('/').to_owned(),
            bucket: bucket.to_owned(),
            key,
            store,
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Makes and records a link of `kind` to job `id`, valid for `lifetime_secs`,
    /// once the job is ready.
    pub async fn link_job(&self, id: JobId, kind: LinkKind, lifetime_secs: u64) -> Result<LinkView, LinkError> {
        let outputs = self.ready_outputs(id)?;
        self.create(id, &outputs, kind, lifetime_secs).await
    }

    /// The link the app's own player uses: a stream link valid for at least ten
    /// more minutes, reused while one exists.
    pub async fn preview_job(&self, id: JobId) -> Result<LinkView, LinkError> {
        let outputs = self.ready_outputs(id)?;
        self.preview(id, &outputs).await
    }

    fn ready_outputs(&self, id: JobId) -> Result<JobOutputs, LinkError> {
        let job = self.store.get(id)?.ok_or(LinkError::UnknownJob(id))?;
        if job.connection != self.connection {
            return Err(LinkError::OtherConnection(job.connection.to_string()));
        }
        if job.state != JobState::Ready {
            return Err(LinkError::NotReady);
        }
        Ok(JobOutputs::of(&job, &self.bucket))
    }

    /// Makes and records a link of `kind` to a ready job's outputs, valid for `lifetime_secs`.
    pub async fn create(
        &self,
        job: JobId,
        outputs: &JobOutputs,
        kind: LinkKind,
        lifetime_secs: u64,
    ) -> Result<LinkView, LinkError> {
        if lifetime_secs == 0 || lifetime_secs > MAX_LIFETIME_SECS {
            return Err(LinkError::BadLifetime);
        }
        let expires = unix_now() + lifetime_secs;
        let id = uuid::Uuid::new_v4().simple().to_string();
        let url = match kind {
            LinkKind::Stream | LinkKind::Preview => self.stream(outputs, &id, expires).await?,
            LinkKind::Poster => {
                let poster = find_poster(&self.client, &outputs.layout).await.ok_or(LinkError::NoPoster)?;
                self.object(&poster, expires)?
            }
            LinkKind::Original => self.object(&outputs.original, expires)?,
        };
        let link = LinkView { id, job_id: job, kind, url, expires_at: expires as i64 * 1000, created_at: now_ms() };
        self.store.insert_link(&link)?;
        Ok(link)
    }

    async fn preview(&self, job: JobId, outputs: &JobOutputs) -> Result<LinkView, LinkError> {
        let soon = (unix_now() as i64 + 600) * 1000;
        let reusable = self
            .store
            .links(job)?
            .into_iter()
            .find(|l| l.kind == LinkKind::Preview && l.expires_at > soon && l.url.starts_with(&self.base_url));
        match reusable {
            Some(link) => Ok(link),
            None => self.create(job, outputs, LinkKind::Preview, 3600).await,
        }
    }

    /// The job's links people made, newest first (previews are internal).
    pub fn list(&self, job: JobId) -> Result<Vec<LinkView>, LinkError> {
        Ok(self.store.links(job)?.into_iter().filter(|l| l.kind != LinkKind::Preview).collect())
    }

    fn url_of(&self, object: &ObjectRef) -> Result<Url, LinkError> {
        let mut url =
            Url::parse(&self.base_url).map_err(|e| LinkError::Sign(format!("bad edge URL {}: {e}", self.base_url)))?;
        url.path_segments_mut()
            .map_err(|_| LinkError::Sign("the edge URL cannot have a path".into()))?
            .extend(object.key.split('/'));
        Ok(url)
    }

    fn object(&self, object: &ObjectRef, expires: u64) -> Result<String, LinkError> {
        let url = self.url_of(object)?;
        let policy = Policy::canned(url.as_str(), expires).map_err(|e| LinkError::Sign(e.to_string()))?;
        Ok(sign_url(url.as_str(), &policy, &self.key).map_err(|e| LinkError::Sign(e.to_string()))?.to_string())
    }

    async fn stream(&self, outputs: &JobOutputs, link_id: &str, expires: u64) -> Result<String, LinkError> {
        let layout = &outputs.layout;
        let resource = format!("{}/{}/*", self.base_url, layout.prefix);
        let policy = Policy::custom(&resource, expires).build().map_err(|e| LinkError::Sign(e.to_string()))?;
        let query = query_string(&policy, &self.key).map_err(|e| LinkError::Sign(e.to_string()))?;

        let master_ref = layout.master_playlist();
        let master_url = self.url_of(&master_ref)?;
        let master = self.read(&master_ref).await.map_err(|e| match e {
            LinkError::Storage(_) => LinkError::NotReady,
            other => other,
        })?;
        let link_prefix = format!("{}/links/{link_id}", layout.prefix);

        // Each variant gets a rewritten copy beside the link's master.
        let mut variants = Vec::new();
        let master_out = playlist::rewrite(&master, &master_url, |url| {
            if url.path().ends_with(".m3u8") {
                let copy = ObjectRef::new(&layout.bucket, format!("{link_prefix}/{}.m3u8", variants.len()));
                let copy_url = self.url_of(&copy).map_err(|e| e.to_string())?;
                variants.push((url, copy));
                Ok(query.append_to(copy_url.as_str()))
            } else {
                Ok(query.append_to(url.as_str()))
            }
        })
        .map_err(LinkError::Playlist)?;

        for (url, copy) in &variants {
            let source = self.object_at(url)?;
            let variant = self.read(&source).await?;
            let rewritten = signed_everywhere(&variant, url, &query)?;
            self.write(copy, rewritten).await?;
        }
        let master_copy = ObjectRef::new(&layout.bucket, format!("{link_prefix}/master.m3u8"));
        self.write(&master_copy, master_out).await?;
        Ok(query.append_to(self.url_of(&master_copy)?.as_str()))
    }

    /// The object behind a URL on this edge.
    fn object_at(&self, url: &Url) -> Result<ObjectRef, LinkError> {
        let base = Url::parse(&self.base_url).map_err(|e| LinkError::Sign(e.to_string()))?;
        if url.origin() != base.origin() {
            return Err(LinkError::Playlist(format!("{url} is not on this edge")));
        }
        let key =
            percent_encoding::percent_decode_str(url.path().trim_start_matches('/')).decode_utf8_lossy().into_owned();
        Ok(ObjectRef::new(&self.bucket, key))
    }

    async fn read(&self, object: &ObjectRef) -> Result<String, LinkError> {
        let out = self
            .client
            .get_object()
            .bucket(&object.bucket)
            .key(&object.key)
            .send()
            .await
            .map_err(|e| LinkError::Storage(format!("{object}: {}", aws_sdk_s3::error::DisplayErrorContext(&e))))?;
        let bytes = out.body.collect().await.map_err(|e| LinkError::Storage(format!("{object}: {e}")))?.into_bytes();
        String::from_utf8(bytes.to_vec()).map_err(|_| LinkError::Playlist(format!("{object} is not text")))
    }

    async fn write(&self, object: &ObjectRef, body: String) -> Result<(), LinkError> {
        self.client
            .put_object()
            .bucket(&object.bucket)
            .key(&object.key)
            .content_type("application/vnd.apple.mpegurl")
            // Per-link playlists carry their signature: never cache them past the link.
            .cache_control("private, max-age=60")
            .body(ByteStream::from(body.into_bytes()))
            .send()
            .await
            .map_err(|e| LinkError::Storage(format!("{object}: {}", aws_sdk_s3::error::DisplayErrorContext(&e))))?;
        Ok(())
    }
}

/// A playlist with every URI made absolute and signed.
fn signed_everywhere(playlist: &str, base: &Url, query: &SignedQuery) -> Result<String, LinkError> {
    playlist::rewrite(playlist, base, |url| Ok(query.append_to(url.as_str()))).map_err(LinkError::Playlist)
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}
