//! `streamdrop submit` and `streamdrop jobs`: the app's job pipeline, headless,
//! on the same data dir and store.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use serde::Serialize;
use streamdrop_core::api::{OutputsView, Session, SessionOptions};
use streamdrop_core::credentials::MemorySecretStore;
use streamdrop_core::{DataDir, JobView, Rejection, StateName};

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
    /// Where the job's file and results are, by name.
    outputs: OutputsView,
}

/// Adds the files to the active connection (`streamdrop connection use`);
/// with `--wait`, runs them through the whole pipeline here.
pub async fn submit(data_dir: Option<PathBuf>, args: SubmitArgs, verbose: bool) -> anyhow::Result<ExitCode> {
    let data_dir = DataDir::resolve(data_dir)?;
    let (accepted, rejected) = if args.wait {
        // This process hosts the engine until the jobs settle. Its edge makes
        // no links, so the local signing key need not come from the keychain.
        let claim = data_dir.claim_for_engine()?;
        let mut options = SessionOptions::with_os_keychain();
        options.local.secrets = Arc::new(MemorySecretStore::new());
        let session = Session::open_hosting(data_dir, options, claim)?;
        let result = run_to_the_end(&session, args.files).await;
        session.stop().await;
        result?
    } else {
        let session = Session::open(data_dir, SessionOptions::with_os_keychain())?;
        let report = session.add(args.files).await?;
        let accepted = report
            .accepted
            .into_iter()
            .map(|job| Ok(SubmittedJob { outputs: session.outputs(job.id)?, job }))
            .collect::<anyhow::Result<Vec<_>>>()?;
        (accepted, report.rejected)
    };
    for rejection in &rejected {
        output::problem_view(&rejection.problem, verbose);
    }
    let failed = accepted.iter().any(|s| s.job.state == StateName::Failed);
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

/// Starts the engine, adds `files` and waits for each job to settle.
async fn run_to_the_end(session: &Session, files: Vec<PathBuf>) -> anyhow::Result<(Vec<SubmittedJob>, Vec<Rejection>)> {
    session.start().await?;
    let report = session.add(files).await?;
    let mut accepted = Vec::new();
    for job in &report.accepted {
        let job = session.settled(job.id).await?;
        accepted.push(SubmittedJob { outputs: session.outputs(job.id)?, job });
    }
    Ok((accepted, report.rejected))
}

pub async fn list(data_dir: Option<PathBuf>, args: ListArgs) -> anyhow::Result<ExitCode> {
    let session = Session::open(DataDir::resolve(data_dir)?, SessionOptions::with_os_keychain())?;
    let jobs = session.jobs()?;
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
