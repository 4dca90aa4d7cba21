//! Shared by the bench targets: the criterion configuration of `performance.md` §6.3.

use criterion::Criterion;
use std::time::Duration;

/// Warm-up 0.3 s, measurement 1.2 s, 30 samples and 2000 bootstrap resamples (the default
/// 100k made the analysis take ~5 s per bench on a 2-core box). Command-line flags
/// (`--warm-up-time`, `--measurement-time`...) still override these.
pub(crate) fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1200))
        .sample_size(30)
        .nresamples(2000)
}
