//! The webhook egress policy, pure: may the backend connect to this
//! address? [`check`] answers for one address, connecting nowhere.
//!
//! By default only public addresses pass: every range of IANA's IPv4 and
//! IPv6 special-purpose address registries is refused (loopback, private,
//! shared, link-local — the cloud metadata address 169.254.169.254 among
//! them —, unique-local, "this network", unspecified, documentation,
//! benchmarking, the IETF protocol assignments and their sub-ranges, the
//! deprecated 6to4 relay, discard-only), and so are multicast, IPv4's
//! reserved 240/4 and broadcast, IPv6's deprecated site-local fec0::/10, and
//! every IPv6 address outside global unicast 2000::/3 (none is routed on
//! the internet). Teredo (2001::/32) and ORCHIDv2 (2001:20::/28) are refused
//! whole.
//!
//! IPv6 forms that carry an IPv4 address are judged by the address they
//! carry: IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64
//! `64:ff9b::/96` and the local-use `64:ff9b:1::/48` (the IPv4 address in
//! the last 32 bits, the /96 layout of RFC 6052 that translators use), and
//! 6to4 `2002:AABB:CCDD::/48` (bits 16–47). So `::ffff:127.0.0.1` is as
//! loopback as `127.0.0.1`, and `::ffff:8.8.8.8` as public as `8.8.8.8`.
//!
//! An operator's allowlist opens ranges: an address inside one of them
//! passes whatever it is, and an IPv6 form passes when the IPv4 address it
//! carries is inside one (allowing `127.0.0.0/8` allows `::ffff:127.0.0.1`
//! too). A refusal names the most specific range the address is in.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// Why an address was refused: the address, the IPv4 address it carries
/// when that is what was judged, and the range and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub address: IpAddr,
    /// The IPv4 address inside an IPv6 form (`::ffff:127.0.0.1` → `127.0.0.1`).
    pub embedded: Option<Ipv4Addr>,
    /// What the range is: `loopback`, `link-local`, …
    pub what: &'static str,
    pub range: IpNet,
}

impl fmt::Display for Refusal {
    /// `169.254.169.254 is link-local (169.254.0.0/16)`, or
    /// `::ffff:127.0.0.1 carries 127.0.0.1, which is loopback (127.0.0.0/8)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Refusal { address, what, range, .. } = self;
        match self.embedded {
            Some(v4) => write!(f, "{address} carries {v4}, which is {what} ({range})"),
            None => write!(f, "{address} is {what} ({range})"),
        }
    }
}

impl std::error::Error for Refusal {}

/// Whether the backend may connect to `ip`: `Ok` for a public address or
/// one inside a range of `allow`, else the refusal naming the range.
pub fn check(ip: IpAddr, allow: &[IpNet]) -> Result<(), Refusal> {
    if allow.iter().any(|net| net.contains(&ip)) {
        return Ok(());
    }
    match ip {
        IpAddr::V4(v4) => match most_specific(V4_RANGES, |net| net.contains(&v4)) {
            Some((net, what)) => Err(refusal(ip, what, IpNet::V4(net))),
            None => Ok(()),
        },
        IpAddr::V6(v6) => match most_specific(V6_RANGES, |net| net.contains(&v6)) {
            None => Ok(()),
            Some((net, V6Range::Refused(what))) => Err(refusal(ip, what, IpNet::V6(net))),
            Some((_, V6Range::Carries(layout))) => {
                let v4 = layout.ipv4_in(v6);
                check(IpAddr::V4(v4), allow).map_err(|inner| Refusal {
                    address: ip,
                    embedded: Some(v4),
                    ..inner
                })
            }
        },
    }
}

fn refusal(address: IpAddr, what: &'static str, range: IpNet) -> Refusal {
    Refusal { address, embedded: None, what, range }
}

/// The range of `table` with the longest prefix that `contains` the
/// address, with what it is.
fn most_specific<N: Copy + Prefixed, T: Copy>(
    table: &[(N, T)],
    contains: impl Fn(&N) -> bool,
) -> Option<(N, T)> {
    table.iter().filter(|(net, _)| contains(net)).max_by_key(|(net, _)| net.prefix()).copied()
}

trait Prefixed {
    fn prefix(&self) -> u8;
}

impl Prefixed for Ipv4Net {
    fn prefix(&self) -> u8 {
        self.prefix_len()
    }
}

impl Prefixed for Ipv6Net {
    fn prefix(&self) -> u8 {
        self.prefix_len()
    }
}

