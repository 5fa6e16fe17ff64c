//! Sizes and rates as people type them: `8MiB`, `16M`, `1.5GB`, `10MB/s`.

/// Parses a byte size: a number with an optional unit. `K/M/G/T` and `KB/MB/…`
/// are powers of 1000, `KiB/MiB/…` powers of 1024, `B` or nothing is bytes.
pub fn parse_size(input: &str) -> Result<u64, String> {
    let s = input.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let number: f64 =
        number.parse().map_err(|_| format!("{input:?} is not a size: expected e.g. 8MiB, 16M or 1048576"))?;
    let multiplier: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => return Err(format!("{input:?}: unknown unit {other:?}; use B, K, M, G, T or KiB, MiB, GiB, TiB")),
    };
    let bytes = number * multiplier;
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
        return Err(format!("{input:?} is out of range"));
    }
    Ok(bytes.round() as u64)
}

/// Parses a rate: a size per second, with or without `/s`.
pub fn parse_rate(input: &str) -> Result<u64, String> {
    let trimmed = input.trim();
    let size = trimmed.strip_suffix("/s").unwrap_or(trimmed);
    match parse_size(size)? {
        0 => Err(format!("{input:?}: a bandwidth limit must be above zero")),
        rate => Ok(rate),
    }
}

/// Parses a duration into seconds: `90m`, `1h`, `1d`, `7d`, `2w`, or bare seconds.
pub fn parse_duration(input: &str) -> Result<u64, String> {
    let s = input.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let number: u64 =
        number.parse().map_err(|_| format!("{input:?} is not a duration: expected e.g. 1h, 1d, 7d or 3600"))?;
    let unit_secs = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        other => return Err(format!("{input:?}: unknown unit {other:?}; use s, m, h, d or w")),
    };
    match number.checked_mul(unit_secs) {
        Some(0) | None => Err(format!("{input:?}: a duration must be above zero and sensible")),
        Some(secs) => Ok(secs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_rates() {
        assert_eq!(parse_size("1048576"), Ok(1_048_576));
        assert_eq!(parse_size("8MiB"), Ok(8 * 1024 * 1024));
        assert_eq!(parse_size("16M"), Ok(16_000_000));
        assert_eq!(parse_size("1.5GB"), Ok(1_500_000_000));
        assert_eq!(parse_rate("10MB/s"), Ok(10_000_000));
        assert_eq!(parse_rate("512KiB"), Ok(524_288));
        assert!(parse_size("ten").is_err());
        assert!(parse_size("5 parsecs").is_err());
        assert!(parse_rate("0/s").is_err());
        assert_eq!(parse_duration("1h"), Ok(3600));
        assert_eq!(parse_duration("7d"), Ok(604_800));
        assert_eq!(parse_duration("90m"), Ok(5400));
        assert_eq!(parse_duration("45"), Ok(45));
        assert!(parse_duration("0h").is_err());
        assert!(parse_duration("soon").is_err());
    }
}
