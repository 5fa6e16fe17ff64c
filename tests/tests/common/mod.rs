//! Shared by the suites that drive an AWS connection in-process.

use std::sync::Arc;

use streamdrop_core::credentials::{
    AwsAuth, AwsConnection, AwsKeys, MemorySecretStore, SecretItem, SecretRef, SecretStore, Settings,
};

use streamdrop_core::model::ConnectionName;
use streamdrop_core::DataDir;
use streamdrop_e2e::moto::MOTO_REGION;

/// The name of the AWS connection [`aws_connection`] makes.
pub const CONNECTION: &str = "Moto";

/// Makes a keys connection named [`CONNECTION`] to `endpoint` the active one
/// in `data`, with its access key in a fresh in-memory secret store (returned).
pub fn aws_connection(data: &DataDir, endpoint: &str, key_id: &str, secret: &str) -> Arc<MemorySecretStore> {
    let mut settings = Settings::default();
    let name = ConnectionName::new(CONNECTION).unwrap();
    let connection = AwsConnection {
        name: name.clone(),
        auth: AwsAuth::Keys,
        region: MOTO_REGION.into(),
        endpoint_url: Some(endpoint.to_owned()),
        resources: None,
    };
    settings.add(connection).unwrap();
    settings.set_active(CONNECTION).unwrap();
    settings.save(data).unwrap();
    let secrets = Arc::new(MemorySecretStore::new());
    let keys = AwsKeys::new(key_id, secret, None);
    secrets.set(&SecretRef::new(&name, SecretItem::AwsKeys), &keys.to_keychain_value()).unwrap();
    secrets
}
