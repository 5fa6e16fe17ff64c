//! `streamdrop submit` and `streamdrop jobs`: the app's job pipeline, headless,
//! on the same data dir and store.

use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;
use streamdrop_core::credentials::{AwsResources, Connection, Settings};
use streamdrop_core::engine::{record_job, EngineOptions};
use streamdrop_core::jobs::LiveProgress;
use streamdrop_core::links::find_poster;
use streamdrop_core::local::{local_buckets, LocalStackOptions};
use streamdrop_core::stack::AwsStackOptions;
use streamdrop_core::store::Store;
use streamdrop_core::{DataDir, Engine, JobView, Stack};

use crate::output::json_line;

#[derive(Debug, clap::Args)]
pub struct SubmitArgs {
    /// The file to add; it is only read
    file: PathBuf,
    /// Wait until the job has finished, and exit non-zero if it failed. Without it
    /// the job stays queued until an engine on its connection runs on this data
    /// dir: the app, a later `submit --wait`, or (Local) `streamdrop serve`
    #[arg(long)]
    wait: bool,
    /// Print one JSON line with the job
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
struct Submitted<'a> {
    #[serde(flatten)]
    job: &'a JobView,
    /// Where the job's results are, by name.
    outputs: serde_json::Value,
}

/// Runs the whole pipeline on the active connection (`streamdrop connection use`).
pub async fn submit(data_dir: Option<PathBuf>, args: SubmitArgs) -> anyhow::Result<ExitCode> {
    let data_dir = DataDir::resolve(data_dir)?;
    let mut outputs = serde_json::json!({});
    let job = if args.wait {
        // This process hosts the engine until the job settles.
        let stack = Stack::open_active(&data_dir, LocalStackOptions::default(), AwsStackOptions::with_os_keychain()).await?;
        let engine = stack.start_engine(&data_dir, EngineOptions::default())?;
        let report = engine.add_paths([args.file]);
        let result = match report.rejected.first() {
            Some(rejection) => Err(anyhow::anyhow!("{}: {}", rejection.path, rejection.reason)),
            None => engine.settled(report.accepted[0].id).await.map_err(anyhow::Error::from),
        };
        if let Ok(job) = &result {
            if job.state == "ready" {
                outputs = outputs_of(&engine, job).await?;
            }
        }
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
        let job = record_job(&store, settings.active_name(), &buckets, args.file)
            .map_err(|rejection| anyhow::anyhow!("{}: {}", rejection.path, rejection.reason))?;
        JobView::of(&job, &LiveProgress::default())
    };
    if args.json {
        json_line(&Submitted { job: &job, outputs });
    } else {
        println!("{}\t{}\t{}", job.id, job.state, job.file_name);
        if let Some(error) = &job.error {
            eprintln!("streamdrop: job {} failed: {error}", job.id);
        }
    }
    Ok(if job.state == "failed" { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// A ready job's results: what exists, by name.
async fn outputs_of(engine: &Engine, job: &JobView) -> anyhow::Result<serde_json::Value> {
    let out = engine.outputs(job.id)?;
    let poster = find_poster(&engine.storage().client, &out.layout).await;
    Ok(serde_json::json!({
        "upload": job.destination,
        "original": out.original.to_string(),
        "playlist": out.layout.master_playlist().to_string(),
        "thumbnails": format!("s3://{}/{}", out.layout.bucket, out.layout.thumbnails_prefix()),
        "poster": poster.map(|p| p.to_string()),
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
