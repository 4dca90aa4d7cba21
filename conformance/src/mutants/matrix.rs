//! `conformance mutants matrix`: every suite against the clean server and against every
//! mutant, each a built-in server on a free loopback port in this process. A case instance
//! that does not PASS against a mutant kills it; a mutant that no case kills survives (the
//! suites cannot see its defect). The result is a markdown table.

use super::{Mutant, Settings, server};
use crate::cli::exit;
use crate::engine::{RunSettings, Verdict};
use crate::matcher::Captures;
use crate::run_command::load_options;
use crate::runner::{self, Selection};
use crate::scenario::{self, Suite};
use crate::transport::target::Target;
use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// How many killing case ids a row lists before it says "and N more".
const LISTED: usize = 4;

/// Options of `mutants matrix`.
#[derive(Debug, Args)]
pub struct MatrixArgs {
    /// Write the markdown matrix here (default: standard output).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Mutants checked at once (each runs its cases `--case-parallel` at a time; the runs
    /// mostly wait for the servers' timers, so this is not bound by the number of cores).
    #[arg(long, default_value_t = 8)]
    pub parallel: usize,
    /// Cases run at once against one server (timing-sensitive cases always run alone).
    #[arg(long, default_value_t = 4)]
    pub case_parallel: usize,
    /// Only these mutants (repeatable; default: all).
    #[arg(long = "mutant", value_name = "NAME", value_parser = super::parse_mutant)]
    pub mutants: Vec<Mutant>,
    /// Fixture directory (default: the suites of this source tree).
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
    /// Default deadline of a step (the servers' timers are 300/200 ms, so short is enough).
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Tolerance added to every timing window (`${slack}`).
    #[arg(long, default_value = "150ms", value_parser = parse_duration)]
    pub timing_slack: Duration,
}

/// A duration in the fixtures' syntax (`2s`, `150ms`).
fn parse_duration(text: &str) -> Result<Duration, String> {
    crate::expr::Expr::parse(text)
        .map_err(|e| e.to_string())?
        .eval(&Captures::new())
        .map_err(|e| e.to_string())
}

/// The verdicts of every case instance against one server.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The server's defect.
    pub mutant: Mutant,
    /// Case instance id → verdict, in fixture order (a miss counts only when the instance
    /// missed again on its re-run).
    pub verdicts: Vec<(String, Verdict)>,
    /// Instances that missed once and passed on their re-run.
    pub flaky: Vec<String>,
    /// Wall time of the run.
    pub duration: Duration,
}

impl Outcome {
    /// The case instances that did not PASS (they kill the mutant).
    pub fn killers(&self) -> Vec<&str> {
        self.verdicts
            .iter()
            .filter(|(_, verdict)| *verdict != Verdict::Pass)
            .map(|(id, _)| id.as_str())
            .collect()
    }
}

/// `conformance mutants matrix`.
pub fn matrix(args: &MatrixArgs) -> u8 {
    let dir = args.fixtures.clone().unwrap_or_else(|| {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/conformance"
        ))
    });
    let suites = match scenario::load_dir_with(&dir, &load_options()) {
        Ok(suites) => Arc::new(suites),
        Err(e) => {
            for diagnostic in &e.diagnostics {
                eprintln!("error: {diagnostic}");
            }
            return exit::USAGE;
        }
    };
    let started = Instant::now();
    let mutants: Vec<Mutant> = if args.mutants.is_empty() {
        Mutant::defects().collect()
    } else {
        args.mutants.clone()
    };
    crate::run_command::block_on(async {
        match run_all(args, &suites, &mutants).await {
            Ok((clean, mutated)) => report(args, &clean, &mutated, started.elapsed()),
            Err(e) => {
                eprintln!("error: {e}");
                exit::HARNESS
            }
        }
    })
}

