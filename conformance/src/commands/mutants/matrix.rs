//! `conformance mutants matrix`: every suite against the clean server and against every
//! mutant, each a built-in server on a free loopback port in this process. A case instance
//! that FAILs against a mutant kills it (what makes `conformance run` exit 1 without
//! `--strict`); one that is only NON-STRICT sees it with `--strict`. A `must` mutant
//! ([`Severity::Must`]) has to be killed, a `should` mutant at least seen; otherwise it
//! survives (the suites cannot see its defect, or grade it too leniently). The result is a
//! markdown table. Then the spec catalogue is checked against the kills: each mutant it links
//! to a statement or official test must be killed by one of that statement's or test's case
//! instances ([`crate::coverage::unproven`]); the pairs that are not fail the command.

use super::{Mutant, Settings, Severity, server};
use crate::engine::{RunSettings, Verdict};
use crate::exit;
use crate::fixture::Suite;
use crate::matcher::Captures;
use crate::runner::{self, Selection};
use crate::transport::target::Target;
use clap::Args;
use std::collections::{BTreeMap, BTreeSet};
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
    /// Only these mutants (repeatable; default: all; `none`, the clean server, always runs).
    #[arg(long = "mutant", value_name = "NAME", value_parser = super::parse_mutant)]
    pub mutants: Vec<Mutant>,
    /// The suites whose cases meet the mutants.
    #[command(flatten)]
    pub fixtures: crate::fixture::builtin::FixtureArgs,
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
    /// The case instances that FAIL (they kill the mutant at default strictness).
    pub fn killers(&self) -> Vec<&str> {
        self.with_verdict(Verdict::Fail)
    }

    /// The case instances that are NON-STRICT (they see the mutant with `--strict` only).
    pub fn strict_killers(&self) -> Vec<&str> {
        self.with_verdict(Verdict::NonStrict)
    }

    /// The case instances that do not PASS (the clean server must have none).
    pub fn not_passing(&self) -> Vec<&str> {
        self.verdicts
            .iter()
            .filter(|(_, verdict)| *verdict != Verdict::Pass)
            .map(|(id, _)| id.as_str())
            .collect()
    }

    fn with_verdict(&self, wanted: Verdict) -> Vec<&str> {
        self.verdicts
            .iter()
            .filter(|(_, verdict)| *verdict == wanted)
            .map(|(id, _)| id.as_str())
            .collect()
    }

    /// Whether the suites catch the mutant as its severity demands: a `must` mutant FAILs
    /// a default run, a `should` mutant is at least seen with `--strict`.
    pub fn caught(&self) -> bool {
        !self.killers().is_empty()
            || (self.mutant.severity() == Severity::Should && !self.strict_killers().is_empty())
    }

    /// A `must` mutant that only `--strict` sees: the cases that see it grade it too
    /// leniently.
    pub fn strict_only_must(&self) -> bool {
        self.mutant.severity() == Severity::Must
            && self.killers().is_empty()
            && !self.strict_killers().is_empty()
    }
}

/// `conformance mutants matrix`.
pub fn matrix(args: &MatrixArgs) -> u8 {
    let suites = match crate::commands::common::load_suites(&args.fixtures) {
        Ok(suites) => Arc::new(suites),
        Err(code) => return code,
    };
    let started = Instant::now();
    // The clean server always runs first; `--mutant none` only asks for it.
    let mutants: Vec<Mutant> = if args.mutants.is_empty() {
        Mutant::defects().collect()
    } else {
        let mut chosen: Vec<Mutant> = args
            .mutants
            .iter()
            .copied()
            .filter(|m| *m != Mutant::None)
            .collect();
        chosen.dedup();
        chosen
    };
    crate::commands::common::block_on(async {
        match run_all(args, &suites, &mutants).await {
            Ok((clean, mutated)) => {
                let matrix = report(args, &clean, &mutated, started.elapsed());
                let proof = check_catalogue(&suites, &mutated);
                if matrix == exit::OK { proof } else { matrix }
            }
            Err(e) => {
                eprintln!("error: {e}");
                exit::HARNESS
            }
        }
    })
}

