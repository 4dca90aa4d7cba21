//! A run: select case instances, execute them (in parallel where allowed), collect results.

use crate::engine::{self, CaseResult, RunSettings, Verdict};
use crate::fixture::{CaseInstance, Suite};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

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
        duration: Duration::ZERO,
        transcript: crate::transport::Transcript::new(),
        recorded: Vec::new(),
    }
}

/// The instances of `suites` that `selection` runs (the others get a verdict without running).
pub fn runnable<'a>(suites: &'a [Suite], selection: &Selection) -> Vec<&'a CaseInstance> {
    suites
        .iter()
        .flat_map(|s| &s.instances)
        .filter(|i| selection.decide(i).is_none())
        .collect()
}

/// Why a run stopped before its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// A signal or `--max-run-duration`: the reason.
    Interrupted(String),
    /// The target stopped answering: the reason.
    TargetLost(String),
}

impl Stop {
    /// The reason, for messages and reports.
    #[must_use]
    pub fn reason(&self) -> &str {
        match self {
            Self::Interrupted(r) | Self::TargetLost(r) => r,
        }
    }
}

/// Shared state of a run in progress: the stop request, what is running (for progress lines)
/// and the "target lost" rule.
#[derive(Debug)]
pub struct Control {
    stop: tokio::sync::watch::Sender<Option<Stop>>,
    /// After this many consecutive cases that received nothing at all, the target is lost
    /// (0: never).
    pub lost_after: usize,
    /// How long running cases may still finish once the run stops.
    pub grace: Duration,
    state: Mutex<Progress>,
}

#[derive(Debug, Default)]
struct Progress {
    total: usize,
    done: usize,
    running: BTreeMap<usize, (String, Instant)>,
}

impl Default for Control {
    fn default() -> Self {
        Self::new(0)
    }
}

impl Control {
    /// A control that declares the target lost after `lost_after` silent cases in a row.
    #[must_use]
    pub fn new(lost_after: usize) -> Self {
        Self {
            stop: tokio::sync::watch::Sender::new(None),
            lost_after,
            grace: Duration::from_secs(3),
            state: Mutex::default(),
        }
    }

    /// Asks the run to stop (the first request wins).
    pub fn stop(&self, why: Stop) {
        self.stop.send_if_modified(|current| {
            if current.is_none() {
                *current = Some(why);
                true
            } else {
                false
            }
        });
    }

    /// Why the run stopped, if it did.
    #[must_use]
    pub fn stopped(&self) -> Option<Stop> {
        self.stop.borrow().clone()
    }

    /// Resolves once the run is asked to stop.
    pub(crate) async fn wait_stop(&self) {
        let mut rx = self.stop.subscribe();
        let _ = rx.wait_for(Option::is_some).await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Cases done, cases to run, and the longest-running case with its time so far.
    #[must_use]
    pub fn snapshot(&self) -> (usize, usize, Option<(String, Duration)>) {
        let state = self.lock();
        let slowest = state
            .running
            .values()
            .min_by_key(|(_, since)| *since)
            .map(|(id, since)| (id.clone(), since.elapsed()));
        (state.done, state.total, slowest)
    }
}

/// Whether a result shows that nothing at all came back from the target.
fn silent(result: &CaseResult) -> bool {
    matches!(result.verdict, Verdict::Fail | Verdict::Error)
        && !result
            .transcript
            .events()
            .iter()
            .any(|e| e.dir == crate::transport::Dir::Rx)
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
    run_with(
        suites,
        selection,
        settings,
        parallel,
        progress,
        &Arc::new(Control::default()),
    )
    .await
}

/// [`run`] under a [`Control`]: once it is stopped (or the target is lost), no case starts,
/// running ones get [`Control::grace`] to finish, and every case that did not end is ERROR
/// with the reason.
pub async fn run_with(
    suites: &[Suite],
    selection: &Selection,
    settings: &RunSettings,
    parallel: usize,
    progress: &(dyn Fn(&CaseResult) + Sync),
    control: &Arc<Control>,
) -> Vec<CaseResult> {
    let instances: Vec<&CaseInstance> = suites.iter().flat_map(|s| &s.instances).collect();
    let mut results: Vec<Option<CaseResult>> = vec![None; instances.len()];
    let mut parallel_lane = VecDeque::new();
    let mut serial_lane = VecDeque::new();
    for (index, instance) in instances.iter().enumerate() {
        match selection.decide(instance) {
            Some((verdict, reason)) => results[index] = Some(not_run(instance, verdict, reason)),
            None if instance.serial => serial_lane.push_back(index),
            None => parallel_lane.push_back(index),
        }
    }
    control.lock().total = parallel_lane.len() + serial_lane.len();
    let mut set = JoinSet::new();
    let mut tasks = HashMap::new();
    let mut streak = 0usize;
    let mut finish = |index: usize, result: CaseResult, results: &mut Vec<Option<CaseResult>>| {
        {
            let mut state = control.lock();
            state.running.remove(&index);
            state.done += 1;
        }
        progress(&result);
        if silent(&result) {
            streak += 1;
            if control.lost_after > 0 && streak >= control.lost_after {
                control.stop(Stop::TargetLost(format!(
                    "target lost: {streak} cases in a row got no response at all"
                )));
            }
        } else {
            streak = 0;
        }
        results[index] = Some(result);
    };
    for (lane, limit) in [(parallel_lane, parallel.max(1)), (serial_lane, 1)] {
        let mut lane = lane;
        loop {
            if control.stopped().is_some() {
                break;
            }
            while set.len() < limit
                && let Some(index) = lane.pop_front()
            {
                let instance = instances[index].clone();
                let settings = settings.clone();
                control
                    .lock()
                    .running
                    .insert(index, (instance.id.clone(), Instant::now()));
                let handle = set.spawn(async move { engine::run_case(&instance, &settings).await });
                tasks.insert(handle.id(), index);
            }
            if set.is_empty() {
                break;
            }
            tokio::select! {
                joined = set.join_next_with_id() => {
                    if let Some(Ok((id, result))) = joined
                        && let Some(index) = tasks.remove(&id)
                    {
                        finish(index, result, &mut results);
                    }
                }
                () = control.wait_stop() => {}
            }
        }
        if control.stopped().is_some() {
            break;
        }
    }
    let stop = control.stopped();
    if stop.is_some() {
        let grace = control.grace;
        let _ = tokio::time::timeout(grace, async {
            while let Some(joined) = set.join_next_with_id().await {
                if let Ok((id, result)) = joined
                    && let Some(index) = tasks.remove(&id)
                {
                    finish(index, result, &mut results);
                }
            }
        })
        .await;
        set.abort_all();
    }
    let why = stop.map_or_else(
        || "the case task panicked".to_owned(),
        |s| format!("stopped: {}", s.reason()),
    );
    results
        .into_iter()
        .zip(&instances)
        .map(|(result, instance)| {
            result.unwrap_or_else(|| not_run(instance, Verdict::Error, why.clone()))
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
