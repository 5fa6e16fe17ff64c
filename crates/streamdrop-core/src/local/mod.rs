//! The servers Streamdrop runs on this machine, on 127.0.0.1: the embedded
//! S3 server ([`s3_server`], an s3s server over [`s3_backend`]: s3s-fs plus
//! the rules AWS applies and s3s-fs does not) and the [`edge`] that stands in
//! for CloudFront. Both run on one accept loop (`http`). What a local
//! connection runs on, assembled from them, is `stack::local`.

pub mod edge;
mod http;
mod s3_backend;
pub mod s3_server;

pub use s3_server::{LocalCredentials, S3Server};
