//! A clip's sidecars (see [`Sidecar`]) travel with it as plain objects: sent
//! next to the clip in its upload stage, kept beside its original in its copy
//! stage. They are read as they are then, and a sidecar gone from the card
//! is left out with a warning: the camera's metadata never holds a clip back.

use super::pipeline::Stopped;
use super::Inner;
use crate::intake;
use crate::model::{Job, JobOutputs, ProblemCode, Sidecar};
use crate::transfer::{Transfer, TransferControl};

impl Inner {
    /// Sends each sidecar of `job` beside its clip's upload.
    pub(super) async fn upload_sidecars(&self, job: &Job, control: &TransferControl) -> Result<(), Stopped> {
        for sidecar in &job.sidecars {
            let source = match intake::inspect(&sidecar.path) {
                Ok(source) => source,
                Err(problem) if problem.code == ProblemCode::FileNotFound => {
                    tracing::warn!(job = %job.id, "{} is no longer on the card: left out", sidecar.relative_path);
                    continue;
                }
                Err(problem) => return Err(Stopped::Failed(problem)),
            };
            Transfer::new(
                &self.storage.client,
                &self.storage.target,
                &job.sidecar_destination(sidecar),
                &self.options.transfer,
                &self.store,
            )
            .with_control(control.clone())
            .upload(&source)
            .await
            .map_err(|e| Stopped::transfer_of(e, &source.display_name()))?;
        }
        Ok(())
    }

    /// Copies each sent sidecar of `job` beside its original.
    pub(super) async fn copy_sidecars(&self, job: &Job, control: &TransferControl) -> Result<(), Stopped> {
        for sidecar in &job.sidecars {
            let from = job.sidecar_destination(sidecar);
            if !self.was_sent(&from).await {
                continue; // left out at upload: it had left the card
            }
            let to = JobOutputs::sidecar_of(job.id, &sidecar.relative_path, &self.storage.buckets.media);
            Transfer::new(&self.storage.client, &self.storage.target, &to, &self.options.transfer, &self.store)
                .with_control(control.clone())
                .copy_from(&from)
                .await
                .map_err(|e| Stopped::transfer_of(e, &display_name(sidecar)))?;
        }
        Ok(())
    }

    /// Whether the upload stage stored `object`; an error other than "not
    /// there" counts as sent, so the copy says what went wrong.
    async fn was_sent(&self, object: &crate::model::ObjectRef) -> bool {
        let head = self.storage.client.head_object().bucket(&object.bucket).key(&object.key).send().await;
        !matches!(head, Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()))
    }
}

fn display_name(sidecar: &Sidecar) -> String {
    sidecar.relative_path.rsplit('/').next().unwrap_or(&sidecar.relative_path).to_owned()
}
