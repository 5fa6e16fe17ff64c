//! Connections: listed, added (the key to the keychain, taken back if the
//! settings cannot be saved), removed with their secrets, made active (a
//! hosting session then swaps its stack), and checked against AWS.

use super::Session;
use super::{
    AddedConnection, CheckView, ConnectionView, ConnectionsView, NewAuth, NewConnection, PermissionsView,
    RemovedConnection,
};
use crate::credentials::{self, AwsAuth, AwsConnection, AwsResources, Connection, SecretItem, SecretRef, Settings};
use crate::model::{Buckets, ConnectionName, Problem, ProblemCode};
use crate::provisioning::permissions::{self, Simulated};
use crate::provisioning::{self, SetupOptions};
use crate::stack::local_buckets;

impl Session {
    /// Every connection, Local first; which one is active.
    pub fn connections(&self) -> Result<ConnectionsView, Problem> {
        let settings = Settings::load(&self.inner.data_dir)?;
        let active = settings.active_name();
        Ok(ConnectionsView {
            active: active.to_string(),
            connections: settings.connections().iter().map(|c| ConnectionView::of(c, c.name() == *active)).collect(),
        })
    }

    /// Adds an AWS connection. Keys go to the keychain only; if the settings
    /// cannot be saved afterwards, they are taken out again.
    pub async fn add_connection(&self, new: NewConnection) -> Result<AddedConnection, Problem> {
        let name = ConnectionName::new(new.name)?;
        if name.is_local() {
            return Err(Problem::new(ProblemCode::LocalIsFixed));
        }
        let mut settings = Settings::load(&self.inner.data_dir)?;
        if settings.get(name.as_str()).is_some() {
            return Err(Problem::new(ProblemCode::ConnectionExists).with("connection", name.as_str()));
        }
        if let Some(endpoint) = &new.endpoint_url {
            check_endpoint(endpoint)?;
        }
        let region = match (new.region, &new.auth) {
            (Some(region), _) => check_region(region)?,
            (None, NewAuth::Profile(profile)) => {
                credentials::aws::profile_region(profile).await.unwrap_or_else(default_region)
            }
            (None, NewAuth::Keys(_)) => default_region(),
        };
        let auth = match &new.auth {
            NewAuth::Profile(profile) => AwsAuth::Profile(profile.clone()),
            NewAuth::Keys(_) => AwsAuth::Keys,
        };
        let secrets = &self.inner.options.secrets;
        let mut stored = None;
        if let NewAuth::Keys(keys) = &new.auth {
            if keys.access_key_id().chars().any(char::is_whitespace)
                || keys.secret_access_key().chars().any(char::is_whitespace)
                || keys.access_key_id().is_empty()
                || keys.secret_access_key().is_empty()
            {
                return Err(Problem::new(ProblemCode::BadKeys));
            }
            let secret = SecretRef::new(&name, SecretItem::AwsKeys);
            credentials::secrets::set_secret(secrets, &secret, keys.to_keychain_value()).await?;
            stored = Some((secret, keys.access_key_id().to_owned()));
        }
        let connection =
            AwsConnection { name: name.clone(), auth, region, endpoint_url: new.endpoint_url, resources: None };
        let saved = settings.add(connection).and_then(|()| {
            if new.make_active {
                settings.set_active(name.as_str())?;
            }
            settings.save(&self.inner.data_dir)
        });
        if let Err(err) = saved {
            if let Some((secret, _)) = &stored {
                let _ = credentials::secrets::delete_secret(secrets, secret).await;
            }
            return Err(err.into());
        }
        if new.make_active {
            self.rehost(None).await;
        }
        let added = settings.get(name.as_str()).expect("just added");
        Ok(AddedConnection {
            connection: ConnectionView::of(added, *settings.active_name() == name),
            kept_in: stored.as_ref().map(|_| secrets.describe()),
            access_key_id: stored.map(|(_, id)| id),
        })
    }

    /// Removes an AWS connection and its secrets from the keychain. Its jobs
    /// and links stay listed; its AWS resources are left as they are. If it
    /// was active, Local is.
    pub async fn remove_connection(&self, name: &str) -> Result<RemovedConnection, Problem> {
        let mut settings = Settings::load(&self.inner.data_dir)?;
        let connection = aws_connection(&settings, name)?.clone();
        // A keychain that cannot be opened only matters if it holds something of this connection.
        let has_secrets =
            connection.auth == AwsAuth::Keys || connection.resources.as_ref().is_some_and(|r| r.distribution.is_some());
        let mut deleted_secrets = Vec::new();
        for item in SecretItem::ALL {
            let secret = SecretRef::new(&connection.name, item);
            match credentials::secrets::delete_secret(&self.inner.options.secrets, &secret).await {
                Ok(true) => deleted_secrets.push(secret.to_string()),
                Ok(false) => {}
                Err(err) if has_secrets => return Err(err.into()),
                Err(_) => break,
            }
        }
        settings.remove(name)?;
        settings.save(&self.inner.data_dir)?;
        self.rehost(None).await;
        Ok(RemovedConnection {
            name: connection.name.to_string(),
            deleted_secrets,
            kept_in: self.inner.options.secrets.describe(),
            had_resources: connection.resources.is_some(),
            active: settings.active_name().to_string(),
        })
    }

