//! `streamdrop preferences`: uploads at once, the bandwidth limit and its
//! hours, links' default lifetime. Shown without options; changed with them,
//! through the running app or `serve` when one runs, so its uploads follow
//! the change at once.

use std::path::PathBuf;
use std::process::ExitCode;

use streamdrop_core::api::{Session, SessionOptions};
use streamdrop_core::control::{Reply, Request};
use streamdrop_core::model::{parse_time_of_day, Preferences, WorkingHours};
use streamdrop_core::DataDir;

use crate::output::json_line;
use crate::running;
use crate::units::{parse_duration, parse_rate};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Uploads running at once, 1 to 8
    #[arg(long, value_name = "N")]
    uploads_at_once: Option<u32>,
    /// Speed limit over all uploads together, e.g. 20MB/s, or `off`
    #[arg(long, value_parser = parse_limit, value_name = "RATE|off")]
    bandwidth_limit: Option<Limit>,
    /// Apply the limit only in these local hours, full speed outside, e.g. 09:00-18:00, or `always`
    #[arg(long, value_parser = parse_hours, value_name = "HH:MM-HH:MM|always")]
    limit_during: Option<Hours>,
    /// How long a new link works unless `link --expires-in` says, e.g. 1d, 7d, 12h
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    link_lifetime: Option<u64>,
    /// Print the preferences as one JSON object
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy)]
enum Limit {
    Off,
    Rate(u64),
}

#[derive(Debug, Clone, Copy)]
enum Hours {
    Always,
    During(WorkingHours),
}

fn parse_limit(input: &str) -> Result<Limit, String> {
    match input.trim() {
        "off" | "none" => Ok(Limit::Off),
        rate => parse_rate(rate).map(Limit::Rate),
    }
}

fn parse_hours(input: &str) -> Result<Hours, String> {
    if matches!(input.trim(), "always" | "all-day") {
        return Ok(Hours::Always);
    }
    let hours = input
        .split_once('-')
        .and_then(|(start, end)| Some(WorkingHours { start: parse_time_of_day(start)?, end: parse_time_of_day(end)? }));
    hours.map(Hours::During).ok_or_else(|| format!("{input:?} is not hours such as 09:00-18:00 (or `always`)"))
}

pub async fn run(data_dir: Option<PathBuf>, args: Args) -> anyhow::Result<ExitCode> {
    let data_dir = DataDir::resolve(data_dir)?;
    let session = Session::open(data_dir.clone(), SessionOptions::with_os_keychain())?;
    let mut preferences = session.preferences()?;
    let changes = args.uploads_at_once.is_some()
        || args.bandwidth_limit.is_some()
        || args.limit_during.is_some()
        || args.link_lifetime.is_some();
    if changes {
        if let Some(n) = args.uploads_at_once {
            preferences.upload_concurrency = n;
        }
        match args.bandwidth_limit {
            Some(Limit::Off) => (preferences.bandwidth_limit, preferences.limit_during) = (None, None),
            Some(Limit::Rate(rate)) => preferences.bandwidth_limit = Some(rate),
            None => {}
        }
        match args.limit_during {
            Some(Hours::Always) => preferences.limit_during = None,
            Some(Hours::During(hours)) => preferences.limit_during = Some(hours),
            None => {}
        }
        if let Some(secs) = args.link_lifetime {
            preferences.link_lifetime_secs = secs;
        }
        // The running engine saves and applies them; else they are saved for the next start.
        let request = Request::SetPreferences { preferences: preferences.clone() };
        preferences = match running::ask(&data_dir, request, running::ANSWER_TIMEOUT).await? {
            Some(Reply::Preferences { preferences }) => preferences,
            Some(other) => return Err(running::unexpected(other)),
            None => session.set_preferences(preferences).await?,
        };
    }
    if args.json {
        json_line(&preferences);
    } else {
        print!("{}", described(&preferences));
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per preference, as a person reads them.
fn described(p: &Preferences) -> String {
    let limit = match (p.bandwidth_limit, p.limit_during) {
        (None, _) => "none".to_owned(),
        (Some(rate), None) => format!("{}/s", megabytes(rate)),
        (Some(rate), Some(hours)) => {
            let hhmm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
            format!("{}/s from {} to {} (full speed outside)", megabytes(rate), hhmm(hours.start), hhmm(hours.end))
        }
    };
    format!(
        "uploads at once: {}\nbandwidth limit: {limit}\nlink lifetime:   {}\n",
        p.upload_concurrency,
        lifetime(p.link_lifetime_secs)
    )
}

fn megabytes(bytes: u64) -> String {
    let mb = bytes as f64 / 1e6;
    if mb >= 10.0 {
        format!("{mb:.0} MB")
    } else {
        format!("{mb:.2} MB").replace(".00 ", " ")
    }
}

fn lifetime(secs: u64) -> String {
    match secs {
        s if s % 86_400 == 0 => format!("{} d", s / 86_400),
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preferences_read_plainly() {
        let p = Preferences {
            upload_concurrency: 3,
            bandwidth_limit: Some(20_000_000),
            limit_during: Some(WorkingHours { start: 9 * 60, end: 18 * 60 }),
            link_lifetime_secs: 7 * 86_400,
        };
        assert_eq!(
            described(&p),
            "uploads at once: 3\nbandwidth limit: 20 MB/s from 09:00 to 18:00 (full speed outside)\nlink lifetime:   7 d\n"
        );
        assert_eq!(megabytes(1_500_000), "1.50 MB");
        assert_eq!(megabytes(2_000_000), "2 MB");
        assert_eq!(lifetime(5400), "90 min");
    }

    #[test]
    fn limits_and_hours_parse_or_say_what_is_expected() {
        assert!(matches!(parse_limit("off"), Ok(Limit::Off)));
        assert!(matches!(parse_limit("20MB/s"), Ok(Limit::Rate(20_000_000))));
        assert!(matches!(parse_hours("always"), Ok(Hours::Always)));
        assert!(
            matches!(parse_hours("22:00-06:30"), Ok(Hours::During(h)) if h == WorkingHours { start: 1320, end: 390 })
        );
        assert!(parse_hours("9-5").unwrap_err().contains("09:00-18:00"));
    }
}
