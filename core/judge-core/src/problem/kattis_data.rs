//! A Kattis package's test data: the cases of `data/sample/` and
//! `data/secret/` (test groups are folders of `secret/`, at most 3 deep),
//! the `testdata.yaml` settings each folder inherits key by key from its
//! parent, and the tasks they make.
//!
//! Scoring follows Kattis' default grader in the subset Gavel can express:
//! a case earns `accept_score` (`reject_score` must be 0); a group
//! aggregates with `sum` (one task per case) or `min` (one all-or-nothing
//! task); `on_reject: break` (the default) makes each case or subgroup
//! depend on the ones before it, as Kattis stops judging the group at the
//! first rejection. Folders holding subgroups aggregate them with `sum`.
//! Samples are one task worth 0.

use std::collections::{BTreeMap, BTreeSet};

use super::files::{PackageFiles, read_text};
use super::model::{Limits, ProblemError, Task};
use super::yaml::{self, Mapping};

/// How deep test groups nest under `data/secret/`.
const MAX_GROUP_DEPTH: usize = 3;

/// A folder of `data/` with its cases and subfolders, in Kattis' order.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Folder {
    /// Relative to `data/`: `secret/group1`.
    pub(crate) path: String,
    /// Case names (paths under `data/` without `.in`), sorted.
    pub(crate) cases: Vec<String>,
    pub(crate) children: Vec<Folder>,
}

impl Folder {
    /// Every case, this folder's first, then its subfolders' in order.
    pub(crate) fn all_cases(&self) -> Vec<String> {
        let mut out = self.cases.clone();
        for child in &self.children {
            out.extend(child.all_cases());
        }
        out
    }

    fn insert(&mut self, case: &str) {
        let rest = &case[self.path.len() + 1..];
        match rest.split_once('/') {
            None => self.cases.push(case.to_string()),
            Some((name, _)) => {
                let path = format!("{}/{name}", self.path);
                let at = match self.children.iter().position(|c| c.path == path) {
                    Some(at) => at,
                    None => {
                        self.children.push(Folder { path, ..Folder::default() });
                        self.children.len() - 1
                    }
                };
                self.children[at].insert(case);
            }
        }
    }
}

/// The sample and secret cases of a package.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TestData {
    pub(crate) sample: Folder,
    pub(crate) secret: Folder,
}

/// Finds the cases: every `data/{sample,secret}/**.in` with its `.ans`.
pub(crate) fn read_cases(listed: &BTreeSet<String>) -> Result<TestData, ProblemError> {
    let mut sample = Folder { path: "sample".into(), ..Folder::default() };
    let mut secret = Folder { path: "secret".into(), ..Folder::default() };
    for path in listed {
        let Some(rest) = path.strip_prefix("data/") else { continue };
        let folder = if rest.starts_with("sample/") {
            &mut sample
        } else if rest.starts_with("secret/") {
            &mut secret
        } else {
            continue;
        };
        let (stem, other) = if let Some(stem) = rest.strip_suffix(".in") {
            (stem, format!("data/{stem}.ans"))
        } else if let Some(stem) = rest.strip_suffix(".ans") {
            (stem, format!("data/{stem}.in"))
        } else {
            continue;
        };
        if !listed.contains(&other) {
            return Err(ProblemError::new(path, format!("no {other} beside it")));
        }
        if path.ends_with(".ans") {
            continue;
        }
        let depth = stem.matches('/').count() - 1;
        if folder.path == "sample" && depth > 0 {
            return Err(ProblemError::new(path, "data/sample/ holds no test groups"));
        }
        if depth > MAX_GROUP_DEPTH {
            return Err(ProblemError::new(
                path,
                format!("test groups nest at most {MAX_GROUP_DEPTH} folders deep in data/secret/"),
            ));
        }
        folder.insert(stem);
    }
    if secret.cases.is_empty() && secret.children.is_empty() {
        return Err(ProblemError::new("data/secret", "no test cases (*.in with *.ans)"));
    }
    Ok(TestData { sample, secret })
}

/// How a group adds up its cases' or subgroups' scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aggregation {
    Sum,
    Min,
}

/// A folder's `testdata.yaml` settings, inherited key by key.
#[derive(Debug, Clone, PartialEq)]
struct Settings {
    /// `on_reject: break`: judging stops at the first rejection.
    stop_at_reject: bool,
    accept_score: f64,
    aggregation: Aggregation,
    /// Extra arguments of the output validator.
    validator_flags: String,
    /// Where the aggregation came from, for the origins.
    flags_from: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            stop_at_reject: true,
            accept_score: 1.0,
            aggregation: Aggregation::Sum,
            validator_flags: String::new(),
            flags_from: String::new(),
        }
    }
}

