//! Polygon's "full" package, as Polygon exports it: `problem.xml`, the
//! tests of the testset named `tests` (generated ones included) and the
//! checker's source.
//!
//! What is read: the title (`<names>`, English) and id (`short-name`); the
//! testset's time and memory limits, test count and path patterns (`%d` or
//! `%0Nd`); each test's points and group; the groups' points, points policy
//! (`complete-group` is one task, `each-test` one task per test) and
//! dependencies (tasks that must be fully accepted first); the testlib
//! checker's source. What is ignored: statements, validators (they check
//! tests, not solutions), generators, solutions, other testsets, feedback
//! policies. An interactor (`<assets><interactor>`) makes the problem
//! interactive. What is refused: files instead of standard
//! input/output, several runs, checkers that are not testlib's, groups that
//! are not declared or depend on later ones, tests missing from the package.

use std::collections::{BTreeMap, BTreeSet};

use roxmltree::{Document, Node};

use super::checks::{check_id, check_program_path, check_relative};
use super::files::{PackageFiles, read_text};
use super::model::{
    CasePaths, CheckerRef, CheckerSpec, Interactor, Limits, MAX_CASES, PROBLEM_XML, PackageFormat,
    Problem, ProblemError, Task,
};

/// The testset Polygon judges with.
const TESTSET: &str = "tests";

fn error(message: impl Into<String>) -> ProblemError {
    ProblemError::new(PROBLEM_XML, message)
}

/// Reads a Polygon package.
pub(super) fn load(
    files: &dyn PackageFiles,
    listed: &BTreeSet<String>,
    fallback_id: &str,
) -> Result<Problem, ProblemError> {
    let text = read_text(files, PROBLEM_XML)?;
    let doc = Document::parse(&text)
        .map_err(|e| error(format!("line {}: {}", e.pos().row, one_line(&e.to_string()))))?;
    let root = doc.root_element();
    if root.tag_name().name() != "problem" {
        return Err(error(format!(
            "the root element is <{}>, not <problem>",
            root.tag_name().name()
        )));
    }
    let short_name = root.attribute("short-name");
    let id = match short_name {
        Some(name) if check_id(name, PROBLEM_XML, "short-name").is_ok() => name.to_string(),
        _ => fallback_id.to_string(),
    };
    check_id(&id, PROBLEM_XML, "id")?;
    let title = english_name(root).or(short_name).unwrap_or(&id).to_string();
    let judging = child(root, "judging").ok_or_else(|| error("judging: missing"))?;
    check_judging(judging)?;
    let testset = judging
        .children()
        .find(|n| n.has_tag_name("testset") && n.attribute("name") == Some(TESTSET))
        .ok_or_else(|| error(format!("judging: no testset named {TESTSET:?}")))?;
    let limits = testset_limits(testset)?;
    let (patterns, cases) = test_files(testset)?;
    let tests = read_tests(testset, cases.len())?;
    check_tests_present(&patterns, &cases, &tests, listed)?;
    let groups = read_groups(testset)?;
    let (tasks, scoring) = tasks(&tests, &groups, &cases, limits)?;
    let (checker, checker_origin) = checker(root)?;
    let interactor = interactor(root)?;
    let mut origins = BTreeMap::from([
        ("limits".to_string(), format!("{PROBLEM_XML}: testset {TESTSET:?}")),
        (
            "tests".to_string(),
            format!("{PROBLEM_XML}: {}, answers {}", patterns.input_raw, patterns.answer_raw),
        ),
        ("scoring".to_string(), format!("{PROBLEM_XML}: {scoring}")),
        ("checker".to_string(), format!("{PROBLEM_XML}: {checker_origin}")),
    ]);
    if let Some(interactor) = &interactor {
        origins.insert(
            "interactor".to_string(),
            format!("{PROBLEM_XML}: interactor {}", interactor.path),
        );
    }
    Ok(Problem {
        id,
        title,
        format: PackageFormat::Polygon,
        checker: CheckerSpec { plugin: checker, args: Vec::new() },
        interactor,
        tasks,
        case_paths: Some(CasePaths { input: patterns.input, answer: patterns.answer }),
        origins,
    })
}

