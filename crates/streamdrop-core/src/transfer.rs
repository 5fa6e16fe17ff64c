//! Moving a user's file into S3: one PutObject for small files, multipart for
//! the rest, streaming from disk so memory stays at about one part.

use std::path::PathBuf;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;
use tokio::io::AsyncReadExt;

use crate::jobs::SourceFile;
use crate::storage::ObjectRef;

const MIB: u64 = 1024 * 1024;
/// S3's smallest part (except the last).
pub const MIN_PART_SIZE: u64 = 5 * MIB;
pub const DEFAULT_PART_SIZE: u64 = 8 * MIB;
/// S3's limit on parts in one multipart upload.
pub const MAX_PARTS: u64 = 10_000;

/// The part size for a file: the preferred size, grown (in whole MiB) until the
/// file fits in [`MAX_PARTS`], and never under [`MIN_PART_SIZE`].
pub fn part_size_for(file_size: u64, preferred: u64) -> u64 {
    let needed = file_size.div_ceil(MAX_PARTS).div_ceil(MIB) * MIB;
    preferred.max(MIN_PART_SIZE).max(needed)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadReceipt {
    pub etag: Option<String>,
    /// 0 for a single PutObject.
    pub parts: u32,
    pub bytes_sent: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} changed since it was added (size or modification time differs); add it again to upload the new version")]
    SourceChanged { path: PathBuf },
    #[error("S3 {action} failed for {object}: {message}")]
    S3 { action: &'static str, object: String, message: String },
}

fn s3_error<E>(action: &'static str, object: &ObjectRef, err: aws_sdk_s3::error::SdkError<E>) -> TransferError
where
    E: std::error::Error + Send + Sync + 'static,
{
    use std::error::Error as _;
    // The SDK's Display is terse ("service error"); the source chain says what happened.
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        message = format!("{message}: {inner}");
        source = inner.source();
    }
    TransferError::S3 { action, object: object.to_string(), message }
}

/// Fails if the file on disk is no longer the one the job was created for.
fn ensure_unchanged(source: &SourceFile) -> Result<(), TransferError> {
    let now = crate::intake::inspect(&source.path)
        .map_err(|r| TransferError::Read { path: source.path.clone(), source: std::io::Error::other(r.reason) })?;
    if now.size != source.size || now.modified_ms != source.modified_ms {
        return Err(TransferError::SourceChanged { path: source.path.clone() });
    }
    Ok(())
}

/// Uploads `source` to `dest`, calling `progress` with the total bytes sent so far.
pub async fn upload_file(
    client: &Client,
    source: &SourceFile,
    dest: &ObjectRef,
    preferred_part_size: u64,
    progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<UploadReceipt, TransferError> {
    ensure_unchanged(source)?;
    let part_size = part_size_for(source.size, preferred_part_size);
    let read_err = |e| TransferError::Read { path: source.path.clone(), source: e };
    let mut file = tokio::fs::File::open(&source.path).await.map_err(read_err)?;

    if source.size <= part_size {
        let mut body = Vec::with_capacity(source.size as usize);
        file.read_to_end(&mut body).await.map_err(read_err)?;
        if body.len() as u64 != source.size {
            return Err(TransferError::SourceChanged { path: source.path.clone() });
        }
        let out = client
            .put_object()
            .bucket(&dest.bucket)
            .key(&dest.key)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| s3_error("PutObject", dest, e))?;
        progress(source.size);
        return Ok(UploadReceipt { etag: out.e_tag, parts: 0, bytes_sent: source.size });
    }

    let created = client
        .create_multipart_upload()
        .bucket(&dest.bucket)
        .key(&dest.key)
        .send()
        .await
        .map_err(|e| s3_error("CreateMultipartUpload", dest, e))?;
    let upload_id = created.upload_id.ok_or_else(|| TransferError::S3 {
        action: "CreateMultipartUpload",
        object: dest.to_string(),
        message: "the server returned no upload id".into(),
    })?;

    let sent = send_parts(client, &mut file, source, dest, &upload_id, part_size, progress).await;
    match sent {
        Ok(parts) => {
            let count = parts.len() as u32;
            let out = client
                .complete_multipart_upload()
                .bucket(&dest.bucket)
                .key(&dest.key)
                .upload_id(&upload_id)
                .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
                .send()
                .await
                .map_err(|e| s3_error("CompleteMultipartUpload", dest, e))?;
            Ok(UploadReceipt { etag: out.e_tag, parts: count, bytes_sent: source.size })
        }
        Err(err) => {
            // Leave nothing half-made behind; the job can be retried from the start.
            let _ = client.abort_multipart_upload().bucket(&dest.bucket).key(&dest.key).upload_id(&upload_id).send().await;
            Err(err)
        }
    }
}

async fn send_parts(
    client: &Client,
    file: &mut tokio::fs::File,
    source: &SourceFile,
    dest: &ObjectRef,
    upload_id: &str,
    part_size: u64,
    progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<Vec<CompletedPart>, TransferError> {
    let read_err = |e| TransferError::Read { path: source.path.clone(), source: e };
    let mut parts = Vec::new();
    let mut done = 0u64;
    let mut part_number = 1i32;
    while done < source.size {
        let len = part_size.min(source.size - done) as usize;
        let mut buf = vec![0u8; len];
        file.read_exact(&mut buf).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => TransferError::SourceChanged { path: source.path.clone() },
            _ => read_err(e),
        })?;
        let out = client
            .upload_part()
            .bucket(&dest.bucket)
            .key(&dest.key)
            .upload_id(upload_id)
            .part_number(part_number)
            .body(ByteStream::from(buf))
            .send()
            .await
            .map_err(|e| s3_error("UploadPart", dest, e))?;
        parts.push(CompletedPart::builder().part_number(part_number).set_e_tag(out.e_tag).build());
        done += len as u64;
        part_number += 1;
        progress(done);
    }
    ensure_unchanged(source)?;
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_size_fits_any_file_in_ten_thousand_parts() {
        assert_eq!(part_size_for(0, DEFAULT_PART_SIZE), DEFAULT_PART_SIZE);
        assert_eq!(part_size_for(1, MIB), MIN_PART_SIZE, "never under 5 MiB");
        let five_tib = 5 * 1024 * 1024 * MIB;
        let size = part_size_for(five_tib, DEFAULT_PART_SIZE);
        assert!(five_tib.div_ceil(size) <= MAX_PARTS);
        assert_eq!(size % MIB, 0);
        // 100 GB at 8 MiB would need 11,921 parts: the size must grow.
        let big = 100_000_000_000;
        assert!(part_size_for(big, DEFAULT_PART_SIZE) > DEFAULT_PART_SIZE);
        assert!(big.div_ceil(part_size_for(big, DEFAULT_PART_SIZE)) <= MAX_PARTS);
    }
}
