//! Measured reach, the pure rules: what a share link may point at, what its code looks like,
//! who counts as a visitor (a keyed hash, never an address), and which user agents are bots.
//! No I/O: the keys come from the caller.

use sha2::{Digest, Sha256};

/// Length of a root link's code (random, from [`ALPHABET`]).
pub const ROOT_CODE_LEN: usize = 8;
/// Length of a child link's code (derived from its parent and its visitor). It is also the
/// counted visit's key, so two visits must not share one: 60 bits keep the chance of any two of
/// a hundred million visits colliding under one in two hundred.
pub const CHILD_CODE_LEN: usize = 12;
/// Length of the child codes made before they became the visits' keys (still valid links).
pub const OLD_CHILD_CODE_LEN: usize = 10;
/// Deepest level a share tree may reach; a visit through a link this deep counts but gets no
/// child link (its visitor shares the same link onward).
pub const MAX_DEPTH: i64 = 50;
/// Longest user agent looked at (the rest is ignored).
pub const MAX_USER_AGENT: usize = 512;

/// Letters and digits that cannot be mistaken for one another (no 0/O, 1/l/I).
pub const ALPHABET: &[u8] = b"23456789abcdefghijkmnpqrstuvwxyz";

/// What a share link opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The campaign home, `/`.
    Home,
    /// The showcase's list, `/showcase`.
    Showcase,
    /// One work, `/showcase/works/{id}`.
    Work(i64),
    /// One activity, `/showcase/activities/{id}`.
    Activity(i64),
}

impl Target {
    /// Reads a target path; anything else is `None` (a share link never points off-site).
    pub fn parse(path: &str) -> Option<Target> {
        match path {
            "/" => return Some(Target::Home),
            "/showcase" => return Some(Target::Showcase),
            _ => {}
        }
        let id = |rest: &str| {
            (!rest.is_empty() && rest.len() <= 18 && rest.bytes().all(|b| b.is_ascii_digit()))
                .then(|| rest.parse::<i64>().ok())
                .flatten()
                .filter(|n| *n > 0)
        };
        if let Some(rest) = path.strip_prefix("/showcase/works/") {
            return id(rest).map(Target::Work);
        }
        if let Some(rest) = path.strip_prefix("/showcase/activities/") {
            return id(rest).map(Target::Activity);
        }
        None
    }

    pub fn path(self) -> String {
        match self {
            Target::Home => "/".into(),
            Target::Showcase => "/showcase".into(),
            Target::Work(id) => format!("/showcase/works/{id}"),
            Target::Activity(id) => format!("/showcase/activities/{id}"),
        }
    }
}

/// Whether `code` could be a link code at all (checked before any lookup).
pub fn plausible_code(code: &str) -> bool {
    matches!(
        code.len(),
        ROOT_CODE_LEN | CHILD_CODE_LEN | OLD_CHILD_CODE_LEN
    ) && code.bytes().all(|b| ALPHABET.contains(&b))
}