/// A parser's message on one line.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first child element named `tag`.
fn child<'a, 'input>(node: Node<'a, 'input>, tag: &str) -> Option<Node<'a, 'input>> {
    node.children().find(|n| n.has_tag_name(tag))
}

/// `<names><name language="english" value="…"/></names>`.
fn english_name<'a>(root: Node<'a, '_>) -> Option<&'a str> {
    child(root, "names")?
        .children()
        .find(|n| n.has_tag_name("name") && n.attribute("language") == Some("english"))?
        .attribute("value")
        .filter(|v| !v.trim().is_empty())
}

/// Solutions read standard input and write standard output, once.
fn check_judging(judging: Node) -> Result<(), ProblemError> {
    for attribute in ["input-file", "output-file"] {
        if let Some(file) = judging.attribute(attribute).filter(|f| !f.is_empty()) {
            return Err(error(format!(
                "judging.{attribute}: {file:?}: solutions that use files instead of standard \
                 input and output are not supported"
            )));
        }
    }
    match judging.attribute("run-count") {
        None | Some("1") => Ok(()),
        Some(n) => Err(error(format!(
            "judging.run-count: {n:?}: problems that run a solution several times are not supported"
        ))),
    }
}

/// The text of the child element `tag` of the testset, parsed.
fn testset_number<T: std::str::FromStr>(testset: Node, tag: &str) -> Result<T, ProblemError> {
    let at = format!("testset {TESTSET:?}.{tag}");
    let text = child(testset, tag)
        .and_then(|n| n.text())
        .map(str::trim)
        .ok_or_else(|| error(format!("{at}: missing")))?;
    text.parse().map_err(|_| error(format!("{at}: {text:?} is not a whole number")))
}

/// `<time-limit>` (ms) and `<memory-limit>` (bytes, rounded up to MiB).
fn testset_limits(testset: Node) -> Result<Limits, ProblemError> {
    let time_ms: u64 = testset_number(testset, "time-limit")?;
    let memory_bytes: u64 = testset_number(testset, "memory-limit")?;
    let limits = Limits {
        time_ms,
        memory_mb: memory_bytes.div_ceil(1 << 20),
        output_kb: Limits::default().output_kb,
    };
    limits.validate(PROBLEM_XML, &format!("testset {TESTSET:?}: "))?;
    Ok(limits)
}

/// Where a test's files are, as Polygon's printf patterns and as templates.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Patterns {
    input_raw: String,
    answer_raw: String,
    input: String,
    answer: String,
}

/// The path patterns and the case names (the formatted test numbers).
fn test_files(testset: Node) -> Result<(Patterns, Vec<String>), ProblemError> {
    let count: usize = testset_number(testset, "test-count")?;
    if count == 0 || count > MAX_CASES {
        return Err(error(format!(
            "testset {TESTSET:?}.test-count: {count} is out of range 1..={MAX_CASES}"
        )));
    }
    let pattern = |tag: &str| {
        let at = format!("testset {TESTSET:?}.{tag}");
        let raw = child(testset, tag)
            .and_then(|n| n.text())
            .map(str::trim)
            .ok_or_else(|| error(format!("{at}: missing")))?;
        let (template, width) = number_pattern(raw, &at)?;
        Ok::<_, ProblemError>((raw.to_string(), template, width))
    };
    let (input_raw, input, width) = pattern("input-path-pattern")?;
    let (answer_raw, answer, answer_width) = pattern("answer-path-pattern")?;
    if width != answer_width {
        return Err(error(format!(
            "testset {TESTSET:?}.answer-path-pattern: {answer_raw:?} numbers tests unlike \
             input-path-pattern {input_raw:?}"
        )));
    }
    let cases = (1..=count).map(|n| format!("{n:0width$}")).collect();
    Ok((Patterns { input_raw, answer_raw, input, answer }, cases))
}

