//! Arbitrary bytes uploaded as a tar.gz problem package.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    gavel_fuzz::import_archive(data, problem_package::ArchiveKind::TarGz);
});
