//! Kattis problem packages (the problem package format, its legacy version
//! and the part of 2023-07 they share): `problem.yaml`, `data/` (see
//! `kattis_data`), and an output validator.
//!
//! What is read: `name`, `type` (`pass-fail` or `scoring`), `validation`
//! (`default` or `custom`), `validator_flags`, `limits` (`time_limit` or the
//! `.timelimit` file, `memory`, `output`). The time limit must be given:
//! Gavel does not derive it from the package's solutions as Kattis does, so
//! `time_multiplier` and `time_safety_margin` are ignored, as are the
//! metadata keys. Refused by name: interactive and multi-pass problems,
//! validators that score, custom graders, `include/` files, validators of
//! several sources or in other languages, keys Gavel does not know.

use std::collections::{BTreeMap, BTreeSet};

use super::checks::check_id;
use super::files::{PackageFiles, read_text};
use super::kattis_data::{self, TestData};
use super::model::{
    CHECKER_PROGRAM_EXTENSIONS, CasePaths, CheckerRef, CheckerSpec, Limits, PROBLEM_YAML,
    PackageFormat, Problem, ProblemError,
};
use super::yaml::{self, Mapping};

/// The file of a legacy package that holds the time limit, in seconds.
const TIMELIMIT: &str = ".timelimit";

/// The top-level keys of `problem.yaml` read or knowingly ignored.
const KEYS: [&str; 18] = [
    "problem_format_version",
    "type",
    "name",
    "uuid",
    "version",
    "author",
    "credits",
    "source",
    "source_url",
    "license",
    "rights_owner",
    "keywords",
    "languages",
    "embargo_until",
    "limits",
    "validation",
    "validator_flags",
    "grading",
];

/// The `limits` keys: `time_limit`, `memory` and `output` are read, the
/// rest are about deriving the time limit, compiling or validating.
const LIMIT_KEYS: [&str; 14] = [
    "time_limit",
    "memory",
    "output",
    "time_multiplier",
    "time_safety_margin",
    "time_multipliers",
    "time_resolution",
    "code",
    "compilation_time",
    "compilation_memory",
    "validation_time",
    "validation_memory",
    "validation_output",
    "validation_passes",
];

/// The format versions whose common subset is read.
const VERSIONS: [&str; 4] = ["legacy", "legacy-icpc", "2023-07-draft", "2023-07"];

/// Reads a Kattis package.
pub(super) fn load(
    files: &dyn PackageFiles,
    listed: &BTreeSet<String>,
    fallback_id: &str,
) -> Result<Problem, ProblemError> {
    check_id(fallback_id, PROBLEM_YAML, "id")?;
    let text = read_text(files, PROBLEM_YAML)?;
    let doc = yaml::parse(PROBLEM_YAML, &text)?;
    let map = Mapping::new(PROBLEM_YAML, "", &doc)?;
    map.only(&KEYS)?;
    if let Some(version) = map.text("problem_format_version")?
        && !VERSIONS.contains(&version.as_str())
    {
        return Err(map.refuse(
            "problem_format_version",
            format!("{version:?} is not supported ({})", VERSIONS.join(", ")),
        ));
    }
    check_grading(&map)?;
    let scoring = problem_type(&map)?;
    refuse_unsupported_folders(listed)?;
    let (plugin, mut args, checker_origin) = checker(listed, &map)?;
    let (limits, limits_origin) = limits(files, listed, &map)?;
    let data = kattis_data::read_cases(listed)?;
    let scored = kattis_data::tasks(files, listed, &data, scoring, limits)?;
    args.extend(scored.validator_flags.split_whitespace().map(str::to_string));
    if plugin == CheckerRef::Builtin(DEFAULT_VALIDATOR.into()) {
        check_kattis_default_args(&args)
            .map_err(|e| ProblemError::new(PROBLEM_YAML, format!("validator_flags: {e}")))?;
    }
    let kind = if scoring { "scoring" } else { "pass-fail" };
    let origins = BTreeMap::from([
        ("limits".to_string(), limits_origin),
        ("tests".to_string(), tests_origin(&data)),
        ("scoring".to_string(), format!("{PROBLEM_YAML}: type {kind}: {}", scored.origin)),
        ("checker".to_string(), checker_origin),
    ]);
    Ok(Problem {
        id: fallback_id.to_string(),
        title: name(&map)?.unwrap_or_else(|| fallback_id.to_string()),
        format: PackageFormat::Kattis,
        checker: CheckerSpec { plugin, args },
        interactor: None,
        tasks: scored.tasks,
        case_paths: Some(CasePaths {
            input: "data/{case}.in".into(),
            answer: "data/{case}.ans".into(),
        }),
        origins,
    })
}

/// `name`: a string, or a map of language → name (`en`, else the first).
fn name(map: &Mapping) -> Result<Option<String>, ProblemError> {
    if let Some(names) = map.get("name").and_then(|n| n.as_hash()) {
        let pick = names
            .iter()
            .find(|(k, _)| k.as_str() == Some("en"))
            .or_else(|| names.iter().next())
            .and_then(|(_, v)| yaml::scalar(v));
        return Ok(pick);
    }
    map.text("name")
}

