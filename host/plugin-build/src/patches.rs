//! Crates the plugins build with a local fix: generated from the published
//! source plus a few exact edits, into `plugins/.patched/` (ignored by git;
//! `plugins/Cargo.toml` points `[patch.crates-io]` there).
//!
//! rquickjs-sys 0.14.0 bundles QuickJS-NG 0.16.2, whose `Map`/`Set` hash of
//! a number is `(low word ^ high word) * 3163` of its double. A small integer
//! has a zero low word and zeros at the bottom of its high word, and
//! multiplying by an odd number keeps them, so the keys 0..1000 share a
//! handful of buckets: a frequency count over small integers took 4 s
//! instead of 25 ms. The edit folds all 64 bits into the low ones (shift,
//! xor, multiply by a large odd constant) before the table masks them. Two
//! more edits keep QuickJS's stack limit on WASI, where it is switched off
//! (and measured with clang's frame address, which on Wasm does not follow
//! the stack in linear memory): without them deep recursion runs into the
//! end of the Wasm stack, a trap, instead of a `RangeError` the program can
//! report. Five more keep functions with a 64-byte buffer (error messages,
//! an atom's text) out of the interpreter's `JS_CallInternal`: inlined,
//! their buffers made its frame on the stack in linear memory 256 bytes
//! instead of 128, paid on every level of JavaScript recursion. The last
//! computes `%` of whole numbers above 2^31 (as in
//! `(a * b) % 1000000007`) by integer division instead of wasi-libc's
//! `fmod`, which is a slow bit-by-bit loop.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One crate to patch: where its published source is, and what to change.
struct Patch {
    krate: &'static str,
    version: &'static str,
    file: &'static str,
    /// `(published text, replacement)`; each published text must occur
    /// exactly once, so a changed upstream fails loudly instead of silently.
    edits: &'static [(&'static str, &'static str)],
}

const PATCHES: &[Patch] = &[Patch {
    krate: "rquickjs-sys",
    version: "0.14.0",
    file: "quickjs/quickjs.c",
    edits: &[
        (
            "        h = (u.u32[0] ^ u.u32[1]) * 3163;",
            "        /* Gavel: mix all 64 bits into the low ones (the bucket is\n\
             \x20          h's low bits); small integers differ only in the high\n\
             \x20          bits of the high word. */\n\
             \x20       u.u64 ^= u.u64 >> 33;\n\
             \x20       u.u64 *= 0xff51afd7ed558ccdull;\n\
             \x20       u.u64 ^= u.u64 >> 33;\n\
             \x20       h = (uint32_t)u.u64;",
        ),
        (
            "static inline uintptr_t js_get_stack_pointer(void)\n{\n\
             #if defined(__clang__) || defined(__GNUC__)",
            "static inline uintptr_t js_get_stack_pointer(void)\n{\n\
             /* Gavel: on Wasm, clang's frame address does not follow the stack\n\
             \x20  in linear memory; the address of a local does. */\n\
             #if (defined(__clang__) || defined(__GNUC__)) && !defined(__wasm__)",
        ),
        (
            "static void update_stack_limit(JSRuntime *rt)\n{\n#if defined(__wasi__)",
            "static void update_stack_limit(JSRuntime *rt)\n{\n\
             /* Gavel: keep the limit on WASI too, so deep recursion is a\n\
             \x20  RangeError rather than the end of the Wasm stack. */\n\
             #if 0",
        ),
        (
            "static JSValue __JS_AtomToValue(JSContext *ctx, JSAtom atom, bool force_string)\n{",
            "/* Gavel: functions with a 64-byte buffer, kept out of JS_CallInternal:\n\
             \x20  inlined, their buffers made its frame on the shadow stack 256 bytes\n\
             \x20  instead of 128, and every level of JavaScript recursion pays it. */\n\
             #define NOINLINE_FRAME __attribute__((noinline))\n\
             static NOINLINE_FRAME JSValue __JS_AtomToValue(JSContext *ctx, JSAtom atom, bool force_string)\n{",
        ),
        (
            "static JSValue JS_ThrowTypeErrorAtom(JSContext *ctx, const char *fmt, JSAtom atom)\n{",
            "static NOINLINE_FRAME JSValue JS_ThrowTypeErrorAtom(JSContext *ctx, const char *fmt, JSAtom atom)\n{",
        ),
        (
            "static JSValue JS_ThrowSyntaxErrorAtom(JSContext *ctx, const char *fmt, JSAtom atom)\n{",
            "static NOINLINE_FRAME JSValue JS_ThrowSyntaxErrorAtom(JSContext *ctx, const char *fmt, JSAtom atom)\n{",
        ),
        (
            "static JSValue JS_ThrowReferenceErrorNotDefined(JSContext *ctx, JSAtom name)\n{",
            "static NOINLINE_FRAME JSValue JS_ThrowReferenceErrorNotDefined(JSContext *ctx, JSAtom name)\n{",
        ),
        (
            "static JSValue JS_ThrowReferenceErrorUninitialized(JSContext *ctx, JSAtom name)\n{",
            "static NOINLINE_FRAME JSValue JS_ThrowReferenceErrorUninitialized(JSContext *ctx, JSAtom name)\n{",
        ),
        (
            "            dr = fmod(d1, d2);\n",
            "            /* Gavel: whole numbers below 2^53 (`x % MOD` in contest\n\
                 \x20             code) by integer division; wasi-libc's fmod takes a\n\
                 \x20             bit-by-bit loop. */\n\
                 \x20           if (d1 >= 0 && d2 > 0 && d1 < 0x1p53 && d2 < 0x1p53 &&\n\
                 \x20               d1 == (double)(int64_t)d1 && d2 == (double)(int64_t)d2)\n\
                 \x20               dr = (double)((int64_t)d1 % (int64_t)d2);\n\
                 \x20           else\n\
                 \x20               dr = fmod(d1, d2);\n",
        ),
    ],
}];

