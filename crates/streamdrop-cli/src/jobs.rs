//! `streamdrop submit` and `streamdrop jobs`: the app's job pipeline, headless,
//! on the same data dir and store.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use streamdrop_core::api::{OutputsView, Session, SessionOptions};
use streamdrop_core::control::{self, Reply, Request};
use streamdrop_core::credentials::MemorySecretStore;
use streamdrop_core::{
    DataDir, Duplicate, IfExists, IntakeReport, JobId, JobQuery, JobView, JobsPage, Problem, ProblemCode, Rejection,
    StateName,
};

use crate::output::{self, json_line};
use crate::running;

#[derive(Debug, clap::Args)]
pub struct SubmitArgs {
    /// The files or folders (camera cards) to add, as one batch in this order; a
    /// folder adds the clips in it, sorted by their path in it. They are only read
    #[arg(required = true, value_name = "FILE|FOLDER")]
    files: Vec<PathBuf>,
    /// What to do with a file already on the connection (same size and content,
    /// queued, running, paused or ready): skip it, add it again, or add nothing and fail
    #[arg(long, value_name = "skip|again|fail", default_value = "skip")]
    if_exists: IfExists,
    /// Wait until the jobs have finished, and exit non-zero if one failed. While the
    /// app or `streamdrop serve` runs on this data dir, its engine runs them at once
    /// (with or without --wait); otherwise, without --wait, they stay queued until an
    /// engine on their connection runs here
    #[arg(long)]
    wait: bool,
    /// Print one JSON line: {"accepted": [jobs], "rejected": [items refused, with why],
    /// "rejectedCounts": [per reason], "duplicates": [files skipped, with the job that has them]}
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only jobs in this state (queued, uploading, paused, copying, transcoding, ready,
    /// failed, cancelled); give it again for more states
    #[arg(long, value_name = "STATE")]
    state: Vec<StateName>,
    /// Only jobs whose path (card and file name) contains this, ignoring case
    #[arg(long, value_name = "TEXT")]
    search: Option<String>,
    /// At most this many jobs
    #[arg(long, value_name = "N")]
    limit: Option<u32>,
    /// Pass over this many matching jobs first
    #[arg(long, value_name = "N", default_value_t = 0)]
    offset: u32,
    /// Print the jobs as one JSON array
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Submitted {
    accepted: Vec<SubmittedJob>,
    #[serde(flatten)]
    not_added: NotAdded,
}

/// What of a batch did not become a job, and why.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct NotAdded {
    rejected: Vec<Rejection>,
    rejected_counts: Vec<streamdrop_core::ReasonCount>,
    duplicates: Vec<Duplicate>,
    #[serde(skip)]
    summary: Option<String>,
}

impl NotAdded {
    fn of(report: IntakeReport) -> Self {
        let summary = report.rejection_summary();
        Self {
            rejected: report.rejected,
            rejected_counts: report.rejected_counts,
            duplicates: report.duplicates,
            summary,
        }
    }
}

/// Rejections printed one by one; past that, the summary says the rest.
const REJECTIONS_SHOWN: usize = 10;

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
    let (accepted, not_added) = match submit_to_the_running_engine(&data_dir, &args).await? {
        Some(submitted) => submitted,
        None if args.wait => {
            // This process hosts the engine until the jobs settle. Its edge makes
            // no links, so the local signing key need not come from the keychain.
            let claim = data_dir.claim_for_engine()?;
            let mut options = SessionOptions::with_os_keychain();
            options.local.secrets = Arc::new(MemorySecretStore::new());
            let session = Session::open_hosting(data_dir, options, claim)?;
            let result = run_to_the_end(&session, args.files, args.if_exists).await;
            session.stop().await;
            result?
        }
        None => {
            let session = Session::open(data_dir, SessionOptions::with_os_keychain())?;
            let report = session.submit(args.files, args.if_exists).await.map_err(with_if_exists_hint)?;
            with_outputs(&session, report)?
        }
    };
    for rejection in not_added.rejected.iter().take(REJECTIONS_SHOWN) {
        output::problem_view(&rejection.problem, verbose);
    }
    if not_added.rejected.len() > 1 {
        if let Some(summary) = &not_added.summary {
            let more = not_added.rejected.len().saturating_sub(REJECTIONS_SHOWN);
            let rest = if more > 0 {
                format!(" {more} more are not shown above: --json lists them all.")
            } else {
                String::new()
            };
            eprintln!("streamdrop: {summary}{rest}");
        }
    }
    if !not_added.duplicates.is_empty() {
        let n = not_added.duplicates.len();
        let files = if n == 1 { "1 file is".to_owned() } else { format!("{n} files are") };
        eprintln!(
            "streamdrop: {files} already on this connection, so they were skipped (--if-exists again adds them anyway)."
        );
    }
    let rejected = !not_added.rejected.is_empty();
    let failed = accepted.iter().any(|s| s.job.state == StateName::Failed);
    if args.json {
        json_line(&Submitted { accepted, not_added });
    } else {
        for SubmittedJob { job, .. } in &accepted {
            println!("{}\t{}\t{}", job.id, job.state, job.relative_path);
            if let Some(error) = &job.error {
                eprintln!("streamdrop: job {} ({}) failed:", job.id, job.file_name);
                output::problem_view(error, verbose);
            }
        }
    }
    Ok(if failed || rejected { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// `--if-exists fail` found files already here: says how to add the batch anyway.
fn with_if_exists_hint(problem: Problem) -> anyhow::Error {
    if problem.code == ProblemCode::AlreadyAdded {
        output::problem(&problem, false);
        return anyhow::anyhow!(
            "Use --if-exists skip to add only the new files, or --if-exists again to add them all."
        );
    }
    problem.into()
}

/// The jobs of `report`, each with its outputs, and what did not become one.
fn with_outputs(session: &Session, mut report: IntakeReport) -> anyhow::Result<(Vec<SubmittedJob>, NotAdded)> {
    let accepted = std::mem::take(&mut report.accepted)
        .into_iter()
        .map(|job| Ok(SubmittedJob { outputs: session.outputs(job.id)?, job }))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((accepted, NotAdded::of(report)))
}

/// Hands the files to the engine running on `data_dir` (the app or `serve`),
/// which starts them at once; with `--wait`, follows them there until they
/// settle. `None` when no engine runs.
async fn submit_to_the_running_engine(
    data_dir: &DataDir,
    args: &SubmitArgs,
) -> anyhow::Result<Option<(Vec<SubmittedJob>, NotAdded)>> {
    let request = Request::Submit { paths: running::absolute(args.files.clone())?, if_exists: args.if_exists };
    let mut report = match running::ask(data_dir, request, control::SUBMIT_TIMEOUT).await {
        Ok(Some(Reply::Intake { report })) => report,
        Ok(Some(other)) => return Err(running::unexpected(other)),
        Ok(None) => return Ok(None),
        Err(err) => {
            return Err(match err.downcast::<Problem>() {
                Ok(problem) => with_if_exists_hint(problem),
                Err(err) => err,
            })
        }
    };
    if args.wait {
        for job in &mut report.accepted {
            *job = follow_until_settled(data_dir, job.id).await?;
        }
    }
    let session = Session::open(data_dir.clone(), SessionOptions::with_os_keychain())?;
    with_outputs(&session, report).map(Some)
}

/// Asks the running engine about job `id` until it is ready, failed, cancelled or paused.
async fn follow_until_settled(data_dir: &DataDir, id: JobId) -> anyhow::Result<JobView> {
    loop {
        match running::ask(data_dir, Request::Job { id }, running::ANSWER_TIMEOUT).await? {
            Some(Reply::Job { job }) if job.state.is_at_rest() => return Ok(*job),
            Some(Reply::Job { .. }) => tokio::time::sleep(FOLLOW_INTERVAL).await,
            Some(other) => return Err(running::unexpected(other)),
            None => anyhow::bail!(
                "the Streamdrop running the jobs stopped before they finished; they resume when it runs again (`streamdrop jobs` shows them)"
            ),
        }
    }
}

/// How often `submit --wait` asks a running engine about its jobs.
const FOLLOW_INTERVAL: Duration = Duration::from_millis(500);

/// Starts the engine, adds `files` and waits for each job to settle.
async fn run_to_the_end(
    session: &Session,
    files: Vec<PathBuf>,
    if_exists: IfExists,
) -> anyhow::Result<(Vec<SubmittedJob>, NotAdded)> {
    session.start().await?;
    let mut report = session.submit(files, if_exists).await.map_err(with_if_exists_hint)?;
    for job in &mut report.accepted {
        *job = session.settled(job.id).await?;
    }
    with_outputs(session, report)
}

pub async fn list(data_dir: Option<PathBuf>, args: ListArgs) -> anyhow::Result<ExitCode> {
    let data_dir = DataDir::resolve(data_dir)?;
    let query = JobQuery { states: args.state, search: args.search, offset: args.offset, limit: args.limit };
    // A running engine adds live progress to what the store says.
    let JobsPage { jobs, total } =
        match running::ask(&data_dir, Request::Jobs { query: query.clone() }, running::ANSWER_TIMEOUT).await? {
            Some(Reply::Page { page }) => page,
            Some(other) => return Err(running::unexpected(other)),
            None => Session::open(data_dir, SessionOptions::with_os_keychain())?.jobs_page(&query)?,
        };
    if jobs.is_empty() && total > 0 {
        eprintln!("streamdrop: {total} jobs match, all before --offset {}. Use a lower --offset.", args.offset);
    } else if jobs.len() < total as usize {
        let (first, last) = (args.offset as usize + 1, args.offset as usize + jobs.len());
        eprintln!("streamdrop: showing jobs {first}–{last} of {total}. Use --offset and --limit to see others.");
    }
    if args.json {
        json_line(&jobs);
    } else if jobs.is_empty() && total == 0 && query == JobQuery::default() {
        println!("no jobs yet: add one with `streamdrop submit FILE`");
    } else if jobs.is_empty() && total == 0 {
        println!("no jobs match");
    } else {
        for job in &jobs {
            println!("{}\t{:<9}\t{:>12}\t{}\t{}", job.id, job.state, job.size, job.connection, job.relative_path);
        }
    }
    Ok(ExitCode::SUCCESS)
}
