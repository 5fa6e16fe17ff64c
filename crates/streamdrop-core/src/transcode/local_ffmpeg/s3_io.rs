//! The transcode's S3 input and outputs: the source downloaded whole into
//! the work dir, every output stored under the job's prefix.

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use super::{codes, source_name, Failure, Inner};
use crate::model::{ObjectRef, OutputLayout};
use crate::storage::Storage;
use crate::transcode::TranscodeStatus;

const DOWNLOAD_ATTEMPTS: u32 = 3;

pub(super) async fn download(storage: &Storage, source: &ObjectRef, dest: &Path) -> Result<(), Failure> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match download_once(storage, source, dest).await {
            Ok(()) => return Ok(()),
            Err(failure) if failure.code == codes::DOWNLOAD_FAILED && attempt < DOWNLOAD_ATTEMPTS => {
                tracing::debug!("download of {source} failed (attempt {attempt}): {}", failure.message);
                tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
            }
            Err(failure) => return Err(failure),
        }
    }
}

async fn download_once(storage: &Storage, source: &ObjectRef, dest: &Path) -> Result<(), Failure> {
    let response = storage.client.get_object().bucket(&source.bucket).key(&source.key).send().await.map_err(|err| {
        if err.as_service_error().is_some_and(|e| e.is_no_such_key()) {
            Failure::new(codes::SOURCE_MISSING, format!("the source {source} does not exist"))
        } else {
            Failure::new(
                codes::DOWNLOAD_FAILED,
                format!("cannot read the source {source}: {}", DisplayErrorContext(&err)),
            )
        }
    })?;
    let expected = response.content_length().and_then(|n| u64::try_from(n).ok());
    let local_err =
        |err: std::io::Error| Failure::new(codes::WORK_DIR, format!("cannot write {}: {err}", dest.display()));
    let mut file = tokio::fs::File::create(dest).await.map_err(local_err)?;
    let mut body = response.body;
    let mut written: u64 = 0;
    while let Some(chunk) = body
        .try_next()
        .await
        .map_err(|err| Failure::new(codes::DOWNLOAD_FAILED, format!("reading the source {source} broke off: {err}")))?
    {
        file.write_all(&chunk).await.map_err(local_err)?;
        written += chunk.len() as u64;
    }
    file.flush().await.map_err(local_err)?;
    if let Some(expected) = expected {
        if written != expected {
            return Err(Failure::new(
                codes::DOWNLOAD_FAILED,
                format!("reading the source {source} stopped at {written} of {expected} bytes"),
            ));
        }
    }
    if written == 0 {
        return Err(Failure::new(
            codes::SOURCE_EMPTY,
            format!("{} is empty: there is nothing to transcode", source_name(source)),
        ));
    }
    Ok(())
}

pub(super) fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("m3u8") => "application/vnd.apple.mpegurl",
        Some("ts") => "video/mp2t",
        Some("jpg" | "jpeg") => "image/jpeg",
        _ => "application/octet-stream",
    }
}

/// Files under `root` as (absolute path, `/`-separated relative path), sorted.
fn list_files(root: &Path) -> std::io::Result<Vec<(PathBuf, String)>> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                pending.push(path);
            } else {
                let rel = path.strip_prefix(root).expect("under root");
                let rel: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
                files.push((path, rel.join("/")));
            }
        }
    }
    files.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(files)
}

const UPLOAD_CONCURRENCY: usize = 4;

/// Stores every output under the layout's prefix, the master playlist last,
/// so a reader who finds the master finds everything it points to.
pub(super) async fn upload_outputs(inner: &Inner, id: &str, out: &Path, layout: &OutputLayout) -> Result<(), Failure> {
    let files = list_files(out)
        .map_err(|err| Failure::new(codes::WORK_DIR, format!("cannot list the outputs in {}: {err}", out.display())))?;
    let (master, rest): (Vec<_>, Vec<_>) = files.into_iter().partition(|(_, rel)| rel == "hls/master.m3u8");
    let total = rest.len() + master.len();
    let prefix = layout.prefix.trim_end_matches('/');
    let put = |(path, rel): (PathBuf, String)| async move {
        let key = format!("{prefix}/{rel}");
        let body = ByteStream::from_path(&path)
            .await
            .map_err(|err| Failure::new(codes::WORK_DIR, format!("cannot read {}: {err}", path.display())))?;
        inner
            .storage
            .client
            .put_object()
            .bucket(&layout.bucket)
            .key(&key)
            .content_type(content_type(&path))
            .body(body)
            .send()
            .await
            .map_err(|err| {
                Failure::new(
                    codes::UPLOAD_FAILED,
                    format!("cannot store s3://{}/{key}: {}", layout.bucket, DisplayErrorContext(&err)),
                )
            })?;
        Ok::<(), Failure>(())
    };
    let mut uploads = futures_util::stream::iter(rest).map(put).buffer_unordered(UPLOAD_CONCURRENCY);
    let mut done = 0;
    while let Some(result) = uploads.next().await {
        result?;
        done += 1;
        inner.set(id, TranscodeStatus::Progressing { percent: Some(96 + (3 * done / total.max(1)) as u8) });
    }
    drop(uploads);
    for file in master {
        put(file).await?;
    }
    Ok(())
}
