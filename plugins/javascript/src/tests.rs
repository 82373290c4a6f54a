//! Native tests of the engine: what contestants write gives what Node gives.

use std::{cell::RefCell, io::Write, rc::Rc};

use crate::engine::{Engine, compile};
use crate::io::split_whitespace;

/// A writer whose bytes the test reads afterwards.
#[derive(Clone, Default)]
struct Sink(Rc<RefCell<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Ran {
    status: u8,
    stdout: String,
    stderr: String,
}

/// Compiles and runs `source` on `stdin`, on a thread with a stack larger
/// than the engine's limit (as the plugin's is).
fn run_args(source: &str, stdin: &str, args: &[&str]) -> Ran {
    let (source, stdin) = (source.to_owned(), stdin.as_bytes().to_vec());
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    std::thread::Builder::new()
        .stack_size(32 << 20)
        .spawn(move || {
            compile(source.as_bytes()).expect("the test program compiles");
            let (out, err) = (Sink::default(), Sink::default());
            let engine = Engine::new().expect("the runtime starts");
            let status = engine.run(
                source.as_bytes(),
                &args,
                Box::new(std::io::Cursor::new(stdin)),
                Box::new(out.clone()),
                Box::new(err.clone()),
            );
            let text = |s: Sink| String::from_utf8(s.0.take()).unwrap();
            Ran { status, stdout: text(out), stderr: text(err) }
        })
        .unwrap()
        .join()
        .unwrap()
}

fn run(source: &str, stdin: &str) -> Ran {
    run_args(source, stdin, &[])
}

fn ok(source: &str, stdin: &str) -> String {
    let ran = run(source, stdin);
    assert_eq!(ran.status, 0, "stderr: {}", ran.stderr);
    ran.stdout
}

#[test]
fn shell_style_readline_and_print() {
    let src = "let l, n = 0; while ((l = readline()) !== undefined) n += Number(l); print(n, 'x');";
    assert_eq!(ok(src, "1\n2\r\n3"), "6 x\n");
    assert_eq!(ok("print(readline())", ""), "undefined\n");
}

#[test]
fn every_way_of_reading_stdin() {
    let input = "3\n10 20 30\n";
    let cases = [
        "const t = require('fs').readFileSync(0, 'utf8').split(/\\s+/).filter(Boolean).map(Number);",
        "const t = require('fs').readFileSync('/dev/stdin', 'utf8').trim().split(/\\s+/).map(Number);",
        "const t = require('fs').readFileSync(0).toString().trim().split(/\\s+/).map(Number);",
        "const t = require('fs').readFileSync('/dev/stdin', {encoding: 'utf-8'}).trim().split(/ +|\\n/).map(Number);",
    ];
    for case in cases {
        assert_eq!(
            ok(&format!("{case} console.log(t[1] + t[2] + t[3]);"), input),
            "60\n",
            "{case}"
        );
    }
    let events = "const rl = require('readline').createInterface({ input: process.stdin });
        const ls = []; rl.on('line', (l) => ls.push(l)); rl.on('close', () => console.log(ls[1]));";
    assert_eq!(ok(events, input), "10 20 30\n");
    let iter = "const rl = require('readline').createInterface({ input: process.stdin });
        (async () => { let n = 0; for await (const l of rl) n++; console.log(n); })();";
    assert_eq!(ok(iter, input), "2\n");
    let data = "process.stdin.setEncoding('utf8'); let d = '';
        process.stdin.on('data', (c) => d += c); process.stdin.on('end', () => console.log(d.length));";
    assert_eq!(ok(data, input), "11\n");
}

#[test]
fn line_events_take_stdin_in_order_with_every_other_reader() {
    // Each line once, CRLF and a final line without a newline as node has
    // them, a lone \r kept, empty lines kept, 'close' after the last.
    let events = "const rl = require('readline').createInterface({ input: process.stdin });
        const ls = []; rl.on('line', (l) => ls.push(l)); rl.on('close', () => console.log(JSON.stringify(ls)));";
    assert_eq!(ok(events, "a\r\n\nb\rc\n d \r"), "[\"a\",\"\",\"b\\rc\",\" d \"]\n");
    assert_eq!(ok(events, ""), "[]\n");
    // Closing in a listener leaves the rest to the next reader, whichever.
    let close = "const rl = require('readline').createInterface({ input: process.stdin });
        rl.on('line', (l) => { console.log('event ' + l); if (l === '2') rl.close(); });
        rl.on('close', () => { console.log('readline ' + readline());
            console.log(JSON.stringify(require('fs').readFileSync(0, 'utf8'))); });";
    assert_eq!(ok(close, "1\n2\n3\r\n4\n5"), "event 1\nevent 2\nreadline 3\n\"4\\n5\"\n");
    // A listener that reads a line itself, one added or removed on the way,
    // and a pause and resume: every line is handed out exactly once (a
    // listener added during an event gets the next one, as in node).
    let mixed = "const rl = require('readline').createInterface({ input: process.stdin });
        const seen = [];
        const first = (l) => { seen.push('a' + l); if (l === '1') seen.push('r' + readline());
            if (l === '3') rl.on('line', (m) => seen.push('b' + m));
            if (l === '4') { rl.off('line', first); rl.pause(); setTimeout(() => rl.resume(), 1); } };
        rl.on('line', first); rl.on('close', () => console.log(seen.join(' ')));";
    assert_eq!(ok(mixed, "0\n1\n2\n3\n4\n5\n6\n"), "a0 a1 r2 a3 a4 b4 b5 b6\n");
}

#[test]
fn whitespace_split_fast_path_matches_the_regex() {
    let texts = ["", " ", "a", " a b ", "1  2\t\n3\r\n", "\u{a0}x\u{3000}y\u{feff}", "é ü  ñ"];
    for text in texts {
        for (regex, spaces) in [("\\s+", false), (" +", true)] {
            // The regex result through the original split, then the fast path.
            let src = format!(
                "const s = {text:?}; const r = new RegExp({regex:?});
                 const slow = RegExp.prototype[Symbol.split].call(r, s);
                 const fast = s.split(r);
                 const fastG = s.split(new RegExp({regex:?}, 'g'));
                 print(JSON.stringify(slow) === JSON.stringify(fast) && JSON.stringify(fast) === JSON.stringify(fastG));"
            );
            assert_eq!(ok(&src, ""), "true\n", "{text:?} split by /{regex}/");
            let expected = split_whitespace(text, spaces);
            assert!(!expected.is_empty());
        }
    }
    assert_eq!(
        ok("print('a1b22c'.split(/\\d+/).join(), 'a b'.split(/\\s+/, 1).length)", ""),
        "a,b,c 1\n"
    );
}

#[test]
fn console_formats_like_node() {
    let src = "console.log({ a: 1, b: 'x', c: [1, 2, { d: new Map([[1, 2]]) }] });
        console.log([1, , 3], new Set(['a']), 5n, -0, null, undefined, 'plain');
        console.log('%d + %s = %i', 1, 'two', 3.7, { z: [] });
        console.info(new Uint8Array([1, 2]), function f() {}, class K {}, [[[[1]]]]);
        console.debug(Object.create(null), new (class P { constructor() { this.q = 1; } })());";
    assert_eq!(
        ok(src, ""),
        "{ a: 1, b: 'x', c: [ 1, 2, { d: [Map] } ] }\n\
         [ 1, <1 empty item>, 3 ] Set(1) { 'a' } 5n -0 null undefined plain\n\
         1 + two = 3 { z: [] }\n\
         Uint8Array(2) [ 1, 2 ] [Function: f] [class K] [ [ [ [Array] ] ] ]\n\
         [Object: null prototype] {} P { q: 1 }\n"
    );
    let long = ok("console.log(Array.from({ length: 30 }, (_, i) => 'item' + i).slice(0, 12))", "");
    assert!(long.starts_with("[\n  'item0',\n  'item1',"), "{long}");
}

#[test]
fn stderr_is_separate_and_stdout_is_written_once_at_exit() {
    let ran =
        run("console.error('e1'); console.warn('e2'); process.stdout.write('o'); print(1)", "");
    assert_eq!((ran.status, ran.stdout.as_str(), ran.stderr.as_str()), (0, "o1\n", "e1\ne2\n"));
}

#[test]
fn argv_exit_and_exit_code() {
    let ran = run_args("print(process.argv.slice(1).join(' '))", "", &["a", "b"]);
    assert_eq!(ran.stdout, "main.js a b\n");
    let ran = run("print(1); try { process.exit(3) } finally { print('no') } print('no')", "");
    assert_eq!((ran.status, ran.stdout.as_str()), (3, "1\n"));
    assert_eq!(run("process.exitCode = 4", "").status, 4);
    assert_eq!(run("process.exit(256 + 7)", "").status, 7);
}

#[test]
fn uncaught_errors_say_name_and_message_first() {
    let ran = run("function f() { throw new TypeError('bad ' + 42); }\nf();", "");
    assert_eq!(ran.status, 1);
    assert!(
        ran.stderr.starts_with("Uncaught TypeError: bad 42\n    at f (main.js:1"),
        "{}",
        ran.stderr
    );
    let ran = run("Promise.resolve().then(() => { throw new RangeError('later'); });", "");
    assert!(ran.stderr.starts_with("Uncaught RangeError: later (in promise)\n"), "{}", ran.stderr);
    let ran = run("setTimeout(() => null.x, 5)", "");
    assert!(ran.stderr.starts_with("Uncaught TypeError: "), "{}", ran.stderr);
    assert_eq!(run("throw 5", "").stderr, "Uncaught 5\n");
    let ran = run("const p = Promise.reject(new Error('x')); p.catch(() => print('handled'));", "");
    assert_eq!((ran.status, ran.stdout.as_str()), (0, "handled\n"));
}

#[test]
fn deep_recursion_is_a_range_error() {
    let ran = run("function down(n) { return down(n + 1) + 1; } down(0);", "");
    assert_eq!(ran.status, 1);
    assert!(ran.stderr.starts_with("Uncaught RangeError: Maximum call stack size exceeded"));
    // Natively (a debug build's big frames) a hundred levels; the plugin
    // goes deeper (tests/e2e).
    assert_eq!(ok("const d = (n) => n === 0 ? 0 : 1 + d(n - 1); print(d(100))", ""), "100\n");
}

#[test]
fn modules_outside_the_sandbox_are_clear_errors() {
    let ran = run("require('child_process').execSync('ls')", "");
    assert!(ran.stderr.starts_with("Uncaught Error: require('child_process'): not available"));
    let ran = run("require('fs').readFileSync('/etc/passwd', 'utf8')", "");
    assert!(ran.stderr.starts_with("Uncaught Error: ENOENT"), "{}", ran.stderr);
}

#[test]
fn modern_javascript_works() {
    let src = "const a = [3, 1, 2]; print(a.toSorted().join(), a.findLast((x) => x > 1), a.at(-1));
        print(2n ** 70n, Object.groupBy([1, 2, 3], (x) => x % 2)[1].length, [1, [2, [3]]].flat(2).length);
        class C { #p = 1; static s = 2; get p() { return this.#p; } } print(new C().p, C.s, 1_000 ?? 0);
        const f = new Float64Array(2); f[1] = 0.5; print(f.reduce((x, y) => x + y), typeof globalThis);";
    assert_eq!(ok(src, ""), "1,2,3 2 2\n1180591620717411303424 2 3\n1 2 1000\n0.5 object\n");
}

#[test]
fn numeric_sort_fast_path_matches_the_generic_sort() {
    // Each comparator on numbers (with -0, 0, Infinity, duplicates), then on
    // arrays the fast path must leave to QuickJS (NaN, a string, a hole);
    // `Object.is` tells -0 from 0, so stability is checked too.
    let src = "const base = [5, -0, 3, 0, Infinity, 1.5, -Infinity, 3, 2e9, -7, 0, 42, 5];
        const cmps = [(a, b) => a - b, (x,y)=>y-x, function (a, b) { return a - b; },
            (a, b) => { return b - a; }, (a, b) => a - b + 0, (a, b) => b - b];
        // A wrapper the fast path does not recognise: QuickJS's own sort.
        const generic = (a, c) => a.slice().sort((p, q) => c(p, q));
        const same = (a, b) => a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
        const inputs = [base, base.concat([NaN]), base.concat(['4']), [9, 8, , 7, 6, 5, 4, 3, 2, 1]];
        let ok = true;
        for (const input of inputs) for (const c of cmps)
            if (!same(input.slice().sort(c), generic(input, c))) { ok = false; print(input, String(c)); }
        print(ok);";
    assert_eq!(ok(src, ""), "true\n");
}

#[test]
fn remainder_of_large_whole_numbers_is_exact() {
    // The patched integer path and fmod's (negative, fractional, huge).
    let src = "print((123456789 * 987654321) % 1000000007, 2 ** 60 % 1000, -(2 ** 40) % 3,
        7.5 % 2, 2 ** 40 % -3, (2 ** 53 + 2) % 10, 1e300 % 7, Object.is(-(2 ** 40) % 2, -0))";
    assert_eq!(ok(src, ""), "259106854 976 -1 1.5 1 4 1 true\n");
}

#[test]
fn syntax_errors_are_compile_errors_with_a_place() {
    let e = compile(b"const [a, b] = [1, 2]\nprint(a + b;").unwrap_err();
    assert!(e.starts_with("main.js: SyntaxError: ") && e.contains("main.js:2"), "{e}");
    assert!(compile(b"print('\xff')").unwrap_err().contains("invalid UTF-8 on line 1"));
}

#[test]
fn info_names_the_engine_and_its_version() {
    let version = crate::quickjs_version();
    assert!(version.starts_with("0.") && version.split('.').count() == 3, "{version}");
    assert_eq!(
        ok("print(typeof console.log, typeof require, typeof BigInt)", ""),
        "function function function\n"
    );
}

/// A stdin that plays an interactor: it hands out one line per read, and
/// only once the program has written (and so flushed) the query before it.
struct Replies {
    out: Sink,
    replies: Vec<&'static str>,
    next: usize,
}

impl std::io::Read for Replies {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some(reply) = self.replies.get(self.next) else { return Ok(0) };
        let queries = String::from_utf8(self.out.0.borrow().clone()).unwrap();
        // Before the first reply nothing is needed; before each later one,
        // the query asked after the previous reply.
        assert_eq!(queries.lines().count(), self.next, "the query was not flushed before a read");
        self.next += 1;
        buf[..reply.len()].copy_from_slice(reply.as_bytes());
        Ok(reply.len())
    }
}

#[test]
fn stdin_is_read_as_it_comes_and_output_is_flushed_before_each_wait() {
    let source = "const rl = require('readline').createInterface({ input: process.stdin });
        let asked = 0;
        rl.on('line', (line) => { if (line === 'bye') { rl.close(); return; } asked++; console.log('? ' + asked); });";
    let (status, output) = std::thread::Builder::new()
        .stack_size(32 << 20)
        .spawn(move || {
            let out = Sink::default();
            let replies = vec!["hi\n", "a\n", "b\n", "bye\n"];
            let stdin = Replies { out: out.clone(), replies, next: 0 };
            let engine = Engine::new().expect("the runtime starts");
            let status = engine.run(
                source.as_bytes(),
                &[],
                Box::new(stdin),
                Box::new(out.clone()),
                Box::new(Sink::default()),
            );
            (status, String::from_utf8(out.0.take()).unwrap())
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(status, 0);
    assert_eq!(output, "? 1\n? 2\n? 3\n");
}
