//! The control channel's requests, answered by the session of the process
//! that runs the engine (the app or `streamdrop serve`): so the CLI beside it
//! works on that engine, not on the store behind its back.

use super::Session;
use crate::control::{Reply, Request};

impl Session {
    /// Answers every request but `Activate`, which is the face's own (a
    /// window to bring forward, or none): `None` for that one.
    pub async fn answer(&self, request: Request) -> Option<Reply> {
        let failed = |problem| Reply::Failed { problem: Box::new(problem) };
        Some(match request {
            Request::Activate { .. } => return None,
            Request::Submit { paths, if_exists } => match self.submit(paths, if_exists).await {
                Ok(report) => Reply::Intake { report },
                Err(problem) => failed(problem),
            },
            Request::Jobs { query } => match self.jobs_page(&query) {
                Ok(page) => Reply::Page { page },
                Err(problem) => failed(problem),
            },
            Request::Job { id } => match self.job(id) {
                Ok(job) => Reply::Job { job: Box::new(job) },
                Err(problem) => failed(problem),
            },
            Request::Act { id, action } => match self.act(id, action).await {
                Ok(job) => Reply::Job { job: Box::new(job) },
                Err(problem) => failed(problem),
            },
            Request::Link { id, kind, lifetime_secs } => match self.link(id, kind, lifetime_secs).await {
                Ok(link) => Reply::Link { link: Box::new(link) },
                Err(problem) => failed(problem),
            },
            Request::Revoke { link } => match self.revoke_link(&link).await {
                Ok(link) => Reply::Link { link: Box::new(link) },
                Err(problem) => failed(problem),
            },
            Request::SetPreferences { preferences } => match self.set_preferences(preferences).await {
                Ok(preferences) => Reply::Preferences { preferences },
                Err(problem) => failed(problem),
            },
        })
    }
}
