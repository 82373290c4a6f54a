//! End-to-end tests of the engine: programs in, status and streams out.

use std::{cell::RefCell, io::Write, rc::Rc};

use super::{compile, run};

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

struct Outcome {
    status: u8,
    stdout: String,
    stderr: String,
}

/// Runs `source` on `input` on a thread with a large stack (as the Wasm build
/// has), after checking that it compiles.
fn js_args(source: &str, input: &str, args: &[&str]) -> Outcome {
    let source = source.to_owned();
    let input = input.as_bytes().to_vec();
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            compile(source.as_bytes()).expect("compiles");
            let (out, err) = (Sink::default(), Sink::default());
            let status = run(
                source.as_bytes(),
                &args,
                Box::new(std::io::Cursor::new(input)),
                Box::new(out.clone()),
                Box::new(err.clone()),
            );
            let text = |s: Sink| String::from_utf8(s.0.borrow().clone()).expect("utf-8 output");
            Outcome { status, stdout: text(out), stderr: text(err) }
        })
        .expect("thread")
        .join()
        .expect("no panic")
}

fn js(source: &str, input: &str) -> Outcome {
    js_args(source, input, &[])
}

#[track_caller]
fn check(source: &str, input: &str, stdout: &str) {
    let o = js(source, input);
    assert_eq!(o.stderr, "", "stderr of {source:?}");
    assert_eq!(o.status, 0, "status of {source:?}");
    assert_eq!(o.stdout, stdout, "stdout of {source:?}");
}

const INPUT: &str = "3\n1 2  3\r\n-4 5 6\n";

#[test]
fn d8_shell_globals() {
    check("print('a', 1, [2, 3]); write('b', 'c'); print()", "", "a 1 2,3\nb c\n");
    check(
        "let l; while ((l = readline()) !== undefined) print(JSON.stringify(l));",
        INPUT,
        "\"3\"\n\"1 2  3\"\n\"-4 5 6\"\n",
    );
    // A last line without a terminator is still read; then undefined.
    check("print(readline(), readline(), readline())", "x\ny", "x y undefined\n");
    check("print(readline().split(' ').map(Number).reduce((a, b) => a + b))", "1 2 3\n", "6\n");
}

#[test]
fn whole_input_idioms() {
    let show = "console.log(JSON.stringify(%));";
    for (expr, out) in [
        (
            "require('fs').readFileSync(0, 'utf8').split(/\\s+/)",
            r#"["3","1","2","3","-4","5","6",""]"#,
        ),
        (
            "require('fs').readFileSync('/dev/stdin', 'utf8').trim().split(/\\s+/)",
            r#"["3","1","2","3","-4","5","6"]"#,
        ),
        (
            "require('fs').readFileSync(0).toString().split('\\n')",
            r#"["3","1 2  3\r","-4 5 6",""]"#,
        ),
        (
            "require('fs').readFileSync(0, {encoding: 'utf8'}).split(' ')",
            r#"["3\n1","2","","3\r\n-4","5","6\n"]"#,
        ),
        (
            "require('fs').readFileSync(0, 'utf-8').split(/\\r?\\n/)",
            r#"["3","1 2  3","-4 5 6",""]"#,
        ),
        (
            "require('fs').readFileSync(0, 'utf8').split(/[ \\n]+/)",
            r#"["3","1","2","3\r","-4","5","6",""]"#,
        ),
    ] {
        check(&show.replace('%', expr), INPUT, &format!("{out}\n"));
    }
    check(
        "const a = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number); console.log(a.join(','))",
        INPUT,
        "3,1,2,3,-4,5,6\n",
    );
    // Buffer-like result: bytes and toString.
    check(
        "const b = require('fs').readFileSync(0); console.log(b.length, b[0], String(b).trim())",
        "7\n",
        "2 55 7\n",
    );
}

#[test]
fn split_semantics_match_the_spec() {
    let cases = [
        ("'a,b,,c'.split(',')", "[ 'a', 'b', '', 'c' ]"),
        ("'a,b,c'.split(',', 2)", "[ 'a', 'b' ]"),
        ("''.split(',')", "[ '' ]"),
        ("''.split(/\\s+/)", "[ '' ]"),
        ("' a  b '.split(/\\s+/)", "[ '', 'a', 'b', '' ]"),
        ("' a  b '.split(' ')", "[ '', 'a', '', 'b', '' ]"),
        ("'abc'.split('')", "[ 'a', 'b', 'c' ]"),
        ("'a1b2c'.split(/\\d/)", "[ 'a', 'b', 'c' ]"),
        ("'a1b2c'.split(/(\\d)/)", "[ 'a', '1', 'b', '2', 'c' ]"),
        ("'x\\u00e9y\\u2028z'.split(/\\s/)", "[ 'xéy', 'z' ]"),
        ("'A b'.split(/a/i)", "[ '', ' b' ]"),
        ("'abc'.split(undefined)", "[ 'abc' ]"),
        ("'a b'.split(' ', 0)", "[]"),
        ("'a+b'.split(/\\+/)", "[ 'a', 'b' ]"),
        ("'abcabc'.indexOf('c', 3)", "5"),
        ("'abc'.indexOf('')", "0"),
        ("'abc'.indexOf('', 9)", "3"),
        ("'ab'.includes('b', 1)", "true"),
        ("['a.b.c'.replaceAll('.', '-')]", "[ 'a-b-c' ]"),
        ("['a.b'.replaceAll('.', '$&$&')]", "[ 'a..b' ]"),
    ];
    let source: String = cases.iter().map(|(e, _)| format!("console.log({e});\n")).collect();
    let expected: String = cases.iter().map(|(_, o)| format!("{o}\n")).collect();
    check(&source, "", &expected);
}

