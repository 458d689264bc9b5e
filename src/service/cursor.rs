//! Opaque keyset cursors for paged lists. A cursor names the last row of the page before —
//! its sort key and id — and is bound to the filter it was made for, with a check digest over
//! both. A cursor that was edited, cut short, or carried over to a different filter is refused
//! (422, in Chinese) instead of quietly showing some other page.
//!
//! The digest is not a secret-keyed signature: nothing a cursor can name is outside the
//! account's scope (every page query applies the scope itself), so a forged cursor can at
//! worst start a page at a different place in the caller's own list. What the digest buys is
//! that tampering and mix-ups are caught and said, not served.

use sha2::{Digest, Sha256};

use crate::error::AppError;

const SEP: char = '\u{1f}';

fn digest(filter: &str, key: &str, id: i64) -> String {
    let mut h = Sha256::new();
    h.update(b"wangju-cursor-v1");
    h.update(filter.as_bytes());
    h.update([0]);
    h.update(key.as_bytes());
    h.update([0]);
    h.update(id.to_le_bytes());
    hex::encode(&h.finalize()[..8])
}

/// The cursor after the row (`key`, `id`) of a list filtered by `filter` (any stable text
/// naming the filter).
pub fn encode(filter: &str, key: &str, id: i64) -> String {
    let body = hex::encode(format!("{key}{SEP}{id}"));
    format!("{body}.{}", digest(filter, key, id))
}

fn refused() -> AppError {
    AppError::invalid(
        "翻页",
        "翻页参数无效（可能被改动过，或筛选条件已变）：请回到第一页重新查看",
    )
}

/// The (key, id) a cursor names, if it was made by `encode` for the same `filter`.
pub fn decode(filter: &str, cursor: &str) -> Result<(String, i64), AppError> {
    let (body, check) = cursor.trim().split_once('.').ok_or_else(refused)?;
    if body.len() > 2_000 {
        return Err(refused());
    }
    let bytes = hex::decode(body).map_err(|_| refused())?;
    let text = String::from_utf8(bytes).map_err(|_| refused())?;
    let (key, id) = text.split_once(SEP).ok_or_else(refused)?;
    let id: i64 = id.parse().map_err(|_| refused())?;
    if check != digest(filter, key, id) {
        return Err(refused());
    }
    Ok((key.to_string(), id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_edits() {
        let c = encode("status=submitted", "2020-06-28T09:30", 42);
        assert_eq!(
            decode("status=submitted", &c).ok(),
            Some(("2020-06-28T09:30".to_string(), 42))
        );
        assert!(decode("status=confirmed", &c).is_err(), "another filter");
        let forged = encode("status=submitted", "2020-06-28T09:30", 41);
        let (body, _) = forged.split_once('.').unwrap_or_default();
        let (_, check) = c.split_once('.').unwrap_or_default();
        assert!(decode("status=submitted", &format!("{body}.{check}")).is_err());
        for bad in ["", ".", "zz.zz", "abc", "00.00"] {
            assert!(decode("", bad).is_err(), "{bad:?}");
        }
    }
}
