//! CloudFront signed URLs and per-link playlists (issue #6). Kept apart from
//! storage because the same signer serves CloudFront and the local edge.
