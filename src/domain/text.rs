//! Text that people type: names and free text, cleaned and checked the same way everywhere.
//!
//! - Every text is NFC-normalised and trimmed, so two spellings of one character compare equal.
//! - No text may hold NUL or other control characters (a line break is allowed only in free
//!   text), nor bidirectional overrides, which can make a name read differently from what it
//!   is (`docs/operations.md`, "Text limits").
//! - Names also refuse zero-width and other invisible format characters: a name with one looks
//!   exactly like another name, so a lookalike of 和平区总工会 could be created.
//! - Every field has a maximum length in characters, stated in [`limits`] and checked here.

use unicode_normalization::UnicodeNormalization;

/// Maximum lengths, in characters (not bytes), of the text fields Wangju stores. Documented in
/// `docs/operations.md`; an input over its maximum is refused with the field and the maximum.
pub mod limits {
    /// A person's name: account display names, workers, authors, contacts, check-ins.
    pub const PERSON_NAME: usize = 30;
    /// An org's name.
    pub const ORG_NAME: usize = 100;
    /// Login names.
    pub const LOGIN: usize = 64;
    /// A title: activity names, work titles.
    /// What an activity's format says when it is 其他（请注明）.
    pub const FORMAT_OTHER: usize = 20;
    pub const TITLE: usize = 100;
    /// A place, a unit typed by hand, a platform or account name.
    pub const SHORT_TEXT: usize = 200;
    /// A reason: return, rejection, objection rulings.
    pub const REASON: usize = 500;
    /// A description, write-up or note.
    pub const LONG_TEXT: usize = 5_000;
    /// A link.
    pub const URL: usize = 500;
    /// Longest text an exported spreadsheet cell holds (Excel's own limit is 32,767).
    pub const EXPORT_CELL: usize = 32_000;
}

/// Unicode format characters (general category Cf): zero-width spaces and joiners, the byte
/// order mark, invisible operators, and the bidirectional marks and overrides.
pub fn is_format_char(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{0600}'..='\u{0605}' | '\u{061C}' | '\u{06DD}' | '\u{070F}'
        | '\u{0890}'..='\u{0891}' | '\u{08E2}' | '\u{180E}' | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}'
        | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}' | '\u{110BD}' | '\u{110CD}'
        | '\u{13430}'..='\u{1343F}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0001}' | '\u{E0020}'..='\u{E007F}')
}

/// Bidirectional embeddings, overrides and isolates: they reorder how text is displayed.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// What is wrong with a text, in Chinese, to follow the field's name.
fn refusal(c: char) -> String {
    match c {
        '\0' => "不能包含空字符（\\0）".into(),
        '\r' | '\n' => "不能换行，请写在一行内".into(),
        c if c.is_control() => format!("不能包含控制字符（U+{:04X}）", c as u32),
        c if is_bidi_control(c) => format!(
            "不能包含改变文字方向的隐藏字符（U+{:04X}），请重新输入，不要从别处粘贴",
            c as u32
        ),
        c => format!(
            "不能包含看不见的字符（U+{:04X}，如零宽空格），请重新输入，不要从别处粘贴",
            c as u32
        ),
    }
}

/// A name (of a person, org, unit or contact): NFC, trimmed, inner runs of white space made one
/// space, no control, format or bidirectional characters, 1..=`max` characters.
pub fn name(raw: &str, max: usize) -> Result<String, String> {
    let normalised: String = raw.nfc().collect();
    if let Some(c) = normalised
        .chars()
        .find(|c| c.is_control() || is_format_char(*c))
    {
        return Err(refusal(c));
    }
    let cleaned = normalised.split_whitespace().collect::<Vec<_>>().join(" ");
    let n = cleaned.chars().count();
    if n == 0 {
        Err("不能为空".into())
    } else if n > max {
        Err(format!("不能超过 {max} 个字（现有 {n} 个）"))
    } else {
        Ok(cleaned)
    }
}

/// An optional name: empty is `None`.
pub fn optional_name(raw: &str, max: usize) -> Result<Option<String>, String> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        name(raw, max).map(Some)
    }
}

