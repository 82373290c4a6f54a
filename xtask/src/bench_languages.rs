//! `cargo xtask bench languages`: the Wasm languages against their native
//! references, in one run on one machine.
//!
//! Each workload runs natively (node, the machine's `python3`), timed by a
//! small Python wrapper that reports the child's wall and CPU time, and its
//! output becomes the expected answer of a one-case problem that `gavel
//! judge --json` then judges with the Wasm language (twice, to show that the
//! reported time is deterministic). The ratio printed is of **real wall
//! times**: the case's run as the runner timed it (`wall_ms`) against the
//! native process's wall time; the calibrated time (`time_ms`, from fuel) is
//! compared with the native CPU time. Plugin load and a hello world's run
//! start and memory are printed on their own lines.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};

/// One program, in one language, on one input.
struct Workload {
    name: &'static str,
    /// `python` or `javascript`.
    language: &'static str,
    input: Input,
    source: &'static str,
}

/// What a workload reads.
#[derive(Clone, Copy)]
enum Input {
    /// Nothing.
    None,
    /// `n`, then `n` integers on one line separated by single spaces.
    OneLine(usize),
    /// `n`, then `n` integers one per line.
    PerLine(usize),
}

/// ~2 MB of integers.
const PARSE_N: usize = 300_000;

const WORKLOADS: &[Workload] = &[
    // Parsing 2 MB of integers: Python's common idioms.
    Workload {
        name: "parse: input() per line",
        language: "python",
        input: Input::PerLine(PARSE_N),
        source: "n = int(input())\ns = 0\nfor _ in range(n):\n    s += int(input())\nprint(s)\n",
    },
    Workload {
        name: "parse: sys.stdin.read().split()",
        language: "python",
        input: Input::OneLine(PARSE_N),
        source: "import sys\nd = sys.stdin.read().split()\nprint(sum(map(int, d[1:])))\n",
    },
    Workload {
        name: "parse: sys.stdin.buffer.read().split()",
        language: "python",
        input: Input::OneLine(PARSE_N),
        source: "import sys\nd = sys.stdin.buffer.read().split()\nprint(sum(map(int, d[1:])))\n",
    },
    Workload {
        name: "parse: list(map(int, input().split()))",
        language: "python",
        input: Input::OneLine(PARSE_N),
        source: "n = int(input())\na = list(map(int, input().split()))\nprint(sum(a))\n",
    },
    // Parsing 2 MB of integers: JavaScript's common idioms.
    Workload {
        name: "parse: split(' ') + Number",
        language: "javascript",
        input: Input::OneLine(PARSE_N),
        source: "const d = require('fs').readFileSync(0, 'utf8').split('\\n');\nlet s = 0;\nfor (const x of d[1].split(' ')) s += Number(x);\nconsole.log(s);\n",
    },
    Workload {
        name: "parse: split(/\\s+/) + parseInt",
        language: "javascript",
        input: Input::OneLine(PARSE_N),
        source: "const d = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/);\nlet s = 0;\nfor (let i = 1; i < d.length; i++) s += parseInt(d[i]);\nconsole.log(s);\n",
    },
    Workload {
        name: "parse: trim().split('\\n') + Number",
        language: "javascript",
        input: Input::PerLine(PARSE_N),
        source: "const d = require('fs').readFileSync('/dev/stdin', 'utf8').trim().split('\\n');\nlet s = 0;\nfor (let i = 1; i < d.length; i++) s += Number(d[i]);\nconsole.log(s);\n",
    },
    Workload {
        name: "parse: readline 'line' events",
        language: "javascript",
        input: Input::PerLine(PARSE_N),
        source: "const rl = require('readline').createInterface({ input: process.stdin });\nlet s = 0, first = true;\nrl.on('line', (l) => { if (first) first = false; else s += parseInt(l); });\nrl.on('close', () => console.log(s));\n",
    },
    Workload {
        name: "parse: split(' ') + BigInt",
        language: "javascript",
        input: Input::OneLine(PARSE_N),
        source: "const d = require('fs').readFileSync(0, 'utf8').split('\\n');\nlet s = 0n;\nfor (const x of d[1].split(' ')) s += BigInt(x);\nconsole.log(s.toString());\n",
    },
    // The other workloads, in both languages.
    Workload {
        name: "sort 2e5 integers, print them",
        language: "python",
        input: Input::OneLine(200_000),
        source: "import sys\nd = sys.stdin.buffer.read().split()\na = sorted(map(int, d[1:]))\nsys.stdout.write(' '.join(map(str, a)) + '\\n')\n",
    },
    Workload {
        name: "sort 2e5 integers, print them",
        language: "javascript",
        input: Input::OneLine(200_000),
        source: "const d = require('fs').readFileSync(0, 'utf8').trim().split(' ');\nconst a = d.slice(1).map(Number);\na.sort((x, y) => x - y);\nconsole.log(a.join(' '));\n",
    },
    Workload {
        name: "dict/Map count of 1e6 keys",
        language: "python",
        input: Input::None,
        source: "c = {}\nfor i in range(1000000):\n    k = (i * 7919) % 500009\n    c[k] = c.get(k, 0) + 1\nprint(len(c), c[0])\n",
    },
    Workload {
        name: "dict/Map count of 1e6 keys",
        language: "javascript",
        input: Input::None,
        source: "const c = new Map();\nfor (let i = 0; i < 1000000; i++) {\n  const k = (i * 7919) % 500009;\n  c.set(k, (c.get(k) || 0) + 1);\n}\nconsole.log(c.size, c.get(0));\n",
    },
    Workload {
        name: "1e7-step arithmetic loop",
        language: "python",
        input: Input::None,
        source: "s = 0\nfor i in range(10000000):\n    s = (s + i * i) % 1000000007\nprint(s)\n",
    },
    Workload {
        name: "1e7-step arithmetic loop",
        language: "javascript",
        input: Input::None,
        source: "let s = 0;\nfor (let i = 0; i < 10000000; i++) s = (s + i * i) % 1000000007;\nconsole.log(s);\n",
    },
    Workload {
        name: "string building of 1e6 pieces",
        language: "python",
        input: Input::None,
        source: "parts = []\nfor i in range(1000000):\n    parts.append(str(i))\ns = ''.join(parts)\nprint(len(s))\n",
    },
    Workload {
        name: "string building of 1e6 pieces",
        language: "javascript",
        input: Input::None,
        source: "let s = '';\nfor (let i = 0; i < 1000000; i++) s += i;\nconsole.log(s.length);\n",
    },
    Workload {
        name: "recursion 1e5 deep",
        language: "python",
        input: Input::None,
        source: "import sys\nsys.setrecursionlimit(10**6)\ndef f(n):\n    return 0 if n == 0 else 1 + f(n - 1)\nprint(f(100000))\n",
    },
    Workload {
        name: "recursion 1e5 deep",
        language: "javascript",
        input: Input::None,
        source: "function f(n) { return n === 0 ? 0 : 1 + f(n - 1); }\nconsole.log(f(100000));\n",
    },
];

