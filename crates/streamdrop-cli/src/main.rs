//! `streamdrop`: Streamdrop's engine, headless. Each subcommand is a small
//! module that maps flags onto `streamdrop-core`.

mod act;
mod connection;
mod copy;
mod jobs;
mod link;
mod output;
mod preferences;
mod progress_bar;
mod running;
mod s3_args;
mod serve;
mod setup;
mod sign;
mod signals;
mod units;
mod upload;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use streamdrop_core::model::JobAction;
use streamdrop_core::Problem;

#[derive(Debug, Parser)]
#[command(name = "streamdrop", version, about = "Upload camera files to S3, transcode to HLS, hand out signed links")]
struct Cli {
    /// Where data, settings and the job store live [default: the platform's data dir]
    #[arg(long, global = true, env = "STREAMDROP_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// Also print what went wrong in detail (credentials and signatures removed)
    #[arg(long, short, global = true)]
    verbose: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the local stack (the embedded S3 server) in the foreground
    Serve(serve::Args),
    /// Upload one file to any S3 endpoint; re-run to resume an interrupted upload
    Upload(upload::Args),
    /// Copy an object server-side
    Copy(copy::Args),
    /// Add files as jobs of the active connection; --wait runs them to the end
    Submit(jobs::SubmitArgs),
    /// List jobs
    Jobs(jobs::ListArgs),
    /// Pause a job's upload, keeping what was sent (needs the app or `serve` running)
    Pause(act::Args),
    /// Resume a paused job
    Resume(act::Args),
    /// Stop a job for good; its partial upload is removed
    Cancel(act::Args),
    /// Run a failed job again from the stage that failed (a cancelled one from the start)
    Retry(act::Args),
    /// Read a failed or cancelled job's file anew and upload it from the start
    AddAgain(act::Args),
    /// Print a playable signed link to a ready job (local mode: through the edge `serve` runs)
    Link(link::Args),
    /// List the links made to a job: id, kind, active/expired/revoked, url
    Links(link::ListArgs),
    /// Revoke a link: it opens nothing from now on
    Revoke(link::RevokeArgs),
    /// Print a CloudFront signed URL: canned (--expires) or for a custom policy (--policy)
    Sign(sign::Args),
    /// AWS connections: keys in the OS keychain or an AWS profile; which one is active
    Connection(connection::Args),
    /// Create or check the AWS resources of a connection (--plan shows, --apply does)
    Setup(setup::Args),
    /// Show or change uploads at once, the bandwidth limit (and its hours) and links' default lifetime
    Preferences(preferences::Args),
}

fn main() -> ExitCode {
    streamdrop_core::logging::init("warn,aws_config::imds=error", None);
    let cli = Cli::parse();
    let verbose = cli.verbose;
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("streamdrop: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::run(cli.data_dir, args).await,
            Command::Upload(args) => upload::run(cli.data_dir, args).await,
            Command::Copy(args) => copy::run(cli.data_dir, args).await,
            Command::Submit(args) => jobs::submit(cli.data_dir, args, verbose).await,
            Command::Jobs(args) => jobs::list(cli.data_dir, args).await,
            Command::Pause(args) => act::run(cli.data_dir, JobAction::Pause, args).await,
            Command::Resume(args) => act::run(cli.data_dir, JobAction::Resume, args).await,
            Command::Cancel(args) => act::run(cli.data_dir, JobAction::Cancel, args).await,
            Command::Retry(args) => act::run(cli.data_dir, JobAction::Retry, args).await,
            Command::AddAgain(args) => act::run(cli.data_dir, JobAction::AddAgain, args).await,
            Command::Link(args) => link::run(cli.data_dir, args).await,
            Command::Links(args) => link::list(cli.data_dir, args).await,
            Command::Revoke(args) => link::revoke(cli.data_dir, args).await,
            Command::Sign(args) => sign::run(args),
            Command::Connection(args) => connection::run(cli.data_dir, args).await,
            Command::Setup(args) => setup::run(cli.data_dir, args).await,
            Command::Preferences(args) => preferences::run(cli.data_dir, args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(err) => {
            match err.downcast_ref::<Problem>() {
                Some(problem) => output::problem(problem, verbose),
                None => eprintln!("streamdrop: {err:#}"),
            }
            ExitCode::FAILURE
        }
    }
}
