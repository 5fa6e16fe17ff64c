//! `streamdrop upload FILE s3://BUCKET/KEY`: one file to any S3 endpoint, with
//! credentials from the standard AWS chain.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use serde::Serialize;
use streamdrop_core::storage::chain_client;
use streamdrop_core::transfer::{upload_file, DEFAULT_PART_SIZE};
use streamdrop_core::{intake, ObjectRef};

use crate::output::json_line;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The file to upload; it is only read
    file: PathBuf,
    /// Destination, s3://BUCKET/KEY
    destination: ObjectRef,
    /// An S3-compatible endpoint (MinIO, R2, B2, Wasabi, `streamdrop serve`)
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    #[arg(long)]
    region: Option<String>,
    /// Use path-style addressing (automatic for IP and localhost endpoints)
    #[arg(long)]
    path_style: bool,
    /// Part size in bytes; grown automatically so any file fits in 10,000 parts
    #[arg(long, default_value_t = DEFAULT_PART_SIZE)]
    part_size: u64,
    /// Print one JSON line with the result
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Uploaded<'a> {
    bucket: &'a str,
    key: &'a str,
    size: u64,
    etag: Option<String>,
    parts: u32,
    bytes_sent: u64,
    seconds: f64,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let source = intake::inspect(&args.file).map_err(|r| anyhow::anyhow!("{}: {}", r.path, r.reason))?;
    let client = chain_client(args.endpoint_url.as_deref(), args.region.as_deref(), args.path_style).await;
    let started = Instant::now();
    let receipt = upload_file(&client, &source, &args.destination, args.part_size, &|_| {}).await?;
    let result = Uploaded {
        bucket: &args.destination.bucket,
        key: &args.destination.key,
        size: source.size,
        etag: receipt.etag,
        parts: receipt.parts,
        bytes_sent: receipt.bytes_sent,
        seconds: started.elapsed().as_secs_f64(),
    };
    if args.json {
        json_line(&result);
    } else {
        println!("uploaded {} to {} ({} bytes)", args.file.display(), args.destination, result.size);
    }
    Ok(ExitCode::SUCCESS)
}