/// A printf pattern with one `%d` or `%0Nd` → a template with `{case}` and
/// the zero-padded width (0 for `%d`).
fn number_pattern(raw: &str, at: &str) -> Result<(String, usize), ProblemError> {
    let refuse = || {
        error(format!(
            "{at}: {raw:?} must hold one %d or %0Nd (other printf forms are not supported)"
        ))
    };
    let (prefix, rest) = raw.split_once('%').ok_or_else(refuse)?;
    let end = rest.find('d').ok_or_else(refuse)?;
    let (spec, suffix) = (&rest[..end], &rest[end + 1..]);
    let width = match spec {
        "" => 0,
        padded if padded.len() <= 3 && padded.starts_with('0') => {
            padded[1..].parse::<usize>().map_err(|_| refuse())?
        }
        _ => return Err(refuse()),
    };
    if suffix.contains('%') || prefix.contains('{') || suffix.contains('{') {
        return Err(refuse());
    }
    let template = format!("{prefix}{{case}}{suffix}");
    check_relative(&template.replace("{case}", "1"), PROBLEM_XML, at)?;
    Ok((template, width))
}

/// One `<test>` of the testset.
#[derive(Debug, Clone, PartialEq)]
struct Test {
    generated: bool,
    points: Option<f64>,
    group: Option<String>,
}

/// The `<tests>`: as many as `<test-count>` says.
fn read_tests(testset: Node, count: usize) -> Result<Vec<Test>, ProblemError> {
    let tests: Vec<Node> = child(testset, "tests")
        .map(|t| t.children().filter(|n| n.has_tag_name("test")).collect())
        .unwrap_or_default();
    if tests.len() != count {
        return Err(error(format!(
            "testset {TESTSET:?}: test-count says {count} but <tests> lists {}",
            tests.len()
        )));
    }
    tests
        .iter()
        .enumerate()
        .map(|(i, test)| {
            let at = format!("testset {TESTSET:?}.tests[{}]", i + 1);
            Ok(Test {
                generated: test.attribute("method") == Some("generated"),
                points: test.attribute("points").map(|p| points(p, &at)).transpose()?,
                group: test.attribute("group").filter(|g| !g.is_empty()).map(str::to_string),
            })
        })
        .collect()
}

/// A `points` attribute: a number ≥ 0.
fn points(text: &str, at: &str) -> Result<f64, ProblemError> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|p| p.is_finite() && *p >= 0.0)
        .ok_or_else(|| error(format!("{at}.points: {text:?} is not a number ≥ 0")))
}

/// Every test's input and answer must be in the package: a full package
/// holds the generated tests and the main solution's answers.
fn check_tests_present(
    patterns: &Patterns,
    cases: &[String],
    tests: &[Test],
    listed: &BTreeSet<String>,
) -> Result<(), ProblemError> {
    for (case, test) in cases.iter().zip(tests) {
        let input = patterns.input.replace("{case}", case);
        if !listed.contains(&input) {
            return Err(error(if test.generated {
                format!(
                    "{input} is generated and not in the package: export a full package with \
                     generated tests"
                )
            } else {
                format!("{input} is not in the package")
            }));
        }
        let answer = patterns.answer.replace("{case}", case);
        if !listed.contains(&answer) {
            return Err(error(format!(
                "{answer} is not in the package: export a full package, which holds every answer"
            )));
        }
    }
    Ok(())
}

/// How a group's points are earned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    /// All or nothing: one task.
    CompleteGroup,
    /// Each test on its own: one task per test.
    EachTest,
}

/// One `<group>` of the testset.
#[derive(Debug, Clone, PartialEq)]
struct Group {
    name: String,
    points: Option<f64>,
    policy: Policy,
    dependencies: Vec<String>,
}