/// One line of free text (a place, a link, a reason given in a box): NFC, trimmed, no control
/// or bidirectional characters, at most `max` characters; may be empty.
pub fn line(raw: &str, max: usize) -> Result<String, String> {
    let normalised: String = raw.nfc().collect();
    if let Some(c) = normalised
        .chars()
        .find(|c| c.is_control() || is_bidi_control(*c))
    {
        return Err(refusal(c));
    }
    let cleaned = normalised.trim().to_string();
    let n = cleaned.chars().count();
    if n > max {
        return Err(format!("不能超过 {max} 个字（现有 {n} 个）"));
    }
    Ok(cleaned)
}

/// Free text over several lines (a description, a write-up): like [`line`], but line breaks
/// and tabs are kept (CR LF and CR become LF).
pub fn paragraphs(raw: &str, max: usize) -> Result<String, String> {
    let normalised: String = raw
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .nfc()
        .collect();
    if let Some(c) = normalised
        .chars()
        .find(|c| (c.is_control() && !matches!(c, '\n' | '\t')) || is_bidi_control(*c))
    {
        return Err(refusal(c));
    }
    let cleaned = normalised.trim().to_string();
    let n = cleaned.chars().count();
    if n > max {
        return Err(format!("不能超过 {max} 个字（现有 {n} 个）"));
    }
    Ok(cleaned)
}

/// Whether a raw input value may be taken in at all: no NUL or control characters but tab and
/// line breaks. Checked on every form, query and JSON value before any handler sees it; the
/// field checks above then apply each field's own rule.
pub fn first_forbidden_char(raw: &str) -> Option<char> {
    raw.chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

/// The form of a person's name used to tell whether two entries are one person: the cleaned
/// name with every space removed and traditional characters made simplified, so "張 三" and
/// "张三" match.
pub fn person_key_name(name: &str) -> String {
    let compact: String = name
        .nfkc()
        .filter(|c| !c.is_whitespace() && !c.is_control() && !is_format_char(*c))
        .collect();
    fast2s::convert(&compact)
}

/// Cuts a stored text to `max` characters for a file that cannot hold more (an Excel cell),
/// saying so at the end.
pub fn cut_for_export(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    const MARK: &str = "…（内容过长，已截断）";
    if text.chars().count() <= max {
        return std::borrow::Cow::Borrowed(text);
    }
    let keep = max.saturating_sub(MARK.chars().count());
    let mut cut: String = text.chars().take(keep).collect();
    cut.push_str(MARK);
    std::borrow::Cow::Owned(cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised_and_invisible_characters_refused() {
        assert_eq!(name("  和平区   总工会 ", 100), Ok("和平区 总工会".into()));
        // Decomposed é (e + combining acute) becomes the composed one.
        assert_eq!(name("Ame\u{301}lie", 30), Ok("Am\u{e9}lie".into()));
        for hostile in [
            "和平区\u{200B}总工会",
            "和平区总工会\u{202E}",
            "和平\r\n区",
            "张三\0",
            "\u{FEFF}李四",
            "王\u{2066}五",
        ] {
            assert!(name(hostile, 100).is_err(), "{hostile:?}");
        }
        assert!(name("   ", 10).is_err());
        assert!(
            name(&"工".repeat(31), 30)
                .err()
                .unwrap_or_default()
                .contains("30")
        );
    }

    #[test]
    fn free_text_keeps_line_breaks_but_not_control_characters() {
        assert_eq!(
            paragraphs("第一段\r\n第二段\r", 100),
            Ok("第一段\n第二段".into())
        );
        assert!(paragraphs("a\u{0}b", 100).is_err());
        assert!(paragraphs("a\u{202E}b", 100).is_err());
        assert!(line("a\nb", 100).is_err());
        assert_eq!(line(" 天津市和平区 ", 100), Ok("天津市和平区".into()));
        assert_eq!(first_forbidden_char("ok\n\tfine"), None);
        assert_eq!(first_forbidden_char("x\u{1}"), Some('\u{1}'));
    }

    #[test]
    fn one_person_in_two_spellings() {
        assert_eq!(person_key_name("張 三"), person_key_name("张三"));
        assert_eq!(person_key_name("张\u{200B}三"), person_key_name("张三"));
        assert_ne!(person_key_name("张三"), person_key_name("张四"));
    }

    #[test]
    fn over_long_text_is_cut_with_a_mark() {
        let long = "字".repeat(40_000);
        let cut = cut_for_export(&long, limits::EXPORT_CELL);
        assert_eq!(cut.chars().count(), limits::EXPORT_CELL);
        assert!(cut.ends_with("已截断）"));
        assert_eq!(cut_for_export("短", 10), "短");
    }
}