/// What an IPv6 range is to the policy.
#[derive(Debug, Clone, Copy)]
enum V6Range {
    /// Refused, being this.
    Refused(&'static str),
    /// Judged by the IPv4 address it carries.
    Carries(Layout),
}

/// Where an IPv6 form keeps its IPv4 address.
#[derive(Debug, Clone, Copy)]
enum Layout {
    /// The last 32 bits: mapped, compatible, NAT64.
    Low32,
    /// Bits 16–47: 6to4.
    SixToFour,
}

impl Layout {
    fn ipv4_in(self, v6: Ipv6Addr) -> Ipv4Addr {
        let bits = u128::from(v6);
        // The casts truncate to exactly the 32 bits wanted.
        match self {
            Layout::Low32 => Ipv4Addr::from(bits as u32),
            Layout::SixToFour => Ipv4Addr::from((bits >> 80) as u32),
        }
    }
}

const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), prefix)
}

const fn v6(segments: [u16; 8], prefix: u8) -> Ipv6Net {
    let [a, b, c, d, e, f, g, h] = segments;
    Ipv6Net::new_assert(Ipv6Addr::new(a, b, c, d, e, f, g, h), prefix)
}

const PRIVATE: &str = "private";
const LOOPBACK: &str = "loopback";
const DOCUMENTATION: &str = "documentation";
const AS112: &str = "AS112 (DNS sink)";
const NOT_GLOBAL: &str = "outside global unicast (2000::/3)";

/// IANA's IPv4 special-purpose address registry, with multicast, reserved
/// and broadcast.
const V4_RANGES: &[(Ipv4Net, &str)] = &[
    (v4(0, 0, 0, 0, 8), "\"this network\""),
    (v4(0, 0, 0, 0, 32), "unspecified"),
    (v4(10, 0, 0, 0, 8), PRIVATE),
    (v4(100, 64, 0, 0, 10), "shared address space (carrier-grade NAT)"),
    (v4(127, 0, 0, 0, 8), LOOPBACK),
    (v4(169, 254, 0, 0, 16), "link-local"),
    (v4(172, 16, 0, 0, 12), PRIVATE),
    (v4(192, 0, 0, 0, 24), "IETF protocol assignments"),
    (v4(192, 0, 0, 0, 29), "IPv4 service continuity (DS-Lite)"),
    (v4(192, 0, 0, 8, 32), "the IPv4 dummy address"),
    (v4(192, 0, 0, 9, 32), "PCP anycast"),
    (v4(192, 0, 0, 10, 32), "TURN anycast"),
    (v4(192, 0, 0, 170, 31), "NAT64/DNS64 discovery"),
    (v4(192, 0, 2, 0, 24), DOCUMENTATION),
    (v4(192, 31, 196, 0, 24), AS112),
    (v4(192, 52, 193, 0, 24), "AMT"),
    (v4(192, 88, 99, 0, 24), "the deprecated 6to4 relay anycast"),
    (v4(192, 168, 0, 0, 16), PRIVATE),
    (v4(192, 175, 48, 0, 24), AS112),
    (v4(198, 18, 0, 0, 15), "benchmarking"),
    (v4(198, 51, 100, 0, 24), DOCUMENTATION),
    (v4(203, 0, 113, 0, 24), DOCUMENTATION),
    (v4(224, 0, 0, 0, 4), "multicast"),
    (v4(240, 0, 0, 0, 4), "reserved"),
    (v4(255, 255, 255, 255, 32), "broadcast"),
];

