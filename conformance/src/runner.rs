//! A run: select case instances, execute them (in parallel where allowed), collect results.

use crate::engine::{self, CaseResult, RunSettings, Verdict};
use crate::scenario::{CaseInstance, Suite};
use std::sync::Arc;
use tokio::{sync::Semaphore, task::JoinSet};

/// Which cases run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Suite names to keep (all when empty).
    pub suites: Vec<String>,
    /// Engine.IO revisions to keep (all when empty).
    pub eio: Vec<u8>,
    /// Glob patterns a case id must match (all when empty): `*` stays within one `/`
    /// segment, `**` crosses segments.
    pub run: Vec<String>,
    /// Glob patterns that exclude a case.
    pub skip: Vec<String>,
    /// Capabilities the target lacks: cases requiring them are UNSUPPORTED.
    pub without: Vec<String>,
}

/// Whether `id` matches `pattern` (`*`: any run of characters except `/`; `**`: anything).
pub fn glob_match(pattern: &str, id: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match p {
            [] => s.is_empty(),
            [b'*', b'*', rest @ ..] => (0..=s.len()).any(|i| go(rest, &s[i..])),
            [b'*', rest @ ..] => {
                let limit = s.iter().position(|&c| c == b'/').unwrap_or(s.len());
                (0..=limit).any(|i| go(rest, &s[i..]))
            }
            [c, rest @ ..] => s.first() == Some(c) && go(rest, &s[1..]),
        }
    }
    go(pattern.as_bytes(), id.as_bytes())
}

impl Selection {
    /// What happens to `instance`: `None` to run it, or the verdict it gets without running.
    fn decide(&self, instance: &CaseInstance) -> Option<(Verdict, String)> {
        let ids = [instance.id.as_str(), instance.case_id.as_str()];
        let matches = |p: &String| ids.iter().any(|id| glob_match(p, id));
        if !self.suites.is_empty() && !self.suites.contains(&instance.suite) {
            return Some((Verdict::Skipped, "suite not selected".into()));
        }
        if !self.eio.is_empty() && !self.eio.contains(&instance.eio) {
            return Some((Verdict::Skipped, "Engine.IO revision not selected".into()));
        }
        if !self.run.is_empty() && !self.run.iter().any(matches) {
            return Some((Verdict::Skipped, "not matched by --run".into()));
        }
        if let Some(p) = self.skip.iter().find(|p| matches(p)) {
            return Some((Verdict::Skipped, format!("excluded by --skip {p}")));
        }
        if let Some(cap) = instance.requires.iter().find(|c| self.without.contains(c)) {
            return Some((
                Verdict::Unsupported,
                format!("the target lacks capability `{cap}`"),
            ));
        }
        None
    }
}

/// A result that did not run.
fn not_run(instance: &CaseInstance, verdict: Verdict, reason: String) -> CaseResult {
    CaseResult {
        instance: instance.clone(),
        verdict,
        findings: vec![engine::Finding {
            verdict,
            line: instance.line,
            message: reason,
            expected: None,
            actual: None,
            timing: false,
            blocked_by: None,
        }],
        duration: std::time::Duration::ZERO,
        transcript: crate::transport::Transcript::new(),
        recorded: Vec::new(),
    }
}

/// Runs every selected instance of `suites`. Cases marked `serial` (timing-sensitive) run
/// alone after the others; the rest run `parallel` at a time. `progress` is called after
/// each case. Results come back in fixture order.
pub async fn run(
    suites: &[Suite],
    selection: &Selection,
    settings: &RunSettings,
    parallel: usize,
    progress: &(dyn Fn(&CaseResult) + Sync),
) -> Vec<CaseResult> {
    let instances: Vec<&CaseInstance> = suites.iter().flat_map(|s| &s.instances).collect();
    let mut results: Vec<Option<CaseResult>> = vec![None; instances.len()];
    let mut parallel_lane = Vec::new();
    let mut serial_lane = Vec::new();
    for (index, instance) in instances.iter().enumerate() {
        match selection.decide(instance) {
            Some((verdict, reason)) => results[index] = Some(not_run(instance, verdict, reason)),
            None if instance.serial => serial_lane.push(index),
            None => parallel_lane.push(index),
        }
    }
    let permits = Arc::new(Semaphore::new(parallel.max(1)));
    let mut set = JoinSet::new();
    for index in parallel_lane {
        let instance = instances[index].clone();
        let settings = settings.clone();
        let permits = Arc::clone(&permits);
        set.spawn(async move {
            let _permit = permits.acquire_owned().await;
            (index, engine::run_case(&instance, &settings).await)
        });
    }
    while let Some(joined) = set.join_next().await {
        if let Ok((index, result)) = joined {
            progress(&result);
            results[index] = Some(result);
        }
    }
    for index in serial_lane {
        let result = engine::run_case(instances[index], settings).await;
        progress(&result);
        results[index] = Some(result);
    }
    results
        .into_iter()
        .zip(&instances)
        .map(|(result, instance)| {
            result.unwrap_or_else(|| {
                not_run(instance, Verdict::Error, "the case task panicked".into())
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_segments() {
        assert!(glob_match("eio4/*", "eio4/handshake"));
        assert!(!glob_match("eio4/*", "eio4/handshake/polling-open"));
        assert!(glob_match(
            "eio4/**",
            "eio4/handshake/polling-open[transport=polling]"
        ));
        assert!(glob_match("**/polling-*", "eio4/handshake/polling-open"));
        assert!(glob_match("sio5/connect/main", "sio5/connect/main"));
        assert!(!glob_match(
            "sio5/connect/main",
            "sio5/connect/main-payload"
        ));
    }
}
