//! Network addresses in settings: CIDR ranges (`trusted_proxies`, `metrics_allow`) and the rule
//! that finds a request's client behind trusted proxies. Pure logic, no I/O.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};

/// An address range such as `10.0.0.0/8`, `127.0.0.1` (one address) or `::1/128`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `ip` lies in the range. An IPv4 address written as IPv6 (`::ffff:10.0.0.1`,
    /// as a dual-stack socket reports it) is taken as the IPv4 address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }

    /// The loopback ranges, `127.0.0.0/8` and `::1/128`.
    pub fn loopback() -> Vec<Cidr> {
        vec![
            Cidr {
                network: IpAddr::from([127, 0, 0, 0]),
                prefix: 8,
            },
            Cidr {
                network: IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]),
                prefix: 128,
            },
        ]
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Cidr, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let network = canonical(
            addr.parse::<IpAddr>()
                .map_err(|_| format!("“{s}”不是有效的 IP 地址或网段（例如 10.0.0.0/8）"))?,
        );
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("“{s}”的前缀长度须在 0 到 {max} 之间"))?,
        };
        Ok(Cidr { network, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// A list of ranges from the settings: a TOML array of strings, or one string with the ranges
/// separated by commas or spaces (as an environment variable gives it).
pub fn deserialize_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Cidr>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        One(String),
        Many(Vec<String>),
    }
    let items = match Raw::deserialize(d)? {
        Raw::One(s) => s
            .split([',', ' '])
            .filter(|p| !p.trim().is_empty())
            .map(str::to_string)
            .collect(),
        Raw::Many(v) => v,
    };
    items
        .iter()
        .map(|i| i.parse::<Cidr>().map_err(serde::de::Error::custom))
        .collect()
}

/// Whether any range of `list` holds `ip`.
pub fn any_contains(list: &[Cidr], ip: IpAddr) -> bool {
    list.iter().any(|c| c.contains(ip))
}

/// The client of a request that reached us from `peer`. Only when the peer is a trusted proxy
/// is `X-Forwarded-For` read (all its values, in order): walking it from the right, past every
/// trusted proxy, the first address is the client. Anything a client writes into the header
/// itself lies left of that and is never believed.
pub fn client_address<'a>(
    peer: IpAddr,
    forwarded_for: impl Iterator<Item = &'a str>,
    trusted: &[Cidr],
) -> IpAddr {
    if !any_contains(trusted, peer) {
        return canonical(peer);
    }
    let hops: Vec<&str> = forwarded_for
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = canonical(peer);
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            // A malformed entry: what lies beyond it cannot be trusted either.
            break;
        };
        client = canonical(ip);
        if !any_contains(trusted, client) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    fn cidrs(list: &[&str]) -> Vec<Cidr> {
        list.iter().filter_map(|s| s.parse().ok()).collect()
    }

    #[test]
    fn ranges_parse_and_match() {
        let net: Cidr = "10.1.0.0/16".parse().unwrap_or(Cidr::loopback()[0]);
        assert!(net.contains(ip("10.1.200.3")));
        assert!(!net.contains(ip("10.2.0.1")));
        assert!(net.contains(ip("::ffff:10.1.0.9")));
        assert!(any_contains(&Cidr::loopback(), ip("127.3.4.5")));
        assert!(any_contains(&Cidr::loopback(), ip("::1")));
        assert!(!any_contains(&Cidr::loopback(), ip("::2")));
        assert!(
            "0.0.0.0/0"
                .parse::<Cidr>()
                .is_ok_and(|c| c.contains(ip("8.8.8.8")))
        );
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("example.org".parse::<Cidr>().is_err());
        assert_eq!(
            "192.168.1.1".parse::<Cidr>().map(|c| c.to_string()),
            Ok("192.168.1.1/32".to_string())
        );
    }

    #[test]
    fn forwarded_for_is_read_only_from_a_trusted_peer() {
        let trusted = cidrs(&["10.0.0.0/8"]);
        // A client talking to us directly cannot choose its address.
        assert_eq!(
            client_address(ip("203.0.113.9"), ["1.2.3.4"].into_iter(), &trusted),
            ip("203.0.113.9")
        );
        // Through the balancer: the address it appended.
        assert_eq!(
            client_address(ip("10.0.0.2"), ["203.0.113.9"].into_iter(), &trusted),
            ip("203.0.113.9")
        );
        // A client that sends its own header is found right of what it wrote.
        assert_eq!(
            client_address(
                ip("10.0.0.2"),
                ["1.2.3.4, 203.0.113.9", "10.0.0.7"].into_iter(),
                &trusted
            ),
            ip("203.0.113.9")
        );
        // No header, or garbage, from the balancer: the balancer (or the last good hop).
        assert_eq!(
            client_address(ip("10.0.0.2"), std::iter::empty(), &trusted),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_address(ip("10.0.0.2"), ["x, 10.0.0.5"].into_iter(), &trusted),
            ip("10.0.0.5")
        );
        // Nobody trusted (the default): the header is ignored.
        assert_eq!(
            client_address(ip("10.0.0.2"), ["203.0.113.9"].into_iter(), &[]),
            ip("10.0.0.2")
        );
    }
}
