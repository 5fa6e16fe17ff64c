//! `streamdrop submit` and `streamdrop jobs`: the app's job pipeline, headless,
//! on the same data dir and store.

use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;
use serde_json::json;
use streamdrop_core::credentials::{AwsResources, Connection, Settings};
use streamdrop_core::engine::{record_jobs, EngineOptions};
use streamdrop_core::model::LiveProgress;
use streamdrop_core::stack::AwsStackOptions;
use streamdrop_core::stack::{local_buckets, LocalStackOptions};
use streamdrop_core::store::Store;
use streamdrop_core::{DataDir, Engine, JobView, Rejection, Stack};

use crate::output::{self, json_line};

#[derive(Debug, clap::Args)]
pub struct SubmitArgs {
    /// The files to add, as one batch in this order; they are only read
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Wait until the jobs have finished, and exit non-zero if one failed. Without it
    /// the jobs stay queued until an engine on their connection runs on this data
    /// dir: the app, a later `submit --wait`, or (Local) `streamdrop serve`
    #[arg(long)]
    wait: bool,
    /// Print one JSON line: {"accepted": [jobs], "rejected": [files refused, with why]}
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Print the jobs as one JSON array
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Submitted {
    accepted: Vec<SubmittedJob>,
    rejected: Vec<Rejection>,
}

#[derive(Serialize)]
struct SubmittedJob {
    #[serde(flatten)]
    job: JobView,
    /// Where the job's results are, by name (once ready).
    outputs: serde_json::Value,
}

/// Adds the files to the active connection (`streamdrop connection use`);
/// with `--wait`, runs them through the whole pipeline here.
pub async fn submit(data_dir: Option<PathBuf>, args: SubmitArgs, verbose: bool) -> anyhow::Result<ExitCode> {
    let data_dir = DataDir::resolve(data_dir)?;
    let mut accepted = Vec::new();
    let rejected = if args.wait {
        // This process hosts the engine until the jobs settle.
        let stack =
            Stack::open_active(&data_dir, LocalStackOptions::default(), AwsStackOptions::with_os_keychain()).await?;
        let result = run_to_the_end(&stack, &data_dir, args.files, &mut accepted).await;
        stack.shutdown().await;
        result?
    } else {
        let settings = Settings::load(&data_dir)?;
        let buckets = match settings.active() {
            Connection::Local => local_buckets(),
            Connection::Aws(aws) => aws.resources.as_ref().map(AwsResources::buckets).ok_or_else(|| {
                anyhow::anyhow!("connection {:?} has no buckets yet: run `streamdrop setup --apply`", aws.name.as_str())
            })?,
        };
        let store = Store::open(&data_dir.store_file())?;
        let (jobs, rejected) = record_jobs(&store, settings.active_name(), &buckets, args.files).await;
        accepted.extend(
            jobs.iter().map(|job| SubmittedJob { job: JobView::of(job, &LiveProgress::default()), outputs: json!({}) }),
        );
        rejected
    };
    for rejection in &rejected {
        output::problem_view(&rejection.problem, verbose);
    }
    let failed = accepted.iter().any(|s| s.job.state == "failed");
    if args.json {
        json_line(&Submitted { accepted, rejected: rejected.clone() });
    } else {
        for SubmittedJob { job, .. } in &accepted {
            println!("{}\t{}\t{}", job.id, job.state, job.file_name);
            if let Some(error) = &job.error {
                eprintln!("streamdrop: job {} ({}) failed:", job.id, job.file_name);
                output::problem_view(error, verbose);
            }
        }
    }
    Ok(if failed || !rejected.is_empty() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// Adds `files` to `stack`'s engine and waits for each job to settle.
async fn run_to_the_end(
    stack: &Stack,
    data_dir: &DataDir,
    files: Vec<PathBuf>,
    accepted: &mut Vec<SubmittedJob>,
) -> anyhow::Result<Vec<Rejection>> {
    let engine = stack.start_engine(data_dir, EngineOptions::default())?;
    let report = engine.add_paths(files).await;
    for job in &report.accepted {
        let job = engine.settled(job.id).await?;
        let outputs = if job.state == "ready" { outputs_of(&engine, &job).await? } else { json!({}) };
        accepted.push(SubmittedJob { job, outputs });
    }
    Ok(report.rejected)
}

/// A ready job's results: what exists, by name.
async fn outputs_of(engine: &Engine, job: &JobView) -> anyhow::Result<serde_json::Value> {
    let out = engine.outputs(job.id)?;
    let manifest = engine.manifest(job.id)?;
    let bucket = &out.layout.bucket;
    let s3 = |key: &str| format!("s3://{bucket}/{key}");
    Ok(json!({
        "upload": out.upload.to_string(),
        "original": out.original.to_string(),
        "playlist": manifest.as_ref().map(|m| s3(&m.master)),
        "variants": manifest.as_ref().map(|m| m.variants.iter().map(|v| s3(&v.playlist)).collect::<Vec<_>>()),
        "thumbnails": manifest.as_ref().map(|m| m.thumbnails.iter().map(|t| s3(&t.key)).collect::<Vec<_>>()),
        "poster": manifest.as_ref().and_then(|m| m.poster.as_deref()).map(s3),
    }))
}

pub async fn list(data_dir: Option<PathBuf>, args: ListArgs) -> anyhow::Result<ExitCode> {
    let data_dir = DataDir::resolve(data_dir)?;
    let store = Store::open(&data_dir.store_file())?;
    let jobs = store.list()?.iter().map(|job| JobView::of(job, &LiveProgress::default())).collect::<Vec<_>>();
    if args.json {
        json_line(&jobs);
    } else if jobs.is_empty() {
        println!("no jobs yet: add one with `streamdrop submit FILE`");
    } else {
        for job in &jobs {
            println!("{}\t{:<9}\t{:>12}\t{}\t{}", job.id, job.state, job.size, job.connection, job.file_name);
        }
    }
    Ok(ExitCode::SUCCESS)
}
