//! The embedded S3 server's storage: s3s-fs, plus the multipart checksum
//! checks AWS makes and s3s-fs does not.
//!
//! s3s-fs verifies PutObject's checksum headers, but takes UploadPart bodies on
//! trust and keeps no checksum for objects made of parts. AWS rejects a part
//! whose bytes do not match its checksum (`BadDigest`) and reports the finished
//! object's CRC. [`ChecksummedFs`] adds exactly that, so local mode verifies
//! uploads as strictly as AWS does:
//! - UploadPart: every checksum the request declares (header or trailer) is
//!   checked against the bytes received; a mismatch is `BadDigest` and the part
//!   is not stored. Each stored part's CRC32C, size and ETag go into a small
//!   ledger on disk (so they survive a restart of the app mid-upload).
//! - ListParts: reports those ETags and CRCs, which s3s-fs leaves out.
//! - CompleteMultipartUpload: for an upload created with CRC32C, checks the
//!   parts' and the whole object's checksums the client sends, and records the
//!   object's CRC32C (full-object or composite, as the upload was created) where
//!   s3s-fs keeps object checksums, so HeadObject and GetObject report it.
//!
//! - GetObject: the same bytes, read from disk 1 MiB at a time. s3s-fs reads
//!   4 KiB at a time, each read a hop to tokio's blocking pool, which made
//!   reading a large original (the transcoder's download, the edge) crawl.
//! - Multipart uploads belong to the server, not to the access key that began
//!   them. s3s-fs binds each upload to its creator's key; AWS lets any caller
//!   allowed on the bucket continue it, and local mode mints a new key every
//!   run, so a bound upload could never resume after a restart. Requests reach
//!   this layer already authenticated, so s3s-fs is handed no identity for
//!   multipart operations (it records `null` and matches `null`), and an upload
//!   it does not hold is `NoSuchUpload`, as on AWS, instead of `AccessDenied` or
//!   an empty part list.
//!
//! Every other operation goes to s3s-fs unchanged.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use base64::Engine as _;
use bytes::Bytes;
use futures_util::Stream;
use s3s::checksum::ChecksumHasher;
use s3s::dto::*;
use s3s::{s3_error, S3Request, S3Response, S3Result, S3};
use serde::{Deserialize, Serialize};

use crate::transfer::checksum::{combine, composite_header, to_header};

/// s3s-fs with AWS's multipart checksum checks. See the module docs.
pub struct ChecksummedFs {
    inner: s3s_fs::FileSystem,
    /// s3s-fs's data folder, where it keeps each object's checksums.
    root: PathBuf,
    ledger: PartLedger,
    uploads: ServerUploads,
}

impl ChecksummedFs {
    /// Serves objects from `root` (one folder per bucket), keeping the part
    /// ledger in `ledger_root`, which must not be inside `root` (s3s-fs would
    /// list it as a bucket).
    pub fn new(root: &Path, ledger_root: &Path) -> io::Result<Self> {
        let inner = s3s_fs::FileSystem::new(root).map_err(|e| io::Error::other(format!("{e:?}")))?;
        std::fs::create_dir_all(ledger_root)?;
        Ok(Self {
            inner,
            root: root.to_owned(),
            ledger: PartLedger { root: ledger_root.to_owned() },
            uploads: ServerUploads { root: root.to_owned() },
        })
    }

