//! What happens before any window: the command line (a data dir, files given
//! by "Open with" or a launcher), and the one-app-per-data-dir rule. A second
//! launch hands its files to the running one over the control channel and
//! leaves, having started nothing.

use std::ffi::OsString;
use std::path::PathBuf;

use streamdrop_core::control::{self, Claim, Reply, Request};
use streamdrop_core::data_dir::EngineLock;
use streamdrop_core::DataDir;

/// The app's command line: `[--data-dir DIR] [FILE...]`.
#[derive(Debug, Default)]
pub struct Args {
    pub data_dir: Option<PathBuf>,
    pub files: Vec<PathBuf>,
}

impl Args {
    pub fn parse(args: impl IntoIterator<Item = OsString>) -> Self {
        let mut parsed = Args::default();
        let mut args = args.into_iter().skip(1);
        while let Some(arg) = args.next() {
            if arg == "--data-dir" {
                parsed.data_dir = args.next().map(PathBuf::from);
            } else if let Some(value) = arg.to_str().and_then(|a| a.strip_prefix("--data-dir=")) {
                parsed.data_dir = Some(PathBuf::from(value));
            } else if arg.to_str().is_some_and(|a| a.starts_with("--")) {
                // Flags for others (a test driver's, GTK's) are not files.
            } else {
                // Relative to where the launcher ran us: the running app has another cwd.
                let path = PathBuf::from(arg);
                parsed.files.push(std::path::absolute(&path).unwrap_or(path));
            }
        }
        parsed
    }
}

/// Claims the data dir for this process (`Ok(lock)`), or hands the files to the
/// process that runs on it and says what became of them (`Err(message)`, for
/// the exit); a data dir that cannot be used is an `Err` too.
pub fn claim(data_dir: &DataDir, files: &[PathBuf]) -> Result<EngineLock, Result<String, String>> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| Err(e.to_string()))?;
    let request = Request::Activate { paths: files.to_vec() };
    match runtime.block_on(control::claim_or_send(data_dir, &request)) {
        Ok(Claim::Mine(lock)) => Ok(lock),
        Ok(Claim::Theirs(Reply::Done { message, .. })) => Err(Ok(message)),
        Ok(Claim::Theirs(Reply::Refused { message })) | Err(message) => Err(Err(message)),
        Ok(Claim::Theirs(Reply::Failed { problem })) => Err(Err(problem.message())),
        Ok(Claim::Theirs(other)) => {
            Err(Err(format!("the running Streamdrop gave an answer of another kind: {other:?}")))
        }
    }
}