/// The keys of a legacy `testdata.yaml`.
const TESTDATA_KEYS: [&str; 8] = [
    "on_reject",
    "grading",
    "grader_flags",
    "input_validator_flags",
    "output_validator_flags",
    "accept_score",
    "reject_score",
    "range",
];

/// `parent` with the keys of `data/<folder>/testdata.yaml`, if there is one.
fn settings(
    files: &dyn PackageFiles,
    listed: &BTreeSet<String>,
    folder: &str,
    parent: &Settings,
) -> Result<Settings, ProblemError> {
    let file = if folder.is_empty() {
        "data/testdata.yaml".to_string()
    } else {
        format!("data/{folder}/testdata.yaml")
    };
    if !listed.contains(&file) {
        return Ok(parent.clone());
    }
    let text = read_text(files, &file)?;
    let doc = yaml::parse(&file, &text)?;
    let map = Mapping::new(&file, "", &doc)?;
    map.only(&TESTDATA_KEYS)?;
    let mut out = parent.clone();
    if let Some(on_reject) = map.text("on_reject")? {
        out.stop_at_reject = match on_reject.as_str() {
            "break" => true,
            "continue" => false,
            other => {
                return Err(map.refuse("on_reject", format!("{other:?} is not break or continue")));
            }
        };
    }
    if let Some(grading) = map.text("grading")?.filter(|g| g != "default") {
        return Err(map.refuse("grading", format!("{grading:?}: custom graders are not supported")));
    }
    if let Some(flags) = map.text("grader_flags")? {
        out.aggregation = grader_flags(&flags).map_err(|e| map.refuse("grader_flags", e))?;
        out.flags_from = file.clone();
    }
    if let Some(reject) = map.number("reject_score")?.filter(|r| *r != 0.0) {
        return Err(map.refuse("reject_score", format!("{reject}: only 0 is supported")));
    }
    if let Some(accept) = map.number("accept_score")? {
        out.accept_score = accept;
    }
    if let Some(range) = map.text("range")? {
        check_range(&range).map_err(|e| map.refuse("range", e))?;
    }
    if let Some(flags) = map.text("output_validator_flags")? {
        out.validator_flags = flags;
    }
    Ok(out)
}

/// The aggregation the default grader's flags ask for; flags Gavel cannot
/// honour are refused.
fn grader_flags(flags: &str) -> Result<Aggregation, String> {
    let mut aggregation = Aggregation::Sum;
    for flag in flags.split_whitespace() {
        match flag {
            "sum" => aggregation = Aggregation::Sum,
            "min" => aggregation = Aggregation::Min,
            // The verdict shown (ours is the worst case's) and the samples'
            // part in the score (theirs is 0): nothing to change.
            "first_error" | "worst_error" | "ignore_sample" => {}
            "avg" | "max" | "always_accept" | "accept_if_any_accepted" => {
                return Err(format!("{flag:?} is not supported (sum and min are)"));
            }
            other => return Err(format!("{other:?} is not a grader flag")),
        }
    }
    Ok(aggregation)
}

/// `range: A B`, two numbers (`inf`, `-inf` allowed); read, not enforced.
fn check_range(range: &str) -> Result<(), String> {
    let parts: Vec<&str> = range.split_whitespace().collect();
    let number = |s: &str| s.trim_start_matches('+').parse::<f64>().is_ok();
    if parts.len() == 2 && parts.iter().all(|p| number(p)) {
        Ok(())
    } else {
        Err(format!("{range:?} is not two numbers"))
    }
}

/// What the test data makes: tasks, the output validator's extra
/// arguments, and the scoring's origin.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scored {
    pub(crate) tasks: Vec<Task>,
    pub(crate) validator_flags: String,
    pub(crate) origin: String,
}

/// The tasks of a package: pass-fail is one task of 100 with every case;
/// scoring is a task of 0 for the samples, then the groups of `secret/`.
pub(crate) fn tasks(
    files: &dyn PackageFiles,
    listed: &BTreeSet<String>,
    data: &TestData,
    scoring: bool,
    limits: Limits,
) -> Result<Scored, ProblemError> {
    let root = settings(files, listed, "", &Settings::default())?;
    let sample = settings(files, listed, "sample", &root)?;
    let mut builder = Builder {
        files,
        listed,
        limits,
        tasks: Vec::new(),
        flags: BTreeMap::new(),
        described: Vec::new(),
    };
    if !data.sample.cases.is_empty() {
        builder.flags.insert(sample.validator_flags.clone(), "data/sample".into());
    }
    if !scoring {
        builder.walk_flags(&data.secret, &root)?;
        let mut cases = data.sample.cases.clone();
        cases.extend(data.secret.all_cases());
        let validator_flags = builder.one_flags()?;
        let tasks = vec![Task { score: 100.0, limits, cases, depends_on: Vec::new() }];
        return Ok(Scored { tasks, validator_flags, origin: "one task of 100".into() });
    }
    if !data.sample.cases.is_empty() {
        builder.task(0.0, data.sample.cases.clone(), Vec::new());
    }
    builder.group(&data.secret, &root)?;
    let validator_flags = builder.one_flags()?;
    let origin = format!("sample 0, {}", builder.described.join(", "));
    Ok(Scored { tasks: builder.tasks, validator_flags, origin })
}

