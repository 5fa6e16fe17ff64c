//! Every error of the layers below, as the one error the API returns: a
//! [`Problem`] (a stable code, its parameters, the English sentence, and the
//! raw detail). The modules below keep their own precise error types; this
//! is where each is told to people.

use crate::credentials::{ConnectionError, CredentialsTrouble, SecretStoreError, SettingsError};
use crate::data_dir::DataDirError;
use crate::engine::EngineError;
use crate::links::LinkError;
use crate::local::s3_server::S3ServerError;
use crate::model::{BadConnectionName, BadPreference, Problem, ProblemCode};
use crate::provisioning::{PreflightError, StepError};
use crate::stack::{LocalStackError, StackError};
use crate::store::StoreError;

impl From<EngineError> for Problem {
    fn from(err: EngineError) -> Self {
        match err {
            EngineError::Store(e) => e.into(),
            EngineError::DataDir(e) => e.into(),
            EngineError::UnknownJob(id) => Problem::new(ProblemCode::JobNotFound).with("job", id),
            EngineError::NotNow { state, action, .. } => {
                Problem::new(ProblemCode::NotNow).with("state", state).with("action", action)
            }
            // The job's own problem says what to do instead (add it again, or nothing).
            EngineError::RetryWontHelp { problem, .. } | EngineError::Source(problem) => *problem,
            EngineError::OtherConnection { connection, .. } => {
                Problem::new(ProblemCode::OtherConnection).with("connection", connection)
            }
        }
    }
}

impl From<StoreError> for Problem {
    fn from(err: StoreError) -> Self {
        Problem::new(ProblemCode::DataDir).detail(err)
    }
}

impl From<DataDirError> for Problem {
    fn from(err: DataDirError) -> Self {
        match err {
            DataDirError::Busy { .. } => Problem::new(ProblemCode::Busy).detail(err),
            other => Problem::new(ProblemCode::DataDir).detail(other),
        }
    }
}

impl From<BadConnectionName> for Problem {
    fn from(bad: BadConnectionName) -> Self {
        Problem::new(ProblemCode::BadConnectionName).with("reason", bad)
    }
}

impl From<SettingsError> for Problem {
    fn from(err: SettingsError) -> Self {
        match err {
            SettingsError::NoSuchConnection(name) => {
                Problem::new(ProblemCode::ConnectionNotFound).with("connection", name)
            }
            SettingsError::Exists(name) => Problem::new(ProblemCode::ConnectionExists).with("connection", name),
            SettingsError::LocalIsFixed => Problem::new(ProblemCode::LocalIsFixed),
            SettingsError::BadName(bad) => bad.into(),
            other => Problem::new(ProblemCode::SettingsUnreadable).detail(other),
        }
    }
}

impl From<SecretStoreError> for Problem {
    fn from(err: SecretStoreError) -> Self {
        match err {
            SecretStoreError::Unavailable(_) => Problem::new(ProblemCode::NoKeychain).detail(err),
            other => Problem::new(ProblemCode::KeychainRefused).detail(other),
        }
    }
}

impl From<ConnectionError> for Problem {
    fn from(err: ConnectionError) -> Self {
        match &err {
            ConnectionError::Keychain(e) => e.clone().into(),
            ConnectionError::MissingKeys { connection } => {
                Problem::new(ProblemCode::MissingKeys).with("connection", connection)
            }
            ConnectionError::Call { connection, message } => {
                let code = CredentialsTrouble::of(message).map_or(ProblemCode::AwsUnreachable, trouble_code);
                Problem::new(code).with("connection", connection).detail(err)
            }
            ConnectionError::NotSetUp { connection } => {
                Problem::new(ProblemCode::NotSetUp).with("connection", connection)
            }
            ConnectionError::MissingSigningKey { connection } | ConnectionError::BadSigningKey { connection, .. } => {
                Problem::new(ProblemCode::MissingSigningKey).with("connection", connection).detail(err)
            }
            ConnectionError::SigningKeyDeploying { connection } => {
                Problem::new(ProblemCode::SigningKeyDeploying).with("connection", connection).detail(err)
            }
            ConnectionError::Settings(_) => match err {
                ConnectionError::Settings(e) => e.into(),
                _ => unreachable!("matched above"),
            },
        }
    }
}

