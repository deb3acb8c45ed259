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
        Some(Host::Domain(name)) if is_metadata_host(name) => {
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

/// Whether `name` is a metadata service's host name, also when written
/// with the trailing dot of a fully qualified name.
fn is_metadata_host(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    METADATA_HOSTS.contains(&name.as_str())
}

/// Link-local addresses (where most cloud metadata services live), other
/// metadata addresses and the unspecified address, also when an IPv6
/// address carries one of them; loopback and private ranges stay allowed
/// because agents often run on the same machine or network.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_forbidden_v4(ip),
        IpAddr::V6(ip) => match embedded_ipv4(ip) {
            Some(v4) => is_forbidden_v4(v4),
            None => is_forbidden_v6(ip),
        },
    }
}

fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    // 100.100.100.200 is Alibaba Cloud's metadata service, outside link-local.
    let alibaba_metadata = ip == Ipv4Addr::new(100, 100, 100, 200);
    ip.is_link_local() || ip.is_unspecified() || ip.is_broadcast() || alibaba_metadata
}

/// The IPv4 address an IPv6 one stands for: IPv4-mapped (`::ffff:a.b.c.d`),
/// IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`) or 6to4
/// (`2002:AABB:CCDD::/48`), each of which may reach the IPv4 address.
fn embedded_ipv4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = |a: u16, b: u16| Ipv4Addr::from((u32::from(a) << 16) | u32::from(b));
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    match s {
        // `::` and `::1` are the unspecified and loopback addresses themselves.
        [0, 0, 0, 0, 0, 0, 0, 0 | 1] => None,
        [0, 0, 0, 0, 0, 0, a, b] => Some(low(a, b)),
        [0x64, 0xff9b, 0, 0, 0, 0, a, b] => Some(low(a, b)),
        [0x2002, a, b, ..] => Some(low(a, b)),
        _ => None,
    }
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

    #[test]
    fn refuses_metadata_addresses_however_they_are_spelled() {
        assert!(validate("http://metadata.google.internal./").is_err());
        assert!(validate("http://METADATA.google.internal/").is_err());
        assert!(validate("http://100.100.100.200/latest/meta-data").is_err());
        assert!(validate("http://[::a9fe:a9fe]/").is_err());
        assert!(validate("http://[64:ff9b::a9fe:a9fe]/").is_err());
        assert!(validate("http://[2002:a9fe:a9fe::1]/").is_err());
        assert!(validate("http://[fd00:ec2::254]/").is_err());
    }

    #[test]
    fn ipv6_forms_of_allowed_addresses_stay_allowed() {
        assert!(validate("http://[::1]/").is_ok());
        assert!(validate("http://[::ffff:127.0.0.1]/").is_ok());
        assert!(validate("http://[64:ff9b::a00:5]/").is_ok());
        assert!(validate("http://[2001:db8::1]/").is_ok());
    }
}