    async fn create_multipart_upload_recorded(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let crc32c = req.input.checksum_algorithm.as_ref().is_some_and(|a| a.as_str() == ChecksumAlgorithm::CRC32C);
        let full_object = req.input.checksum_type.as_ref().is_some_and(|t| t.as_str() == ChecksumType::FULL_OBJECT);
        let mut req = req;
        req.credentials = None; // the server's upload, not this key's
        let mut response = self.inner.create_multipart_upload(req).await?;
        if let Some(upload_id) = response.output.upload_id.as_deref() {
            let kind = match (crc32c, full_object) {
                (false, _) => None,
                (true, true) => Some(ObjectChecksum::FullObject),
                (true, false) => Some(ObjectChecksum::Composite),
            };
            self.ledger.begin(upload_id, &UploadRecord { crc32c: kind }).map_err(internal)?;
            if let Some(kind) = kind {
                response.output.checksum_algorithm = Some(ChecksumAlgorithm::from_static(ChecksumAlgorithm::CRC32C));
                response.output.checksum_type = Some(kind.to_dto());
            }
        }
        Ok(response)
    }

    async fn upload_part_verified(
        &self,
        mut req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        let upload_id = req.input.upload_id.clone();
        self.uploads.adopt(&upload_id, &mut req.credentials).await?;
        let part_number = req.input.part_number;
        let body = req.input.body.take().ok_or_else(|| s3_error!(IncompleteBody))?;
        let verdict = Arc::new(Mutex::new(None));
        let declared = declared_checksums(&req.input.checksum_algorithm, checksum_of_part(&req.input));
        let body = VerifyingBody {
            inner: body,
            hasher: Some(declared.hasher()),
            declared,
            trailers: req.trailing_headers.clone(),
            crc32c: 0,
            size: 0,
            verdict: verdict.clone(),
        };
        req.input.body = Some(StreamingBlob::wrap(body));
        // A part being replaced has no trusted record until its new bytes are in.
        self.ledger.forget_part(&upload_id, part_number).map_err(internal)?;
        let result = self.inner.upload_part(req).await;
        let verdict = verdict.lock().unwrap_or_else(|p| p.into_inner()).take();
        match (result, verdict) {
            (_, Some(Verdict::Mismatch(detail))) => Err(s3_error!(BadDigest, "{detail}")),
            (Ok(mut response), Some(Verdict::Intact { crc32c, size })) => {
                let etag = response.output.e_tag.as_ref().map(|e| e.value().to_owned());
                self.ledger
                    .record_part(&upload_id, part_number, &PartRecord { crc32c, size, etag })
                    .map_err(internal)?;
                if self.ledger.upload(&upload_id).map_err(internal)?.and_then(|u| u.crc32c).is_some() {
                    response.output.checksum_crc32c = Some(to_header(crc32c));
                }
                Ok(response)
            }
            (result, _) => result,
        }
    }

    async fn upload_part_copy_unrecorded(
        &self,
        mut req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        self.uploads.adopt(&req.input.upload_id, &mut req.credentials).await?;
        // Copied parts have no CRC on record: the object then gets none, as before.
        self.ledger.forget_part(&req.input.upload_id, req.input.part_number).map_err(internal)?;
        self.inner.upload_part_copy(req).await
    }

    async fn list_parts_with_checksums(
        &self,
        mut req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        let upload_id = req.input.upload_id.clone();
        self.uploads.adopt(&upload_id, &mut req.credentials).await?;
        let mut response = self.inner.list_parts(req).await?;
        let reports_crc = self.ledger.upload(&upload_id).map_err(internal)?.and_then(|u| u.crc32c).is_some();
        for part in response.output.parts.iter_mut().flatten() {
            let Some(number) = part.part_number else { continue };
            let Some(record) = self.ledger.part(&upload_id, number).map_err(internal)? else { continue };
            // A record for other bytes than the stored part's is no record.
            if part.size != Some(record.size as i64) {
                continue;
            }
            if part.e_tag.is_none() {
                part.e_tag = record.etag.map(ETag::Strong);
            }
            if reports_crc {
                part.checksum_crc32c = Some(to_header(record.crc32c));
            }
        }
        if let Some(parts) = response.output.parts.as_mut() {
            parts.sort_by_key(|p| p.part_number);
        }
        Ok(response)
    }

