//! Preferences: read and changed for every face, and applied at once to the
//! engine this session hosts (uploads running now included).

use super::Session;
use crate::credentials::Settings;
use crate::model::{Preferences, Problem};

impl Session {
    /// The preferences in force (the defaults until changed).
    pub fn preferences(&self) -> Result<Preferences, Problem> {
        Ok(Settings::load(&self.inner.data_dir)?.preferences())
    }

    /// Checks and saves `preferences`, then applies them to the hosted engine
    /// without a restart: the uploads at once and the bandwidth limit hold for
    /// transfers already running; the link lifetime for the next link made.
    pub async fn set_preferences(&self, preferences: Preferences) -> Result<Preferences, Problem> {
        let mut settings = Settings::load(&self.inner.data_dir)?;
        let saved = settings.set_preferences(preferences)?.clone();
        settings.save(&self.inner.data_dir)?;
        if let Some(hosted) = self.running() {
            hosted.engine.follow(&saved);
        }
        tracing::info!(
            "preferences: {} uploads at once, limit {:?} B/s during {:?}, links for {} s",
            saved.upload_concurrency,
            saved.bandwidth_limit,
            saved.limit_during,
            saved.link_lifetime_secs
        );
        Ok(saved)
    }
}
