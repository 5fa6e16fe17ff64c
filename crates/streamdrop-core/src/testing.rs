//! What the crate's own tests share.

use proptest::test_runner::{Config, RngSeed};

/// Property tests run the same `cases` every time (a fixed seed, no
/// persisted failures), so CI is repeatable and bounded; a failure prints
/// the shrunk input to turn into a plain test.
pub(crate) fn proptest_config(cases: u32) -> Config {
    Config { cases, failure_persistence: None, rng_seed: RngSeed::Fixed(0x5354_5245_414d), ..Config::default() }
}
