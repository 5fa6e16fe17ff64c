//! `streamdrop setup --plan | --apply`: get-or-create the AWS resources of a
//! connection (buckets, MediaConvert role, CloudFront key group and
//! distribution). `--plan` only reads; `--apply` makes what the plan lists and
//! can be re-run at any time: it changes nothing that is already right, and
//! after a failure it continues where it stopped.

use std::path::PathBuf;
use std::process::ExitCode;

use streamdrop_core::api::{Session, SessionOptions};
use streamdrop_core::credentials::TranscoderKind;
use streamdrop_core::provisioning::{Mode, SetupOptions, SetupReport};
use streamdrop_core::DataDir;

use crate::output::json_line;

#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("mode").required(true).args(["plan", "apply", "permissions"]))]
pub struct Args {
    /// Print what would be created or changed; change nothing
    #[arg(long)]
    plan: bool,
    /// Create or fix what the plan lists
    #[arg(long)]
    apply: bool,
    /// Print the IAM policies this connection's identity needs (one to run
    /// setup, one for daily use), for you or your AWS admin to attach; change nothing
    #[arg(long)]
    permissions: bool,
    /// Default: the active connection
    #[arg(long, value_name = "NAME")]
    connection: Option<String>,
    /// Derives every name: PREFIX-uploads, PREFIX-media, PREFIX-mediaconvert, …
    /// Needed on the first setup of a connection, remembered after it
    #[arg(long, value_name = "PREFIX")]
    name_prefix: Option<String>,
    /// One endpoint for S3, IAM and CloudFront for this run (e.g. moto's server)
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// mediaconvert (default), elastic-transcoder (legacy) or local-ffmpeg
    #[arg(long, value_name = "KIND")]
    transcoder: Option<TranscoderKind>,
    /// If the key group exists but this machine's keychain has no private key
    /// for it: make a new key pair and add its public key to the group
    #[arg(long)]
    rotate_signing_key: bool,
    /// With --apply: wait (up to 30 minutes) until CloudFront has deployed the
    /// distribution, after which links on the connection work
    #[arg(long, requires = "apply")]
    wait_for_deployment: bool,
    /// Print one JSON line with every step
    #[arg(long)]
    json: bool,
}

pub async fn run(data_dir: Option<PathBuf>, args: Args) -> anyhow::Result<ExitCode> {
    let data_dir = DataDir::resolve(data_dir)?;
    let mode = if args.apply { Mode::Apply } else { Mode::Plan };
    let options = SetupOptions {
        name_prefix: args.name_prefix,
        endpoint_url: args.endpoint_url,
        transcoder: args.transcoder,
        rotate_signing_key: args.rotate_signing_key,
        wait_for_deployment: args.wait_for_deployment.then_some(std::time::Duration::from_secs(30 * 60)),
    };
    // Keys connections read their key from the keychain; every setup reads
    // (and apply may write) the CloudFront signing key there.
    let session = Session::open(data_dir, SessionOptions::with_os_keychain())?;
    if args.permissions {
        let permissions = session.required_permissions(args.connection.as_deref(), &options)?;
        if args.json {
            json_line(&permissions);
        } else {
            println!("# To run `streamdrop setup` (attach while setting up; remove after if you like):");
            println!("{}", serde_json::to_string_pretty(&permissions.setup)?);
            println!("# To upload, copy, transcode and make links, day to day:");
            println!("{}", serde_json::to_string_pretty(&permissions.daily)?);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let report = session.setup(args.connection.as_deref(), &options, mode).await?;
    if args.json {
        json_line(&report);
    } else {
        print_report(&report);
    }
    match &report.error {
        None => Ok(ExitCode::SUCCESS),
        Some(err) => {
            if !args.json {
                eprintln!("streamdrop: setup stopped at step {}: {err}", err.step);
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

fn print_report(report: &SetupReport) {
    eprintln!("{} of connection {:?} (names from prefix {:?}):", report.mode, report.connection, report.names.prefix);
    for step in &report.steps {
        println!("{}", step.line());
    }
    if report.error.is_some() {
        return;
    }
    let count = |word: &str| report.steps.iter().filter(|s| s.action.planned() == word).count();
    match report.mode {
        Mode::Plan if report.changes() => eprintln!(
            "{} to create, {} to update, {} unchanged: run `streamdrop setup --apply` to make these changes",
            count("create"),
            count("update"),
            count("exists")
        ),
        Mode::Plan => eprintln!("nothing to change"),
        Mode::Apply => {
            if !report.changes() {
                eprintln!("nothing changed: everything was already set up");
            }
            if let Some(d) = &report.distribution {
                eprintln!("playback: https://{} (distribution {}, key pair {})", d.domain, d.id, d.key_pair_id);
            }
        }
    }
}
