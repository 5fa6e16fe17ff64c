//! The names of connections.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The connection that always exists: the embedded local stack.
pub const LOCAL_CONNECTION: &str = "Local";

/// Why a text cannot name a connection, in a sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadConnectionName(String);

/// A connection's name, as people type it ("Production AWS"). At most 64
/// characters, no `/` (it separates the name from the item in keychain
/// entries), no control characters, no surrounding spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS)]
#[serde(try_from = "String", into = "String")]
#[ts(as = "String")]
pub struct ConnectionName(String);

impl ConnectionName {
    pub fn new(name: impl Into<String>) -> Result<Self, BadConnectionName> {
        let name = name.into();
        let bad = |why: &str| Err(BadConnectionName(format!("{name:?} cannot name a connection: {why}")));
        if name.trim().is_empty() {
            return bad("it is empty");
        }
        if name.trim() != name {
            return bad("it starts or ends with a space");
        }
        if name.chars().count() > 64 {
            return bad("it is longer than 64 characters");
        }
        if name.contains('/') {
            return bad("it contains '/'");
        }
        if name.chars().any(char::is_control) {
            return bad("it contains a control character");
        }
        Ok(Self(name))
    }

    pub fn local() -> Self {
        Self(LOCAL_CONNECTION.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_local(&self) -> bool {
        self.0.eq_ignore_ascii_case(LOCAL_CONNECTION)
    }

    /// Names are unique ignoring ASCII case ("production aws" is "Production AWS").
    pub fn same_as(&self, other: &str) -> bool {
        self.0.eq_ignore_ascii_case(other)
    }
}

impl TryFrom<String> for ConnectionName {
    type Error = BadConnectionName;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<ConnectionName> for String {
    fn from(name: ConnectionName) -> String {
        name.0
    }
}

impl fmt::Display for ConnectionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<&str> for ConnectionName {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}
