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
use std::sync::Arc;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use url::Url;

use crate::clock::{now_ms, now_secs};
use crate::model::{
    key_of_path, ConnectionName, JobId, JobOutputs, JobState, LinkKind, LinkView, ObjectRef, OutputLayout,
    OutputManifest,
};
use crate::signing::{query_string, sign_url, Policy, SigningKey};
use crate::store::{Store, StoreError};
use crate::transcode::manifest::{scan, Naming};

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
    #[error("no link with id {0}")]
    UnknownLink(String),
    #[error("a {kind} link opens one file, and CloudFront cannot take its signature back")]
    CannotRevoke { kind: LinkKind, expires_at: i64 },
    #[error("CloudFront refused to forget the link's playlists: {0}")]
    Cdn(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the job runs on connection {0:?}; its links are made there")]
    OtherConnection(String),
    #[error(transparent)]
    Connection(#[from] crate::credentials::ConnectionError),
}

/// The longest link lifetime offered.
pub const MAX_LIFETIME_SECS: u64 = 365 * 24 * 3600;

/// How long the list's poster URLs work ([`Linker::poster_preview`]).
pub const POSTER_PREVIEW_SECS: u64 = 3600;

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
    /// The CloudFront client and distribution serving these links, if they are CloudFront's.
    cloudfront: Option<(aws_sdk_cloudfront::Client, String)>,
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
            cloudfront: None,
        }
    }

    /// Links served by CloudFront distribution `distribution_id`: revoking
    /// one also has CloudFront forget its playlists (an invalidation), and
    /// links CloudFront cannot refuse (a single file's) are not revoked.
    /// Whether the distribution links go through is still deploying (a new
    /// one answers nothing yet). Not knowing counts as deployed: the link is
    /// made either way, this only decides what the person is told.
    async fn still_deploying(&self) -> bool {
        let Some((client, id)) = &self.cloudfront else { return false };
        match crate::credentials::cloudfront_key::is_deployed(client, id).await {
            Ok(deployed) => !deployed,
            Err(message) => {
                tracing::warn!("cannot ask CloudFront whether the distribution has deployed: {message}");
                false
            }
        }
    }

    pub fn on_cloudfront(mut self, client: aws_sdk_cloudfront::Client, distribution_id: String) -> Self {
        self.cloudfront = Some((client, distribution_id));
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Makes and records a link of `kind` to job `id`, valid for `lifetime_secs`,
    /// once the job is ready.
    pub async fn link_job(&self, id: JobId, kind: LinkKind, lifetime_secs: u64) -> Result<LinkView, LinkError> {
        let ready = self.ready_outputs(id).await?;
        self.create(id, &ready, kind, lifetime_secs).await
    }

    /// The link the app's own player uses: a stream link valid for at least ten
    /// more minutes, reused while one exists.
    pub async fn preview_job(&self, id: JobId) -> Result<LinkView, LinkError> {
        let ready = self.ready_outputs(id).await?;
        self.preview(id, &ready).await
    }

    /// A signed URL of the job's poster for the app's own list, valid for
    /// [`POSTER_PREVIEW_SECS`]: made on demand and not kept (it opens one image
    /// only, and the list asks again once it has expired).
    pub async fn poster_preview(&self, id: JobId) -> Result<String, LinkError> {
        let ready = self.ready_outputs(id).await?;
        let poster = ready.manifest.poster.as_ref().ok_or(LinkError::NoPoster)?;
        self.object(&ObjectRef::new(&self.bucket, poster), now_secs() + POSTER_PREVIEW_SECS)
    }

    /// A ready job of this connection: where its files are, and what its transcoder wrote.
    async fn ready_outputs(&self, id: JobId) -> Result<Ready, LinkError> {
        let mut job = self.store.get(id)?.ok_or(LinkError::UnknownJob(id))?;
        if job.connection != self.connection {
            return Err(LinkError::OtherConnection(job.connection.to_string()));
        }
        if job.state != JobState::Ready {
            return Err(LinkError::NotReady);
        }
        let outputs = JobOutputs::of(&job, &self.bucket);
        let manifest = match job.transcode.manifest.clone() {
            Some(manifest) => manifest,
            // Finished before manifests were recorded: found once, then kept.
            None => {
                let earlier = OutputLayout::earlier_version(&self.bucket, id);
                let duration = job.transcode.media.as_ref().map_or(0.0, |m| m.duration_secs);
                let manifest = scan(&self.client, &earlier, &Naming::EARLIER_VERSIONS, duration)
                    .await
                    .map_err(|e| LinkError::Storage(e.to_string()))?;
                job.transcode.manifest = Some(manifest.clone());
                self.store.set_transcode(id, &job.transcode)?;
                manifest
            }
        };
        Ok(Ready { outputs, manifest })
    }

    /// Makes and records a link of `kind` to a ready job's outputs, valid for `lifetime_secs`.
    async fn create(
        &self,
        job: JobId,
        ready: &Ready,
        kind: LinkKind,
        lifetime_secs: u64,
    ) -> Result<LinkView, LinkError> {
        if lifetime_secs == 0 || lifetime_secs > MAX_LIFETIME_SECS {
            return Err(LinkError::BadLifetime);
        }
        // A signature is its policy's (the job's resource and the expiry): two
        // links of a job expiring in the same second would share one, and
        // revoking one would revoke both. A second later keeps each its own.
        let taken: std::collections::HashSet<i64> =
            self.store.links(job)?.iter().map(|l| l.expires_at.div_euclid(1000)).collect();
        let mut expires = now_secs() + lifetime_secs;
        while taken.contains(&(expires as i64)) {
            expires += 1;
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        let url = match kind {
            LinkKind::Stream | LinkKind::Preview => self.stream(ready, &id, expires).await?,
            LinkKind::Poster => {
                let poster = ready.manifest.poster.as_ref().ok_or(LinkError::NoPoster)?;
                self.object(&ObjectRef::new(&self.bucket, poster), expires)?
            }
            LinkKind::Original => self.object(&ready.outputs.original, expires)?,
        };
        let link = LinkView {
            id,
            job_id: job,
            kind,
            url,
            expires_at: expires as i64 * 1000,
            created_at: now_ms(),
            revoked_at: None,
            deploying: false,
        };
        self.store.insert_link(&link)?;
        Ok(LinkView { deploying: kind != LinkKind::Preview && self.still_deploying().await, ..link })
    }

    async fn preview(&self, job: JobId, ready: &Ready) -> Result<LinkView, LinkError> {
        let soon = (now_secs() as i64 + 600) * 1000;
        let reusable = self
            .store
            .links(job)?
            .into_iter()
            .find(|l| l.kind == LinkKind::Preview && l.expires_at > soon && self.is_on_this_edge(&l.url));
        match reusable {
            Some(link) => Ok(link),
            None => self.create(job, ready, LinkKind::Preview, 3600).await,
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

    async fn stream(&self, ready: &Ready, link_id: &str, expires: u64) -> Result<String, LinkError> {
        let layout = &ready.outputs.layout;
        let root = ready.stream_root();
        let resource = format!("{}/{root}/*", self.base_url);
        let policy = Policy::custom(&resource, expires).build().map_err(|e| LinkError::Sign(e.to_string()))?;
        let query = query_string(&policy, &self.key).map_err(|e| LinkError::Sign(e.to_string()))?;

        let master_ref = ObjectRef::new(&self.bucket, &ready.manifest.master);
        let master_url = self.url_of(&master_ref)?;
        let master = self.read(&master_ref).await.map_err(|e| match e {
            LinkError::Storage(_) => LinkError::NotReady,
            other => other,
        })?;
        let link_prefix = format!("{root}/links/{link_id}");

        // Each variant gets a rewritten copy beside the link's master. The
        // signed query goes only on URIs inside the stream it covers: a
        // playlist naming another host or another folder is refused, never
        // followed or signed for.
        let mut variants = Vec::new();
        let master_out = playlist::rewrite(&master, &master_url, |url| {
            self.inside(&url, &root).map_err(|e| e.to_string())?;
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
            let source = self.inside(url, &root)?;
            let variant = self.read(&source).await?;
            let rewritten = playlist::rewrite(&variant, url, |segment| {
                self.inside(&segment, &root).map_err(|e| e.to_string())?;
                Ok(query.append_to(segment.as_str()))
            })
            .map_err(LinkError::Playlist)?;
            self.write(copy, rewritten).await?;
        }
        let master_copy = ObjectRef::new(&layout.bucket, format!("{link_prefix}/master.m3u8"));
        self.write(&master_copy, master_out).await?;
        Ok(query.append_to(self.url_of(&master_copy)?.as_str()))
    }

    /// The object behind `url` when it is on this edge and inside `root` (the
    /// folder a stream link covers).
    fn inside(&self, url: &Url, root: &str) -> Result<ObjectRef, LinkError> {
        match key_inside(&self.base_url, url, root) {
            Some(key) => Ok(ObjectRef::new(&self.bucket, key)),
            None => Err(LinkError::Playlist(format!("it names {url}, which is outside the job's stream"))),
        }
    }

    fn is_on_this_edge(&self, url: &str) -> bool {
        same_origin(url, &self.base_url)
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

    /// Revokes link `id`: from now on the edge refuses its signature (every
    /// URL of a stream link carries the same one), and a stream link's own
    /// playlists are deleted, so a player asking for them anew fails (on
    /// CloudFront, which checks signatures and no revocation list, that is
    /// all: a player holding a stream's media playlists can fetch its
    /// segments until the link expires). Revoking again changes nothing.
    pub async fn revoke(&self, id: &str) -> Result<LinkView, LinkError> {
        let link = self.store.link(id)?.ok_or_else(|| LinkError::UnknownLink(id.to_owned()))?;
        let job = self.store.get(link.job_id)?.ok_or(LinkError::UnknownJob(link.job_id))?;
        if job.connection != self.connection {
            return Err(LinkError::OtherConnection(job.connection.to_string()));
        }
        // Again on CloudFront: its caches are asked again (the last time may have failed).
        if link.revoked_at.is_some() && self.cloudfront.is_none() {
            return Ok(link);
        }
        let own_playlists = matches!(link.kind, LinkKind::Stream | LinkKind::Preview);
        if self.cloudfront.is_some() && !own_playlists {
            // CloudFront checks a signature, never a list of revoked ones.
            return Err(LinkError::CannotRevoke { kind: link.kind, expires_at: link.expires_at });
        }
        // Refused at the local edge first: nothing it signed plays from this moment.
        let revoked = self.store.revoke_link(id)?.ok_or_else(|| LinkError::UnknownLink(id.to_owned()))?;
        if own_playlists {
            let ready = self.ready_outputs(link.job_id).await?;
            let prefix = format!("{}/links/{id}/", ready.stream_root());
            self.delete_under(&prefix).await?;
            if let Some((client, distribution)) = &self.cloudfront {
                // Edge caches may hold the playlists for their max-age (60 s): drop them now.
                let path = format!("/{prefix}*");
                let paths = aws_sdk_cloudfront::types::Paths::builder()
                    .quantity(1)
                    .items(path)
                    .build()
                    .map_err(|e| LinkError::Cdn(e.to_string()))?;
                let batch = aws_sdk_cloudfront::types::InvalidationBatch::builder()
                    .paths(paths)
                    .caller_reference(format!("streamdrop-revoke-{id}-{}", now_ms()))
                    .build()
                    .map_err(|e| LinkError::Cdn(e.to_string()))?;
                client
                    .create_invalidation()
                    .distribution_id(distribution)
                    .invalidation_batch(batch)
                    .send()
                    .await
                    .map_err(|e| LinkError::Cdn(aws_sdk_cloudfront::error::DisplayErrorContext(&e).to_string()))?;
            }
        }
        Ok(revoked)
    }

    /// Deletes every object of the media bucket under `prefix`.
    async fn delete_under(&self, prefix: &str) -> Result<(), LinkError> {
        let storage_error = |e: String| LinkError::Storage(format!("{}/{prefix}: {e}", self.bucket));
        let listed = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .send()
            .await
            .map_err(|e| storage_error(aws_sdk_s3::error::DisplayErrorContext(&e).to_string()))?;
        for key in listed.contents().iter().filter_map(|o| o.key()) {
            self.client
                .delete_object()
                .bucket(&self.bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| storage_error(aws_sdk_s3::error::DisplayErrorContext(&e).to_string()))?;
        }
        Ok(())
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

/// Whether `url` has the origin of `base` (scheme, host and port compared
/// parsed, so `:1234` is not `:12345`).
fn same_origin(url: &str, base: &str) -> bool {
    match (Url::parse(url), Url::parse(base)) {
        (Ok(url), Ok(base)) => url.origin() == base.origin(),
        _ => false,
    }
}

/// The key of the object behind `url` when `url` is on the edge at `base`
/// and inside folder `root`: the key the edge reads for it (no segment that
/// could climb out), with no empty segment after `root` either.
fn key_inside(base: &str, url: &Url, root: &str) -> Option<String> {
    if !same_origin(url.as_str(), base) {
        return None;
    }
    let key = key_of_path(url.path()).ok()?;
    let rest = key.strip_prefix(root)?.strip_prefix('/')?;
    rest.split('/').all(|part| !part.is_empty()).then_some(key)
}

/// A ready job: where its files are, and what its transcoder wrote.
struct Ready {
    outputs: JobOutputs,
    manifest: OutputManifest,
}

impl Ready {
    /// The folder a stream link covers: the layout's stream prefix, or for a
    /// job transcoded before outputs moved there, its `hls/` folder (never
    /// the folder that holds the original).
    fn stream_root(&self) -> String {
        let prefix = &self.outputs.layout.prefix;
        if self.manifest.master.starts_with(&format!("{prefix}/")) {
            return prefix.clone();
        }
        let job = prefix.strip_suffix("/stream").unwrap_or(prefix);
        format!("{job}/hls")
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::testing::proptest_config;

    const BASE: &str = "http://127.0.0.1:4000";
    const ROOT: &str = "jobs/A/stream";

    /// Pieces of references a hostile playlist might hold: dot segments in
    /// every spelling, encoded slashes and backslashes, other origins, query
    /// and fragment starts.
    fn piece() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "..",
            ".",
            "/",
            "%2e",
            "%2E%2e",
            "%2f",
            "%2F",
            "%5c",
            "\\",
            "a",
            "é",
            "%00",
            "//",
            "?x=1",
            "#f",
            ";p",
            "http://127.0.0.1:4000/",
            "http://127.0.0.1:40000/",
            "https://127.0.0.1:4000/",
            "http://localhost:4000/",
            "/jobs/A/stream/",
            "/jobs/A/original/",
            "/jobs/B/stream/",
            "hls/",
            "seg.ts",
        ])
    }

    #[test]
    fn references_inside_the_stream_are_kept_and_those_climbing_out_are_not() {
        let master = Url::parse(&format!("{BASE}/{ROOT}/hls/master.m3u8")).unwrap();
        let inside = |reference: &str| key_inside(BASE, &master.join(reference).unwrap(), ROOT);
        assert_eq!(inside("360p/seg%2000.ts").as_deref(), Some("jobs/A/stream/hls/360p/seg 00.ts"));
        assert_eq!(inside("../poster.jpg").as_deref(), Some("jobs/A/stream/poster.jpg"));
        for outside in [
            "../../original/a.mov",
            "%2e%2E/%2E%2e/original/a.mov",
            "..%2f..%2foriginal/a.mov",
            "..%5c..%5coriginal/a.mov",
            "/jobs/B/stream/hls/master.m3u8",
            "http://127.0.0.1:40000/jobs/A/stream/x.ts",
            "http://localhost:4000/jobs/A/stream/x.ts",
            "a//b.ts",
        ] {
            assert_eq!(inside(outside), None, "{outside}");
        }
    }

    proptest! {
        #![proptest_config(proptest_config(512))]

        /// What a link's playlist may name is what its policy covers and what
        /// the edge serves from inside the job's stream, and nothing else.
        #[test]
        fn a_playlist_reference_the_linker_signs_is_one_the_edge_serves_inside_the_stream(
            pieces in prop::collection::vec(piece(), 1..8),
        ) {
            let master = Url::parse(&format!("{BASE}/{ROOT}/hls/master.m3u8")).unwrap();
            let Ok(url) = master.join(&pieces.concat()) else { return Ok(()) };
            let policy = Policy::custom(&format!("{BASE}/{ROOT}/*"), 2_000_000_000).build().unwrap();
            if let Some(key) = key_inside(BASE, &url, ROOT) {
                prop_assert!(key.starts_with(&format!("{ROOT}/")), "{url} -> {key}");
                prop_assert_eq!(key_of_path(url.path()).ok(), Some(key.clone()), "the edge reads another object for {}", url);
                let unsigned = url.as_str().split(['?', '#']).next().unwrap();
                prop_assert!(policy.covers(unsigned), "the link's policy does not cover {}", url);
            }
        }

        /// No request the policy covers makes the edge read a key outside
        /// the folder the policy names.
        #[test]
        fn no_covered_request_reads_outside_the_policys_folder(pieces in prop::collection::vec(piece(), 1..8)) {
            let path = format!("/{ROOT}/{}", pieces.concat());
            let path = path.split(['?', '#']).next().unwrap();
            let policy = Policy::custom(&format!("{BASE}/{ROOT}/*"), 2_000_000_000).build().unwrap();
            if policy.covers(&format!("{BASE}{path}")) {
                if let Ok(key) = key_of_path(path) {
                    prop_assert!(key.starts_with(&format!("{ROOT}/")), "{path} -> {key}");
                    prop_assert!(!key.split('/').any(|s| s == ".." || s == "."), "{path} -> {key}");
                }
            }
        }
    }
}
