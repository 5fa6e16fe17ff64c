//! Server-side copy: CopyObject up to the threshold, parallel UploadPartCopy above it.

use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use futures_util::{StreamExt, TryStreamExt};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::plan::{part_size_for, PartPlan};
use super::progress::ByteCounter;
use super::retry::{retrying, AttemptError};
use super::{CopyReceipt, Transfer, TransferError};
use crate::model::ObjectRef;

/// Bytes of a key that stay literal in `x-amz-copy-source`.
const COPY_SOURCE_KEEP: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'/');

/// The `x-amz-copy-source` value: `bucket/key`, URL-encoded.
pub fn copy_source(src: &ObjectRef) -> String {
    format!("{}/{}", src.bucket, utf8_percent_encode(&src.key, COPY_SOURCE_KEEP))
}

impl Transfer<'_> {
    /// Copies `src` to this transfer's destination without the bytes leaving the server.
    pub async fn copy_from(&self, src: &ObjectRef) -> Result<CopyReceipt, TransferError> {
        let head = self.head(src, false).await?;
        let size = head.content_length().unwrap_or(0).max(0) as u64;
        let counter = ByteCounter::default();
        let work = async {
            if size <= self.options.copy_multipart_threshold {
                let out = retrying(&self.options.retry, &self.control, || async {
                    self.client
                        .copy_object()
                        .bucket(&self.dest.bucket)
                        .key(&self.dest.key)
                        .copy_source(copy_source(src))
                        .send()
                        .await
                        .map_err(AttemptError::from_sdk)
                })
                .await
                .map_err(|e| self.gave_up("CopyObject", e))?;
                counter.add(size);
                Ok(CopyReceipt { etag: out.copy_object_result.and_then(|r| r.e_tag), size, parts: 0 })
            } else {
                self.copy_in_parts(src, size, &counter).await
            }
        };
        let receipt = self.reporting(size, &counter, work).await?;
        self.head_dest_of_size(size, "the source", false).await?;
        Ok(receipt)
    }

    async fn copy_in_parts(
        &self,
        src: &ObjectRef,
        size: u64,
        counter: &ByteCounter,
    ) -> Result<CopyReceipt, TransferError> {
        let plan = PartPlan::new(size, part_size_for(size, self.options.part_size));
        let created = retrying(&self.options.retry, &self.control, || async {
            self.client
                .create_multipart_upload()
                .bucket(&self.dest.bucket)
                .key(&self.dest.key)
                .send()
                .await
                .map_err(AttemptError::from_sdk)
        })
        .await
        .map_err(|e| self.gave_up("CreateMultipartUpload", e))?;
        let upload_id = created.upload_id.unwrap_or_default();

        let copied = futures_util::stream::iter(plan.numbers())
            .map(|number| {
                let upload_id = upload_id.clone();
                async move {
                    self.control.proceed().map_err(|_| TransferError::Cancelled)?;
                    let range = plan.range(number);
                    let out = retrying(&self.options.retry, &self.control, || async {
                        self.client
                            .upload_part_copy()
                            .bucket(&self.dest.bucket)
                            .key(&self.dest.key)
                            .upload_id(&upload_id)
                            .part_number(number as i32)
                            .copy_source(copy_source(src))
                            .copy_source_range(format!("bytes={}-{}", range.start, range.end - 1))
                            .send()
                            .await
                            .map_err(AttemptError::from_sdk)
                    })
                    .await
                    .map_err(|e| self.gave_up("UploadPartCopy", e))?;
                    counter.add(range.end - range.start);
                    let etag = out.copy_part_result.and_then(|r| r.e_tag).unwrap_or_default();
                    Ok::<_, TransferError>(CompletedPart::builder().part_number(number as i32).e_tag(etag).build())
                }
            })
            .buffer_unordered(self.options.concurrency.max(1))
            .try_collect::<Vec<_>>()
            .await;
        let mut parts = match copied {
            Ok(parts) => parts,
            Err(err) => {
                self.abort(&upload_id).await;
                return Err(err);
            }
        };
        parts.sort_by_key(|p| p.part_number());
        let completed = CompletedMultipartUpload::builder().set_parts(Some(parts)).build();
        let out = retrying(&self.options.retry, &self.control, || async {
            self.client
                .complete_multipart_upload()
                .bucket(&self.dest.bucket)
                .key(&self.dest.key)
                .upload_id(&upload_id)
                .multipart_upload(completed.clone())
                .send()
                .await
                .map_err(AttemptError::from_sdk)
        })
        .await
        .map_err(|e| self.gave_up("CompleteMultipartUpload", e))?;
        Ok(CopyReceipt { etag: out.e_tag, size, parts: plan.count() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_source_encodes_the_key_but_keeps_slashes() {
        assert_eq!(copy_source(&ObjectRef::new("media", "raw/A 001+é.mov")), "media/raw/A%20001%2B%C3%A9.mov");
    }
}
