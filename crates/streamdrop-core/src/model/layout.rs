//! Where a job's file and results live in the distribution bucket, and what a
//! transcoder actually wrote there.

use serde::{Deserialize, Serialize};

use super::{Job, JobId, ObjectRef};

/// The folders a job's files go in, in the distribution bucket:
///
/// ```text
/// jobs/<job-id>/original/<file name>   the uploaded original, kept: only an original link opens it
/// <prefix>/hls/                        the HLS ladder (file names are the backend's)
/// <prefix>/thumbs/                     thumbnails (where the backend can put them)
/// <prefix>/poster…                     the poster image (name is the backend's)
/// <prefix>/links/<link-id>/…           per-link signed playlists
/// ```
/// with `<prefix>` = `jobs/<job-id>/stream`: everything a stream link needs
/// is below it, so one wildcard policy over it opens the stream and nothing
/// else. Which files a backend wrote, under which names, is its
/// [`OutputManifest`]: nothing assumes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputLayout {
    pub bucket: String,
    /// What the transcoder writes below, and what a stream link covers.
    pub prefix: String,
}

impl OutputLayout {
    pub fn for_job(bucket: &str, job: JobId) -> Self {
        Self { bucket: bucket.to_owned(), prefix: format!("jobs/{job}/stream") }
    }

    /// Where versions before `stream/` wrote a job's outputs: beside its original.
    pub fn earlier_version(bucket: &str, job: JobId) -> Self {
        Self { bucket: bucket.to_owned(), prefix: format!("jobs/{job}") }
    }

    /// An object of this job, by its key below the prefix (`hls/master.m3u8`).
    pub fn object(&self, relative: &str) -> ObjectRef {
        ObjectRef::new(&self.bucket, format!("{}/{relative}", self.prefix))
    }

    /// The folder the HLS ladder goes in (`jobs/<id>/hls/`).
    pub fn hls_prefix(&self) -> String {
        format!("{}/hls/", self.prefix)
    }

    /// The folder thumbnails go in (`jobs/<id>/thumbs/`).
    pub fn thumbnails_prefix(&self) -> String {
        format!("{}/thumbs/", self.prefix)
    }

    /// What a poster's key starts with (`jobs/<id>/poster`): backends add their own ending.
    pub fn poster_prefix(&self) -> String {
        format!("{}/poster", self.prefix)
    }
}

/// What a transcoder wrote for a job, found in the bucket after it finished:
/// the keys (in the layout's bucket) that links, the player, `--json` and
/// storyboards read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputManifest {
    /// The master playlist.
    pub master: String,
    /// Each rendition's playlist, in the master's order.
    pub variants: Vec<Variant>,
    /// Thumbnails, in time order.
    pub thumbnails: Vec<Thumbnail>,
    /// The poster image, when the source has a picture.
    pub poster: Option<String>,
}

/// One rendition of the stream, as the master playlist lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Variant {
    pub playlist: String,
    /// Peak bits per second (`BANDWIDTH`).
    pub bandwidth: Option<u64>,
    /// `RESOLUTION`, e.g. `(1280, 720)`.
    pub resolution: Option<(u32, u32)>,
}

/// One thumbnail and the moment of the video it shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Thumbnail {
    pub key: String,
    pub time_secs: f64,
}

/// Where a job's file and results live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobOutputs {
    /// The upload, in the temporary uploads bucket (gone after its expiry).
    pub upload: ObjectRef,
    /// The original file, kept in the distribution bucket.
    pub original: ObjectRef,
    pub layout: OutputLayout,
}

impl JobOutputs {
    /// Where `job`'s results go in the distribution bucket `media_bucket`.
    pub fn of(job: &Job, media_bucket: &str) -> Self {
        let layout = OutputLayout::for_job(media_bucket, job.id);
        let original =
            job.original.clone().unwrap_or_else(|| Self::original_of(job.id, &job.source.display_name(), media_bucket));
        Self { upload: job.destination.clone(), original, layout }
    }

    /// Where the copy stage keeps job `id`'s original file `name`: outside
    /// the stream's prefix, so a stream link never opens it.
    pub fn original_of(id: JobId, name: &str, media_bucket: &str) -> ObjectRef {
        ObjectRef::new(media_bucket, format!("jobs/{id}/original/{name}"))
    }

    /// Where the copy stage keeps a sidecar of job `id`: beside its original,
    /// under the path it had on the card.
    pub fn sidecar_of(id: JobId, relative_path: &str, media_bucket: &str) -> ObjectRef {
        ObjectRef::new(media_bucket, format!("jobs/{id}/original/sidecars/{relative_path}"))
    }
}
