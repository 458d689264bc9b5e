//! Masking personal data for display, done on the server (the unmasked value never reaches a
//! page that should not show it).

/// Masks a phone number: mobiles as `139****4997`, landlines keep the area code and the last
/// two digits (`022-****6266`). Anything else keeps its first and last character.
pub fn mask_phone(phone: &str) -> String {
    let phone = phone.trim();
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    if phone.contains('-') {
        let (area, number) = phone.split_once('-').unwrap_or(("", phone));
        let n = number.chars().count();
        let tail: String = number.chars().skip(n.saturating_sub(4)).collect();
        return format!("{area}-****{tail}");
    }
    if digits.len() == 11 && phone.chars().all(|c| c.is_ascii_digit()) {
        let head: String = digits[..3].iter().collect();
        let tail: String = digits[7..].iter().collect();
        return format!("{head}****{tail}");
    }
    let chars: Vec<char> = phone.chars().collect();
    match chars.len() {
        0 => String::new(),
        1 | 2 => "*".repeat(chars.len()),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

/// Whether `phone` is a landline (an area code, a dash, the number): an office number, meant to
/// be called, shown whole to everyone.
pub fn is_landline(phone: &str) -> bool {
    phone.trim().split_once('-').is_some_and(|(a, n)| {
        (3..=4).contains(&a.len())
            && (7..=8).contains(&n.len())
            && a.chars().chain(n.chars()).all(|c| c.is_ascii_digit())
    })
}

/// Whether `text` is an 11-digit mainland mobile number (workers sign in with theirs).
pub fn is_mobile(text: &str) -> bool {
    let t = text.trim();
    t.len() == 11 && t.starts_with('1') && t.chars().all(|c| c.is_ascii_digit())
}

/// The one rule for a contact's number (an org's contact, the notice's contacts): office
/// landlines whole everywhere; a mobile whole for signed-in accounts (staff must be able to
/// call), masked for anonymous visitors.
pub fn contact_phone(phone: &str, signed_in: bool) -> String {
    if signed_in || is_landline(phone) {
        phone.trim().to_string()
    } else {
        mask_phone(phone)
    }
}

/// The one rule for a person's own number (an account, a worker, a propagandist, an attendee,
/// an author): masked unless the viewer's role may see it (`unmasked`), wherever it appears —
/// including a login that is a mobile number.
pub fn personal_phone(phone: &str, unmasked: bool) -> String {
    if unmasked {
        phone.trim().to_string()
    } else {
        mask_phone(phone)
    }
}

/// A login as shown to others: a worker's login is their mobile number, masked like it.
pub fn login_shown(login: &str, unmasked: bool) -> String {
    if !unmasked && is_mobile(login) {
        mask_phone(login)
    } else {
        login.to_string()
    }
}

/// An 11-digit mobile number or a landline with its area code (`022-12345678`).
pub fn valid_phone(phone: &str) -> bool {
    let mobile =
        phone.len() == 11 && phone.starts_with('1') && phone.chars().all(|c| c.is_ascii_digit());
    let landline = phone.split_once('-').is_some_and(|(a, n)| {
        (3..=4).contains(&a.len())
            && (7..=8).contains(&n.len())
            && a.chars().chain(n.chars()).all(|c| c.is_ascii_digit())
    });
    mobile || landline
}

/// Masks an e-mail address: the first character of the mailbox and the whole domain
/// (`z***@example.cn`), so a colleague can tell which account it is without the address.
pub fn mask_email(email: &str) -> String {
    let email = email.trim();
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => mask_phone(email),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_email_addresses() {
        assert_eq!(mask_email("zhangsan@example.cn"), "z***@example.cn");
        assert!(!mask_email("zhangsan@example.cn").contains("hangsan"));
    }

    #[test]
    fn contacts_and_persons_follow_one_rule_each() {
        assert_eq!(contact_phone("022-84236266", false), "022-84236266");
        assert_eq!(contact_phone("13920354997", false), "139****4997");
        assert_eq!(contact_phone("13920354997", true), "13920354997");
        assert_eq!(personal_phone("13920354997", false), "139****4997");
        assert_eq!(login_shown("13920354997", false), "139****4997");
        assert_eq!(login_shown("hexi-admin", false), "hexi-admin");
        assert_eq!(login_shown("13920354997", true), "13920354997");
    }

    #[test]
    fn masks_like_local_practice() {
        assert_eq!(mask_phone("13920354997"), "139****4997");
        assert_eq!(mask_phone("022-84236266"), "022-****6266");
        assert_eq!(mask_phone("0311-67569092"), "0311-****9092");
        assert_eq!(mask_phone("12"), "**");
        assert!(!mask_phone("13920354997").contains("2035"));
    }
}