/// Builds the tasks of `secret/`, depth first.
struct Builder<'a> {
    files: &'a dyn PackageFiles,
    listed: &'a BTreeSet<String>,
    limits: Limits,
    tasks: Vec<Task>,
    /// Output validator flags → the first folder that uses them.
    flags: BTreeMap<String, String>,
    /// `secret/group1 (min, 40)`, for the origins.
    described: Vec<String>,
}

impl Builder<'_> {
    fn task(&mut self, score: f64, cases: Vec<String>, depends_on: Vec<usize>) -> usize {
        self.tasks.push(Task { score, limits: self.limits, cases, depends_on });
        self.tasks.len() - 1
    }

    /// The tasks of `folder` (with settings inherited from `parent`), by index.
    fn group(&mut self, folder: &Folder, parent: &Settings) -> Result<Vec<usize>, ProblemError> {
        let own = settings(self.files, self.listed, &folder.path, parent)?;
        let at = format!("data/{}", folder.path);
        if !folder.cases.is_empty() && !folder.children.is_empty() {
            return Err(ProblemError::new(
                &at,
                "holds both test cases and test groups: put its cases in a group of their own",
            ));
        }
        if folder.children.is_empty() {
            self.flags.entry(own.validator_flags.clone()).or_insert(at);
            return Ok(self.leaf(folder, &own));
        }
        if own.aggregation == Aggregation::Min {
            return Err(ProblemError::new(
                &own.flags_from,
                format!("grader_flags: min over the test groups of {at} is not supported (sum is)"),
            ));
        }
        let mut all = Vec::new();
        let mut previous: Vec<usize> = Vec::new();
        for child in &folder.children {
            let first = self.tasks.len();
            let made = self.group(child, &own)?;
            if own.stop_at_reject {
                for task in &mut self.tasks[first..] {
                    task.depends_on.extend(&previous);
                    task.depends_on.sort_unstable();
                    task.depends_on.dedup();
                }
            }
            previous.clone_from(&made);
            all.extend(made);
        }
        Ok(all)
    }

    /// A folder of cases: one task (`min`) or one per case (`sum`, chained
    /// when judging stops at a rejection).
    fn leaf(&mut self, folder: &Folder, own: &Settings) -> Vec<usize> {
        let accept = own.accept_score;
        let path = &folder.path;
        match own.aggregation {
            Aggregation::Min => {
                let score = accept;
                self.described.push(format!("{path} (min, {score})"));
                vec![self.task(score, folder.cases.clone(), Vec::new())]
            }
            Aggregation::Sum => {
                let stop = if own.stop_at_reject { ", on_reject break" } else { "" };
                self.described.push(format!("{path} (sum, {accept} a case{stop})"));
                let mut made: Vec<usize> = Vec::new();
                for case in &folder.cases {
                    let after = match (own.stop_at_reject, made.last()) {
                        (true, Some(&last)) => vec![last],
                        _ => Vec::new(),
                    };
                    made.push(self.task(accept, vec![case.clone()], after));
                }
                made
            }
        }
    }

    /// Collects the output validator flags of `folder`'s case folders
    /// (pass-fail problems, whose groups do not score).
    fn walk_flags(&mut self, folder: &Folder, parent: &Settings) -> Result<(), ProblemError> {
        let own = settings(self.files, self.listed, &folder.path, parent)?;
        if !folder.cases.is_empty() {
            self.flags
                .entry(own.validator_flags.clone())
                .or_insert(format!("data/{}", folder.path));
        }
        for child in &folder.children {
            self.walk_flags(child, &own)?;
        }
        Ok(())
    }

    /// The one set of output validator flags every case uses.
    fn one_flags(&self) -> Result<String, ProblemError> {
        let mut flags = self.flags.iter();
        let first = flags.next().map(|(f, _)| f.clone()).unwrap_or_default();
        if let Some((other, at)) = flags.next() {
            return Err(ProblemError::new(
                at,
                format!(
                    "output_validator_flags (testdata.yaml): {other:?} differs from {first:?} elsewhere: Gavel \
                     gives every case the same checker arguments"
                ),
            ));
        }
        Ok(first)
    }
}
