//! Uploading one file: a single PutObject for small files, otherwise a
//! resumable multipart upload with parts in parallel. Every part carries a
//! CRC32C the server verifies; the finished object is checked (size and
//! checksum) before the upload counts as done.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumType, CompletedMultipartUpload, CompletedPart};
use futures_util::{StreamExt, TryStreamExt};

use super::body::{Activity, RangeBody};
use super::checksum::{combine, composite_header, crc32c_of_range, to_header};
use super::limiter::BandwidthLimiter;
use super::plan::{part_size_for, PartPlan, MAX_OBJECT_SIZE};
use super::progress::{ByteCounter, RateMeter, REPORT_INTERVAL};
use super::retry::{retrying, AttemptError, FailureKind, GaveUp};
use super::{Transfer, TransferError, UploadReceipt};
use crate::intake;
use crate::model::{Progress, SourceFile};
use crate::store::{DonePart, UploadKey};

impl Transfer<'_> {
    /// Uploads `source` to `dest`. Re-running it after a crash, a kill or a
    /// failure resumes the multipart upload where the server says it stopped.
    pub async fn upload(&self, source: &SourceFile) -> Result<UploadReceipt, TransferError> {
        if file_changed(source)? {
            return Err(TransferError::SourceChangedSinceAdded { path: source.path.clone() });
        }
        if source.size > MAX_OBJECT_SIZE {
            return Err(TransferError::TooLarge { size: source.size });
        }
        let counter = ByteCounter::default();
        let work = async {
            if source.size <= self.options.multipart_threshold {
                self.put_whole(source, &counter).await
            } else {
                self.multipart(source, &counter).await
            }
        };
        let receipt = self.reporting(source.size, &counter, work).await?;
        self.verify(source, &receipt).await?;
        Ok(receipt)
    }

    /// Runs `work` while reporting progress every [`REPORT_INTERVAL`], and once more at the end.
    pub(super) async fn reporting<T>(
        &self,
        total: u64,
        counter: &ByteCounter,
        work: impl std::future::Future<Output = Result<T, TransferError>>,
    ) -> Result<T, TransferError> {
        let mut meter = RateMeter::new(total);
        let report = async {
            let mut tick = tokio::time::interval(REPORT_INTERVAL);
            loop {
                tick.tick().await;
                (self.progress)(meter.sample(Instant::now(), counter.get(), counter.resumed()));
            }
        };
        let result = tokio::select! {
            result = work => result,
            _ = report => unreachable!("the reporter never ends"),
        };
        if result.is_ok() {
            let bytes_resumed = counter.resumed();
            (self.progress)(Progress {
                bytes_done: total,
                bytes_total: total,
                bytes_resumed,
                rate_bps: None,
                eta_seconds: Some(0),
            });
        }
        result
    }

    fn limiter(&self) -> Option<Arc<BandwidthLimiter>> {
        self.options.bandwidth.clone()
    }

    async fn put_whole(&self, source: &SourceFile, counter: &ByteCounter) -> Result<UploadReceipt, TransferError> {
        let crc = crc32c_of_range(&source.path, 0..source.size).await.map_err(|e| read_error(source, e))?;
        let limiter = self.limiter();
        let out = retrying(&self.options.retry, &self.control, || {
            let body = RangeBody {
                path: source.path.clone(),
                range: 0..source.size,
                counter: counter.clone(),
                attempt: ByteCounter::default(),
                limiter: limiter.clone(),
                activity: Activity::new(),
            };
            let request = self
                .client
                .put_object()
                .bucket(&self.dest.bucket)
                .key(&self.dest.key)
                .content_length(source.size as i64)
                .checksum_crc32_c(to_header(crc))
                .body(body.clone().into_byte_stream())
                .customize()
                // The CRC32C already guards the bytes end to end; a SigV4 payload hash
                // would mean reading the whole body once more before sending it.
                .disable_payload_signing()
                .send();
            self.attempt(body, request)
        })
        .await
        .map_err(|e| self.send_failed(source, "PutObject", e))?;
        Ok(UploadReceipt {
            etag: out.e_tag,
            parts: 0,
            bytes_sent: source.size,
            resumed_parts: 0,
            bytes_resumed: 0,
            crc32c: crc,
            part_crcs: vec![],
        })
    }

    /// One try of a request whose body streams `body`: fails as a stall if no
    /// byte moves for the policy's stall timeout, and takes its bytes back from
    /// the progress count if it fails.
    async fn attempt<T, E>(
        &self,
        body: RangeBody,
        request: impl std::future::Future<
            Output = Result<T, aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>>,
        >,
    ) -> Result<T, AttemptError>
    where
        E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        body.activity.touch();
        let stall = self.options.retry.stall_timeout;
        let outcome = tokio::select! {
            outcome = request => outcome.map_err(AttemptError::from_sdk),
            _ = body.activity.stalled(stall) => Err(AttemptError::transient(format!("no progress for {} s; the connection stalled", stall.as_secs()))),
        };
        if outcome.is_err() {
            body.take_back();
        }
        outcome
    }

    /// A multipart upload, resumed from the journal when it can be. If the server
    /// turns out not to hold the journalled upload any more, it starts afresh,
    /// once: an upload is never left failing on an id the server forgot.
    async fn multipart(&self, source: &SourceFile, counter: &ByteCounter) -> Result<UploadReceipt, TransferError> {
        match self.multipart_attempt(source, counter, false).await {
            Err(TransferError::UploadGone { object }) => {
                tracing::info!("the server no longer has the partial upload of {object}: starting it afresh");
                counter.reset();
                self.multipart_attempt(source, counter, true).await
            }
            other => other,
        }
    }

    async fn multipart_attempt(
        &self,
        source: &SourceFile,
        counter: &ByteCounter,
        afresh: bool,
    ) -> Result<UploadReceipt, TransferError> {
        let key =
            UploadKey { target: self.target.to_owned(), dest: self.dest.clone(), source_path: source.path.clone() };
        let journal = self.journal;
        let mut done: BTreeMap<u32, DonePart> = BTreeMap::new();

        let existing = journal.find_upload(&key)?;
        let (row, upload_id, plan) = match existing {
            Some(record) if afresh => {
                journal.forget_upload(record.row)?;
                self.create(&key, source).await?
            }
            Some(record) if self.options.restart || record.source != *source => {
                if record.source != *source && !self.options.restart {
                    return Err(TransferError::SourceChangedSinceStart { path: source.path.clone() });
                }
                self.abort(&record.upload_id).await;
                journal.forget_upload(record.row)?;
                self.create(&key, source).await?
            }
            Some(record) => {
                let plan = PartPlan::new(source.size, record.part_size);
                match self.reconcile(source, &plan, &record.upload_id, &record.parts).await? {
                    Some(parts) => {
                        for part in parts {
                            journal.record_part(record.row, &part)?;
                            done.insert(part.number, part);
                        }
                        (record.row, record.upload_id, plan)
                    }
                    // The server no longer has the upload (aborted, expired): start over.
                    None => {
                        journal.forget_upload(record.row)?;
                        self.create(&key, source).await?
                    }
                }
            }
            None => self.create(&key, source).await?,
        };
        let resumed_parts = done.len() as u32;
        let bytes_resumed = done.values().map(|p| p.size).sum();
        counter.add_resumed(bytes_resumed);

        let limiter = self.limiter();
        let todo: Vec<u32> = plan.numbers().filter(|n| !done.contains_key(n)).collect();
        let sent = futures_util::stream::iter(todo)
            .map(|number| self.send_part(source, &plan, &upload_id, row, number, counter, limiter.clone()))
            .buffer_unordered(self.options.concurrency.max(1))
            .try_collect::<Vec<DonePart>>()
            .await;
        let sent_now = match sent {
            Ok(parts) => parts,
            Err(TransferError::Cancelled) => {
                // Cancel leaves nothing behind: no parts on the server, no journal entry.
                self.abort(&upload_id).await;
                journal.forget_upload(row)?;
                return Err(TransferError::Cancelled);
            }
            Err(err) => return Err(err),
        };
        // A file edited while its parts went out must not be completed as one object.
        if file_changed(source)? {
            return Err(TransferError::SourceChanged { path: source.path.clone() });
        }
        let bytes_sent = sent_now.iter().map(|p| p.size).sum();
        done.extend(sent_now.into_iter().map(|p| (p.number, p)));

        let part_crcs: Vec<u32> = done.values().map(|p| p.crc32c).collect();
        let crc = combine(done.values().map(|p| (p.crc32c, p.size)));
        let completed = CompletedMultipartUpload::builder()
            .set_parts(Some(
                done.values()
                    .map(|p| {
                        CompletedPart::builder()
                            .part_number(p.number as i32)
                            .e_tag(&p.etag)
                            .checksum_crc32_c(to_header(p.crc32c))
                            .build()
                    })
                    .collect(),
            ))
            .build();
        let completed = retrying(&self.options.retry, &self.control, || async {
            self.client
                .complete_multipart_upload()
                .bucket(&self.dest.bucket)
                .key(&self.dest.key)
                .upload_id(&upload_id)
                .multipart_upload(completed.clone())
                .checksum_crc32_c(to_header(crc))
                .checksum_type(ChecksumType::FullObject)
                .send()
                .await
                .map_err(AttemptError::from_sdk)
        })
        .await;
        let mut receipt = UploadReceipt {
            etag: None,
            parts: plan.count(),
            bytes_sent,
            resumed_parts,
            bytes_resumed,
            crc32c: crc,
            part_crcs,
        };
        match completed {
            Ok(out) => receipt.etag = out.e_tag,
            Err(GaveUp::Failed { last, attempts: 1 }) if last.has_code("NoSuchUpload") => {
                return Err(TransferError::UploadGone { object: self.dest.to_string() });
            }
            // A Complete whose answer was lost may have worked: a retry then finds the
            // upload gone. The object itself is the judge.
            Err(GaveUp::Failed { last, attempts }) if attempts > 1 => {
                if self.verify(source, &receipt).await.is_err() {
                    return Err(self.gave_up("CompleteMultipartUpload", GaveUp::Failed { last, attempts }));
                }
            }
            Err(gave_up) => return Err(self.gave_up("CompleteMultipartUpload", gave_up)),
        }
        journal.forget_upload(row)?;
        Ok(receipt)
    }

    async fn create(&self, key: &UploadKey, source: &SourceFile) -> Result<(i64, String, PartPlan), TransferError> {
        let plan = PartPlan::new(source.size, part_size_for(source.size, self.options.part_size));
        let created = retrying(&self.options.retry, &self.control, || async {
            self.client
                .create_multipart_upload()
                .bucket(&self.dest.bucket)
                .key(&self.dest.key)
                .checksum_algorithm(ChecksumAlgorithm::Crc32C)
                .checksum_type(ChecksumType::FullObject)
                .send()
                .await
                .map_err(AttemptError::from_sdk)
        })
        .await
        .map_err(|e| self.gave_up("CreateMultipartUpload", e))?;
        let upload_id = created.upload_id.ok_or_else(|| TransferError::S3 {
            action: "CreateMultipartUpload",
            object: self.dest.to_string(),
            failure: AttemptError {
                transient: false,
                kind: FailureKind::BadReply,
                code: None,
                message: "the server returned no upload id".into(),
            },
            attempts: 1,
        })?;
        let row = self.journal.begin_upload(key, source, &upload_id, plan.part_size)?;
        Ok((row, upload_id, plan))
    }

    /// Asks the server which parts it holds. Parts it holds with the expected
    /// size count as done (a part can finish after the journal last wrote);
    /// `None` means the upload is gone.
    async fn reconcile(
        &self,
        source: &SourceFile,
        plan: &PartPlan,
        upload_id: &str,
        journalled: &[DonePart],
    ) -> Result<Option<Vec<DonePart>>, TransferError> {
        // Part number → (ETag if the server lists one, size).
        let mut on_server: BTreeMap<u32, (Option<String>, u64)> = BTreeMap::new();
        let mut marker: Option<String> = None;
        loop {
            let page = retrying(&self.options.retry, &self.control, || async {
                self.client
                    .list_parts()
                    .bucket(&self.dest.bucket)
                    .key(&self.dest.key)
                    .upload_id(upload_id)
                    .set_part_number_marker(marker.clone())
                    .send()
                    .await
                    .map_err(AttemptError::from_sdk)
            })
            .await;
            let page = match page {
                Ok(page) => page,
                Err(GaveUp::Failed { last, .. }) if last.has_code("NoSuchUpload") => return Ok(None),
                Err(e) => return Err(self.gave_up("ListParts", e)),
            };
            let before = on_server.len();
            for part in page.parts() {
                if let (Some(n), Some(size)) = (part.part_number(), part.size()) {
                    on_server.insert(n as u32, (part.e_tag().map(str::to_owned), size as u64));
                }
            }
            // Some servers ignore the marker and repeat the whole list: stop when nothing is new.
            match page.next_part_number_marker() {
                Some(next) if page.is_truncated() == Some(true) && on_server.len() > before => {
                    marker = Some(next.to_owned())
                }
                _ => break,
            }
        }
        if on_server.is_empty() && !journalled.is_empty() {
            return Ok(None);
        }
        let journalled: BTreeMap<u32, &DonePart> = journalled.iter().map(|p| (p.number, p)).collect();
        let mut parts = Vec::new();
        for (number, (listed_etag, size)) in on_server {
            let range = plan.range(number);
            if number > plan.count() || size != range.end - range.start {
                continue; // not a part of this plan, or still being written
            }
            let known = journalled.get(&number);
            // Completing needs each part's ETag: from the listing, else from the journal.
            let Some(etag) = listed_etag.clone().or_else(|| known.map(|p| p.etag.clone())) else {
                continue; // unknown ETag: sending the part again is the only safe choice
            };
            let crc = match known {
                Some(p) if p.etag == etag => p.crc32c,
                _ => crc32c_of_range(&source.path, range).await.map_err(|e| read_error(source, e))?,
            };
            parts.push(DonePart { number, etag, crc32c: crc, size });
        }
        Ok(Some(parts))
    }

    #[allow(clippy::too_many_arguments)]
    async fn send_part(
        &self,
        source: &SourceFile,
        plan: &PartPlan,
        upload_id: &str,
        row: i64,
        number: u32,
        counter: &ByteCounter,
        limiter: Option<Arc<BandwidthLimiter>>,
    ) -> Result<DonePart, TransferError> {
        self.control.proceed().map_err(|_| TransferError::Cancelled)?;
        let range = plan.range(number);
        let size = range.end - range.start;
        let crc = crc32c_of_range(&source.path, range.clone()).await.map_err(|e| read_error(source, e))?;
        let out = retrying(&self.options.retry, &self.control, || {
            let body = RangeBody {
                path: source.path.clone(),
                range: range.clone(),
                counter: counter.clone(),
                attempt: ByteCounter::default(),
                limiter: limiter.clone(),
                activity: Activity::new(),
            };
            let request = self
                .client
                .upload_part()
                .bucket(&self.dest.bucket)
                .key(&self.dest.key)
                .upload_id(upload_id)
                .part_number(number as i32)
                .content_length(size as i64)
                .checksum_crc32_c(to_header(crc))
                .body(body.clone().into_byte_stream())
                .customize()
                .disable_payload_signing() // as for PutObject
                .send();
            let sent = to_header(crc);
            async move {
                let attempt = body.clone();
                let out = self.attempt(body, request).await?;
                // A server that does not verify checksums may still say what it received.
                match out.checksum_crc32_c() {
                    Some(received) if received != sent => {
                        attempt.take_back();
                        Err(AttemptError::damaged(format!(
                            "the server received part {number} with CRC32C {received}, not {sent}: it was damaged on the way"
                        )))
                    }
                    _ => Ok(out),
                }
            }
        })
        .await
        .map_err(|e| match e {
            GaveUp::Failed { last, .. } if last.has_code("NoSuchUpload") => TransferError::UploadGone { object: self.dest.to_string() },
            e => self.send_failed(source, "UploadPart", e),
        })?;
        let part = DonePart { number, etag: out.e_tag.unwrap_or_default(), crc32c: crc, size };
        // Journal first: a kill right after this line loses nothing.
        self.journal.record_part(row, &part)?;
        Ok(part)
    }

    /// Checks the object the server now holds: its size, and its CRC32C when the server reports one.
    async fn verify(&self, source: &SourceFile, receipt: &UploadReceipt) -> Result<(), TransferError> {
        let head = self.head_dest_of_size(source.size, "the file", true).await?;
        if let Some(reported) = head.checksum_crc32_c() {
            let full = to_header(receipt.crc32c);
            // Servers that keep the multipart "checksum of checksums" report it, some without the `-N`.
            let composite = composite_header(&receipt.part_crcs);
            let base = |v: &str| v.split('-').next().unwrap_or_default().to_owned();
            let is_composite = !receipt.part_crcs.is_empty() && base(reported) == base(&composite);
            if reported != full && !is_composite {
                return Err(TransferError::Verification {
                    object: self.dest.to_string(),
                    detail: format!("the server's CRC32C is {reported}, the file's is {full}"),
                });
            }
        }
        Ok(())
    }

    /// Best effort: a failed abort leaves an upload that lifecycle rules clean up.
    pub(super) async fn abort(&self, upload_id: &str) {
        let result = self
            .client
            .abort_multipart_upload()
            .bucket(&self.dest.bucket)
            .key(&self.dest.key)
            .upload_id(upload_id)
            .send()
            .await;
        if let Err(err) = result {
            tracing::warn!(
                "could not abort multipart upload {upload_id} of {}: {}",
                self.dest,
                aws_sdk_s3::error::DisplayErrorContext(&err)
            );
        }
    }

    /// A request that streamed the file failed: if the file changed under it
    /// (truncated, rewritten) or left (a card pulled out), say that rather
    /// than what the broken body did to the request.
    fn send_failed(&self, source: &SourceFile, action: &'static str, gave_up: GaveUp) -> TransferError {
        match (&gave_up, file_changed(source)) {
            (GaveUp::Failed { .. }, Ok(true)) => TransferError::SourceChanged { path: source.path.clone() },
            // Gone or unreadable (a card pulled out while a part was read): that, not the request.
            (GaveUp::Failed { .. }, Err(unreadable)) => unreadable,
            _ => self.gave_up(action, gave_up),
        }
    }

    pub(super) fn gave_up(&self, action: &'static str, gave_up: GaveUp) -> TransferError {
        match gave_up {
            GaveUp::Cancelled => TransferError::Cancelled,
            GaveUp::Failed { last, attempts } => {
                TransferError::S3 { action, object: self.dest.to_string(), failure: last, attempts }
            }
        }
    }
}

fn read_error(source: &SourceFile, err: std::io::Error) -> TransferError {
    match err.kind() {
        std::io::ErrorKind::UnexpectedEof => TransferError::SourceChanged { path: source.path.clone() },
        _ => TransferError::Read { path: source.path.clone(), source: err },
    }
}

/// Whether the file on disk is no longer the one the upload was planned for.
fn file_changed(source: &SourceFile) -> Result<bool, TransferError> {
    let now = intake::inspect(&source.path).map_err(|problem| TransferError::Read {
        path: source.path.clone(),
        source: match problem.code {
            crate::model::ProblemCode::FileNotFound => {
                std::io::Error::new(std::io::ErrorKind::NotFound, problem.message())
            }
            _ => std::io::Error::other(problem.message()),
        },
    })?;
    Ok(now.size != source.size || now.modified_ms != source.modified_ms)
}
