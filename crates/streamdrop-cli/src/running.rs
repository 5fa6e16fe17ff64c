//! The engine already running on the data dir (the app, or `streamdrop
//! serve`), reached over its control channel: while one runs, the CLI asks it
//! rather than the store behind its back, so a job added starts at once and a
//! link is signed with the key its edge checks.

use std::path::PathBuf;
use std::time::Duration;

use streamdrop_core::control::{self, ControlError, Reply, Request};
use streamdrop_core::DataDir;

/// How long to wait for most answers (a link, a job, a page of jobs).
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// What the running engine answered: `Ok(None)` when none runs. An answer
/// that says the request could not be done is `Err` with its [`Problem`].
pub async fn ask(data_dir: &DataDir, request: Request, timeout: Duration) -> anyhow::Result<Option<Reply>> {
    match control::send_waiting(data_dir, &request, timeout).await {
        Ok(Reply::Failed { problem }) => Err((*problem).into()),
        Ok(Reply::Refused { message }) => Err(anyhow::anyhow!(message)),
        Ok(reply) => Ok(Some(reply)),
        Err(ControlError::NotRunning) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// An answer of another kind than the request's: the two processes are different versions.
pub fn unexpected(reply: Reply) -> anyhow::Error {
    anyhow::anyhow!(
        "the running Streamdrop gave an answer this version does not expect ({reply:?}); run the same version of both"
    )
}

/// `paths` as the running engine must see them: its working folder is not ours.
pub fn absolute(paths: Vec<PathBuf>) -> anyhow::Result<Vec<PathBuf>> {
    paths.into_iter().map(|p| std::path::absolute(&p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))).collect()
}
