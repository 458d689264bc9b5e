//! Metadata-free copies. A phone's MP4 carries the author, the device, the place (GPS in
//! `©xyz`) and editing tools' XMP in `udta`, `meta` and `uuid` boxes. The copy shown to
//! moderators, reviewers and the public has each of those boxes turned into a `free` box of the
//! same size with its content zeroed: nothing moves, so every sample offset stays valid and the
//! video plays exactly as before.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Boxes that hold descriptive metadata rather than anything a player needs.
const METADATA: [&[u8; 4]; 3] = [b"udta", b"meta", b"uuid"];
/// Containers whose children may hold metadata boxes.
const CONTAINERS: [&[u8; 4]; 2] = [b"moov", b"trak"];
/// Most boxes a file may have at one level before we stop walking (hostile files).
const MAX_BOXES: u32 = 100_000;

/// What `strip_mp4` blanked.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Stripped {
    pub boxes: u32,
    pub bytes: u64,
}

/// Blanks the metadata boxes of the MP4 at `path` in place. The file must be a copy: the
/// original upload is kept untouched.
pub fn strip_mp4(path: &Path) -> std::io::Result<Stripped> {
    let mut file = File::options().read(true).write(true).open(path)?;
    let len = file.metadata()?.len();
    let mut stripped = Stripped::default();
    walk(&mut file, 0, len, 0, &mut stripped)?;
    file.sync_all()?;
    Ok(stripped)
}

fn walk(
    file: &mut File,
    start: u64,
    end: u64,
    depth: u32,
    stripped: &mut Stripped,
) -> std::io::Result<()> {
    let mut pos = start;
    let mut count = 0;
    while pos + 8 <= end && count < MAX_BOXES {
        count += 1;
        file.seek(SeekFrom::Start(pos))?;
        let mut head = [0u8; 8];
        file.read_exact(&mut head)?;
        let size32 = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as u64;
        let kind: [u8; 4] = [head[4], head[5], head[6], head[7]];
        let (size, header_len) = match size32 {
            0 => (end - pos, 8),
            1 => {
                let mut large = [0u8; 8];
                file.read_exact(&mut large)?;
                (u64::from_be_bytes(large), 16)
            }
            n => (n, 8),
        };
        if size < header_len || pos + size > end {
            // A damaged box: leave the rest alone (the probe reports damage).
            break;
        }
        if METADATA.contains(&&kind) {
            file.seek(SeekFrom::Start(pos + 4))?;
            file.write_all(b"free")?;
            file.seek(SeekFrom::Start(pos + header_len))?;
            zero(file, size - header_len)?;
            stripped.boxes += 1;
            stripped.bytes += size;
        } else if CONTAINERS.contains(&&kind) && depth < 2 {
            walk(file, pos + header_len, pos + size, depth + 1, stripped)?;
        }
        pos += size;
    }
    Ok(())
}

fn zero(file: &mut File, mut n: u64) -> std::io::Result<()> {
    let block = [0u8; 64 * 1024];
    while n > 0 {
        let take = n.min(block.len() as u64) as usize;
        file.write_all(&block[..take])?;
        n -= take as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn metadata_boxes_become_free_space_of_the_same_size() {
        let udta = boxed(b"udta", b"\xa9xyz+39.1+117.2/ author=Zhang San");
        let trak = boxed(
            b"trak",
            &[boxed(b"tkhd", &[1; 20]), boxed(b"meta", b"GPS")].concat(),
        );
        let moov = boxed(b"moov", &[boxed(b"mvhd", &[2; 16]), trak, udta].concat());
        let file = [boxed(b"ftyp", b"isom"), moov, boxed(b"mdat", &[7; 32])].concat();
        let dir = tempfile::tempdir().expect("test fixture");
        let path = dir.path().join("x.mp4");
        std::fs::write(&path, &file).expect("test fixture");
        let stripped = strip_mp4(&path).expect("test fixture");
        assert_eq!(stripped.boxes, 2);
        let clean = std::fs::read(&path).expect("test fixture");
        assert_eq!(clean.len(), file.len());
        let text = String::from_utf8_lossy(&clean);
        assert!(!text.contains("Zhang") && !text.contains("GPS") && !text.contains("39.1"));
        assert!(!text.contains("udta") && !text.contains("meta"));
        // Everything a player reads is unchanged.
        assert!(clean.windows(4).any(|w| w == b"tkhd"));
        assert_eq!(&clean[clean.len() - 32..], &[7; 32]);
    }

    #[test]
    fn damaged_sizes_stop_the_walk_without_panicking() {
        let mut file = boxed(b"moov", &boxed(b"udta", b"x"));
        file[3] = 0xff; // moov claims more than the file holds
        let dir = tempfile::tempdir().expect("test fixture");
        let path = dir.path().join("bad.mp4");
        std::fs::write(&path, &file).expect("test fixture");
        assert_eq!(strip_mp4(&path).expect("test fixture"), Stripped::default());
    }
}