/// Times a command on an input file, writing its stdout to a file; prints
/// `wall_ms cpu_ms` (the child's user + system time).
const TIMER: &str = r#"
import resource, subprocess, sys, time
inp, out, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(inp, 'rb') as i, open(out, 'wb') as o:
    t = time.perf_counter()
    subprocess.run(cmd, stdin=i, stdout=o, check=True)
    wall = time.perf_counter() - t
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(wall * 1000, (r.ru_utime + r.ru_stime) * 1000)
"#;

/// What `gavel judge --json` said of a workload's one case.
struct Judged {
    status: String,
    time_ms: u64,
    wall_ms: u64,
    memory_kb: u64,
    fuel: u64,
}

pub fn run(root: &Path, gavel: &Path) -> anyhow::Result<()> {
    let dir = crate::target_dir(root).join("bench-languages");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let cache = dir.join("compiled");
    let node = which("node").context("node is needed for the JavaScript reference")?;
    // The interpreter itself, not a wrapper script (pyenv's shims cost
    // ~100 ms a start).
    let python = which("python3").context("python3 is needed for the Python reference")?;
    let python = PathBuf::from(
        String::from_utf8(
            Command::new(&python)
                .args(["-c", "import sys; print(sys.executable)"])
                .output()?
                .stdout,
        )?
        .trim(),
    );
    println!(
        "references: {} ({}), {} ({})",
        version(&node)?,
        node.display(),
        version(&python)?,
        python.display()
    );

    // Plugin load, on its own line: the first judge compiles into the
    // cache, the second loads from it.
    for language in ["python", "javascript"] {
        let hello = Workload {
            name: "hello world",
            language,
            input: Input::None,
            source: if language == "python" {
                "print('hello')\n"
            } else {
                "console.log('hello')\n"
            },
        };
        let problem = prepare(&dir, &hello, "hello\n".as_bytes())?;
        let started = Instant::now();
        judge(gavel, &cache, &problem, language)?;
        let first = started.elapsed();
        let started = Instant::now();
        let judged = judge(gavel, &cache, &problem, language)?;
        let cached = started.elapsed();
        println!(
            "{language}: first `gavel judge` (compiles the plugin) {:.1} s; with the cache {} ms in all; \
             hello world: run {} ms (instantiate + run), memory {} KiB, {}",
            first.as_secs_f64(),
            cached.as_millis(),
            judged.wall_ms,
            judged.memory_kb,
            judged.status
        );
    }

    let mut table = String::new();
    writeln!(
        table,
        "| workload | language | native wall | native CPU | gavel run wall | wall ratio | reported time | reported / native CPU | same time twice |"
    )?;
    writeln!(table, "|---|---|---|---|---|---|---|---|---|")?;
    for (n, w) in WORKLOADS.iter().enumerate() {
        let case_dir = dir.join(format!("w{n:02}"));
        std::fs::create_dir_all(&case_dir)?;
        let input = case_dir.join("input.txt");
        std::fs::write(&input, make_input(w.input))?;
        let (file, native): (&str, Vec<String>) = match w.language {
            "python" => ("main.py", vec![python.display().to_string(), "main.py".into()]),
            // A stack as deep as the recursion workload needs (node's
            // default stops at ~10,000 levels).
            _ => (
                "main.js",
                vec![
                    "sh".into(),
                    "-c".into(),
                    format!(
                        "ulimit -s unlimited && exec {} --stack-size=200000 main.js",
                        node.display()
                    ),
                ],
            ),
        };
        std::fs::write(case_dir.join(file), w.source)?;
        let output = case_dir.join("native.out");
        let timed = Command::new(&python)
            .current_dir(&case_dir)
            .args(["-c", TIMER])
            .arg(&input)
            .arg(&output)
            .args(&native)
            .output()?;
        let (native_wall, native_cpu) = match parse_timer(&timed.stdout) {
            Some(t) if timed.status.success() => t,
            _ => {
                println!(
                    "{} ({}): the native run failed: {}",
                    w.name,
                    w.language,
                    String::from_utf8_lossy(&timed.stderr).trim()
                );
                continue;
            }
        };
        let problem = prepare(&dir.join(format!("p{n:02}")), w, &std::fs::read(&output)?)?;
        std::fs::copy(&input, problem.join("tests/1.in"))?;
        let first = judge(gavel, &cache, &problem, w.language)?;
        let second = judge(gavel, &cache, &problem, w.language)?;
        let same = first.time_ms == second.time_ms && first.fuel == second.fuel;
        let line = format!(
            "| {} | {} | {:.0} ms | {:.0} ms | {} ms | {:.2}× | {} ms{} | {:.2} | {} |",
            w.name,
            w.language,
            native_wall,
            native_cpu,
            first.wall_ms,
            first.wall_ms as f64 / native_wall.max(1.0),
            first.time_ms,
            if first.status == "AC" { String::new() } else { format!(" ({})", first.status) },
            first.time_ms as f64 / native_cpu.max(1.0),
            if same { "yes" } else { "NO" },
        );
        println!("{line}");
        writeln!(table, "{line}")?;
    }
    let report = dir.join("table.md");
    std::fs::write(&report, &table)?;
    println!("table written to {}", report.display());
    Ok(())
}

