//! `streamdrop copy s3://SRC/KEY s3://DST/KEY`: a server-side copy.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use serde::Serialize;
use streamdrop_core::store::Store;
use streamdrop_core::transfer::{Transfer, TransferOptions, COPY_OBJECT_LIMIT, DEFAULT_PART_SIZE};
use streamdrop_core::{DataDir, ObjectRef};

use crate::output::json_line;
use crate::s3_args::S3Args;
use crate::units::parse_size;

#[derive(Debug, clap::Args)]
pub struct Args {
    source: ObjectRef,
    destination: ObjectRef,
    #[command(flatten)]
    s3: S3Args,
    /// Objects above this size are copied in parts with UploadPartCopy (at most 5GiB)
    #[arg(long, value_parser = parse_size, default_value_t = COPY_OBJECT_LIMIT)]
    multipart_threshold: u64,
    /// Preferred part size for copies in parts
    #[arg(long, value_parser = parse_size, default_value_t = DEFAULT_PART_SIZE)]
    part_size: u64,
    /// Parts copied at once
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Print one JSON line with the result
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Copied<'a> {
    source: String,
    bucket: &'a str,
    key: &'a str,
    size: u64,
    etag: Option<String>,
    parts: u32,
    seconds: f64,
}

pub async fn run(data_dir: Option<PathBuf>, args: Args) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.multipart_threshold <= COPY_OBJECT_LIMIT,
        "--multipart-threshold cannot exceed 5GiB: S3's CopyObject stops there"
    );
    let store = Store::open(&DataDir::resolve(data_dir)?.store_file())?;
    let client = args.s3.client().await;
    let target = args.s3.target();
    let options = TransferOptions {
        part_size: args.part_size,
        concurrency: args.concurrency.max(1),
        copy_multipart_threshold: args.multipart_threshold,
        ..TransferOptions::default()
    };
    let started = Instant::now();
    let receipt = Transfer::new(&client, &target, &args.destination, &options, &store)
        .copy_from(&args.source)
        .await
        .map_err(|e| e.problem(&args.source.to_string()))?;
    let result = Copied {
        source: args.source.to_string(),
        bucket: &args.destination.bucket,
        key: &args.destination.key,
        size: receipt.size,
        etag: receipt.etag,
        parts: receipt.parts,
        seconds: started.elapsed().as_secs_f64(),
    };
    if args.json {
        json_line(&result);
    } else {
        println!("copied {} to {} ({} bytes)", args.source, args.destination, result.size);
    }
    Ok(ExitCode::SUCCESS)
}
