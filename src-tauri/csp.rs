//! Serves each page of the window with the Content-Security-Policy of the
//! moment (see `streamdrop_core::api::csp`): when the media origin changes
//! (the edge's port was taken, another connection is used) the page is
//! reloaded under the new policy.

use std::borrow::Cow;
use std::sync::{Arc, RwLock};

use streamdrop_core::api::csp::with_media_origin;
use tauri::http::{HeaderValue, Response};

/// The media origin pages are served with, shared with the page-serving hook.
#[derive(Clone, Default)]
pub struct MediaOrigin(Arc<RwLock<Option<String>>>);

impl MediaOrigin {
    pub fn new(origin: Option<String>) -> Self {
        Self(Arc::new(RwLock::new(origin)))
    }

    /// Records `origin`; whether it differs from the one pages were given.
    pub fn update(&self, origin: Option<String>) -> bool {
        let mut current = self.0.write().unwrap_or_else(|p| p.into_inner());
        let changed = *current != origin;
        *current = origin;
        changed
    }

    /// Adds the media origin to the policy of a page being served.
    pub fn apply(&self, response: &mut Response<Cow<'static, [u8]>>) {
        let origin = self.0.read().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(csp) = response.headers_mut().get_mut("Content-Security-Policy") {
            let Ok(configured) = csp.to_str() else { return };
            if let Ok(value) = HeaderValue::from_str(&with_media_origin(configured, origin.as_deref())) {
                *csp = value;
            }
        }
    }
}