/// Writes the matrix, prints the summary, and says whether everything is as it should be
/// (the clean server passes every case, every mutant is killed).
fn report(args: &MatrixArgs, clean: &Outcome, mutated: &[Outcome], elapsed: Duration) -> u8 {
    let text = markdown(clean, mutated);
    match &args.out {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &text) {
                eprintln!("error: writing {}: {e}", path.display());
                return exit::HARNESS;
            }
        }
        None => print!("{text}"),
    }
    let clean_failures = clean.killers();
    let survivors: Vec<_> = mutated.iter().filter(|o| o.killers().is_empty()).collect();
    for id in &clean_failures {
        eprintln!("clean server: {id} did not pass");
    }
    for survivor in &survivors {
        eprintln!(
            "SURVIVED {}: {}",
            survivor.mutant,
            survivor.mutant.description()
        );
    }
    eprintln!(
        "{} mutants: {} killed, {} survived; clean server: {} of {} cases pass; {:.0?}",
        mutated.len(),
        mutated.len() - survivors.len(),
        survivors.len(),
        clean.verdicts.len() - clean_failures.len(),
        clean.verdicts.len(),
        elapsed,
    );
    if clean_failures.is_empty() && survivors.is_empty() {
        exit::OK
    } else {
        exit::FAILURES
    }
}

/// The clean server, then `mutants`, `--parallel` at a time (outcomes in that order).
async fn run_all(
    args: &MatrixArgs,
    suites: &Arc<Vec<Suite>>,
    mutants: &[Mutant],
) -> Result<(Outcome, Vec<Outcome>), String> {
    let config = Arc::new(RunConfig {
        timeout: args.timeout,
        slack: args.timing_slack,
        case_parallel: args.case_parallel,
    });
    let clean = run_one(Mutant::None, suites, &config).await?;
    eprintln!(
        "clean server: {} case instances not passing{}",
        clean.killers().len(),
        flaky_note(&clean)
    );
    let permits = Arc::new(Semaphore::new(args.parallel.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, &mutant) in mutants.iter().enumerate() {
        let (suites, config, permits) = (
            Arc::clone(suites),
            Arc::clone(&config),
            Arc::clone(&permits),
        );
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            (index, run_one(mutant, &suites, &config).await)
        });
    }
    let mut outcomes: Vec<Option<Outcome>> = vec![None; mutants.len()];
    while let Some(joined) = tasks.join_next().await {
        let (index, outcome) = joined.map_err(|e| format!("a mutant run failed: {e}"))?;
        let outcome = outcome?;
        let (mutant, note) = (outcome.mutant, flaky_note(&outcome));
        match outcome.killers().len() {
            0 => eprintln!("SURVIVED  {mutant}{note}"),
            n => eprintln!(
                "killed    {mutant} by {n} cases ({:.1?}){note}",
                outcome.duration
            ),
        }
        outcomes[index] = Some(outcome);
    }
    Ok((clean, outcomes.into_iter().flatten().collect()))
}

/// `; passed on re-run: …` for the console, when instances missed only once.
fn flaky_note(outcome: &Outcome) -> String {
    if outcome.flaky.is_empty() {
        String::new()
    } else {
        format!("; passed on re-run: {}", outcome.flaky.join(", "))
    }
}

/// Run settings shared by every server.
#[derive(Debug)]
struct RunConfig {
    timeout: Duration,
    slack: Duration,
    case_parallel: usize,
}

/// Starts the server with `mutant`, runs every case against it, stops it.
async fn run_one(mutant: Mutant, suites: &[Suite], config: &RunConfig) -> Result<Outcome, String> {
    let server_settings = Settings::with_mutant(mutant);
    let connect_timeout = server_settings.connect_timeout;
    let server = server::start("127.0.0.1:0", server_settings)
        .await
        .map_err(|e| format!("{mutant}: cannot start the server: {e}"))?;
    let settings = RunSettings {
        target: Target::parse(&server.url(), "/").map_err(|e| e.to_string())?,
        explicit_path: false,
        timeout: config.timeout,
        slack: config.slack,
        connect_timeout,
        max_case_duration: Duration::from_secs(60),
    };
    let started = Instant::now();
    let quiet = |_: &crate::engine::CaseResult| {};
    let parallel = if mutant.reaches_other_clients() {
        1
    } else {
        config.case_parallel
    };
    let first = runner::run(suites, &Selection::default(), &settings, parallel, &quiet).await;
    // Confirmation: the instances that did not pass run once more; only a second miss
    // counts. A real defect fails again, while a timing window missed under load (several
    // servers and runners share the cores) rarely repeats.
    let missed: Vec<String> = first
        .iter()
        .filter(|r| r.verdict != Verdict::Pass)
        .map(|r| r.instance.id.clone())
        .collect();
    let again = if missed.is_empty() {
        Vec::new()
    } else {
        let selection = Selection {
            run: missed,
            ..Selection::default()
        };
        runner::run(suites, &selection, &settings, parallel, &quiet).await
    };
    let duration = started.elapsed();
    server.stop().await;
    let mut flaky = Vec::new();
    let verdicts = first
        .iter()
        .map(|r| {
            let id = r.instance.id.clone();
            let second = again
                .iter()
                .find(|a| a.instance.id == id)
                .map(|a| a.verdict);
            match (r.verdict, second) {
                (Verdict::Pass, _) => (id, Verdict::Pass),
                (_, Some(Verdict::Pass)) => {
                    flaky.push(id.clone());
                    (id, Verdict::Pass)
                }
                (_, again) => (id, again.unwrap_or(r.verdict)),
            }
        })
        .collect();
    Ok(Outcome {
        mutant,
        verdicts,
        flaky,
        duration,
    })
}