/// A one-case problem whose answer is `expected`, holding the workload's
/// source; returns its folder.
fn prepare(dir: &Path, w: &Workload, expected: &[u8]) -> anyhow::Result<PathBuf> {
    let problem = dir.join(format!("{}-problem", w.language));
    std::fs::create_dir_all(problem.join("tests"))?;
    std::fs::write(
        problem.join("problem.toml"),
        "id = \"bench\"\ntitle = \"bench\"\n\n[limits]\ntime_ms = 20000\nmemory_mb = 1024\n\n[checker]\nplugin = \"exact\"\n",
    )?;
    std::fs::write(problem.join("tests/1.in"), "")?;
    std::fs::write(problem.join("tests/1.out"), expected)?;
    let file = if w.language == "python" { "main.py" } else { "main.js" };
    std::fs::write(problem.join(file), w.source)?;
    Ok(problem)
}

fn judge(gavel: &Path, cache: &Path, problem: &Path, language: &str) -> anyhow::Result<Judged> {
    let file = if language == "python" { "main.py" } else { "main.js" };
    let out = Command::new(gavel)
        .arg("--cache-dir")
        .arg(cache)
        .arg("judge")
        .arg(problem)
        .arg(problem.join(file))
        .args(["--language", language, "--json"])
        .output()
        .context("running gavel judge")?;
    if !out.status.success() {
        bail!("gavel judge failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let case = &report["tasks"][0]["cases"][0];
    let number = |key: &str| case[key].as_u64().unwrap_or(0);
    let mut status = case["status"].as_str().unwrap_or("?").to_string();
    if status != "AC" {
        status = format!("{status}: {}", case["message"].as_str().unwrap_or(""));
    }
    Ok(Judged {
        status,
        time_ms: number("time_ms"),
        wall_ms: number("wall_ms"),
        memory_kb: number("memory_kb"),
        fuel: number("fuel"),
    })
}

/// Deterministic pseudo-random integers below 10^6 (a linear congruential
/// generator: the same input on every run).
fn make_input(input: Input) -> Vec<u8> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state =
            state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % 1_000_000
    };
    let (n, separator) = match input {
        Input::None => return Vec::new(),
        Input::OneLine(n) => (n, " "),
        Input::PerLine(n) => (n, "\n"),
    };
    let numbers: Vec<String> = (0..n).map(|_| next().to_string()).collect();
    format!("{n}\n{}\n", numbers.join(separator)).into_bytes()
}

fn parse_timer(stdout: &[u8]) -> Option<(f64, f64)> {
    let text = String::from_utf8_lossy(stdout);
    let mut parts = text.split_whitespace().map(|p| p.parse::<f64>().ok());
    Some((parts.next()??, parts.next()??))
}

fn which(command: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths).map(|d| d.join(command)).find(|p| p.is_file())
}

fn version(command: &Path) -> anyhow::Result<String> {
    let out = Command::new(command).arg("--version").output()?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}