impl From<LinkError> for Problem {
    fn from(err: LinkError) -> Self {
        match err {
            LinkError::NotReady => Problem::new(ProblemCode::LinkNotReady),
            LinkError::UnknownJob(id) => Problem::new(ProblemCode::JobNotFound).with("job", id),
            LinkError::BadLifetime => Problem::new(ProblemCode::BadLifetime),
            LinkError::NoPoster => Problem::new(ProblemCode::NoPoster),
            LinkError::UnknownLink(id) => Problem::new(ProblemCode::LinkNotFound).with("link", id),
            LinkError::CannotRevoke { kind, expires_at } => Problem::new(ProblemCode::LinkNotRevocable)
                .with("kind", kind)
                .with("expires", crate::clock::utc_minute(expires_at.max(0) as u64 / 1000)),
            LinkError::Cdn(detail) => Problem::new(ProblemCode::LinkRevokeUnconfirmed).detail(detail),
            LinkError::Store(e) => e.into(),
            LinkError::OtherConnection(connection) => {
                Problem::new(ProblemCode::OtherConnection).with("connection", connection)
            }
            LinkError::Connection(e) => e.into(),
            other @ (LinkError::Sign(_) | LinkError::Storage(_) | LinkError::Playlist(_)) => {
                Problem::new(ProblemCode::LinkFailed).detail(other)
            }
        }
    }
}

impl From<StackError> for Problem {
    fn from(err: StackError) -> Self {
        match err {
            StackError::Settings(e) => e.into(),
            StackError::Aws(e) => e.into(),
            StackError::Local(e) => e.into(),
        }
    }
}

impl From<LocalStackError> for Problem {
    fn from(err: LocalStackError) -> Self {
        match &err {
            LocalStackError::Server(S3ServerError::Bind { .. }) => Problem::new(ProblemCode::Busy).detail(err),
            LocalStackError::NoEdgeYet => Problem::new(ProblemCode::NoEngine).detail(err),
            _ => Problem::new(ProblemCode::Internal).detail(err),
        }
    }
}

impl From<PreflightError> for Problem {
    fn from(err: PreflightError) -> Self {
        match err {
            PreflightError::Settings(e) => e.into(),
            PreflightError::Connection(e) => e.into(),
            PreflightError::Local => Problem::new(ProblemCode::LocalIsFixed),
            other @ (PreflightError::NoPrefix(_) | PreflightError::BadPrefix(_)) => {
                let reason = other.to_string();
                Problem::new(ProblemCode::SetupCannotStart).with("reason", reason.trim_end_matches('.'))
            }
        }
    }
}

impl From<BadPreference> for Problem {
    fn from(err: BadPreference) -> Self {
        Problem::new(ProblemCode::BadPreference).with("setting", err.setting).with("rule", err.rule)
    }
}

/// A step's failure, named for the person: refused for a permission, stopped
/// by the connection's credentials (the caller adds `connection`), or else.
impl From<&StepError> for Problem {
    fn from(err: &StepError) -> Self {
        let problem = match (err.denied_action(), CredentialsTrouble::of(&err.to_string())) {
            (Some(action), _) => Problem::new(ProblemCode::SetupDenied).with("action", action),
            (None, Some(trouble)) => Problem::new(trouble_code(trouble)),
            (None, None) => Problem::new(ProblemCode::SetupStepFailed),
        };
        problem.with("doing", &err.doing).detail(err)
    }
}

fn trouble_code(trouble: CredentialsTrouble) -> ProblemCode {
    match trouble {
        CredentialsTrouble::SsoExpired => ProblemCode::SsoExpired,
        CredentialsTrouble::NoSuchProfile => ProblemCode::NoSuchProfile,
        CredentialsTrouble::KeysRefused => ProblemCode::AwsKeysRefused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{JobId, StateName};

    #[test]
    fn engine_errors_become_codes_with_their_parameters() {
        let id = JobId::new();
        let p: Problem = EngineError::UnknownJob(id).into();
        assert_eq!((p.code, p.params["job"].clone()), (ProblemCode::JobNotFound, id.to_string()));
        let p: Problem = EngineError::NotNow { id, state: StateName::Ready, action: "paused" }.into();
        assert_eq!(p.message(), "The job is ready, so it cannot be paused.");
        let p: Problem = SettingsError::Exists("Production".into()).into();
        assert_eq!(p.code, ProblemCode::ConnectionExists);
        assert!(p.message().contains("Production"));
    }
}
