//! Connections and their secrets (issue #4): keys live only in the OS keychain,
//! profiles and SSO come from aws-config's chain. Local mode needs neither: its
//! server credentials are minted per run by [`crate::local`].