/// IANA's IPv6 special-purpose address registry, with multicast,
/// site-local and everything outside global unicast.
const V6_RANGES: &[(Ipv6Net, V6Range)] = &[
    (v6([0, 0, 0, 0, 0, 0, 0, 0], 3), V6Range::Refused(NOT_GLOBAL)),
    (v6([0x4000, 0, 0, 0, 0, 0, 0, 0], 2), V6Range::Refused(NOT_GLOBAL)),
    (v6([0x8000, 0, 0, 0, 0, 0, 0, 0], 1), V6Range::Refused(NOT_GLOBAL)),
    (v6([0, 0, 0, 0, 0, 0, 0, 0], 128), V6Range::Refused("unspecified")),
    (v6([0, 0, 0, 0, 0, 0, 0, 1], 128), V6Range::Refused(LOOPBACK)),
    (v6([0, 0, 0, 0, 0, 0, 0, 0], 96), V6Range::Carries(Layout::Low32)),
    (v6([0, 0, 0, 0, 0, 0xffff, 0, 0], 96), V6Range::Carries(Layout::Low32)),
    (v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96), V6Range::Carries(Layout::Low32)),
    (v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48), V6Range::Carries(Layout::Low32)),
    (v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64), V6Range::Refused("discard-only")),
    (v6([0x100, 0, 0, 1, 0, 0, 0, 0], 64), V6Range::Refused("the IPv6 dummy prefix")),
    (v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23), V6Range::Refused("IETF protocol assignments")),
    (v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 32), V6Range::Refused("Teredo")),
    (v6([0x2001, 1, 0, 0, 0, 0, 0, 1], 128), V6Range::Refused("PCP anycast")),
    (v6([0x2001, 1, 0, 0, 0, 0, 0, 2], 128), V6Range::Refused("TURN anycast")),
    (v6([0x2001, 1, 0, 0, 0, 0, 0, 3], 128), V6Range::Refused("DNS-SD SRP anycast")),
    (v6([0x2001, 2, 0, 0, 0, 0, 0, 0], 48), V6Range::Refused("benchmarking")),
    (v6([0x2001, 3, 0, 0, 0, 0, 0, 0], 32), V6Range::Refused("AMT")),
    (v6([0x2001, 4, 0x112, 0, 0, 0, 0, 0], 48), V6Range::Refused(AS112)),
    (v6([0x2001, 0x20, 0, 0, 0, 0, 0, 0], 28), V6Range::Refused("ORCHIDv2")),
    (v6([0x2001, 0x30, 0, 0, 0, 0, 0, 0], 28), V6Range::Refused("drone remote ID (DRIP)")),
    (v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32), V6Range::Refused(DOCUMENTATION)),
    (v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16), V6Range::Carries(Layout::SixToFour)),
    (v6([0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0], 48), V6Range::Refused(AS112)),
    (v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20), V6Range::Refused(DOCUMENTATION)),
    (v6([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16), V6Range::Refused("segment routing (SRv6 SIDs)")),
    (v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7), V6Range::Refused("unique-local")),
    (v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10), V6Range::Refused("link-local")),
    (v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10), V6Range::Refused("site-local (deprecated)")),
    (v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8), V6Range::Refused("multicast")),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn nets(texts: &[&str]) -> Vec<IpNet> {
        texts.iter().map(|t| t.parse().unwrap()).collect()
    }

    /// The refusal's sentence, or "allowed".
    fn verdict(address: &str, allow: &[IpNet]) -> String {
        match check(ip(address), allow) {
            Ok(()) => "allowed".to_string(),
            Err(refusal) => refusal.to_string(),
        }
    }

    #[test]
    fn the_brief_examples_are_refused_naming_their_range() {
        let cases = [
            ("10.0.0.1", "10.0.0.1 is private (10.0.0.0/8)"),
            ("172.16.0.1", "172.16.0.1 is private (172.16.0.0/12)"),
            ("192.168.0.1", "192.168.0.1 is private (192.168.0.0/16)"),
            ("169.254.169.254", "169.254.169.254 is link-local (169.254.0.0/16)"),
            ("127.0.0.1", "127.0.0.1 is loopback (127.0.0.0/8)"),
            ("fd00::1", "fd00::1 is unique-local (fc00::/7)"),
            ("::1", "::1 is loopback (::1/128)"),
            (
                "::ffff:127.0.0.1",
                "::ffff:127.0.0.1 carries 127.0.0.1, which is loopback (127.0.0.0/8)",
            ),
            ("224.0.0.1", "224.0.0.1 is multicast (224.0.0.0/4)"),
            ("ff02::1", "ff02::1 is multicast (ff00::/8)"),
            ("0.0.0.0", "0.0.0.0 is unspecified (0.0.0.0/32)"),
            ("::", ":: is unspecified (::/128)"),
        ];
        for (address, expected) in cases {
            assert_eq!(verdict(address, &[]), expected);
        }
    }

    /// `address` is refused, naming a range that holds it and is `net` or
    /// inside it; when it is `net`, by `net`'s name.
    fn refused_within(address: IpAddr, net: IpNet, what: Option<&str>) {
        let refusal = check(address, &[]).unwrap_err();
        assert!(refusal.range.contains(&address), "{address}: {refusal}");
        assert!(refusal.range.prefix_len() >= net.prefix_len(), "{address}: {refusal}");
        if let Some(what) = what.filter(|_| refusal.range == net) {
            assert_eq!(refusal.what, what, "{address}: {refusal}");
        }
    }

    #[test]
    fn every_range_is_refused_at_both_ends_and_named_by_its_most_specific_entry() {
        for (net, what) in V4_RANGES {
            for end in [net.network(), net.broadcast()] {
                refused_within(IpAddr::V4(end), IpNet::V4(*net), Some(what));
            }
        }
        for (net, range) in V6_RANGES {
            let V6Range::Refused(what) = range else { continue };
            for end in [net.network(), net.broadcast()] {
                refused_within(IpAddr::V6(end), IpNet::V6(*net), Some(what));
            }
        }
    }

    #[test]
    fn each_special_purpose_range_has_its_name() {
        let cases = [
            ("0.1.2.3", "\"this network\" (0.0.0.0/8)"),
            ("100.64.0.1", "shared address space (carrier-grade NAT) (100.64.0.0/10)"),
            ("100.127.255.254", "(100.64.0.0/10)"),
            ("192.0.0.1", "IPv4 service continuity (DS-Lite) (192.0.0.0/29)"),
            ("192.0.0.100", "IETF protocol assignments (192.0.0.0/24)"),
            ("192.0.2.7", "documentation (192.0.2.0/24)"),
            ("198.51.100.7", "documentation (198.51.100.0/24)"),
            ("203.0.113.7", "documentation (203.0.113.0/24)"),
            ("198.18.0.1", "benchmarking (198.18.0.0/15)"),
            ("198.19.255.255", "benchmarking (198.18.0.0/15)"),
            ("192.88.99.1", "the deprecated 6to4 relay anycast (192.88.99.0/24)"),
            ("239.255.255.250", "multicast (224.0.0.0/4)"),
            ("240.0.0.1", "reserved (240.0.0.0/4)"),
            ("255.255.255.255", "broadcast (255.255.255.255/32)"),
            ("fe80::1", "link-local (fe80::/10)"),
            ("fec0::1", "site-local (deprecated) (fec0::/10)"),
            ("fc00::1", "unique-local (fc00::/7)"),
            ("2001:db8::1", "documentation (2001:db8::/32)"),
            ("3fff::1", "documentation (3fff::/20)"),
            ("100::1", "discard-only (100::/64)"),
            ("2001::1", "Teredo (2001::/32)"),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo (2001::/32)"),
            ("2001:20::1", "ORCHIDv2 (2001:20::/28)"),
            ("2001:2::1", "benchmarking (2001:2::/48)"),
            ("2001:1ff::1", "IETF protocol assignments (2001::/23)"),
            ("4000::1", "outside global unicast (2000::/3) (4000::/2)"),
            ("1::1", "outside global unicast (2000::/3) (::/3)"),
        ];
        for (address, expected) in cases {
            let said = verdict(address, &[]);
            assert!(said.ends_with(expected), "{address}: {said:?}, expected …{expected:?}");
        }
    }

    #[test]
    fn ipv6_forms_are_judged_by_the_ipv4_address_they_carry() {
        let refused = [
            ("::ffff:10.0.0.1", "10.0.0.1, which is private (10.0.0.0/8)"),
            ("::ffff:169.254.169.254", "169.254.169.254, which is link-local"),
            ("::127.0.0.1", "127.0.0.1, which is loopback"),
            ("::ffff:0.0.0.0", "0.0.0.0, which is unspecified"),
            ("64:ff9b::127.0.0.1", "127.0.0.1, which is loopback"),
            ("64:ff9b:1::10.1.2.3", "10.1.2.3, which is private"),
            ("64:ff9b:1:ab::192.168.1.1", "192.168.1.1, which is private"),
            ("2002:7f00:1::", "127.0.0.1, which is loopback"),
            ("2002:a9fe:a9fe::1", "169.254.169.254, which is link-local"),
            ("2002::", "0.0.0.0, which is unspecified"),
        ];
        for (address, expected) in refused {
            let said = verdict(address, &[]);
            assert!(said.starts_with(&format!("{} carries ", ip(address))), "{said}");
            assert!(said.contains(expected), "{address}: {said:?}, expected {expected:?}");
        }
        for public in
            ["::ffff:8.8.8.8", "64:ff9b::1.1.1.1", "64:ff9b:1::9.9.9.9", "2002:808:808::1"]
        {
            assert_eq!(verdict(public, &[]), "allowed", "{public}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "93.184.215.14",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "192.169.0.0",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "2001:200::1",
            "2c0f:fb50::1",
        ] {
            assert_eq!(verdict(public, &[]), "allowed", "{public}");
        }
    }

    #[test]
    fn the_allowlist_opens_its_ranges_in_every_form_and_nothing_else() {
        let allow = nets(&["127.0.0.0/8", "::1/128", "10.1.0.0/16"]);
        for opened in ["127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1", "10.1.2.3"] {
            assert_eq!(verdict(opened, &allow), "allowed", "{opened}");
        }
        for closed in ["10.2.0.1", "192.168.0.1", "169.254.169.254", "fd00::1", "::2"] {
            assert_ne!(verdict(closed, &allow), "allowed", "{closed}");
        }
        let metadata = nets(&["169.254.169.254/32"]);
        assert_eq!(verdict("169.254.169.254", &metadata), "allowed");
        assert_ne!(verdict("169.254.169.253", &metadata), "allowed");
    }
}
