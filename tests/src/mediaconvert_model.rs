//! The limits MediaConvert's API model puts on the job settings Streamdrop
//! sends (ranges of numeric members, as the API reference lists them). The
//! stand-in refuses a CreateJob that breaks one, with the 400 and message
//! shape MediaConvert uses, so every test that submits a job also checks
//! that what the app sends is valid, not only well formed.

use serde_json::Value;

/// `(member name, min, max)`: the member wherever it appears in `settings`.
const RANGES: &[(&str, f64, f64)] = &[
    ("qvbrQualityLevel", 1.0, 10.0),
    ("maxBitrate", 1_000.0, 1_152_000_000.0),
    ("bitrate", 1_000.0, 1_152_000_000.0),
    ("sampleRate", 8_000.0, 192_000.0),
    ("gopSize", 0.0, f64::MAX),
    ("gopClosedCadence", 0.0, 2_147_483_647.0),
    ("width", 32.0, 8_192.0),
    ("height", 32.0, 8_192.0),
    ("framerateNumerator", 1.0, 2_147_483_647.0),
    ("framerateDenominator", 1.0, 2_147_483_647.0),
    ("maxCaptures", 1.0, 10_000_000.0),
    ("quality", 1.0, 100.0),
    ("segmentLength", 1.0, 2_147_483_647.0),
    ("minSegmentLength", 0.0, 2_147_483_647.0),
];

/// The first member of `settings` outside its range, as MediaConvert words it.
pub fn check_job_settings(settings: &Value) -> Result<(), String> {
    check(settings, "/settings")
}

fn check(value: &Value, at: &str) -> Result<(), String> {
    match value {
        Value::Object(members) => {
            for (name, member) in members {
                let here = format!("{at}/{name}");
                let range = RANGES.iter().find(|(n, ..)| n == name);
                if let (Some(&(_, min, max)), Some(number)) = (range, member.as_f64()) {
                    if !(min..=max).contains(&number) {
                        return Err(format!(
                            "{here}: Should be greater than or equal to {min} and less than or equal to {max}"
                        ));
                    }
                }
                check(member, &here)?;
            }
            Ok(())
        }
        Value::Array(items) => items.iter().enumerate().try_for_each(|(i, item)| check(item, &format!("{at}/{i}"))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn members_out_of_range_are_named() {
        assert!(check_job_settings(
            &json!({"outputGroups": [{"outputs": [{"videoDescription": {"width": 1280, "height": 720}}]}]})
        )
        .is_ok());
        let err = check_job_settings(&json!({"outputGroups": [{"outputs": [{"videoDescription": {"width": 16}}]}]}))
            .unwrap_err();
        assert!(err.starts_with("/settings/outputGroups/0/outputs/0/videoDescription/width:"), "{err}");
        assert!(check_job_settings(&json!({"x": {"framerateDenominator": 0}})).is_err());
    }
}