/// Generates every patched crate that is missing or stale.
pub fn prepare(plugins: &Path) -> Result<(), String> {
    for patch in PATCHES {
        let dest = plugins.join(".patched").join(patch.krate);
        let stamp = dest.join(".gavel-patched");
        let fingerprint = patch.fingerprint();
        if std::fs::read_to_string(&stamp).is_ok_and(|s| s == fingerprint) {
            continue;
        }
        let source = pristine_source(plugins, patch)?;
        let _ = std::fs::remove_dir_all(&dest);
        copy_dir(&source, &dest).map_err(|e| format!("copying {}: {e}", source.display()))?;
        let file = dest.join(patch.file);
        let mut text = std::fs::read_to_string(&file)
            .map_err(|e| format!("reading {}: {e}", file.display()))?;
        for (old, new) in patch.edits {
            if text.matches(old).count() != 1 {
                return Err(format!(
                    "the patch of {} {} no longer applies: `{old}` is not in {} exactly once",
                    patch.krate, patch.version, patch.file
                ));
            }
            text = text.replacen(old, new, 1);
        }
        std::fs::write(&file, text).map_err(|e| format!("writing {}: {e}", file.display()))?;
        std::fs::write(&stamp, fingerprint)
            .map_err(|e| format!("writing {}: {e}", stamp.display()))?;
    }
    Ok(())
}

impl Patch {
    /// Changes whenever the patch does, so stale output is regenerated.
    fn fingerprint(&self) -> String {
        let mut text = format!("{} {} {}\n", self.krate, self.version, self.file);
        for (old, new) in self.edits {
            text.push_str(&format!("{old}\n=>\n{new}\n\n"));
        }
        text
    }
}

/// The published source of the crate: from cargo's registry if it is there,
/// else fetched into it with `cargo fetch` on a throwaway manifest.
fn pristine_source(plugins: &Path, patch: &Patch) -> Result<PathBuf, String> {
    let name = format!("{}-{}", patch.krate, patch.version);
    let registry = cargo_home().join("registry");
    if let Some(dir) = find_in(&registry.join("src"), &name) {
        return Ok(dir);
    }
    let archive = match find_in(&registry.join("cache"), &format!("{name}.crate")) {
        Some(archive) => archive,
        None => {
            fetch(plugins, patch)?;
            find_in(&registry.join("cache"), &format!("{name}.crate"))
                .ok_or_else(|| format!("cargo fetch did not download {name}"))?
        }
    };
    let extract = plugins.join(".patched").join(".extract");
    std::fs::create_dir_all(&extract).map_err(|e| format!("{}: {e}", extract.display()))?;
    let status = Command::new("tar")
        .arg("xzf")
        .arg(&archive)
        .arg("-C")
        .arg(&extract)
        .status()
        .map_err(|e| format!("running tar: {e}"))?;
    if !status.success() {
        return Err(format!("could not unpack {}", archive.display()));
    }
    Ok(extract.join(name))
}

/// Downloads the crate into cargo's cache through a throwaway manifest.
fn fetch(plugins: &Path, patch: &Patch) -> Result<(), String> {
    let dir = plugins.join(".patched").join(".fetch");
    std::fs::create_dir_all(dir.join("src")).map_err(|e| format!("{}: {e}", dir.display()))?;
    let manifest = format!(
        "[package]\nname = \"fetch\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
         [dependencies]\n{} = \"={}\"\n\n[workspace]\n",
        patch.krate, patch.version
    );
    let write = |path: PathBuf, text: &str| {
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
    };
    write(dir.join("Cargo.toml"), &manifest)?;
    write(dir.join("src/lib.rs"), "")?;
    let status = crate::clean_cargo()
        .current_dir(&dir)
        .arg("fetch")
        .status()
        .map_err(|e| format!("running cargo fetch: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("cargo fetch of {} failed", patch.krate)) }
}

/// `<registry dir>/<index>/<entry>` for the first index that has it.
fn find_in(dir: &Path, entry: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|index| index.path().join(entry))
        .find(|p| p.exists())
}

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo")
    })
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}