/// The matrix as markdown: the clean server's result, then one row per mutant.
pub fn markdown(clean: &Outcome, mutants: &[Outcome]) -> String {
    let cases = clean.verdicts.len();
    let clean_failures = clean.killers();
    let survivors = mutants.iter().filter(|o| o.killers().is_empty()).count();
    let mut text = String::from(
        "# Kill matrix\n\n\
         Generated by `conformance mutants matrix --out docs/kill-matrix.md` (do not edit by hand).\n\
         Each mutant is the built-in contract server (`conformance mutants serve --mutant NAME`,\n\
         code in `conformance/src/mutants/`) with one deliberate defect. Every case instance of\n\
         every suite runs against it; an instance that does not PASS (twice: the instances that\n\
         miss run once more, so that a timing window missed under load does not count) kills the\n\
         mutant. A mutant that survives has a defect no case can see.\n\n",
    );
    if clean_failures.is_empty() {
        text.push_str(&format!(
            "**Clean server** (`--mutant none`): all {cases} case instances PASS.\n\n"
        ));
    } else {
        text.push_str(&format!(
            "**Clean server** (`--mutant none`): {} of {cases} case instances do not PASS: {}.\n\n",
            clean_failures.len(),
            code_list(&clean_failures, usize::MAX)
        ));
    }
    text.push_str(&format!(
        "**Mutants:** {}, {} killed, {survivors} survived.\n\n\
         | mutant | kills | killing case instances | defect |\n|---|---:|---|---|\n",
        mutants.len(),
        mutants.len() - survivors,
    ));
    for outcome in mutants {
        let killers = outcome.killers();
        let cases = if killers.is_empty() {
            "**survives**".to_owned()
        } else {
            code_list(&killers, LISTED)
        };
        text.push_str(&format!(
            "| `{}` | {} | {cases} | {} |\n",
            outcome.mutant,
            killers.len(),
            outcome.mutant.description().replace('|', "\\|"),
        ));
    }
    text
}

/// `` `a`, `b` and N more ``.
fn code_list(ids: &[&str], limit: usize) -> String {
    let mut listed: Vec<String> = ids.iter().take(limit).map(|id| format!("`{id}`")).collect();
    if ids.len() > limit {
        listed.push(format!("and {} more", ids.len() - limit));
    }
    listed.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(mutant: Mutant, verdicts: &[(&str, Verdict)]) -> Outcome {
        Outcome {
            mutant,
            verdicts: verdicts
                .iter()
                .map(|(id, v)| ((*id).to_owned(), *v))
                .collect(),
            flaky: Vec::new(),
            duration: Duration::ZERO,
        }
    }

    #[test]
    fn markdown_lists_killers_and_survivors() {
        let clean = outcome(Mutant::None, &[("a", Verdict::Pass), ("b", Verdict::Pass)]);
        let killed = outcome(
            Mutant::NeverPing,
            &[("a", Verdict::Fail), ("b", Verdict::NonStrict)],
        );
        let survivor = outcome(
            Mutant::JsonWithSpaces,
            &[("a", Verdict::Pass), ("b", Verdict::Pass)],
        );
        let text = markdown(&clean, &[killed, survivor]);
        assert!(text.contains("all 2 case instances PASS"));
        assert!(text.contains("**Mutants:** 2, 1 killed, 1 survived."));
        assert!(text.contains(
            "| `never-ping` | 2 | `a`, `b` | The server never sends a ping (Engine.IO v4). |"
        ));
        assert!(text.contains("| `json-with-spaces` | 0 | **survives** |"));
        assert_eq!(code_list(&["a", "b", "c"], 2), "`a`, `b`, and 1 more");
    }
}
