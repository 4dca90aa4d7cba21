//! `--report junit=PATH`: JUnit XML, one `testsuite` per suite.

use crate::engine::{CaseResult, Verdict};

/// The JUnit XML report: one `testsuite` per suite, `testcase` name = full case id.
pub fn junit(results: &[CaseResult]) -> Result<String, String> {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new("conformance");
    let mut suites: Vec<(String, TestSuite)> = Vec::new();
    for result in results {
        let i = &result.instance;
        let message = result
            .findings
            .iter()
            .map(|f| format!("{}:{}: {}", i.file.display(), f.line, f.message))
            .collect::<Vec<_>>()
            .join("\n");
        let mut status = match result.verdict {
            Verdict::Pass | Verdict::NonStrict => TestCaseStatus::success(),
            Verdict::Fail => TestCaseStatus::non_success(NonSuccessKind::Failure),
            Verdict::Error => TestCaseStatus::non_success(NonSuccessKind::Error),
            Verdict::Unsupported | Verdict::Skipped => TestCaseStatus::skipped(),
        };
        if !matches!(result.verdict, Verdict::Pass | Verdict::NonStrict) {
            status.set_message(message.clone());
        }
        let mut case = TestCase::new(i.id.clone(), status);
        case.set_classname(i.suite.clone());
        case.set_time(result.duration);
        if result.verdict == Verdict::NonStrict {
            case.set_system_out(format!("NON-STRICT\n{message}"));
        }
        match suites.iter_mut().find(|(name, _)| name == &i.suite) {
            Some((_, suite)) => {
                suite.add_test_case(case);
            }
            None => {
                let mut suite = TestSuite::new(i.suite.clone());
                suite.add_test_case(case);
                suites.push((i.suite.clone(), suite));
            }
        }
    }
    report.add_test_suites(suites.into_iter().map(|(_, s)| s));
    report.to_string().map_err(|e| e.to_string())
}
