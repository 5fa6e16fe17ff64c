//! `streamdrop connection …`: the AWS accounts Streamdrop can use, and which
//! one is active. Keys go to the OS keychain only; they are read from the
//! terminal (no echo), from standard input, or with `--from-env` from
//! `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, never from
//! arguments (other users can read a process's arguments).

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use streamdrop_core::api::{ConnectionKind, NewAuth, NewConnection, PermissionsView, Session, SessionOptions};
use streamdrop_core::credentials::AwsKeys;
use streamdrop_core::DataDir;
use zeroize::Zeroizing;

use crate::output::json_line;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Add an AWS connection: keys kept in the OS keychain, or an AWS profile
    Add(AddArgs),
    /// List connections; `*` marks the active one
    List {
        /// Print one JSON line
        #[arg(long)]
        json: bool,
    },
    /// Make a connection the active one
    Use { name: String },
    /// Remove a connection and its secrets from the OS keychain
    Remove { name: String },
    /// Check that a connection's credentials work (STS GetCallerIdentity)
    Check {
        /// Default: the active connection
        name: Option<String>,
        /// One endpoint for every service, for this run
        #[arg(long, value_name = "URL")]
        endpoint_url: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Args)]
struct AddArgs {
    /// A name people recognise, e.g. "Production AWS"
    name: String,
    /// Use an access key, read from the terminal or standard input (lines:
    /// access key id, secret access key, optional session token) and kept
    /// only in the OS keychain
    #[arg(long, required_unless_present = "profile", conflicts_with = "profile")]
    keys: bool,
    /// With --keys: read AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN instead
    #[arg(long, requires = "keys")]
    from_env: bool,
    /// Use a profile from ~/.aws (static keys, IAM Identity Center/SSO, assume-role)
    #[arg(long, value_name = "PROFILE")]
    profile: Option<String>,
    /// Default: the profile's region, else $AWS_REGION, else us-east-1
    #[arg(long)]
    region: Option<String>,
    /// One endpoint for S3, IAM, CloudFront and STS (an AWS-compatible server such as moto)
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// Make it the active connection
    #[arg(long = "use")]
    make_active: bool,
}

