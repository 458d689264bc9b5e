//! Text length: characters other than white space, counted while streaming UTF-8.

use std::io::{Read, Seek, SeekFrom};

use super::TextLength;

/// Counting stops here; no text rule asks for anything near this long.
const MAX_BYTES: u64 = 64 << 20;

pub(super) fn count<R: Read + Seek>(r: &mut R) -> Result<TextLength, String> {
    r.seek(SeekFrom::Start(0))
        .map_err(|e| format!("读取文件失败：{e}"))?;
    let mut reader = r.by_ref().take(MAX_BYTES);
    let mut buf = vec![0u8; 64 * 1024];
    // Bytes of a character split across two reads.
    let mut carry: Vec<u8> = Vec::with_capacity(4);
    let mut chars = 0u64;
    let mut total = 0u64;
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| format!("读取文件失败：{e}"))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        carry.extend_from_slice(&buf[..n]);
        let valid = match std::str::from_utf8(&carry) {
            Ok(s) => s.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => return Err(not_utf8()),
        };
        let text = std::str::from_utf8(&carry[..valid]).map_err(|_| not_utf8())?;
        chars += text.chars().filter(|c| !c.is_whitespace()).count() as u64;
        carry.drain(..valid);
    }
    let complete = total < MAX_BYTES;
    if complete && !carry.is_empty() {
        return Err(not_utf8());
    }
    Ok(TextLength { chars, complete })
}

fn not_utf8() -> String {
    "文字文件不是有效的 UTF-8 编码，请另存为 UTF-8 纯文本后再提交".to_string()
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    #[test]
    fn counts_across_chunk_boundaries_and_rejects_broken_utf8() {
        let text = "正能量 ".repeat(30_000);
        let t = count(&mut Cursor::new(text.as_bytes())).expect("utf-8");
        assert_eq!(t.chars, 90_000);
        assert!(t.complete);
        let mut bad = "好网民".as_bytes().to_vec();
        bad.push(0xE5);
        assert!(count(&mut Cursor::new(bad)).is_err());
        assert!(count(&mut Cursor::new(vec![b'a', 0xFF, b'b'])).is_err());
    }
}
