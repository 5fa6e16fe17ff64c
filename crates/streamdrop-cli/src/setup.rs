//! `streamdrop setup --plan | --apply`: get-or-create the AWS resources of a
//! connection (buckets, MediaConvert role, CloudFront key group and
//! distribution). `--plan` only reads; `--apply` makes what the plan lists and
//! can be re-run at any time: it changes nothing that is already right, and
//! after a failure it continues where it stopped. `--teardown` lists what
//! setup made, and with `--yes` deletes it (buckets with every object in them).

use std::path::PathBuf;
use std::process::ExitCode;

use streamdrop_core::api::{Session, SessionOptions};
use streamdrop_core::credentials::TranscoderKind;
use streamdrop_core::provisioning::{Mode, SetupOptions, SetupReport};
use streamdrop_core::DataDir;

use crate::output::json_line;

#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("mode").required(true).args(["plan", "apply", "permissions", "teardown"]))]
pub struct Args {
    /// Print what would be created or changed; change nothing
    #[arg(long)]
    plan: bool,
    /// Create or fix what the plan lists
    #[arg(long)]
    apply: bool,
    /// Print the IAM policies this connection's identity needs (to run setup,
    /// for daily use, to tear down), for you or your AWS admin to attach; change nothing
    #[arg(long)]
    permissions: bool,
    /// List everything setup made for the connection, to delete; with --yes,
    /// delete it: the distribution (disabled first), CloudFront policies and
    /// keys, the MediaConvert role, and both buckets with every object in them
    #[arg(long)]
    teardown: bool,
    /// With --teardown: really delete (streams and originals cannot be recovered)
    #[arg(long, requires = "teardown")]
    yes: bool,
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
    /// Make a new signing key pair and add its public key to the key group:
    /// when this machine's keychain has no key for the group, or to replace
    /// this machine's key (links use the new key once CloudFront has deployed
    /// it; the old one leaves the group when its last link expires)
    #[arg(long)]
    rotate_signing_key: bool,
    /// Wait (up to 30 minutes) until CloudFront has deployed the distribution
    /// (with --apply: after which links work; with --teardown --yes: so that
    /// the disabled distribution can be deleted in the same run)
    #[arg(long)]
    wait_for_deployment: bool,
    /// Print one JSON line with every step
    #[arg(long)]
    json: bool,
}

pub async fn run(data_dir: Option<PathBuf>, args: Args) -> anyhow::Result<ExitCode> {
    let data_dir = DataDir::resolve(data_dir)?;
    let mode = match (args.apply, args.teardown, args.yes) {
        (true, _, _) => Mode::Apply,
        (_, true, true) => Mode::Teardown,
        (_, true, false) => Mode::TeardownPlan,
        _ => Mode::Plan,
    };
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
            println!("# To delete it all with `streamdrop setup --teardown --yes` (with the setup policy):");
            println!("{}", serde_json::to_string_pretty(&permissions.teardown)?);
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
                if let Some(grant) = &report.grant {
                    eprintln!("The policy statement to add:\n{}", serde_json::to_string_pretty(grant)?);
                }
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
        Mode::TeardownPlan if report.changes() => eprintln!(
            "{} to delete: run `streamdrop setup --teardown --yes` to delete them (objects in the buckets cannot be \
             recovered)",
            count("delete")
        ),
        Mode::TeardownPlan => eprintln!("nothing to delete"),
        Mode::Teardown if count("later") > 0 => eprintln!(
            "not finished: CloudFront is still disabling the distribution; run `streamdrop setup --teardown --yes` \
             again in about 15 minutes"
        ),
        Mode::Teardown => eprintln!("everything setup made for this connection is deleted; the connection stays"),
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
