//! Setup: plan or apply a connection's AWS resources, each step announced
//! as it runs.

use super::{Event, Session, SetupProgress};
use crate::credentials::Settings;
use crate::model::{ConnectionName, Problem};
use crate::provisioning::permissions::Permissions;
use crate::provisioning::{self, Mode, SetupOptions, SetupReport, StepReport};

impl Session {
    /// Plans or applies the setup of connection `name` (default: the active
    /// one), or its teardown; each step is announced as [`Event::SetupStep`] when it has run.
    /// A step that fails is in the report, not an error: what ran before it
    /// is kept, and a re-run continues there. After an apply, a session
    /// hosting that connection restarts it on what was made.
    pub async fn setup(&self, name: Option<&str>, options: &SetupOptions, mode: Mode) -> Result<SetupReport, Problem> {
        let name = match name {
            Some(name) => name.to_owned(),
            None => Settings::load(&self.inner.data_dir)?.active_name().to_string(),
        };
        let events = self.inner.events.clone();
        let connection = name.clone();
        let on_step = move |step: &StepReport| {
            let _ = events.send(Event::SetupStep(SetupProgress { connection: connection.clone(), step: step.clone() }));
        };
        let report = provisioning::run(
            &self.inner.data_dir,
            Some(&name),
            self.inner.options.secrets.clone(),
            options,
            self.inner.options.aws.endpoint_for(crate::credentials::TranscoderKind::ElasticTranscoder).as_deref(),
            mode,
            &on_step,
        )
        .await?;
        if matches!(mode, Mode::Apply | Mode::Teardown) {
            let changed = ConnectionName::new(report.connection.clone()).ok().filter(|_| report.changes());
            self.rehost(changed.as_ref()).await;
        }
        Ok(report)
    }

    /// The IAM policies the identity of connection `name` (default: the
    /// active one) needs: to run setup, and day to day. Reads settings only.
    pub fn required_permissions(&self, name: Option<&str>, options: &SetupOptions) -> Result<Permissions, Problem> {
        Ok(provisioning::required_permissions(&self.inner.data_dir, name, options)?)
    }
}
