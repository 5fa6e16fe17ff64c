//! The engine's integration tests, one binary (as ripgrep does): each module
//! is a suite against real parts (the embedded S3 server over HTTP, ffmpeg,
//! the local edge, openssl), with the test support of `streamdrop-e2e`
//! (media made with ffmpeg, digests).

mod architecture;
mod edge;
mod engine_controls;
mod folders;
mod intake;
mod links;
mod local_stack;
mod session;
mod signing_openssl;
mod signing_vectors;
mod signing_verify;
mod transcode_local;