/// Whether the problem is scored (`type: scoring`) or pass-fail.
fn problem_type(map: &Mapping) -> Result<bool, ProblemError> {
    let types: Vec<String> = match map.get("type") {
        None => return Ok(false),
        Some(value) => match value.as_vec() {
            Some(list) => list.iter().filter_map(yaml::scalar).collect(),
            None => map.text("type")?.into_iter().collect(),
        },
    };
    let mut scoring = false;
    for kind in &types {
        match kind.as_str() {
            "pass-fail" => {}
            "scoring" => scoring = true,
            "interactive" => {
                return Err(map.refuse("type", "interactive problems are not supported yet"));
            }
            other => {
                return Err(map
                    .refuse("type", format!("{other:?} is not supported (pass-fail or scoring)")));
            }
        }
    }
    Ok(scoring)
}

/// Legacy `grading`: only the default objective (higher scores are better).
fn check_grading(map: &Mapping) -> Result<(), ProblemError> {
    let Some(grading) = map.mapping("grading")? else { return Ok(()) };
    grading.only(&["objective", "show_test_data_groups"])?;
    match grading.text("objective")?.as_deref() {
        None | Some("max") => Ok(()),
        Some(other) => {
            Err(grading.refuse("objective", format!("{other:?}: only max is supported")))
        }
    }
}

/// Folders whose meaning Gavel cannot honour.
fn refuse_unsupported_folders(listed: &BTreeSet<String>) -> Result<(), ProblemError> {
    for (folder, why) in [
        ("graders/", "custom graders are not supported"),
        ("include/", "files added to every submission are not supported"),
    ] {
        if let Some(file) = listed.iter().find(|p| p.starts_with(folder)) {
            return Err(ProblemError::new(file, why));
        }
    }
    Ok(())
}

/// The limits and where they came from. The time limit is
/// `limits.time_limit` or the `.timelimit` file (seconds); memory and output
/// are MiB (Kattis' defaults: 2048 and 8).
fn limits(
    files: &dyn PackageFiles,
    listed: &BTreeSet<String>,
    map: &Mapping,
) -> Result<(Limits, String), ProblemError> {
    let limits = map.mapping("limits")?;
    let empty = yaml_rust2::Yaml::Null;
    let limits = match limits {
        Some(l) => l,
        None => Mapping::new(PROBLEM_YAML, "limits.", &empty)?,
    };
    limits.only(&LIMIT_KEYS)?;
    let (seconds, time_from) = match limits.number("time_limit")? {
        Some(s) => (s, format!("{PROBLEM_YAML}: limits.time_limit")),
        None if listed.contains(TIMELIMIT) => {
            let text = read_text(files, TIMELIMIT)?;
            let seconds = text.trim().parse::<f64>().ok().filter(|s| s.is_finite() && *s > 0.0);
            let seconds = seconds.ok_or_else(|| {
                ProblemError::new(
                    TIMELIMIT,
                    format!("{:?} is not a number of seconds", text.trim()),
                )
            })?;
            (seconds, TIMELIMIT.to_string())
        }
        None => {
            return Err(ProblemError::new(
                PROBLEM_YAML,
                "limits.time_limit: missing, and no .timelimit file: give the time limit in \
                 seconds in one of them (Gavel does not derive it from the solutions)",
            ));
        }
    };
    let memory = limits.number("memory")?;
    let output = limits.number("output")?;
    let mib = |value: Option<f64>, default: f64| value.unwrap_or(default).ceil() as u64;
    let converted = Limits {
        time_ms: (seconds * 1000.0).ceil() as u64,
        memory_mb: mib(memory, 2048.0),
        output_kb: mib(output, 8.0) * 1024,
    };
    converted.validate(PROBLEM_YAML, "limits (converted) ")?;
    let default = |value: Option<f64>| if value.is_some() { "" } else { " (default)" };
    let origin = format!(
        "{time_from} ({seconds} s); {PROBLEM_YAML}: limits.memory {} MiB{}, limits.output {} MiB{}",
        converted.memory_mb,
        default(memory),
        converted.output_kb / 1024,
        default(output)
    );
    Ok((converted, origin))
}

/// `data/sample (2 cases), data/secret (6 cases)`.
fn tests_origin(data: &TestData) -> String {
    let count = |n: usize| format!("{n} case{}", if n == 1 { "" } else { "s" });
    format!(
        "data/sample ({}), data/secret ({}): *.in, *.ans",
        count(data.sample.cases.len()),
        count(data.secret.all_cases().len())
    )
}

/// The builtin checker that is Kattis' default output validator.
const DEFAULT_VALIDATOR: &str = "kattis-default";

