//! Links: made on the job's own connection (the hosted stack's linker when
//! that is the job's, otherwise a stack opened for the one link), and listed.

use super::Session;
use crate::credentials::Settings;
use crate::links::Linker;
use crate::model::{JobId, LinkKind, LinkView, Problem, ProblemCode};
use crate::stack::{LocalStackOptions, Stack};

impl Session {
    /// A signed link of `kind` to a ready job, valid for `lifetime_secs`.
    /// Preview links are the app's player's ([`preview`](Self::preview)).
    pub async fn link(&self, id: JobId, kind: LinkKind, lifetime_secs: u64) -> Result<LinkView, Problem> {
        if kind == LinkKind::Preview {
            return Err(Problem::new(ProblemCode::PreviewIsTheApps));
        }
        self.with_linker(id, |linker| Box::pin(linker.link_job(id, kind, lifetime_secs))).await
    }

    /// The link the app's own player uses: a stream link valid for at least
    /// ten more minutes, reused while one exists.
    pub async fn preview(&self, id: JobId) -> Result<LinkView, Problem> {
        self.with_linker(id, |linker| Box::pin(linker.preview_job(id))).await
    }

    /// A signed URL of a ready job's poster for the app's list (not kept as a link).
    pub async fn poster_preview(&self, id: JobId) -> Result<String, Problem> {
        self.with_linker(id, |linker| Box::pin(linker.poster_preview(id))).await
    }

    /// The job's links people made, newest first (previews are the player's own).
    pub fn links(&self, id: JobId) -> Result<Vec<LinkView>, Problem> {
        self.stored(id)?;
        Ok(self.inner.store.links(id)?.into_iter().filter(|l| l.kind != LinkKind::Preview).collect())
    }

    /// Revokes link `id` (see [`Linker::revoke`]), on its job's connection.
    pub async fn revoke_link(&self, id: &str) -> Result<LinkView, Problem> {
        let link =
            self.inner.store.link(id)?.ok_or_else(|| Problem::new(ProblemCode::LinkNotFound).with("link", id))?;
        let id = id.to_owned();
        self.with_linker(link.job_id, move |linker| Box::pin(async move { linker.revoke(&id).await })).await
    }

    /// Runs `make` with a linker of job `id`'s connection.
    async fn with_linker<'a, T, F>(&self, id: JobId, make: F) -> Result<T, Problem>
    where
        F: for<'l> FnOnce(&'l Linker) -> futures_util::future::BoxFuture<'l, Result<T, crate::links::LinkError>>,
    {
        let job = self.stored(id)?;
        if self.hosts() {
            // Its outcome shows in `running()`; a failed start may be another connection's.
            let _ = self.engine().await;
        }
        if let Some(hosted) = self.running().filter(|h| h.connection == job.connection) {
            let linker = hosted.linker.as_ref().map_err(Clone::clone)?;
            return Ok(make(linker).await?);
        }
        // Another connection's job, or no engine here: that connection's
        // stack, for this one link. Its edge is the running app's or `serve`'s.
        let settings = Settings::load(&self.inner.data_dir)?;
        let connection = settings
            .get(job.connection.as_str())
            .ok_or_else(|| Problem::new(ProblemCode::ConnectionNotFound).with("connection", job.connection.as_str()))?;
        let options = &self.inner.options;
        let local = LocalStackOptions { serve_edge: false, ..options.local.clone() };
        let stack = Stack::open(&self.inner.data_dir, connection, local, options.aws.clone()).await?;
        let made = match stack.linker(&self.inner.data_dir).await {
            Ok(linker) => make(&linker).await.map_err(Problem::from),
            Err(err) => Err(err.into()),
        };
        stack.shutdown().await;
        made
    }
}