    /// Makes `name` the active connection; a session hosting the active
    /// connection swaps its stack for that one's (jobs of the other resume when it is back).
    pub async fn use_connection(&self, name: &str) -> Result<ConnectionView, Problem> {
        let mut settings = Settings::load(&self.inner.data_dir)?;
        settings.set_active(name)?;
        settings.save(&self.inner.data_dir)?;
        self.rehost(None).await;
        Ok(ConnectionView::of(settings.active(), true))
    }

    /// Who the credentials of connection `name` (default: the active one) are,
    /// asked of AWS (STS GetCallerIdentity), at `endpoint_url` if given.
    pub async fn check_connection(&self, name: Option<&str>, endpoint_url: Option<&str>) -> Result<CheckView, Problem> {
        let settings = Settings::load(&self.inner.data_dir)?;
        let name = name.map(str::to_owned).unwrap_or_else(|| settings.active_name().to_string());
        let connection = aws_connection(&settings, &name)?;
        let target = credentials::target(connection, &self.inner.options.secrets, endpoint_url).await?;
        let identity = credentials::caller_identity(connection, &target).await?;
        let permissions =
            match provisioning::required_permissions(&self.inner.data_dir, Some(&name), &SetupOptions::default()) {
                Err(_) => PermissionsView::NotChecked {
                    why: "the connection is not set up yet: `streamdrop setup --permissions --name-prefix P` lists \
                          what it will need"
                        .into(),
                },
                Ok(needed) => {
                    match permissions::simulate(&target.iam(), &identity.arn, &identity.account, &needed).await {
                        Simulated::Allowed(actions) => {
                            PermissionsView::Allowed { actions: u32::try_from(actions).unwrap_or(u32::MAX) }
                        }
                        Simulated::Missing(missing) => PermissionsView::Missing { missing },
                        Simulated::NotChecked(why) => PermissionsView::NotChecked { why },
                    }
                }
            };
        Ok(CheckView {
            connection: connection.name.to_string(),
            account: identity.account,
            arn: identity.arn,
            permissions,
        })
    }
}

/// The AWS connection `name`; Local has nothing of AWS to act on.
fn aws_connection<'s>(settings: &'s Settings, name: &str) -> Result<&'s AwsConnection, Problem> {
    match settings.get(name) {
        None => Err(Problem::new(ProblemCode::ConnectionNotFound).with("connection", name)),
        Some(Connection::Local) => Err(Problem::new(ProblemCode::LocalIsFixed)),
        Some(Connection::Aws(aws)) => Ok(aws),
    }
}

/// Where `connection`'s jobs upload and keep their results.
pub(super) fn buckets_of(connection: &Connection) -> Result<Buckets, Problem> {
    match connection {
        Connection::Local => Ok(local_buckets()),
        Connection::Aws(aws) => aws
            .resources
            .as_ref()
            .map(AwsResources::buckets)
            .ok_or_else(|| Problem::new(ProblemCode::NotSetUp).with("connection", aws.name.as_str())),
    }
}

/// `$AWS_REGION`, else `$AWS_DEFAULT_REGION`, else us-east-1.
fn default_region() -> String {
    std::env::var("AWS_REGION")
        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
        .ok()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "us-east-1".into())
}

/// `us-east-1`, `ap-northeast-1`, `us-gov-west-1`: a typo is caught when the
/// connection is added, not as an unreachable host on its first upload.
fn check_region(region: String) -> Result<String, Problem> {
    let parts: Vec<&str> = region.split('-').collect();
    let letters = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
    let shaped = parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1].iter().all(letters)
        && parts.last().is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if shaped {
        Ok(region)
    } else {
        Err(Problem::new(ProblemCode::BadRegion).with("region", region))
    }
}

/// An endpoint is an http(s) URL with a host.
fn check_endpoint(endpoint: &str) -> Result<(), Problem> {
    let host = endpoint.strip_prefix("https://").or_else(|| endpoint.strip_prefix("http://"));
    match host {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') && !rest.contains(char::is_whitespace) => Ok(()),
        _ => Err(Problem::new(ProblemCode::BadEndpoint).with("endpoint", endpoint)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names_are_checked_for_their_shape() {
        for good in ["us-east-1", "ap-northeast-1", "us-gov-west-1", "cn-north-1", "eu-central-2"] {
            assert_eq!(check_region(good.into()).unwrap(), good);
        }
        for bad in ["us-east", "useast1", "us-east-1a", "US-EAST-1", "us east 1", "", "tokyo", "u-east-1"] {
            let problem = check_region(bad.into()).unwrap_err();
            assert_eq!(problem.code, ProblemCode::BadRegion, "{bad}");
        }
    }

    #[test]
    fn endpoints_are_http_urls_with_a_host() {
        for good in ["http://127.0.0.1:5000", "https://s3.example.com", "https://minio.local/"] {
            check_endpoint(good).unwrap();
        }
        for bad in ["127.0.0.1:5000", "ftp://host", "https://", "http:///path", "https://a b"] {
            assert_eq!(check_endpoint(bad).unwrap_err().code, ProblemCode::BadEndpoint, "{bad}");
        }
    }
}
