//! `streamdrop pause|resume|cancel|retry|add-again JOB_ID`: what the window's
//! buttons do, done by the engine that runs the job (the app or `serve`).

use std::path::PathBuf;
use std::process::ExitCode;

use streamdrop_core::api::{Session, SessionOptions};
use streamdrop_core::control::{Reply, Request};
use streamdrop_core::model::JobAction;
use streamdrop_core::{DataDir, JobId};

use crate::output::json_line;
use crate::running;

#[derive(Debug, clap::Args)]
pub struct Args {
    job_id: JobId,
    /// Print the job as it is afterwards, as one JSON object
    #[arg(long)]
    json: bool,
}

pub async fn run(data_dir: Option<PathBuf>, action: JobAction, args: Args) -> anyhow::Result<ExitCode> {
    let data_dir = DataDir::resolve(data_dir)?;
    let request = Request::Act { id: args.job_id, action };
    let job = match running::ask(&data_dir, request, running::ANSWER_TIMEOUT).await? {
        Some(Reply::Job { job }) => *job,
        Some(other) => return Err(running::unexpected(other)),
        // Says that nothing runs jobs here, and what to start.
        None => Session::open(data_dir, SessionOptions::with_os_keychain())?.act(args.job_id, action).await?,
    };
    if args.json {
        json_line(&job);
    } else {
        println!("{}\t{}\t{}", job.id, job.state, job.relative_path);
    }
    Ok(ExitCode::SUCCESS)
}