    async fn complete_multipart_upload_checked(
        &self,
        mut req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let upload_id = req.input.upload_id.clone();
        self.uploads.adopt(&upload_id, &mut req.credentials).await?;
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        let kind = self.ledger.upload(&upload_id).map_err(internal)?.and_then(|u| u.crc32c);
        let object_crc = match kind {
            Some(kind) => self.object_checksum(&req.input, kind)?,
            None => None,
        };
        let mut response = self.inner.complete_multipart_upload(req).await?;
        // The object now exists: its checksums on record must be its own (s3s-fs keeps
        // those of an object this one replaced).
        record_object_checksum(&self.root, &bucket, &key, object_crc.as_deref()).await.map_err(internal)?;
        self.ledger.finish(&upload_id);
        if let (Some(crc), Some(kind)) = (object_crc, kind) {
            let output = &mut response.output;
            output.checksum_crc32c = Some(crc.clone());
            output.checksum_type = Some(kind.to_dto());
            if let Some(pending) = output.future.take() {
                output.future = Some(Box::pin(async move {
                    let mut done = pending.await?;
                    done.checksum_crc32c = Some(crc);
                    done.checksum_type = Some(kind.to_dto());
                    Ok(done)
                }));
            }
        }
        Ok(response)
    }

    /// The object's CRC32C from the parts on record, after checking what the
    /// client says the parts and the object are. `None` when a part has no
    /// record (copied, or stored before the ledger knew it).
    fn object_checksum(&self, input: &CompleteMultipartUploadInput, kind: ObjectChecksum) -> S3Result<Option<String>> {
        let upload_id = &input.upload_id;
        let mut records = Vec::new();
        for part in input.multipart_upload.iter().flat_map(|m| m.parts.iter().flatten()) {
            let number = part.part_number.ok_or_else(|| s3_error!(InvalidRequest, "missing part number"))?;
            let record = self.ledger.part(upload_id, number).map_err(internal)?;
            if let (Some(record), Some(claimed)) = (&record, &part.checksum_crc32c) {
                if *claimed != to_header(record.crc32c) {
                    return Err(s3_error!(
                        InvalidPart,
                        "part {number}: the CRC32C given ({claimed}) is not that of the uploaded part ({})",
                        to_header(record.crc32c)
                    ));
                }
            }
            records.push(record);
        }
        let Some(records) = records.into_iter().collect::<Option<Vec<PartRecord>>>() else {
            return Ok(None);
        };
        let crc = match kind {
            ObjectChecksum::FullObject => to_header(combine(records.iter().map(|r| (r.crc32c, r.size)))),
            ObjectChecksum::Composite => composite_header(&records.iter().map(|r| r.crc32c).collect::<Vec<_>>()),
        };
        if let Some(claimed) = &input.checksum_crc32c {
            if kind == ObjectChecksum::FullObject && *claimed != crc {
                return Err(s3_error!(BadDigest, "the object's CRC32C is {crc}, not {claimed} as given"));
            }
        }
        Ok(Some(crc))
    }

    async fn get_object_in_large_reads(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        let path = plain_object_path(&self.root, &req.input.bucket, &req.input.key);
        let mut response = self.inner.get_object(req).await?;
        if let Some(path) = path {
            if let Some(body) = large_reads(&path, &response.output).await {
                response.output.body = Some(body);
            }
        }
        Ok(response)
    }

    async fn abort_multipart_upload_cleaned(
        &self,
        mut req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let upload_id = req.input.upload_id.clone();
        self.uploads.adopt(&upload_id, &mut req.credentials).await?;
        let response = self.inner.abort_multipart_upload(req).await?;
        self.ledger.finish(&upload_id);
        Ok(response)
    }
}

