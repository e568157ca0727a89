//! Durations on the command line: `90` or `90s`, `500ms`, `5m`, `2h`, `1d`.

use std::time::Duration;

/// Parses a duration of the form `<number>[ms|s|m|h|d]` (seconds without a unit).
///
/// # Errors
/// A message for clap when the text is not a positive duration of at most 365 days.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("expected a duration like 30s, 5m, 2h or 1d, got {s:?}"))?;
    let scale = match unit {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => {
            return Err(format!(
                "unknown duration unit {unit:?} in {s:?} (ms, s, m, h, d)"
            ));
        }
    };
    let secs = n * scale;
    if !(secs.is_finite() && secs > 0.0 && secs <= 365.0 * 86_400.0) {
        return Err(format!(
            "duration {s:?} must be above 0 and at most 365 days"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        for bad in ["", "0", "-1s", "5x", "m", "400d", "1e9"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