pub async fn run(data_dir: Option<PathBuf>, args: Args) -> anyhow::Result<ExitCode> {
    let session = Session::open(DataDir::resolve(data_dir)?, SessionOptions::with_os_keychain())?;
    match args.command {
        Command::Add(add_args) => add(&session, add_args).await,
        Command::List { json } => list(&session, json),
        Command::Use { name } => {
            let active = session.use_connection(&name).await?;
            println!("active connection: {}", active.name);
            Ok(ExitCode::SUCCESS)
        }
        Command::Remove { name } => remove(&session, &name).await,
        Command::Check { name, endpoint_url, json } => {
            let identity = session.check_connection(name.as_deref(), endpoint_url.as_deref()).await?;
            if json {
                json_line(&identity);
            } else {
                println!("connection {:?} works: account {}, {}", identity.connection, identity.account, identity.arn);
                match &identity.permissions {
                    PermissionsView::Allowed { actions } => {
                        println!("permissions: all {actions} actions Streamdrop needs are allowed")
                    }
                    PermissionsView::Missing { missing } => {
                        println!("permissions missing (grant what `streamdrop setup --permissions` lists):");
                        for line in missing {
                            println!("  {line}");
                        }
                    }
                    PermissionsView::NotChecked { why } => println!("permissions not checked: {why}"),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn add(session: &Session, args: AddArgs) -> anyhow::Result<ExitCode> {
    let auth = match args.profile {
        Some(profile) => NewAuth::Profile(profile),
        None if args.from_env => NewAuth::Keys(keys_from_env()?),
        None => NewAuth::Keys(keys_from_stdin()?),
    };
    let new = NewConnection {
        name: args.name,
        auth,
        region: args.region,
        endpoint_url: args.endpoint_url,
        make_active: args.make_active,
    };
    let added = session.add_connection(new).await?;
    let connection = &added.connection;
    match (&added.access_key_id, &added.kept_in) {
        (Some(key_id), Some(kept_in)) => {
            println!("added connection \"{}\": access key {key_id} kept in the {kept_in}", connection.name)
        }
        _ => println!(
            "added connection \"{}\": AWS profile {:?}",
            connection.name,
            connection.profile.as_deref().unwrap_or_default()
        ),
    }
    if connection.active {
        println!("active connection: {}", connection.name);
    }
    Ok(ExitCode::SUCCESS)
}

fn keys_from_env() -> anyhow::Result<AwsKeys> {
    let read = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (Some(id), Some(secret)) = (read("AWS_ACCESS_KEY_ID"), read("AWS_SECRET_ACCESS_KEY")) else {
        bail!("--from-env needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment");
    };
    let secret = Zeroizing::new(secret);
    let token = read("AWS_SESSION_TOKEN").map(Zeroizing::new);
    Ok(AwsKeys::new(id, secret.as_str(), token.as_deref().map(String::as_str)))
}

fn keys_from_stdin() -> anyhow::Result<AwsKeys> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("AWS access key ID: ");
        std::io::stderr().flush().ok();
        let mut id = String::new();
        stdin.read_line(&mut id).context("reading the access key id")?;
        let secret = Zeroizing::new(rpassword::prompt_password("AWS secret access key (not shown): ")?);
        let token = Zeroizing::new(rpassword::prompt_password("AWS session token (empty for none): ")?);
        return checked_keys(id.trim(), secret.trim(), Some(token.trim()));
    }
    let mut text = Zeroizing::new(String::new());
    stdin.lock().read_to_string(&mut text).context("reading the keys from standard input")?;
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let id = lines.next().unwrap_or_default();
    let secret = lines.next().unwrap_or_default();
    let token = lines.next();
    checked_keys(id, secret, token)
}

fn checked_keys(id: &str, secret: &str, token: Option<&str>) -> anyhow::Result<AwsKeys> {
    if id.is_empty() || secret.is_empty() {
        bail!(
            "--keys reads the access key id, then the secret access key (then an optional session token), \
             one per line, from standard input; or pass --from-env"
        );
    }
    if id.chars().any(char::is_whitespace) || secret.chars().any(char::is_whitespace) {
        bail!("the access key id and secret access key cannot contain spaces");
    }
    Ok(AwsKeys::new(id, secret, token))
}

fn list(session: &Session, json: bool) -> anyhow::Result<ExitCode> {
    let listed = session.connections()?;
    if json {
        json_line(&listed);
        return Ok(ExitCode::SUCCESS);
    }
    for connection in &listed.connections {
        let marker = if connection.active { '*' } else { ' ' };
        let text = match connection.kind {
            ConnectionKind::Local => "local     the embedded S3 server on this machine".to_owned(),
            kind => {
                let auth = match (kind, &connection.profile) {
                    (ConnectionKind::Profile, Some(profile)) => format!("profile   {profile}"),
                    _ => "keys      access key in the OS keychain".to_owned(),
                };
                let mut text = format!("{auth}, {}", connection.region.as_deref().unwrap_or_default());
                if let Some(url) = &connection.endpoint_url {
                    text.push_str(&format!(", endpoint {url}"));
                }
                match (&connection.upload_bucket, &connection.media_bucket) {
                    (Some(uploads), Some(media)) => {
                        text.push_str(&format!(", buckets {uploads} and {media}"));
                        if let Some(d) = &connection.distribution {
                            text.push_str(&format!(", {}", d.domain));
                        }
                    }
                    _ => text.push_str(", not set up (streamdrop setup --plan)"),
                }
                text
            }
        };
        println!("{marker} {:<20} {text}", connection.name);
    }
    Ok(ExitCode::SUCCESS)
}

async fn remove(session: &Session, name: &str) -> anyhow::Result<ExitCode> {
    let removed = session.remove_connection(name).await?;
    println!("removed connection {:?}", removed.name);
    for what in &removed.deleted_secrets {
        println!("deleted {what} from the {}", removed.kept_in);
    }
    if removed.had_resources {
        println!("its AWS resources are left as they are (buckets, role, key group, distribution)");
    }
    println!("active connection: {}", removed.active);
    Ok(ExitCode::SUCCESS)
}
