//! What the transcoder stand-in does for a job, as the real service would:
//! reads the input from S3, runs ffmpeg, and writes every output under the
//! names the service uses, from the CreateJob request it was sent.
//!
//! - MediaConvert: the HLS group's `destination` `s3://B/P/master` gets
//!   `master.m3u8` and, per output, `master<nameModifier>.m3u8` with its
//!   segments `master<nameModifier>_00001.ts` …; each frame-capture group's
//!   `destination` `s3://B/P/thumb` gets `thumb.0000000.jpg` … (its
//!   `framerateNumerator/Denominator`, at most `maxCaptures`).
//! - Elastic Transcoder: under the pipeline's output bucket and the job's
//!   `OutputKeyPrefix`, each output's `Key` gets `.m3u8` and segments
//!   `<Key>00000.ts` …, its `ThumbnailPattern` `{count}` thumbnails from
//!   `00001`, every 60 s; each playlist `<Name>.m3u8` lists its outputs.

use std::path::{Path, PathBuf};

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use serde_json::Value;

/// The S3 the stand-in reads inputs from and writes outputs to, and who it
/// is there.
#[derive(Debug, Clone)]
pub struct StandInStorage {
    pub endpoint: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// As the real service does: these keys are the service's own identity,
    /// used only to assume the role the job (or pipeline) names through the
    /// endpoint's STS; the work is done with that role's credentials, so its
    /// policy decides what may be read and written. Off, the keys do the work.
    pub assumes_the_jobs_role: bool,
}

impl StandInStorage {
    /// An S3 client acting as the service would for a job run as `role`.
    async fn client_for(&self, role: &str) -> Result<Client, String> {
        let credentials = if self.assumes_the_jobs_role {
            let sts = aws_sdk_sts::Client::from_conf(
                aws_sdk_sts::Config::builder()
                    .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
                    .region(aws_sdk_sts::config::Region::new("us-east-1"))
                    .endpoint_url(&self.endpoint)
                    .credentials_provider(self.own_credentials())
                    .build(),
            );
            let assumed =
                sts.assume_role().role_arn(role).role_session_name("standin-job").send().await.map_err(|e| {
                    format!("cannot assume role {role}: {}", aws_sdk_sts::error::DisplayErrorContext(&e))
                })?;
            let c = assumed.credentials.ok_or_else(|| format!("AssumeRole of {role} gave no credentials"))?;
            Credentials::new(c.access_key_id, c.secret_access_key, Some(c.session_token), None, "standin-role")
        } else {
            self.own_credentials()
        };
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .force_path_style(true)
            .credentials_provider(credentials)
            .build();
        Ok(Client::from_conf(config))
    }

    fn own_credentials(&self) -> Credentials {
        Credentials::new(&self.access_key_id, &self.secret_access_key, None, None, "standin")
    }
}

/// Why a job's work failed: the service's error code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkFailure {
    pub code: String,
    pub message: String,
}

fn failure(code: &str, message: impl Into<String>) -> WorkFailure {
    WorkFailure { code: code.to_owned(), message: message.into() }
}

/// `s3://bucket/key` → (bucket, key).
fn split_s3(url: &str) -> Option<(String, String)> {
    let (bucket, key) = url.strip_prefix("s3://")?.split_once('/')?;
    Some((bucket.to_owned(), key.to_owned()))
}