#[test]
fn node_readline_module() {
    let program = r"
        const rl = require('readline').createInterface({ input: process.stdin });
        const lines = [];
        rl.on('line', (l) => lines.push(l));
        rl.on('close', () => { console.log(lines.length, lines.join('|')); });
        console.log('first');
    ";
    check(program, INPUT, "first\n3 3|1 2  3|-4 5 6\n");
    let for_await = r"
        const rl = require('readline').createInterface({ input: process.stdin, crlfDelay: Infinity });
        (async () => { let n = 0; for await (const line of rl) n += line.length; console.log(n); })();
    ";
    check(for_await, INPUT, "13\n");
    let stdin_events = r"
        let data = '';
        process.stdin.resume();
        process.stdin.setEncoding('utf8');
        process.stdin.on('data', (c) => data += c);
        process.stdin.on('end', () => console.log(data.split('\n').length));
    ";
    check(stdin_events, INPUT, "4\n");
    let buffers = "let d = ''; process.stdin.on('data', (c) => d += c).on('end', () => console.log(d.trim()));";
    check(buffers, "x y\n", "x y\n");
}

#[test]
fn streams_and_console() {
    let o = js(
        "console.log('out'); console.error('err', 1); console.warn('w'); process.stdout.write('a'); process.stderr.write('b'); printErr('c')",
        "",
    );
    assert_eq!((o.status, o.stdout.as_str(), o.stderr.as_str()), (0, "out\na", "err 1\nw\nbc\n"));
}

#[test]
fn console_formatting_follows_node() {
    let cases = [
        ("[1, 2, 3]", "[ 1, 2, 3 ]"),
        ("[]", "[]"),
        ("{}", "{}"),
        (
            "{ a: 1, 'b-c': 'x', d: [1, { e: null }] }",
            "{ a: 1, 'b-c': 'x', d: [ 1, { e: null } ] }",
        ),
        ("{ a: { b: { c: { d: 1 } } } }", "{ a: { b: { c: [Object] } } }"),
        ("-0", "-0"),
        ("1e21", "1e+21"),
        ("10n", "10n"),
        ("new Map([[1, 'a']])", "Map(1) { 1 => 'a' }"),
        ("new Set([1, 2])", "Set(2) { 1, 2 }"),
        ("new Int32Array(2)", "Int32Array(2) [ 0, 0 ]"),
        ("[undefined, null, true, 'it\\'s']", "[ undefined, null, true, \"it's\" ]"),
        ("new (class Foo { constructor() { this.x = 1 } })()", "Foo { x: 1 }"),
        ("function f() {}", "[Function: f]"),
        ("new Array(3)", "[ <3 empty items> ]"),
        (
            "Array.from({ length: 10 }, (_, i) => i + 1)",
            "[\n  1, 2, 3, 4,  5,\n  6, 7, 8, 9, 10\n]",
        ),
        ("Array.from({ length: 101 }, () => 0).slice(0, 3)", "[ 0, 0, 0 ]"),
    ];
    let source: String = cases.iter().map(|(e, _)| format!("console.log(({e}));\n")).collect();
    let expected: String = cases.iter().map(|(_, o)| format!("{o}\n")).collect();
    check(&source, "", &expected);
    check("console.log('%s=%d%%', 'x', 42.5, 'rest')", "", "x=42.5% rest\n");
    check("console.log('%i|%j|%o', 3.9, {a: [1]}, 'q')", "", "3|{\"a\":[1]}|'q'\n");
}

#[test]
fn exit_codes() {
    let o = js("console.log('before'); process.exit(3); console.log('after')", "");
    assert_eq!((o.status, o.stdout.as_str()), (3, "before\n"));
    // process.exit cannot be caught, even from nested callbacks.
    let o = js(
        "try { [1].forEach(() => process.exit(4)) } catch (e) { console.log('caught') } finally { console.log('finally') }",
        "",
    );
    assert_eq!((o.status, o.stdout.as_str()), (4, ""));
    let o = js("process.exitCode = 5; console.log('x')", "");
    assert_eq!((o.status, o.stdout.as_str()), (5, "x\n"));
    let o = js("quit(6)", "");
    assert_eq!(o.status, 6);
    let o = js(
        "setTimeout(() => process.exit(7), 10); Promise.resolve().then(() => console.log('micro'))",
        "",
    );
    assert_eq!((o.status, o.stdout.as_str()), (7, "micro\n"));
}

