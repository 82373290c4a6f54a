//! Times the engine natively on the input idioms contestants use (`docs/contract.md` §7).
//!
//! Run: `cargo run --release -p javascript --example bench --target x86_64-unknown-linux-gnu`
//! (from `plugins/`); `-- FILTER` runs only the cases whose name contains FILTER.

use std::{io::Write, time::Instant};

use javascript::engine;

/// A writer that counts bytes and drops them.
struct Count(std::rc::Rc<std::cell::Cell<usize>>);

impl Write for Count {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.set(self.0.get() + buf.len());
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// 200 000 pseudo-random numbers below 10^9, `per_line` to a line.
fn numbers(per_line: usize) -> Vec<u8> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut out = String::from("200000\n");
    for i in 0..200_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push_str(&(x % 1_000_000_000).to_string());
        out.push(if (i + 1) % per_line == 0 { '\n' } else { ' ' });
    }
    out.into_bytes()
}

fn time(name: &str, source: &str, input: &[u8], repeat: usize) {
    let (out, err) =
        (std::rc::Rc::new(std::cell::Cell::new(0)), std::rc::Rc::new(std::cell::Cell::new(0)));
    let start = Instant::now();
    let mut status = 0;
    for _ in 0..repeat {
        status = engine::run(
            source.as_bytes(),
            &[],
            Box::new(std::io::Cursor::new(input.to_vec())),
            Box::new(Count(out.clone())),
            Box::new(Count(err.clone())),
        );
    }
    let each = start.elapsed().as_secs_f64() * 1000.0 / repeat as f64;
    println!(
        "{name:<44} {each:>10.3} ms  (status {status}, stdout {} B, stderr {} B)",
        out.get() / repeat,
        err.get() / repeat
    );
}

fn main() {
    let filter = std::env::args().nth(1).unwrap_or_default();
    let column = numbers(1);
    let rows = numbers(200_000);
    let grid = numbers(100);
    println!("input: {} bytes one per line, {} bytes one line", column.len(), rows.len());
    let cases: Vec<(&str, &str, &[u8], usize)> = vec![
        ("start: empty program", "", b"", 200),
        ("start: print(1)", "print(1)", b"", 200),
        ("start: console.log(1)", "console.log(1)", b"", 200),
        (
            "start: require('readline') + on('line')",
            "require('readline').createInterface({input: process.stdin}).on('line', () => {})",
            b"1\n",
            100,
        ),
        (
            "readFileSync(0,'utf8').split(/\\s+/)",
            "let s = 0; for (const t of require('fs').readFileSync(0, 'utf8').split(/\\s+/)) s += +t; print(s)",
            &column,
            1,
        ),
        (
            "readFileSync(0,'utf8').split('\\n')",
            "let s = 0; for (const t of require('fs').readFileSync(0, 'utf8').split('\\n')) s += +t; print(s)",
            &column,
            1,
        ),
        (
            "readFileSync(0,'utf8').split(' ') (one line)",
            "let s = 0; for (const t of require('fs').readFileSync(0, 'utf8').split(' ')) s += +t; print(s)",
            &rows,
            1,
        ),
        (
            ".trim().split(/\\s+/).map(Number)",
            "const a = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number); print(a.reduce((x, y) => x + y))",
            &grid,
            1,
        ),
        (
            "readFileSync(0).toString().split('\\n')",
            "print(require('fs').readFileSync(0).toString().split('\\n').length)",
            &column,
            1,
        ),
        (
            "200k x readline()",
            "let s = 0, l; while ((l = readline()) !== undefined) s += +l; print(s)",
            &column,
            1,
        ),
        (
            "readline().split(' ').map(Number) (one line)",
            "readline(); const a = readline().split(' ').map(Number); print(a.length)",
            &rows,
            1,
        ),
        (
            "2000 x readline().split(' ').map(Number)",
            "readline(); let s = 0, l; while ((l = readline()) !== undefined) for (const x of l.split(' ').map(Number)) s += x; print(s)",
            &grid,
            1,
        ),
        (
            "rl.on('line') 200k lines",
            "let s = 0; require('readline').createInterface({input: process.stdin}).on('line', (l) => { s += +l }).on('close', () => print(s))",
            &column,
            1,
        ),
        (
            "indexOf('\\n', from) scan",
            "const d = require('fs').readFileSync(0, 'utf8'); let p = 0, n = 0; for (;;) { const q = d.indexOf('\\n', p); if (q < 0) break; n++; p = q + 1 } print(n)",
            &column,
            1,
        ),
        ("cpu: sum 1..1e7", "let s = 0; for (let i = 1; i <= 1e7; i++) s += i; print(s)", b"", 1),
        (
            "cpu: sieve 1e6",
            "const n = 1e6, c = new Uint8Array(n + 1); let k = 0; for (let i = 2; i <= n; i++) if (!c[i]) { k++; for (let j = i * i; j <= n; j += i) c[j] = 1 } print(k)",
            b"",
            1,
        ),
        (
            "cpu: sort 2e5 numbers",
            "const a = []; for (let i = 0; i < 2e5; i++) a.push((i * 7919) % 200003); a.sort((x, y) => x - y); print(a[5])",
            b"",
            1,
        ),
        ("out: 1e5 x console.log(i)", "for (let i = 0; i < 1e5; i++) console.log(i)", b"", 1),
        (
            "out: push + join('\\n') 1e5",
            "const o = []; for (let i = 0; i < 1e5; i++) o.push(i); console.log(o.join('\\n'))",
            b"",
            1,
        ),
        (
            "out: s += i + '\\n' 1e5",
            "let o = ''; for (let i = 0; i < 1e5; i++) o += i + '\\n'; console.log(o)",
            b"",
            1,
        ),
    ];
    for (name, source, input, repeat) in cases {
        if name.contains(filter.as_str()) {
            time(name, source, input, repeat);
        }
    }
}