/// Implements [`S3`] for [`ChecksummedFs`]: `forward` ops go to s3s-fs as they
/// are, `own` ops to the method named after `=>`.
macro_rules! s3_ops {
    (forward { $($op:ident($input:ident) -> $output:ident;)* } own { $($own:ident($oinput:ident) -> $ooutput:ident => $method:ident;)* }) => {
        #[async_trait::async_trait]
        impl S3 for ChecksummedFs {
            $(async fn $op(&self, req: S3Request<$input>) -> S3Result<S3Response<$output>> {
                self.inner.$op(req).await
            })*
            $(async fn $own(&self, req: S3Request<$oinput>) -> S3Result<S3Response<$ooutput>> {
                self.$method(req).await
            })*
        }
    };
}

s3_ops! {
    forward {
        create_bucket(CreateBucketInput) -> CreateBucketOutput;
        copy_object(CopyObjectInput) -> CopyObjectOutput;
        delete_bucket(DeleteBucketInput) -> DeleteBucketOutput;
        delete_object(DeleteObjectInput) -> DeleteObjectOutput;
        delete_objects(DeleteObjectsInput) -> DeleteObjectsOutput;
        get_bucket_location(GetBucketLocationInput) -> GetBucketLocationOutput;
        head_bucket(HeadBucketInput) -> HeadBucketOutput;
        head_object(HeadObjectInput) -> HeadObjectOutput;
        list_buckets(ListBucketsInput) -> ListBucketsOutput;
        list_objects(ListObjectsInput) -> ListObjectsOutput;
        list_objects_v2(ListObjectsV2Input) -> ListObjectsV2Output;
        put_object(PutObjectInput) -> PutObjectOutput;
    }
    own {
        create_multipart_upload(CreateMultipartUploadInput) -> CreateMultipartUploadOutput => create_multipart_upload_recorded;
        upload_part(UploadPartInput) -> UploadPartOutput => upload_part_verified;
        upload_part_copy(UploadPartCopyInput) -> UploadPartCopyOutput => upload_part_copy_unrecorded;
        list_parts(ListPartsInput) -> ListPartsOutput => list_parts_with_checksums;
        get_object(GetObjectInput) -> GetObjectOutput => get_object_in_large_reads;
        complete_multipart_upload(CompleteMultipartUploadInput) -> CompleteMultipartUploadOutput => complete_multipart_upload_checked;
        abort_multipart_upload(AbortMultipartUploadInput) -> AbortMultipartUploadOutput => abort_multipart_upload_cleaned;
    }
}

/// Bytes per read when serving an object.
const READ_SIZE: usize = 1024 * 1024;

/// Where s3s-fs keeps `bucket/key`, for keys that name it plainly (no `.`,
/// `..` or empty segments, which s3s-fs resolves its own way): others keep
/// s3s-fs's own body.
fn plain_object_path(root: &Path, bucket: &str, key: &str) -> Option<PathBuf> {
    let plain = |s: &str| s.split('/').all(|segment| !segment.is_empty() && segment != "." && segment != "..");
    (plain(bucket) && !bucket.contains('/') && plain(key)).then(|| root.join(bucket).join(key))
}

/// The body s3s-fs answered with, as larger reads of the same file: the same
/// range, and only if the file still has the length s3s-fs saw (else it was
/// replaced meanwhile, and s3s-fs's own body is kept).
async fn large_reads(path: &Path, output: &GetObjectOutput) -> Option<StreamingBlob> {
    let length = u64::try_from(output.content_length?).ok()?;
    let (start, total) = match output.content_range.as_deref() {
        None => (0, length),
        // `bytes FIRST-LAST/TOTAL`
        Some(range) => {
            let (span, total) = range.strip_prefix("bytes ")?.split_once('/')?;
            (span.split_once('-')?.0.parse().ok()?, total.parse().ok()?)
        }
    };
    let mut file = tokio::fs::File::open(path).await.ok()?;
    if file.metadata().await.ok()?.len() != total {
        return None;
    }
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    file.seek(io::SeekFrom::Start(start)).await.ok()?;
    let stream = futures_util::stream::try_unfold((file, length), |(mut file, remaining)| async move {
        if remaining == 0 {
            return Ok(None);
        }
        let mut buf = vec![0u8; READ_SIZE.min(usize::try_from(remaining).unwrap_or(READ_SIZE))];
        let n = file.read(&mut buf).await?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the object got shorter while it was read"));
        }
        buf.truncate(n);
        Ok(Some((Bytes::from(buf), (file, remaining - n as u64))))
    });
    Some(StreamingBlob::wrap(stream))
}