#[test]
fn uncaught_errors() {
    let o =
        js("console.log('partial');\nfunction f() { throw new TypeError('bad thing'); }\nf();", "");
    assert_eq!(o.status, 1);
    assert_eq!(o.stdout, "partial\n");
    assert!(o.stderr.starts_with("Uncaught TypeError: bad thing\n"), "{}", o.stderr);
    assert!(o.stderr.contains("main.js"), "{}", o.stderr);
    let o = js("throw 42", "");
    assert_eq!((o.status, o.stderr.as_str()), (1, "Uncaught 42\n"));
    let o = js("null.x", "");
    assert_eq!(o.status, 1);
    assert!(o.stderr.starts_with("Uncaught TypeError"), "{}", o.stderr);
    let o = js("async function main() { throw new Error('later') } main()", "");
    assert_eq!(o.status, 1);
    assert!(o.stderr.starts_with("Uncaught (in promise) Error: later"), "{}", o.stderr);
    let o = js("require('child_process')", "");
    assert_eq!(o.status, 1);
    assert!(o.stderr.contains("Cannot find module 'child_process'"), "{}", o.stderr);
}

#[test]
fn recursion_is_limited_not_fatal() {
    let o = js("function f(n) { return f(n + 1) + 1 } f(0)", "");
    assert_eq!(o.status, 1);
    assert!(o.stderr.contains("Maximum call stack size exceeded"), "{}", o.stderr);
    // Through native callbacks too.
    let o = js("function g() { [1].map(g) } g()", "");
    assert_eq!(o.status, 1);
    assert!(o.stderr.contains("Maximum call stack size exceeded"), "{}", o.stderr);
    // Deep but legitimate recursion works (a DFS on a path of 10^4 nodes).
    check(
        "function d(n) { return n === 0 ? 0 : 1 + d(n - 1) } console.log(d(10000))",
        "",
        "10000\n",
    );
}

#[test]
fn numeric_sort_fast_path_matches_the_original() {
    let program = r"
        const a = [];
        for (let i = 0; i < 1000; i++) a.push(((i * 7919) % 1009) - 500 + (i % 3 ? 0.5 : 0));
        a.push(-0, 0, -0);
        const slow = a.slice().sort((x, y) => { const d = x - y; return d; });
        const up = a.slice().sort((x, y) => x - y);
        const down = a.slice().sort(function (p, q) { return q - p; });
        const slowDown = a.slice().sort((x, y) => { const d = y - x; return d; });
        const same = (u, v) => u.length === v.length && u.every((x, i) => Object.is(x, v[i]));
        console.log(same(up, slow), same(down, slowDown), up[0], down[0]);
        const mixed = [3, 1, '2', 10, 5, 4, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17].sort((a, b) => a - b);
        console.log(mixed.join(' '));
        console.log([3, 1, 2].sort((a, b) => a - b), [1, 2, 3].sort((a, b) => b - a));
    ";
    check(
        program,
        "",
        "true true -500 508\n1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n[ 1, 2, 3 ] [ 3, 2, 1 ]\n",
    );
}

#[test]
fn compile_errors_have_positions() {
    let e = compile(b"let x = 1;\nlet y = (;\n").unwrap_err();
    assert!(e.contains("line 2"), "{e}");
    let e = compile(b"print(1)\n\xff").unwrap_err();
    assert!(e.contains("UTF-8"), "{e}");
    assert!(compile(b"print(1)").is_ok());
}

#[test]
fn node_globals() {
    let o = js_args(
        "console.log(process.argv.slice(2).join(','), typeof module.exports, global === globalThis)",
        "",
        &["a", "b"],
    );
    assert_eq!(o.stdout, "a,b object true\n");
    check(
        "setTimeout(() => console.log('t2'), 2); setTimeout(() => console.log('t1'), 1); setImmediate(() => console.log('imm')); queueMicrotask(() => console.log('mq')); console.log('main')",
        "",
        "main\nmq\nimm\nt1\nt2\n",
    );
    check(
        "const id = setInterval(() => { console.log('i'); if (++n === 3) clearInterval(id) }, 5); let n = 0;",
        "",
        "i\ni\ni\n",
    );
    check(
        "const { EventEmitter } = require('events'); const e = new EventEmitter(); e.once('x', (v) => console.log(v)); e.emit('x', 1); e.emit('x', 2)",
        "",
        "1\n",
    );
    check(
        "process.nextTick((a) => console.log('tick', a), 1); console.log('main')",
        "",
        "main\ntick 1\n",
    );
    check("console.log('abc'.substr(1), typeof performance.now())", "", "bc number\n");
}

#[test]
fn output_is_large_and_exact() {
    let o = js(
        "const out = []; for (let i = 0; i < 100000; i++) out.push(i); console.log(out.join('\\n'))",
        "",
    );
    assert_eq!(o.status, 0);
    assert_eq!(o.stdout.lines().count(), 100_000);
    let o = js("for (let i = 0; i < 100000; i++) console.log(i)", "");
    assert_eq!(o.stdout.len(), (0..100_000).map(|i: u32| i.to_string().len() + 1).sum::<usize>());
    check("console.log('é€😀'); print('\\u00ff')", "", "é€😀\nÿ\n");
}