/// Runs a MediaConvert job's `settings`.
pub async fn mediaconvert(storage: &StandInStorage, role: &str, settings: &Value) -> Result<(), WorkFailure> {
    // MediaConvert's own words when it cannot act as the job's role.
    let client =
        storage.client_for(role).await.map_err(|why| failure("1401", format!("Unable to assume role: {why}")))?;
    let work = tempfile::tempdir().map_err(|e| failure("1999", format!("stand-in work dir: {e}")))?;
    let input = settings.pointer("/inputs/0/fileInput").and_then(Value::as_str).unwrap_or_default();
    let (bucket, key) = split_s3(input).ok_or_else(|| failure("1010", format!("Invalid input URL {input}")))?;
    let source = work.path().join("source");
    download(&client, &bucket, &key, &source)
        .await
        .map_err(|why| failure("1010", format!("Failed to open input file [{input}]: {why}")))?;

    for group in settings.get("outputGroups").and_then(Value::as_array).into_iter().flatten() {
        let kind = group.pointer("/outputGroupSettings/type").and_then(Value::as_str).unwrap_or_default();
        let destination = match kind {
            "HLS_GROUP_SETTINGS" => group.pointer("/outputGroupSettings/hlsGroupSettings/destination"),
            "FILE_GROUP_SETTINGS" => group.pointer("/outputGroupSettings/fileGroupSettings/destination"),
            _ => None,
        }
        .and_then(Value::as_str)
        .unwrap_or_default();
        let (out_bucket, base_key) =
            split_s3(destination).ok_or_else(|| failure("1030", format!("Invalid destination {destination}")))?;
        let (folder, base) = base_key.rsplit_once('/').unwrap_or(("", &base_key));
        let out = work.path().join(format!("out-{}", folder.replace('/', "_")));
        std::fs::create_dir_all(&out).map_err(|e| failure("1999", e.to_string()))?;
        let outputs = group.get("outputs").and_then(Value::as_array).cloned().unwrap_or_default();
        match kind {
            "HLS_GROUP_SETTINGS" => {
                let segment = group
                    .pointer("/outputGroupSettings/hlsGroupSettings/segmentLength")
                    .and_then(Value::as_u64)
                    .unwrap_or(6);
                let mut master = String::from("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n");
                for output in &outputs {
                    let modifier = output.get("nameModifier").and_then(Value::as_str).unwrap_or_default();
                    let name = format!("{base}{modifier}");
                    let size = video_size(output);
                    let mut args = vec!["-i".to_owned(), source.display().to_string()];
                    match size {
                        Some((w, h)) => args.extend([
                            "-vf".into(),
                            format!("scale={w}:{h}"),
                            "-c:v".into(),
                            "libx264".into(),
                            "-preset".into(),
                            "ultrafast".into(),
                            "-pix_fmt".into(),
                            "yuv420p".into(),
                        ]),
                        None => args.push("-vn".into()),
                    }
                    if output.get("audioDescriptions").is_some() {
                        args.extend(["-c:a".into(), "aac".into()]);
                    } else {
                        args.push("-an".into());
                    }
                    args.extend(["-f".into(), "hls".into(), "-hls_time".into(), segment.to_string()]);
                    args.extend(["-hls_playlist_type".into(), "vod".into(), "-start_number".into(), "1".into()]);
                    args.extend(["-hls_segment_filename".into(), format!("{name}_%05d.ts"), format!("{name}.m3u8")]);
                    ffmpeg(&out, &args).await?;
                    let bandwidth = output
                        .pointer("/videoDescription/codecSettings/h264Settings/maxBitrate")
                        .and_then(Value::as_u64)
                        .unwrap_or(128_000);
                    let resolution = size.map(|(w, h)| format!(",RESOLUTION={w}x{h}")).unwrap_or_default();
                    master.push_str(&format!("#EXT-X-STREAM-INF:BANDWIDTH={bandwidth}{resolution}\n{name}.m3u8\n"));
                }
                std::fs::write(out.join(format!("{base}.m3u8")), master).map_err(|e| failure("1999", e.to_string()))?;
            }
            _ => {
                for output in &outputs {
                    let capture = output.pointer("/videoDescription/codecSettings/frameCaptureSettings");
                    let numerator =
                        capture.and_then(|c| c.get("framerateNumerator")).and_then(Value::as_u64).unwrap_or(1);
                    let denominator =
                        capture.and_then(|c| c.get("framerateDenominator")).and_then(Value::as_u64).unwrap_or(1);
                    let max = capture.and_then(|c| c.get("maxCaptures")).and_then(Value::as_u64).unwrap_or(1);
                    let (w, h) = video_size(output).unwrap_or((320, 180));
                    let args = [
                        "-i".to_owned(),
                        source.display().to_string(),
                        "-vf".into(),
                        // As MediaConvert does: the first frame, then one every interval (fps= would skip short clips).
                        format!(
                            "select='isnan(prev_selected_t)+gte(t-prev_selected_t,{})',scale={w}:{h}",
                            denominator as f64 / numerator.max(1) as f64
                        ),
                        "-fps_mode".into(),
                        "passthrough".into(),
                        "-frames:v".into(),
                        max.min(100_000).to_string(),
                        "-start_number".into(),
                        "0".into(),
                        format!("{base}.%07d.jpg"),
                    ];
                    ffmpeg(&out, &args).await?;
                }
            }
        }
        upload_dir(&client, &out, &out_bucket, folder).await?;
    }
    Ok(())
}