/// The checker, its arguments (`validator_flags`) and its origin.
fn checker(
    listed: &BTreeSet<String>,
    map: &Mapping,
) -> Result<(CheckerRef, Vec<String>, String), ProblemError> {
    let flags = map.text("validator_flags")?.unwrap_or_default();
    let args: Vec<String> = flags.split_whitespace().map(str::to_string).collect();
    let validators = output_validators(listed);
    let custom = match map.text("validation")? {
        None => !validators.is_empty(),
        Some(validation) => {
            let words: Vec<&str> = validation.split_whitespace().collect();
            match words.as_slice() {
                ["default"] => false,
                ["custom"] => true,
                [_, ..] if words.contains(&"interactive") => {
                    return Err(
                        map.refuse("validation", "interactive problems are not supported yet")
                    );
                }
                ["custom", "score"] => {
                    return Err(map.refuse(
                        "validation",
                        "custom score: validators that score a case are not supported yet",
                    ));
                }
                _ => {
                    return Err(map
                        .refuse("validation", format!("{validation:?} is not default or custom")));
                }
            }
        }
    };
    let shown =
        if flags.is_empty() { String::new() } else { format!(", validator_flags {flags:?}") };
    if !custom {
        if let Some((folder, _)) = validators.first_key_value() {
            return Err(ProblemError::new(
                folder,
                "an output validator is shipped but problem.yaml says validation: default",
            ));
        }
        let origin = format!("{PROBLEM_YAML}: validation default{shown}");
        return Ok((CheckerRef::Builtin(DEFAULT_VALIDATOR.into()), args, origin));
    }
    let program = validator_program(&validators)?;
    let origin = format!("{PROBLEM_YAML}: validation custom ({program}){shown}");
    Ok((CheckerRef::KattisValidator(program), args, origin))
}

/// The output validators: program (a folder, or a single file) → its files.
/// Legacy packages keep any number in `output_validators/`; 2023-07 ones
/// one in `output_validator/`. Hidden files are left out.
fn output_validators(listed: &BTreeSet<String>) -> BTreeMap<String, Vec<String>> {
    let mut programs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for path in listed {
        if path.split('/').any(|part| part.starts_with('.')) {
            continue;
        }
        let program = if let Some(rest) = path.strip_prefix("output_validators/") {
            match rest.split_once('/') {
                Some((name, _)) => format!("output_validators/{name}"),
                None => path.clone(),
            }
        } else if path.starts_with("output_validator/") {
            "output_validator".to_string()
        } else {
            continue;
        };
        programs.entry(program).or_default().push(path.clone());
    }
    programs
}

/// The one validator's program file: its single source (with headers
/// beside it) or `.wasm`.
fn validator_program(validators: &BTreeMap<String, Vec<String>>) -> Result<String, ProblemError> {
    let mut programs = validators.iter();
    let Some((folder, files)) = programs.next() else {
        return Err(ProblemError::new(
            "output_validators",
            "missing: validation is custom but there is no output validator",
        ));
    };
    if let Some((other, _)) = programs.next() {
        return Err(ProblemError::new(
            "output_validators",
            format!("{folder} and {other}: Gavel runs one output validator"),
        ));
    }
    let mut sources = Vec::new();
    for file in files {
        let nested =
            file.strip_prefix(&format!("{folder}/")).is_some_and(|rest| rest.contains('/'));
        let header = [".h", ".hpp"].iter().any(|ext| file.ends_with(ext));
        if CHECKER_PROGRAM_EXTENSIONS.iter().any(|ext| file.ends_with(ext)) && !nested {
            sources.push(file.clone());
        } else if nested || !header {
            return Err(ProblemError::new(
                file,
                "an output validator is one C or C++ source with the headers beside it, or one \
                 .wasm: this file is not supported",
            ));
        }
    }
    match sources.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(ProblemError::new(
            folder,
            "no source (.c, .cc, .cpp) or .wasm in the output validator",
        )),
        many => Err(ProblemError::new(
            folder,
            format!(
                "{} programs ({}): an output validator of one source file (with headers) is supported",
                many.len(),
                many.join(", ")
            ),
        )),
    }
}

/// Checks the arguments of the builtin `kattis-default` checker (Kattis'
/// `validator_flags`): `case_sensitive`, `space_change_sensitive`,
/// `float_tolerance E`, `float_absolute_tolerance E`,
/// `float_relative_tolerance E`, with `E` a number ≥ 0.
pub fn check_kattis_default_args(args: &[String]) -> Result<(), String> {
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "case_sensitive" | "space_change_sensitive" => {}
            "float_tolerance" | "float_absolute_tolerance" | "float_relative_tolerance" => {
                let value = args.next().ok_or_else(|| format!("{flag}: missing its value"))?;
                if !value.parse::<f64>().is_ok_and(|v| v.is_finite() && v >= 0.0) {
                    return Err(format!("{flag}: {value:?} is not a number ≥ 0"));
                }
            }
            other => {
                return Err(format!(
                    "unknown flag {other:?} (case_sensitive, space_change_sensitive, \
                     float_tolerance E, float_absolute_tolerance E, float_relative_tolerance E)"
                ));
            }
        }
    }
    Ok(())
}
