//! Content checks that flag a message for closer review: text that looks
//! like a payment card or a US social security number.
//!
//! A flag never blocks a message; it makes the operator look twice.

/// Why `text` deserves a second look, if it does.
pub fn flag_reason(text: &str) -> Option<String> {
    if !text.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    if contains_card_number(text) {
        return Some("contains what looks like a payment card number".into());
    }
    if contains_ssn(text) {
        return Some("contains what looks like a US social security number".into());
    }
    None
}

/// Runs of 13–19 digits, optionally split by single spaces or dashes, that
/// pass the Luhn check.
fn contains_card_number(text: &str) -> bool {
    let mut digits: Vec<u8> = Vec::new();
    let mut previous_was_separator = false;
    for byte in text.bytes() {
        if byte.is_ascii_digit() {
            digits.push(byte - b'0');
            previous_was_separator = false;
        } else if (byte == b' ' || byte == b'-') && !digits.is_empty() && !previous_was_separator {
            previous_was_separator = true;
        } else {
            if is_card_number(&digits) {
                return true;
            }
            digits.clear();
            previous_was_separator = false;
        }
    }
    is_card_number(&digits)
}

fn is_card_number(digits: &[u8]) -> bool {
    (13..=19).contains(&digits.len()) && luhn_valid(digits)
}

fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// `ddd-dd-dddd` standing alone.
fn contains_ssn(text: &str) -> bool {
    let bytes = text.as_bytes();
    const SHAPE: &[u8] = b"ddd-dd-dddd";
    bytes
        .windows(SHAPE.len())
        .enumerate()
        .any(|(start, window)| {
            let fits = window.iter().zip(SHAPE).all(|(&b, &s)| {
                if s == b'd' {
                    b.is_ascii_digit()
                } else {
                    b == s
                }
            });
            let before_ok = start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
            let after = start + SHAPE.len();
            let after_ok = after == bytes.len() || !bytes[after].is_ascii_alphanumeric();
            fits && before_ok && after_ok
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_a_card_number_with_spaces() {
        assert!(flag_reason("card: 4111 1111 1111 1111, exp 12/29").is_some());
    }

    #[test]
    fn ignores_digits_that_fail_luhn() {
        assert_eq!(flag_reason("order 4111 1111 1111 1112 shipped"), None);
    }

    #[test]
    fn flags_an_ssn() {
        assert!(flag_reason("my ssn is 123-45-6789.").is_some());
    }

    #[test]
    fn ignores_phone_numbers_and_dates() {
        assert_eq!(flag_reason("call +1 555-010-9999 on 2026-12-03"), None);
    }
}
