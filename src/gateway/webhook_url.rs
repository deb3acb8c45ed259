//! Checking a webhook URL before it is stored: absolute http(s) with a host,
//! and never a link-local or cloud metadata address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

use super::Error;

/// Host names that resolve to cloud metadata services.
const METADATA_HOSTS: &[&str] = &["metadata.google.internal", "metadata", "instance-data"];

/// Returns the URL in normal form, or says what is wrong with it.
pub fn validate(text: &str) -> Result<String, Error> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(Error::invalid(
            "webhook URL is empty: give an http:// or https:// URL",
        ));
    }
    if trimmed.chars().any(char::is_whitespace) {
        return Err(Error::invalid(format!(
            "webhook URL {trimmed:?} contains whitespace"
        )));
    }
    let url = Url::parse(trimmed).map_err(|e| {
        Error::invalid(format!(
            "webhook URL {trimmed:?} is not an absolute URL ({e}): use e.g. \
             https://agent.example/hooks"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::invalid(format!(
            "webhook URL {trimmed:?} uses scheme {:?}: only http and https are allowed",
            url.scheme()
        )));
    }
    check_host(&url, trimmed)?;
    Ok(url.to_string())
}

fn check_host(url: &Url, text: &str) -> Result<(), Error> {
    let refused = |why: &str| {
        Err(Error::invalid(format!(
            "webhook URL {text:?} is refused: {why}"
        )))
    };
    match url.host() {
        None => refused("it has no host"),
        Some(Host::Domain(name))
            if METADATA_HOSTS.contains(&name.to_ascii_lowercase().as_str()) =>
        {
            refused("it names a cloud metadata service")
        }
        Some(Host::Domain(_)) => Ok(()),
        Some(Host::Ipv4(ip)) if is_forbidden(IpAddr::V4(ip)) => {
            refused("link-local and metadata addresses are not allowed")
        }
        Some(Host::Ipv6(ip)) if is_forbidden(IpAddr::V6(ip)) => {
            refused("link-local and metadata addresses are not allowed")
        }
        Some(_) => Ok(()),
    }
}

/// Link-local addresses (where cloud metadata services live) and the
/// unspecified address; loopback and private ranges stay allowed because
/// agents often run on the same machine or network.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_forbidden_v4(ip),
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => is_forbidden_v4(v4),
            None => is_forbidden_v6(ip),
        },
    }
}

fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    ip.is_link_local() || ip.is_unspecified() || ip.is_broadcast()
}

fn is_forbidden_v6(ip: Ipv6Addr) -> bool {
    // fe80::/10 is link-local; fd00:ec2::254 is AWS's IPv6 metadata address.
    let link_local = (ip.segments()[0] & 0xffc0) == 0xfe80;
    let aws_metadata = ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254);
    link_local || aws_metadata || ip.is_unspecified()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_loopback_and_public_urls() {
        assert!(validate("http://127.0.0.1:8080/hook").is_ok());
        assert!(validate("https://agent.example.com/hooks?x=1").is_ok());
        assert!(validate("http://[::1]:9000/").is_ok());
        assert!(validate("http://10.0.0.5/hook").is_ok());
    }

    #[test]
    fn refuses_other_schemes_relative_urls_and_whitespace() {
        assert!(validate("ftp://example.com/").is_err());
        assert!(validate("/hooks").is_err());
        assert!(validate("http://exa mple.com/").is_err());
        assert!(validate("").is_err());
        assert!(validate("file:///etc/passwd").is_err());
    }

    #[test]
    fn refuses_metadata_and_link_local_addresses() {
        assert!(validate("http://169.254.169.254/latest/meta-data").is_err());
        assert!(validate("http://[fe80::1]/").is_err());
        assert!(validate("http://[::ffff:169.254.169.254]/").is_err());
        assert!(validate("http://metadata.google.internal/").is_err());
        assert!(validate("http://0.0.0.0/").is_err());
    }
}
