//! `streamdrop upload FILE s3://BUCKET/KEY`: one file to any S3 endpoint.
//! Interrupted (Ctrl-C, SIGTERM, kill -9), the same command resumes it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde::Serialize;
use streamdrop_core::store::Store;
use streamdrop_core::transfer::{BandwidthLimiter, RetryPolicy, Transfer, TransferOptions, DEFAULT_PART_SIZE};
use streamdrop_core::{intake, DataDir, ObjectRef};

use crate::output::json_line;
use crate::s3_args::S3Args;
use crate::units::{parse_rate, parse_size};
use crate::{progress_bar, signals};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The file to upload; it is only read
    file: PathBuf,
    /// Destination, s3://BUCKET/KEY
    destination: ObjectRef,
    #[command(flatten)]
    s3: S3Args,
    /// Parts in flight at once
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Preferred part size (e.g. 8MiB); grown automatically so any file fits in 10,000 parts
    #[arg(long, value_parser = parse_size, default_value_t = DEFAULT_PART_SIZE)]
    part_size: u64,
    /// Upper bound on upload speed, e.g. 10MB/s or 512KiB
    #[arg(long, value_parser = parse_rate, value_name = "RATE")]
    bandwidth_limit: Option<u64>,
    /// Abandon and retry a request that moves no bytes for this many seconds
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    stall_timeout: u64,
    /// Discard a partial upload of this file to this key and start over
    #[arg(long)]
    restart: bool,
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
    resumed_parts: u32,
    bytes_sent: u64,
    seconds: f64,
}

pub async fn run(data_dir: Option<PathBuf>, args: Args) -> anyhow::Result<ExitCode> {
    // The path as typed is what the person knows the file by.
    let shown = args.file.display().to_string();
    let source = intake::inspect(&args.file).map_err(|problem| problem.with("file", &shown))?;
    // The journal that makes a re-run resume lives in the data dir's store.
    let store = Store::open(&DataDir::resolve(data_dir)?.store_file())?;
    let client = args.s3.client().await;
    let target = args.s3.target();
    let options = TransferOptions {
        part_size: args.part_size,
        concurrency: args.concurrency.max(1),
        multipart_threshold: args.part_size,
        bandwidth: args.bandwidth_limit.map(|rate| std::sync::Arc::new(BandwidthLimiter::new(rate))),
        restart: args.restart,
        retry: RetryPolicy { stall_timeout: Duration::from_secs(args.stall_timeout.max(1)), ..RetryPolicy::default() },
        ..TransferOptions::default()
    };
    let bar = progress_bar::for_transfer(source.size, &source.display_name());
    let report = |p| progress_bar::update(&bar, p);
    let started = Instant::now();
    let transfer = Transfer::new(&client, &target, &args.destination, &options, &store).on_progress(&report);

    let receipt = tokio::select! {
        receipt = transfer.upload(&source) => receipt.map_err(|e| e.problem(&shown))?,
        signal = signals::stop_requested() => {
            if let Some(bar) = &bar { bar.abandon(); }
            eprintln!("streamdrop: {signal}: upload interrupted; run the same command again to resume it");
            return Ok(ExitCode::from(130));
        }
    };
    if let Some(bar) = &bar {
        bar.finish();
    }
    let result = Uploaded {
        bucket: &args.destination.bucket,
        key: &args.destination.key,
        size: source.size,
        etag: receipt.etag,
        parts: receipt.parts,
        resumed_parts: receipt.resumed_parts,
        bytes_sent: receipt.bytes_sent,
        seconds: started.elapsed().as_secs_f64(),
    };
    if args.json {
        json_line(&result);
    } else {
        println!("uploaded {} to {} ({} bytes, verified)", args.file.display(), args.destination, result.size);
    }
    Ok(ExitCode::SUCCESS)
}
