//! The checkers' text helpers (`plugins/sdk/src/text.rs`, built for the
//! host) on arbitrary bytes, against simple reference implementations.
#![no_main]

use gavel_sdk::text::{common_prefix, excerpt, is_space, key_values, parse_float, tokens};

libfuzzer_sys::fuzz_target!(|input: (&[u8], &[u8], Vec<String>)| {
    let (a, b, args) = input;

    let got: Vec<&[u8]> = tokens(a).collect();
    let want: Vec<&[u8]> = a.split(|&c| is_space(c)).filter(|t| !t.is_empty()).collect();
    assert_eq!(got, want);

    let prefix = common_prefix(a, b);
    assert_eq!(prefix, a.iter().zip(b).take_while(|(x, y)| x == y).count());

    for token in &got {
        if let Some(v) = parse_float(token) {
            let s = std::str::from_utf8(token).expect("a number is UTF-8");
            assert!(v.is_nan() || s.parse::<f64>() == Ok(v));
        }
        let _ = excerpt(token);
    }
    let _ = excerpt(a);

    for ((key, value), arg) in key_values(&args).zip(&args) {
        assert!(arg.starts_with(key) && arg.ends_with(value));
        assert!(!key.contains('='));
    }
});