/// Writes the matrix, prints the summary, and says whether everything is as it should be
/// (the clean server passes every case, every mutant is caught as its severity demands).
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
    let clean_failures = clean.not_passing();
    let survivors: Vec<_> = mutated.iter().filter(|o| !o.caught()).collect();
    for id in &clean_failures {
        eprintln!("clean server: {id} did not pass");
    }
    for survivor in &survivors {
        let how = if survivor.strict_only_must() {
            format!(
                "seen only with --strict, by {}",
                survivor.strict_killers().join(", ")
            )
        } else {
            "not seen".to_owned()
        };
        eprintln!(
            "SURVIVED {} ({}; {how}): {}",
            survivor.mutant,
            survivor.mutant.severity().name(),
            survivor.mutant.description()
        );
    }
    eprintln!(
        "{} mutants: {} caught, {} survived; clean server: {} of {} cases pass; {:.0?}",
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

/// Mutant name → the case instances that kill it (FAIL at default strictness), for
/// [`crate::coverage::unproven`].
pub fn kills(outcomes: &[Outcome]) -> BTreeMap<String, BTreeSet<String>> {
    outcomes
        .iter()
        .map(|o| {
            let killers = o.killers().into_iter().map(str::to_owned).collect();
            (o.mutant.name().to_owned(), killers)
        })
        .collect()
}

/// The cross-check with the spec coverage map: every (statement → mutant) and (official
/// test → mutant) pair of the catalogue (`fixtures/spec/`) whose mutant ran must be killed by
/// one of the case instances linked to that statement or test. Prints the pairs that are not
/// and says whether there were none.
fn check_catalogue(suites: &[Suite], mutated: &[Outcome]) -> u8 {
    match crate::coverage::unproven(suites, &kills(mutated)) {
        Ok(problems) if problems.is_empty() => {
            eprintln!(
                "spec catalogue: every (statement → mutant) pair whose mutant ran is killed by a linked case"
            );
            exit::OK
        }
        Ok(problems) => {
            for problem in &problems {
                eprintln!("UNPROVEN {problem}");
            }
            eprintln!(
                "spec catalogue: {} (statement → mutant) pairs not killed by a linked case (fixtures/spec/)",
                problems.len()
            );
            exit::FAILURES
        }
        Err(e) => {
            eprintln!("error: the spec catalogue: {e}");
            exit::USAGE
        }
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
        clean.not_passing().len(),
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
        let (fail, strict) = (outcome.killers().len(), outcome.strict_killers().len());
        let verdict = if !outcome.caught() {
            "SURVIVED "
        } else if fail > 0 {
            "killed   "
        } else {
            "seen     "
        };
        eprintln!(
            "{verdict} {mutant} ({}): {fail} FAIL, {strict} NON-STRICT ({:.1?}){note}",
            mutant.severity().name(),
            outcome.duration
        );
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
                // Both runs missed: the milder of the two verdicts counts (a FAIL that is
                // only NON-STRICT on its re-run does not kill).
                (first, Some(again)) => (id, milder(first, again)),
                (first, None) => (id, first),
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

/// Of two verdicts of the same instance, the one that says less against the server
/// (NON-STRICT before FAIL; anything else, such as ERROR, counts as neither).
fn milder(a: Verdict, b: Verdict) -> Verdict {
    let rank = |v: Verdict| match v {
        Verdict::Pass => 0,
        Verdict::NonStrict => 1,
        Verdict::Fail => 3,
        _ => 2,
    };
    if rank(a) <= rank(b) { a } else { b }
}

/// The matrix as markdown: the clean server's result, then one row per mutant.
pub fn markdown(clean: &Outcome, mutants: &[Outcome]) -> String {
    let cases = clean.verdicts.len();
    let clean_failures = clean.not_passing();
    let count = |severity: Severity| {
        mutants
            .iter()
            .filter(move |o| o.mutant.severity() == severity)
    };
    let must = count(Severity::Must).count();
    let must_killed = count(Severity::Must).filter(|o| o.caught()).count();
    let should = count(Severity::Should).count();
    let should_seen = count(Severity::Should).filter(|o| o.caught()).count();
    let should_failed = count(Severity::Should)
        .filter(|o| !o.killers().is_empty())
        .count();
    let mut text = String::from(
        "# Kill matrix\n\n\
         Generated by `conformance mutants matrix --out docs/kill-matrix.md` (do not edit by hand).\n\
         Each mutant is the built-in contract server (`conformance mutants serve --mutant NAME`,\n\
         code in `mutants/`, crate `sio-mutants`) with one deliberate defect. Every case instance of\n\
         every suite runs against it. An instance **kills** the mutant when it FAILs, i.e. when a\n\
         default `conformance run` (without `--strict`) would exit 1; an instance that is only\n\
         NON-STRICT sees the defect with `--strict` alone. Instances that miss run once more and\n\
         the milder verdict of the two counts, so that a timing window missed under load does not.\n\n\
         Each mutant has a severity. **must**: the defect breaks a MUST / MUST NOT of the\n\
         Engine.IO or Socket.IO protocol documents, an assertion of the official test suites, or a\n\
         behaviour of the contract (docs/contract.md); a default run has to FAIL it. **should**: a\n\
         SHOULD-level detail, or an encoding or timing where the reference's choice is one of\n\
         several legitimate ones; a NON-STRICT finding is enough. A mutant that is not caught that\n\
         way **survives**: no case sees its defect, or the cases that see it grade it too leniently.\n\n",
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
        "**Mutants:** {}. `must`: {must}, {must_killed} killed by a default run, {} survived. \
         `should`: {should}, {should_seen} seen ({should_failed} of them FAIL a default run too), \
         {} not seen.\n\n",
        mutants.len(),
        must - must_killed,
        should - should_seen,
    ));
    let lenient: Vec<&str> = mutants
        .iter()
        .filter(|o| o.strict_only_must())
        .map(|o| o.mutant.name())
        .collect();
    if !lenient.is_empty() {
        text.push_str(&format!(
            "**`must` mutants seen only with `--strict`** (the cases that see them grade the \
             defect NON-STRICT): {}.\n\n",
            code_list(&lenient, usize::MAX)
        ));
    }
    text.push_str(
        "| mutant | severity | FAIL (default run) | NON-STRICT only (`--strict`) | defect |\n\
         |---|---|---|---|---|\n",
    );
    for outcome in mutants {
        let column = |ids: Vec<&str>| {
            if ids.is_empty() {
                "–".to_owned()
            } else {
                format!("{}: {}", ids.len(), code_list(&ids, LISTED))
            }
        };
        let mut fail = column(outcome.killers());
        if !outcome.caught() {
            fail = format!("**survives** ({fail})");
        }
        text.push_str(&format!(
            "| `{}` | {} | {fail} | {} | {} |\n",
            outcome.mutant,
            outcome.mutant.severity().name(),
            column(outcome.strict_killers()),
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
    fn markdown_separates_default_and_strict_kills() {
        let clean = outcome(Mutant::None, &[("a", Verdict::Pass), ("b", Verdict::Pass)]);
        let killed = outcome(
            Mutant::NeverPing,
            &[("a", Verdict::Fail), ("b", Verdict::NonStrict)],
        );
        // A `must` mutant seen only with --strict survives.
        let lenient = outcome(
            Mutant::WrongAckId,
            &[("a", Verdict::NonStrict), ("b", Verdict::Pass)],
        );
        // A `should` mutant seen with --strict is caught.
        let seen = outcome(
            Mutant::JsonWithSpaces,
            &[("a", Verdict::Pass), ("b", Verdict::NonStrict)],
        );
        let unseen = outcome(
            Mutant::NamespaceNotElided,
            &[("a", Verdict::Pass), ("b", Verdict::Error)],
        );
        assert!(killed.caught() && seen.caught());
        assert!(!lenient.caught() && lenient.strict_only_must());
        assert!(!unseen.caught() && !unseen.strict_only_must());
        let text = markdown(&clean, &[killed, lenient, seen, unseen]);
        assert!(text.contains("all 2 case instances PASS"));
        assert!(text.contains(
            "**Mutants:** 4. `must`: 2, 1 killed by a default run, 1 survived. \
             `should`: 2, 1 seen (0 of them FAIL a default run too), 1 not seen."
        ));
        assert!(text.contains("seen only with `--strict`** (the cases that see them grade the defect NON-STRICT): `wrong-ack-id`."));
        assert!(text.contains(
            "| `never-ping` | must | 1: `a` | 1: `b` | The server never sends a ping (Engine.IO v4). |"
        ));
        assert!(text.contains("| `wrong-ack-id` | must | **survives** (–) | 1: `a` |"));
        assert!(text.contains("| `json-with-spaces` | should | – | 1: `b` |"));
        assert!(text.contains("| `namespace-not-elided` | should | **survives** (–) | – |"));
        assert_eq!(code_list(&["a", "b", "c"], 2), "`a`, `b`, and 1 more");
    }

    #[test]
    fn kills_map_each_mutant_to_its_failing_instances() {
        let killed = outcome(
            Mutant::NeverPing,
            &[
                ("a", Verdict::Fail),
                ("b", Verdict::NonStrict),
                ("c", Verdict::Fail),
            ],
        );
        let unseen = outcome(Mutant::WrongAckId, &[("a", Verdict::Pass)]);
        let map = kills(&[killed, unseen]);
        assert_eq!(map.len(), 2);
        assert_eq!(
            map["never-ping"],
            BTreeSet::from(["a".to_owned(), "c".to_owned()])
        );
        assert!(map["wrong-ack-id"].is_empty());
    }

    #[test]
    fn the_milder_verdict_of_a_rerun_counts() {
        assert_eq!(
            milder(Verdict::Fail, Verdict::NonStrict),
            Verdict::NonStrict
        );
        assert_eq!(
            milder(Verdict::NonStrict, Verdict::Fail),
            Verdict::NonStrict
        );
        assert_eq!(milder(Verdict::Fail, Verdict::Fail), Verdict::Fail);
        assert_eq!(milder(Verdict::Fail, Verdict::Error), Verdict::Error);
        assert_eq!(
            milder(Verdict::NonStrict, Verdict::Error),
            Verdict::NonStrict
        );
    }
}
