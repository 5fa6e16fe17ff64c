//! The end-to-end suites, one binary (as ripgrep does, so the AWS SDKs are
//! linked once): the `streamdrop` command as a real process, the transfer
//! engine against the embedded server and moto, the cloud transcoders'
//! stand-ins, provisioning, the keychain, secret leaks, and the real app
//! window. Suites that need a display or a keychain are `#[ignore]`d;
//! `scripts/test-all.sh` runs them inside `scripts/in-test-session.sh`.

mod app_window;
mod aws_connection;
mod cli;
mod common;
mod harness;
mod ipc_contract;
mod keychain;
mod provisioning;
mod secret_leaks;
mod transcoders;
mod transfer;
