//! The key that signs a connection's CloudFront URLs, and its rotation.
//!
//! The settings name the key pair that signs (`key_pair_id`); its private half
//! is the keychain's `CloudFrontSigningKey`. A rotation (`setup
//! --rotate-signing-key`) adds a new public key to the key group and keeps its
//! private half as `CloudFrontNextSigningKey`, its id as `next_key_pair_id`:
//! CloudFront spreads a key group change over minutes, and a link signed with
//! a key its edges do not know yet is refused. So links go on being signed
//! with the current key until CloudFront reports the distribution deployed;
//! then [`promote_next_key`] makes the new key the one that signs and retires
//! the old one (setup removes it from the group once every link signed with
//! it has expired).

use std::sync::Arc;

use super::aws::ConnectionError;
use super::connection::{DistributionInfo, RetiredKey};
use super::secrets::{delete_secret, get_secret, set_secret, SecretItem, SecretRef, SecretStore};
use super::settings::Settings;
use crate::model::ConnectionName;
use crate::signing::{HashAlgorithm, SigningKey};
use crate::DataDir;

/// The distribution settings of AWS connection `name`, as saved now.
fn distribution(data_dir: &DataDir, name: &ConnectionName) -> Result<DistributionInfo, ConnectionError> {
    let settings = Settings::load(data_dir)?;
    settings
        .get_aws(name.as_str())?
        .resources
        .as_ref()
        .and_then(|r| r.distribution.clone())
        .ok_or_else(|| ConnectionError::NotSetUp { connection: name.to_string() })
}

/// The key that signs connection `name`'s URLs now. While a rotation's key
/// is pending, CloudFront (`cloudfront`, when given) is asked whether it has
/// deployed; if so the new key is promoted first.
pub async fn signing_key(
    data_dir: &DataDir,
    name: &ConnectionName,
    secrets: &Arc<dyn SecretStore>,
    cloudfront: Option<&aws_sdk_cloudfront::Client>,
) -> Result<SigningKey, ConnectionError> {
    let mut info = distribution(data_dir, name)?;
    let current = get_secret(secrets, &SecretRef::new(name, SecretItem::CloudFrontSigningKey)).await?;
    if info.next_key_pair_id.is_some() {
        let next = get_secret(secrets, &SecretRef::new(name, SecretItem::CloudFrontNextSigningKey)).await?;
        // Equal keys: a promotion stopped after copying the key; finish it.
        let copied = next.is_some() && next == current;
        let live = match cloudfront {
            // Not knowing is not live: the current key still works meanwhile.
            Some(client) if !copied => is_deployed(client, &info.id).await.unwrap_or_else(|message| {
                tracing::warn!(connection = %name, "cannot ask CloudFront whether the new signing key is live: {message}");
                false
            }),
            _ => copied,
        };
        if live {
            promote_next_key(data_dir, name, secrets).await?;
            info = distribution(data_dir, name)?;
            return signing_key_from(
                name,
                &info,
                get_secret(secrets, &SecretRef::new(name, SecretItem::CloudFrontSigningKey)).await?,
            );
        }
        if current.is_none() {
            return Err(ConnectionError::SigningKeyDeploying { connection: name.to_string() });
        }
    }
    signing_key_from(name, &info, current)
}

fn signing_key_from(
    name: &ConnectionName,
    info: &DistributionInfo,
    pem: Option<zeroize::Zeroizing<String>>,
) -> Result<SigningKey, ConnectionError> {
    let pem = pem.ok_or_else(|| ConnectionError::MissingSigningKey { connection: name.to_string() })?;
    SigningKey::from_pem(&info.key_pair_id, &pem, HashAlgorithm::Sha1)
        .map_err(|e| ConnectionError::BadSigningKey { connection: name.to_string(), message: e.to_string() })
}

/// Whether CloudFront reports distribution `id` deployed (every change to it,
/// and to the key group it trusts, spread to its edges).
pub async fn is_deployed(client: &aws_sdk_cloudfront::Client, id: &str) -> Result<bool, String> {
    let status = distribution_status(client, id)
        .await
        .map_err(|e| aws_sdk_cloudfront::error::DisplayErrorContext(&e).to_string())?;
    Ok(status.as_deref() == Some("Deployed"))
}

type ListError = aws_sdk_cloudfront::error::SdkError<
    aws_sdk_cloudfront::operation::list_distributions::ListDistributionsError,
    aws_sdk_cloudfront::config::http::HttpResponse,
>;

/// The `Status` of distribution `id` (`InProgress`, `Deployed`), from the
/// listing: the summaries carry it, and moto's GetDistribution answer is not
/// valid XML.
pub async fn distribution_status(client: &aws_sdk_cloudfront::Client, id: &str) -> Result<Option<String>, ListError> {
    let mut marker: Option<String> = None;
    loop {
        let out = client.list_distributions().set_marker(marker.clone()).send().await?;
        let Some(list) = out.distribution_list else { return Ok(None) };
        if let Some(found) = list.items().iter().find(|d| d.id() == id) {
            return Ok(Some(found.status().to_owned()));
        }
        match list.next_marker() {
            Some(next) if !next.is_empty() && Some(next) != marker.as_deref() => marker = Some(next.to_owned()),
            _ => return Ok(None),
        }
    }
}

/// Makes the rotation's key the one that signs connection `name`'s links and
/// retires the one before it. Call only once CloudFront has deployed the new
/// key. Safe to repeat after a stop at any point: the key is copied first,
/// the settings saved next, the copy's source deleted last.
pub async fn promote_next_key(
    data_dir: &DataDir,
    name: &ConnectionName,
    secrets: &Arc<dyn SecretStore>,
) -> Result<(), ConnectionError> {
    let next_ref = SecretRef::new(name, SecretItem::CloudFrontNextSigningKey);
    let info = distribution(data_dir, name)?;
    let Some(next_id) = info.next_key_pair_id.clone() else { return Ok(()) };
    let pem = get_secret(secrets, &next_ref)
        .await?
        .ok_or_else(|| ConnectionError::MissingSigningKey { connection: name.to_string() })?;
    set_secret(secrets, &SecretRef::new(name, SecretItem::CloudFrontSigningKey), pem).await?;
    let mut settings = Settings::load(data_dir)?;
    if let Some(info) = settings.get_aws_mut(name.as_str())?.resources.as_mut().and_then(|r| r.distribution.as_mut()) {
        let old = std::mem::replace(&mut info.key_pair_id, next_id.clone());
        if !old.is_empty() && old != next_id && !info.retired_keys.iter().any(|k| k.id == old) {
            info.retired_keys.push(RetiredKey { id: old, retired_secs: crate::clock::now_secs() });
        }
        info.next_key_pair_id = None;
    }
    settings.save(data_dir)?;
    delete_secret(secrets, &next_ref).await?;
    tracing::info!(connection = %name, key_pair_id = %next_id, "the rotated CloudFront key signs from now on");
    Ok(())
}