/// A root code from random bytes (one byte per letter; 32 letters, so no bias).
pub fn root_code(random: &[u8; ROOT_CODE_LEN]) -> String {
    random
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

/// HMAC-SHA256 (RFC 2104).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

/// The visitor of a day: a keyed hash of the client address and user agent under the day's
/// key (random, shared by the nodes, deleted after its day), so visitors can be told apart
/// within a day but not followed across days, and no address is stored.
pub fn visitor(day_key: &[u8], ip: &str, user_agent: &str) -> String {
    let ua = truncate(user_agent, MAX_USER_AGENT);
    let mut message = Vec::with_capacity(ip.len() + ua.len() + 1);
    message.extend_from_slice(ip.as_bytes());
    message.push(b'\n');
    message.extend_from_slice(ua.as_bytes());
    hex(&hmac_sha256(day_key, &message)[..16])
}

/// The child link a visitor gets from `parent`: the same visitor through the same link on the
/// same day always gets the same code, so no row is needed before the visit is written, and
/// the code is the visit's key (a repeat visit has the same one).
pub fn child_code(day_key: &[u8], parent: &str, visitor: &str) -> String {
    let mut message = Vec::with_capacity(parent.len() + visitor.len() + 7);
    message.extend_from_slice(b"child\n");
    message.extend_from_slice(parent.as_bytes());
    message.push(b'\n');
    message.extend_from_slice(visitor.as_bytes());
    hmac_sha256(day_key, &message)[..CHILD_CODE_LEN]
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

/// Whether the user agent is a crawler, a link previewer, a script or missing. WeChat's own
/// in-app browser (`MicroMessenger`) is a person; its link preview fetcher has no such name.
pub fn is_bot(user_agent: &str) -> bool {
    let ua = truncate(user_agent, MAX_USER_AGENT).to_ascii_lowercase();
    if ua.trim().is_empty() {
        return true;
    }
    const MARKERS: &[&str] = &[
        "bot",
        "spider",
        "crawl",
        "slurp",
        "preview",
        "headless",
        "curl/",
        "wget/",
        "python",
        "go-http-client",
        "java/",
        "okhttp",
        "httpclient",
        "axios",
        "node-fetch",
        "libwww",
        "scrapy",
        "facebookexternalhit",
        "oha/",
        "wrk",
        "monitor",
        "check_http",
    ];
    MARKERS.iter().any(|m| ua.contains(m))
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn targets_round_trip_and_refuse_anything_else() {
        for t in [
            Target::Home,
            Target::Showcase,
            Target::Work(7),
            Target::Activity(12),
        ] {
            assert_eq!(Target::parse(&t.path()), Some(t));
        }
        for bad in [
            "",
            "//evil.example",
            "/showcase/works/",
            "/showcase/works/0",
            "/showcase/works/1x",
            "/showcase/works/-1",
            "https://evil.example/",
            "/works/1",
        ] {
            assert_eq!(Target::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn visitors_differ_by_day_key_and_source() {
        let a = visitor(b"day-1", "10.0.0.1", "Mozilla");
        assert_eq!(a, visitor(b"day-1", "10.0.0.1", "Mozilla"));
        assert_ne!(a, visitor(b"day-2", "10.0.0.1", "Mozilla"));
        assert_ne!(a, visitor(b"day-1", "10.0.0.2", "Mozilla"));
        assert_eq!(a.len(), 32);
        assert!(!a.contains("10.0.0.1"));
    }

    #[test]
    fn child_codes_are_plausible_and_stable() {
        let c = child_code(b"k", "abcdefgh", "v1");
        assert!(plausible_code(&c));
        assert_eq!(c.len(), CHILD_CODE_LEN);
        assert_eq!(c, child_code(b"k", "abcdefgh", "v1"));
        assert_ne!(c, child_code(b"k", "abcdefgh", "v2"));
        assert!(plausible_code(&root_code(&[0, 1, 2, 3, 4, 5, 6, 255])));
        assert!(!plausible_code("ABCDEFGH"));
        assert!(!plausible_code("abc"));
        assert!(
            plausible_code("abcdefghij"),
            "a child code of the old length"
        );
        assert!(!plausible_code("abcdefghijk"));
    }

    #[test]
    fn bots_and_scripts_are_told_from_phones() {
        let wechat = "Mozilla/5.0 (Linux; Android 10; V1990A) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/78.0.3904.62 XWEB/2691 MMWEBSDK/200901 Mobile Safari/537.36 MMWEBID/1234 MicroMessenger/7.0.19.1760(0x27001335) Process/toolsmp WeChat/arm64 NetType/WIFI Language/zh_CN ABI/arm64";
        assert!(!is_bot(wechat));
        assert!(!is_bot(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 14_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
        ));
        for bot in [
            "",
            "Googlebot/2.1",
            "Mozilla/5.0 (compatible; Baiduspider/2.0)",
            "curl/7.68.0",
            "python-requests/2.25",
            "Mozilla/5.0 HeadlessChrome/120",
        ] {
            assert!(is_bot(bot), "{bot}");
        }
    }
}