/// The `<groups>`, in the order listed.
fn read_groups(testset: Node) -> Result<Vec<Group>, ProblemError> {
    let Some(groups) = child(testset, "groups") else { return Ok(Vec::new()) };
    groups
        .children()
        .filter(|n| n.has_tag_name("group"))
        .enumerate()
        .map(|(i, group)| {
            let name = group.attribute("name").unwrap_or_default().to_string();
            let at = format!("testset {TESTSET:?}.groups[{}] {name:?}", i + 1);
            if name.is_empty() {
                return Err(error(format!("{at}: missing name")));
            }
            let policy = match group.attribute("points-policy") {
                None | Some("complete-group") => Policy::CompleteGroup,
                Some("each-test") => Policy::EachTest,
                Some(other) => {
                    return Err(error(format!(
                        "{at}.points-policy: {other:?} is not complete-group or each-test"
                    )));
                }
            };
            let dependencies = child(group, "dependencies")
                .map(|d| {
                    d.children()
                        .filter(|n| n.has_tag_name("dependency"))
                        .filter_map(|n| n.attribute("group").map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            Ok(Group {
                points: group.attribute("points").map(|p| points(p, &at)).transpose()?,
                name,
                policy,
                dependencies,
            })
        })
        .collect()
}

/// The tasks, and how they were scored (for the origins): groups in the
/// order listed, else one task per test with points, else one task of 100.
fn tasks(
    tests: &[Test],
    groups: &[Group],
    cases: &[String],
    limits: Limits,
) -> Result<(Vec<Task>, String), ProblemError> {
    let task = |score: f64, cases: Vec<String>| Task { score, limits, cases, depends_on: vec![] };
    let any_points = tests.iter().any(|t| t.points.is_some());
    if groups.is_empty() {
        if let Some((case, test)) = cases.iter().zip(tests).find(|(_, t)| t.group.is_some()) {
            return Err(error(format!(
                "test {case}: group {:?}, but the testset declares no <groups>",
                test.group.as_deref().unwrap_or_default()
            )));
        }
        if !any_points {
            return Ok((vec![task(100.0, cases.to_vec())], "no points: one task of 100".into()));
        }
        let tasks = cases
            .iter()
            .zip(tests)
            .map(|(case, t)| task(t.points.unwrap_or(0.0), vec![case.clone()]))
            .collect();
        return Ok((tasks, "test points: one task per test".into()));
    }
    let members = group_members(tests, groups, cases)?;
    if !any_points && groups.iter().all(|g| g.points.is_none()) {
        return Ok((
            vec![task(100.0, cases.to_vec())],
            "groups without points: one task of 100".into(),
        ));
    }
    let mut tasks: Vec<Task> = Vec::new();
    let mut tasks_of: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut described = Vec::new();
    for (group, members) in groups.iter().zip(&members) {
        let depends_on = dependencies(group, groups, &tasks_of)?;
        let first = tasks.len();
        match group.policy {
            Policy::CompleteGroup => {
                let sum = members.iter().map(|&i| tests[i].points.unwrap_or(0.0)).sum();
                let cases = members.iter().map(|&i| cases[i].clone()).collect();
                tasks.push(Task {
                    depends_on: depends_on.clone(),
                    ..task(group.points.unwrap_or(sum), cases)
                });
            }
            Policy::EachTest => {
                for &i in members {
                    let each = task(tests[i].points.unwrap_or(0.0), vec![cases[i].clone()]);
                    tasks.push(Task { depends_on: depends_on.clone(), ..each });
                }
            }
        }
        tasks_of.insert(&group.name, (first..tasks.len()).collect());
        described.push(describe(group));
    }
    Ok((tasks, format!("groups {}", described.join(", "))))
}

/// `1 (complete-group, after 0)`.
fn describe(group: &Group) -> String {
    let policy = match group.policy {
        Policy::CompleteGroup => "complete-group",
        Policy::EachTest => "each-test",
    };
    if group.dependencies.is_empty() {
        format!("{} ({policy})", group.name)
    } else {
        format!("{} ({policy}, after {})", group.name, group.dependencies.join(" "))
    }
}

/// Which tests (by index) each group holds; every test in a declared group,
/// every group with a test.
fn group_members(
    tests: &[Test],
    groups: &[Group],
    cases: &[String],
) -> Result<Vec<Vec<usize>>, ProblemError> {
    let mut members = vec![Vec::new(); groups.len()];
    for (i, (case, test)) in cases.iter().zip(tests).enumerate() {
        let Some(name) = &test.group else {
            return Err(error(format!("test {case}: no group, but the testset has groups")));
        };
        let Some(g) = groups.iter().position(|g| &g.name == name) else {
            return Err(error(format!("test {case}: group {name:?} is not declared in <groups>")));
        };
        members[g].push(i);
    }
    if let Some((group, _)) = groups.iter().zip(&members).find(|(_, m)| m.is_empty()) {
        return Err(error(format!("group {:?} has no tests", group.name)));
    }
    Ok(members)
}

/// The tasks of the groups `group` depends on, which must be listed before
/// it (so there is no cycle).
fn dependencies(
    group: &Group,
    groups: &[Group],
    tasks_of: &BTreeMap<&str, Vec<usize>>,
) -> Result<Vec<usize>, ProblemError> {
    let mut depends_on = BTreeSet::new();
    for name in &group.dependencies {
        if let Some(tasks) = tasks_of.get(name.as_str()) {
            depends_on.extend(tasks);
            continue;
        }
        let at = format!("group {:?}", group.name);
        return Err(error(if name == &group.name {
            format!("{at}: depends on itself")
        } else if groups.iter().any(|g| &g.name == name) {
            format!(
                "{at}: depends on group {name:?}, which is listed after it (a cycle, or list the \
                 groups in the order they depend on each other)"
            )
        } else {
            format!("{at}: depends on group {name:?}, which is not declared")
        }));
    }
    Ok(depends_on.into_iter().collect())
}

/// The interactor's source (`<assets><interactor><source path=…>`), if
/// the problem is interactive: its checker then judges what it wrote to
/// `tout`, as in Polygon.
fn interactor(root: Node) -> Result<Option<Interactor>, ProblemError> {
    let Some(interactor) = child(root, "assets").and_then(|a| child(a, "interactor")) else {
        return Ok(None);
    };
    let path = child(interactor, "source").and_then(|s| s.attribute("path")).ok_or_else(|| {
        error("assets.interactor.source: missing (a full package ships the source)")
    })?;
    check_program_path(path, PROBLEM_XML, "assets.interactor.source")?;
    Ok(Some(Interactor {
        path: path.to_string(),
        time_ms: None,
        memory_mb: None,
        then_checker: true,
    }))
}

/// The testlib checker's source, and its origin (`checker std::wcmp.cpp
/// (files/check.cpp)`).
fn checker(root: Node) -> Result<(CheckerRef, String), ProblemError> {
    let assets = child(root, "assets").ok_or_else(|| error("assets: missing (no checker)"))?;
    let checker = child(assets, "checker").ok_or_else(|| error("assets.checker: missing"))?;
    match checker.attribute("type") {
        None | Some("testlib") => {}
        Some(other) => {
            return Err(error(format!(
                "assets.checker.type: {other:?}: only testlib checkers are supported"
            )));
        }
    }
    let path = child(checker, "source")
        .and_then(|s| s.attribute("path"))
        .ok_or_else(|| error("assets.checker.source: missing (a full package ships the source)"))?;
    check_program_path(path, PROBLEM_XML, "assets.checker.source")?;
    let origin = match checker.attribute("name") {
        Some(name) => format!("checker {name} ({path})"),
        None => format!("checker {path}"),
    };
    Ok((CheckerRef::Testlib(path.to_string()), origin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printf_patterns_become_templates() {
        assert_eq!(number_pattern("tests/%02d", "p").unwrap(), ("tests/{case}".into(), 2));
        assert_eq!(number_pattern("tests/%d.a", "p").unwrap(), ("tests/{case}.a".into(), 0));
        assert_eq!(number_pattern("t/%03d/in.txt", "p").unwrap(), ("t/{case}/in.txt".into(), 3));
        for bad in ["tests/01", "tests/%s", "tests/%2d", "tests/%02d-%02d", "%x", "../%d", "t/%%d"]
        {
            let e = number_pattern(bad, "p").unwrap_err().to_string();
            assert!(e.starts_with("problem.xml: p: "), "{bad}: {e}");
        }
    }

    fn test(points: Option<f64>, group: Option<&str>) -> Test {
        Test { generated: false, points, group: group.map(str::to_string) }
    }

    fn group(name: &str, points: Option<f64>, policy: Policy, deps: &[&str]) -> Group {
        Group {
            name: name.into(),
            points,
            policy,
            dependencies: deps.iter().map(|d| d.to_string()).collect(),
        }
    }

    fn names(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("{i:02}")).collect()
    }

    #[test]
    fn groups_become_tasks_in_the_order_listed() {
        let tests = [
            test(Some(0.0), Some("0")),
            test(Some(10.0), Some("2")),
            test(Some(5.0), Some("1")),
            test(Some(5.0), Some("1")),
            test(Some(0.0), Some("0")),
        ];
        let groups = [
            group("0", None, Policy::EachTest, &[]),
            group("1", None, Policy::CompleteGroup, &["0"]),
            group("2", Some(70.0), Policy::CompleteGroup, &["1", "0"]),
        ];
        let (tasks, origin) = tasks(&tests, &groups, &names(5), Limits::default()).unwrap();
        let got: Vec<_> =
            tasks.iter().map(|t| (t.score, t.cases.clone(), t.depends_on.clone())).collect();
        assert_eq!(
            got,
            [
                (0.0, vec!["01".to_string()], vec![]),
                (0.0, vec!["05".to_string()], vec![]),
                (10.0, vec!["03".to_string(), "04".to_string()], vec![0, 1]),
                (70.0, vec!["02".to_string()], vec![0, 1, 2]),
            ]
        );
        assert_eq!(
            origin,
            "groups 0 (each-test), 1 (complete-group, after 0), 2 (complete-group, after 1 0)"
        );
    }

    #[test]
    fn without_groups_points_make_one_task_per_test() {
        let tests = [test(Some(30.0), None), test(Some(70.0), None)];
        let (t, _) = tasks(&tests, &[], &names(2), Limits::default()).unwrap();
        assert_eq!(t.iter().map(|t| t.score).collect::<Vec<_>>(), [30.0, 70.0]);
        let (t, origin) =
            tasks(&[test(None, None), test(None, None)], &[], &names(2), Limits::default())
                .unwrap();
        assert_eq!((t.len(), t[0].score, t[0].cases.len()), (1, 100.0, 2));
        assert_eq!(origin, "no points: one task of 100");
    }

    #[test]
    fn bad_groups_are_refused_by_name() {
        let refused = |tests: &[Test], groups: &[Group]| {
            tasks(tests, groups, &names(tests.len()), Limits::default()).unwrap_err().to_string()
        };
        let one = |deps: &[&str]| vec![group("a", Some(1.0), Policy::CompleteGroup, deps)];
        assert_eq!(
            refused(&[test(None, Some("a"))], &one(&["a"])),
            "problem.xml: group \"a\": depends on itself"
        );
        assert_eq!(
            refused(&[test(None, Some("a"))], &one(&["z"])),
            "problem.xml: group \"a\": depends on group \"z\", which is not declared"
        );
        let two = [
            group("a", Some(1.0), Policy::CompleteGroup, &["b"]),
            group("b", Some(1.0), Policy::CompleteGroup, &["a"]),
        ];
        assert!(
            refused(&[test(None, Some("a")), test(None, Some("b"))], &two)
                .contains("which is listed after it (a cycle")
        );
        assert_eq!(
            refused(&[test(None, Some("x"))], &one(&[])),
            "problem.xml: test 01: group \"x\" is not declared in <groups>"
        );
        assert_eq!(
            refused(&[test(None, None)], &one(&[])),
            "problem.xml: test 01: no group, but the testset has groups"
        );
        assert_eq!(
            refused(
                &[test(None, Some("a"))],
                &[one(&[]), vec![group("b", None, Policy::EachTest, &[])]].concat()
            ),
            "problem.xml: group \"b\" has no tests"
        );
        assert_eq!(
            refused(&[test(None, Some("a"))], &[]),
            "problem.xml: test 01: group \"a\", but the testset declares no <groups>"
        );
    }
}