/// Runs an Elastic Transcoder job (`job` as CreateJob sent it) on `pipeline`.
pub async fn elastic_transcoder(storage: &StandInStorage, pipeline: &Value, job: &Value) -> Result<(), WorkFailure> {
    let role = pipeline.get("Role").and_then(Value::as_str).unwrap_or_default();
    let client = storage
        .client_for(role)
        .await
        .map_err(|why| failure("4000", format!("The role could not be assumed: {why}")))?;
    let work = tempfile::tempdir().map_err(|e| failure("4000", format!("stand-in work dir: {e}")))?;
    let input_bucket = pipeline.get("InputBucket").and_then(Value::as_str).unwrap_or_default();
    let output_bucket = pipeline.get("OutputBucket").and_then(Value::as_str).unwrap_or_default();
    let key = job.pointer("/Input/Key").and_then(Value::as_str).unwrap_or_default();
    let source = work.path().join("source");
    download(&client, input_bucket, key, &source)
        .await
        .map_err(|why| failure("4000", format!("s3://{input_bucket}/{key} could not be read: {why}")))?;
    let prefix = job.get("OutputKeyPrefix").and_then(Value::as_str).unwrap_or_default();
    let out = work.path().join("out");
    for output in job.get("Outputs").and_then(Value::as_array).into_iter().flatten() {
        let key = output.get("Key").and_then(Value::as_str).unwrap_or_default();
        let (folder, name) = key.rsplit_once('/').unwrap_or(("", key));
        let dir = out.join(folder);
        std::fs::create_dir_all(&dir).map_err(|e| failure("4000", e.to_string()))?;
        let segment = output.get("SegmentDuration").and_then(Value::as_str).unwrap_or("10");
        let args = [
            "-i".to_owned(),
            source.display().to_string(),
            "-vf".into(),
            "scale=640:-2".into(),
            "-c:v".into(),
            "libx264".into(),
            "-preset".into(),
            "ultrafast".into(),
            "-pix_fmt".into(),
            "yuv420p".into(),
            "-c:a".into(),
            "aac".into(),
            "-f".into(),
            "hls".into(),
            "-hls_time".into(),
            segment.into(),
            "-hls_playlist_type".into(),
            "vod".into(),
            "-hls_segment_filename".into(),
            format!("{name}%05d.ts"),
            format!("{name}.m3u8"),
        ];
        ffmpeg(&dir, &args).await?;
        if let Some(pattern) = output.get("ThumbnailPattern").and_then(Value::as_str).filter(|p| !p.is_empty()) {
            let file = pattern.replace("{count}", "%05d");
            if let Some(parent) = Path::new(&file).parent() {
                std::fs::create_dir_all(out.join(parent)).map_err(|e| failure("4000", e.to_string()))?;
            }
            let args = [
                "-i".to_owned(),
                source.display().to_string(),
                "-vf".into(),
                "select='isnan(prev_selected_t)+gte(t-prev_selected_t,60)',scale=192:-2".into(),
                "-fps_mode".into(),
                "passthrough".into(),
                "-start_number".into(),
                "1".into(),
                format!("{file}.jpg"),
            ];
            ffmpeg(&out, &args).await?;
        }
    }
    for playlist in job.get("Playlists").and_then(Value::as_array).into_iter().flatten() {
        let name = playlist.get("Name").and_then(Value::as_str).unwrap_or("master");
        let mut text = String::from("#EXTM3U\n#EXT-X-VERSION:3\n");
        for key in playlist.get("OutputKeys").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
        {
            text.push_str(&format!("#EXT-X-STREAM-INF:BANDWIDTH=400000\n{key}.m3u8\n"));
        }
        std::fs::write(out.join(format!("{name}.m3u8")), text).map_err(|e| failure("4000", e.to_string()))?;
    }
    upload_dir(&client, &out, output_bucket, prefix.trim_end_matches('/')).await
}

fn video_size(output: &Value) -> Option<(u64, u64)> {
    let description = output.get("videoDescription")?;
    Some((description.get("width")?.as_u64()?, description.get("height")?.as_u64()?))
}

async fn download(client: &Client, bucket: &str, key: &str, to: &Path) -> Result<(), String> {
    let object = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| aws_sdk_s3::error::DisplayErrorContext(&e).to_string())?;
    let bytes = object.body.collect().await.map_err(|e| e.to_string())?.into_bytes();
    std::fs::write(to, bytes).map_err(|e| e.to_string())
}

async fn ffmpeg(dir: &Path, args: &[String]) -> Result<(), WorkFailure> {
    let out = tokio::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(args)
        .current_dir(dir)
        .output()
        .await
        .map_err(|e| failure("1999", format!("ffmpeg: {e}")))?;
    if !out.status.success() {
        return Err(failure("1040", format!("Video decoding failed: {}", String::from_utf8_lossy(&out.stderr).trim())));
    }
    Ok(())
}

/// Stores every file below `dir` under `bucket`/`prefix`, by its path below `dir`.
async fn upload_dir(client: &Client, dir: &Path, bucket: &str, prefix: &str) -> Result<(), WorkFailure> {
    let mut pending: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current).map_err(|e| failure("1999", e.to_string()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = path.strip_prefix(dir).expect("below dir").to_string_lossy().replace('\\', "/");
            let key = if prefix.is_empty() { relative } else { format!("{prefix}/{relative}") };
            let body = ByteStream::from_path(&path).await.map_err(|e| failure("1999", e.to_string()))?;
            client.put_object().bucket(bucket).key(&key).body(body).send().await.map_err(|e| {
                failure(
                    "1401",
                    format!(
                        "Unable to write to output file [s3://{bucket}/{key}]: {}",
                        aws_sdk_s3::error::DisplayErrorContext(&e)
                    ),
                )
            })?;
        }
    }
    Ok(())
}