fn internal(err: io::Error) -> s3s::S3Error {
    s3_error!(InternalError, "local storage: {err}")
}

/// Which whole-object CRC32C an upload reports, as chosen at CreateMultipartUpload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum ObjectChecksum {
    /// The CRC32C of all the bytes (what Streamdrop asks for).
    FullObject,
    /// The CRC32C of the parts' CRCs, `-N` appended (S3's default).
    Composite,
}

impl ObjectChecksum {
    fn to_dto(self) -> ChecksumType {
        ChecksumType::from_static(match self {
            ObjectChecksum::FullObject => ChecksumType::FULL_OBJECT,
            ObjectChecksum::Composite => ChecksumType::COMPOSITE,
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct UploadRecord {
    /// `None`: the upload was created without CRC32C, and the object reports none.
    crc32c: Option<ObjectChecksum>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PartRecord {
    crc32c: u32,
    size: u64,
    etag: Option<String>,
}

/// s3s-fs's record of which multipart uploads exist (`.upload-<id>.json` in its
/// data folder, holding the creator's access key), seen as AWS sees uploads:
/// they exist or not, and belong to no key. See the module docs.
struct ServerUploads {
    root: PathBuf,
}

/// What s3s-fs records as the owner when it is handed no identity.
const NO_OWNER: &[u8] = b"null";

impl ServerUploads {
    /// Lets this request continue upload `upload_id` whoever began it: `NoSuchUpload`
    /// if the server does not hold it; else the request goes on with no identity,
    /// and an upload an earlier run bound to its own key is unbound first.
    async fn adopt(&self, upload_id: &str, credentials: &mut Option<s3s::auth::Credentials>) -> S3Result<()> {
        let no_such = || {
            s3_error!(NoSuchUpload, "the specified upload does not exist: it was completed, aborted, or never begun")
        };
        let id = uuid::Uuid::parse_str(upload_id).map_err(|_| no_such())?;
        let record = self.root.join(format!(".upload-{}.json", id.hyphenated()));
        match tokio::fs::read(&record).await {
            Ok(owner) if owner == NO_OWNER => {}
            Ok(_) => write_atomically(&record, NO_OWNER).map_err(internal)?,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Err(no_such()),
            Err(err) => return Err(internal(err)),
        }
        *credentials = None;
        Ok(())
    }
}

/// What the server learned of each upload's parts, one folder per upload id.
/// Files are replaced whole (written aside, then renamed), so a crash leaves
/// either the old record or the new one.
struct PartLedger {
    root: PathBuf,
}

impl PartLedger {
    /// The folder of one upload. Upload ids come from clients: only s3s-fs's
    /// UUIDs name a folder, so no id can reach outside the ledger.
    fn dir(&self, upload_id: &str) -> Option<PathBuf> {
        let id = uuid::Uuid::parse_str(upload_id).ok()?;
        Some(self.root.join(id.hyphenated().to_string()))
    }

    fn begin(&self, upload_id: &str, record: &UploadRecord) -> io::Result<()> {
        let dir = self.dir(upload_id).ok_or_else(|| io::Error::other("not an upload id"))?;
        std::fs::create_dir_all(&dir)?;
        write_json(&dir.join("upload.json"), record)
    }

    fn upload(&self, upload_id: &str) -> io::Result<Option<UploadRecord>> {
        self.dir(upload_id).map_or(Ok(None), |dir| read_json(&dir.join("upload.json")))
    }

    fn part_path(&self, upload_id: &str, number: i32) -> Option<PathBuf> {
        self.dir(upload_id).map(|dir| dir.join(format!("part-{number}.json")))
    }

    fn record_part(&self, upload_id: &str, number: i32, record: &PartRecord) -> io::Result<()> {
        match self.part_path(upload_id, number) {
            // Parts of uploads created before the ledger existed have no folder: not recorded.
            Some(path) if path.parent().is_some_and(Path::is_dir) => write_json(&path, record),
            _ => Ok(()),
        }
    }

    fn part(&self, upload_id: &str, number: i32) -> io::Result<Option<PartRecord>> {
        self.part_path(upload_id, number).map_or(Ok(None), |path| read_json(&path))
    }

    fn forget_part(&self, upload_id: &str, number: i32) -> io::Result<()> {
        match self.part_path(upload_id, number).map(std::fs::remove_file) {
            Some(Err(err)) if err.kind() != io::ErrorKind::NotFound => Err(err),
            _ => Ok(()),
        }
    }

    /// Best effort: a leftover folder is a few bytes, and harmless.
    fn finish(&self, upload_id: &str) {
        if let Some(dir) = self.dir(upload_id) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn write_json(path: &Path, value: &impl Serialize) -> io::Result<()> {
    write_atomically(path, &serde_json::to_vec(value).map_err(io::Error::other)?)
}

/// Writes aside, then renames: a crash leaves the old content or the new.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut aside = path.as_os_str().to_owned();
    aside.push(".tmp");
    std::fs::write(&aside, bytes)?;
    std::fs::rename(&aside, path)
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> io::Result<Option<T>> {
    match std::fs::read(path) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes).map(Some).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err),
    }
}

/// Sets the object's checksums in s3s-fs's own record of them (the file that
/// its HeadObject, GetObject and CopyObject read): the CRC32C when known, and
/// no stale value of any algorithm. s3s-fs is pinned to one version; the
/// file's name and format are that version's, and the transfer tests read the
/// checksum back through HeadObject.
async fn record_object_checksum(root: &Path, bucket: &str, key: &str, crc32c: Option<&str>) -> io::Result<()> {
    let encode = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let path = root.join(format!(".bucket-{}.object-{}.internal.json", encode(bucket), encode(key)));
    let mut info: serde_json::Map<String, serde_json::Value> = read_json(&path)?.unwrap_or_default();
    info.retain(|name, _| !name.starts_with("checksum_"));
    if let Some(crc) = crc32c {
        info.insert("checksum_crc32c".into(), crc.into());
    }
    write_json(&path, &info)
}

/// The checksums an UploadPart request declares: values from its headers, and
/// algorithms whose values come in the trailer.
#[derive(Debug, Default)]
struct DeclaredChecksums {
    values: Checksum,
    /// Algorithms announced for the trailer (`x-amz-sdk-checksum-algorithm`).
    trailing: Vec<&'static str>,
}

const ALGORITHMS: [&str; 5] = ["crc32", "crc32c", "sha1", "sha256", "crc64nvme"];

fn checksum_of_part(input: &UploadPartInput) -> Checksum {
    Checksum {
        checksum_crc32: input.checksum_crc32.clone(),
        checksum_crc32c: input.checksum_crc32c.clone(),
        checksum_sha1: input.checksum_sha1.clone(),
        checksum_sha256: input.checksum_sha256.clone(),
        checksum_crc64nvme: input.checksum_crc64nvme.clone(),
        checksum_type: None,
    }
}

fn declared_checksums(algorithm: &Option<ChecksumAlgorithm>, values: Checksum) -> DeclaredChecksums {
    let trailing = algorithm
        .as_ref()
        .and_then(|a| ALGORITHMS.into_iter().find(|name| name.eq_ignore_ascii_case(a.as_str())))
        .into_iter()
        .collect();
    DeclaredChecksums { values, trailing }
}

fn value<'a>(checksum: &'a Checksum, algorithm: &str) -> &'a Option<String> {
    match algorithm {
        "crc32" => &checksum.checksum_crc32,
        "crc32c" => &checksum.checksum_crc32c,
        "sha1" => &checksum.checksum_sha1,
        "sha256" => &checksum.checksum_sha256,
        _ => &checksum.checksum_crc64nvme,
    }
}

impl DeclaredChecksums {
    fn wanted(&self, algorithm: &str) -> bool {
        value(&self.values, algorithm).is_some() || self.trailing.contains(&algorithm)
    }

    fn hasher(&self) -> ChecksumHasher {
        let mut hasher = ChecksumHasher::default();
        if self.wanted("crc32") {
            hasher.crc32 = Some(Default::default());
        }
        if self.wanted("crc32c") {
            hasher.crc32c = Some(Default::default());
        }
        if self.wanted("sha1") {
            hasher.sha1 = Some(Default::default());
        }
        if self.wanted("sha256") {
            hasher.sha256 = Some(Default::default());
        }
        if self.wanted("crc64nvme") {
            hasher.crc64nvme = Some(Default::default());
        }
        hasher
    }

    /// Compares what arrived with what was declared, once the body (and its
    /// trailer) has been read. A declared algorithm with no value anywhere is
    /// not checked.
    fn check(&self, computed: &Checksum, trailers: Option<&s3s::TrailingHeaders>) -> Result<(), String> {
        for algorithm in ALGORITHMS {
            let Some(got) = value(computed, algorithm) else { continue };
            let trailed = || {
                let header = format!("x-amz-checksum-{algorithm}");
                trailers?.read(|h| h.get(header.as_str()).and_then(|v| v.to_str().ok()).map(str::to_owned)).flatten()
            };
            let Some(want) = value(&self.values, algorithm).clone().or_else(trailed) else { continue };
            if want != *got {
                let name = algorithm.to_uppercase();
                return Err(format!("the part's {name} is {got}, not {want} as declared: it was damaged on the way"));
            }
        }
        Ok(())
    }
}

enum Verdict {
    Intact { crc32c: u32, size: u64 },
    Mismatch(String),
}

/// A part's body on its way to s3s-fs: hashed as it streams; at its end, a
/// mismatch turns into an error, so s3s-fs never stores the part.
struct VerifyingBody {
    inner: StreamingBlob,
    declared: DeclaredChecksums,
    hasher: Option<ChecksumHasher>,
    trailers: Option<s3s::TrailingHeaders>,
    crc32c: u32,
    size: u64,
    verdict: Arc<Mutex<Option<Verdict>>>,
}

impl Stream for VerifyingBody {
    type Item = Result<Bytes, io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(bytes))) => {
                if let Some(hasher) = this.hasher.as_mut() {
                    hasher.update(&bytes);
                }
                this.crc32c = crc32c::crc32c_append(this.crc32c, &bytes);
                this.size += bytes.len() as u64;
                Poll::Ready(Some(Ok(bytes)))
            }
            Poll::Ready(Some(Err(err))) => Poll::Ready(Some(Err(io::Error::other(err)))),
            Poll::Ready(None) => {
                let Some(hasher) = this.hasher.take() else { return Poll::Ready(None) };
                let verdict = match this.declared.check(&hasher.finalize(), this.trailers.as_ref()) {
                    Ok(()) => Verdict::Intact { crc32c: this.crc32c, size: this.size },
                    Err(detail) => Verdict::Mismatch(detail),
                };
                let mismatch = matches!(verdict, Verdict::Mismatch(_));
                *this.verdict.lock().unwrap_or_else(|p| p.into_inner()) = Some(verdict);
                if mismatch {
                    Poll::Ready(Some(Err(io::Error::new(io::ErrorKind::InvalidData, "checksum mismatch"))))
                } else {
                    Poll::Ready(None)
                }
            }
        }
    }
}
