//! Get-or-create of the AWS resources the flow needs (issue #4): the temporary
//! and distribution buckets, the transcoder role, CloudFront key group and
//! distribution. Local mode provisions its buckets in [`crate::local`].
