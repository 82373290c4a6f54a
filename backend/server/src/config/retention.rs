//! The retention and blob-sweep settings' durations: a whole number with a
//! unit, `30s`, `15m`, `12h`, `7d` (a bare number is seconds), and `0`
//! for "never" where the setting allows it.

use std::time::Duration;

use anyhow::bail;

/// Parses `text` as a duration for the setting `name` (see the module).
pub fn parse(name: &str, text: &str) -> anyhow::Result<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let seconds = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => 0,
    };
    match number.parse::<u64>().ok().and_then(|n| n.checked_mul(seconds)) {
        Some(secs) if seconds > 0 => Ok(Duration::from_secs(secs)),
        _ => bail!(
            "{name}: {text:?} is not a duration: a whole number and a unit, s, m, h or d \
             (30s, 15m, 12h, 7d)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_a_number_and_a_unit() {
        assert_eq!(parse("x", "7d").unwrap(), Duration::from_secs(7 * 86_400));
        assert_eq!(parse("x", "12h").unwrap(), Duration::from_secs(12 * 3600));
        assert_eq!(parse("x", " 15m ").unwrap(), Duration::from_secs(900));
        assert_eq!(parse("x", "30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse("x", "90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse("x", "0").unwrap(), Duration::ZERO);
        for bad in ["", "d", "7w", "1.5h", "-1d", "7 d", "99999999999999999999d"] {
            let error = parse("run_retention", bad).unwrap_err().to_string();
            assert!(error.starts_with(&format!("run_retention: {bad:?} is not")), "{error}");
        }
    }
}
