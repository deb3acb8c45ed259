//! Signing secrets and signatures, following the Standard Webhooks scheme:
//! `v1,` + base64(HMAC-SHA256(secret, "{id}.{timestamp}.{body}")).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Every secret starts with this.
pub const SECRET_PREFIX: &str = "whsec_";

/// Random bytes in a secret.
const SECRET_BYTES: usize = 32;

/// A new secret: `whsec_` + base64 of 32 random bytes.
pub fn generate() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{SECRET_PREFIX}{}", BASE64.encode(bytes)))
}

/// The key bytes a secret stands for: the base64 after the prefix.
fn key_bytes(secret: &str) -> Option<Vec<u8>> {
    BASE64.decode(secret.strip_prefix(SECRET_PREFIX)?).ok()
}

/// One signature, `v1,<base64>`, or `None` if the secret is malformed.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key_bytes(secret)?).ok()?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(format!("v1,{}", BASE64.encode(mac.finalize().into_bytes())))
}

/// The `webhook-signature` header: one signature per secret, space-separated.
pub fn signature_header(secrets: &[&str], id: &str, timestamp: i64, body: &[u8]) -> String {
    let signatures: Vec<String> = secrets
        .iter()
        .filter_map(|secret| sign(secret, id, timestamp, body))
        .collect();
    signatures.join(" ")
}

/// True if any signature in `header` was made with `secret`, compared in
/// constant time. What a receiver does; used by tests and `webhook test`.
pub fn verify(secret: &str, id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
    let Some(key) = key_bytes(secret) else {
        return false;
    };
    header
        .split(' ')
        .filter_map(|part| part.strip_prefix("v1,"))
        .any(|encoded| {
            let Ok(expected) = BASE64.decode(encoded) else {
                return false;
            };
            let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key) else {
                return false;
            };
            mac.update(format!("{id}.{timestamp}.").as_bytes());
            mac.update(body);
            mac.verify_slice(&expected).is_ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_with_its_secret_only() {
        let secret = generate().unwrap();
        let other = generate().unwrap();
        let header = signature_header(&[&secret], "msg_1", 1_700_000_000, b"{}");

        assert!(header.starts_with("v1,"));
        assert!(verify(&secret, "msg_1", 1_700_000_000, b"{}", &header));
        assert!(!verify(&other, "msg_1", 1_700_000_000, b"{}", &header));
        assert!(!verify(&secret, "msg_1", 1_700_000_001, b"{}", &header));
    }

    #[test]
    fn a_rotation_header_verifies_with_both_secrets() {
        let (new, old) = (generate().unwrap(), generate().unwrap());
        let header = signature_header(&[&new, &old], "msg_2", 42, b"body");

        assert_eq!(header.split(' ').count(), 2);
        assert!(verify(&new, "msg_2", 42, b"body", &header));
        assert!(verify(&old, "msg_2", 42, b"body", &header));
    }

    #[test]
    fn matches_the_standard_webhooks_reference_vector() {
        // Published example from the Standard Webhooks specification.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
