//! What identifies a file's content well enough to find it added again,
//! without reading all of a 200 GB clip: SHA-256 over the size and
//! [`SAMPLES`] blocks of [`SAMPLE`] bytes (the head, the tail and blocks
//! spread evenly between). A file of up to `SAMPLES × SAMPLE` bytes is read
//! whole. ARCHITECTURE.md ("Duplicates") says why sampling is safe enough for
//! camera files and what it does not catch.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use sha2::{Digest, Sha256};

/// Blocks read from a file larger than `SAMPLES × SAMPLE`.
pub const SAMPLES: u64 = 16;
/// Bytes per block: 4 MiB read in all, whatever the file's size.
pub const SAMPLE: u64 = 256 * 1024;
/// Names the scheme, so a later one never matches an older one's value.
const SCHEME: &str = "s1";

/// The fingerprint of the file at `path`, which is `size` bytes long.
pub fn fingerprint(path: &Path, size: u64) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    let mut hash = Sha256::new();
    hash.update(size.to_le_bytes());
    let mut buf = vec![0u8; SAMPLE as usize];
    if size <= SAMPLES * SAMPLE {
        let mut read = 0u64;
        loop {
            match file.read(&mut buf)? {
                0 => break,
                n => {
                    hash.update(&buf[..n]);
                    read += n as u64;
                }
            }
        }
        if read != size {
            return Err(changed(size, read));
        }
    } else {
        for offset in offsets(size) {
            file.seek(SeekFrom::Start(offset))?;
            file.read_exact(&mut buf).map_err(|_| changed(size, offset))?;
            hash.update(&buf);
        }
    }
    let digest = hash.finalize();
    Ok(format!("{SCHEME}:{}", digest.iter().map(|b| format!("{b:02x}")).collect::<String>()))
}

/// Where the blocks of a file of `size` (> `SAMPLES × SAMPLE`) start: the
/// first at 0, the last ending at the end, the rest evenly between.
fn offsets(size: u64) -> impl Iterator<Item = u64> {
    let last = size - SAMPLE;
    (0..SAMPLES).map(move |i| last / (SAMPLES - 1) * i + if i == SAMPLES - 1 { last % (SAMPLES - 1) } else { 0 })
}

fn changed(size: u64, at: u64) -> std::io::Error {
    std::io::Error::other(format!("the file is no longer {size} bytes long (it ended near byte {at})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_head_and_tail_and_stay_inside() {
        let size = 10 * SAMPLES * SAMPLE + 12345;
        let offsets: Vec<_> = offsets(size).collect();
        assert_eq!(offsets.len() as u64, SAMPLES);
        assert_eq!(offsets[0], 0);
        assert_eq!(*offsets.last().unwrap(), size - SAMPLE);
        assert!(offsets.windows(2).all(|w| w[1] >= w[0] + SAMPLE), "{offsets:?}");
    }

    #[test]
    fn a_byte_changed_in_a_sampled_block_or_the_size_changes_the_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            (fingerprint(&path, bytes.len() as u64).unwrap(), path)
        };
        let small: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        let (a, _) = write("a", &small);
        let (b, _) = write("b", &small);
        assert_eq!(a, b, "same content, same fingerprint, whatever the name");
        let mut other = small.clone();
        other[500] ^= 1;
        assert_ne!(write("c", &other).0, a, "small files are read whole");

        let large: Vec<u8> = (0..(SAMPLES * SAMPLE * 3) as usize).map(|i| (i % 253) as u8).collect();
        let (big, big_path) = write("big", &large);
        assert!(big.starts_with("s1:") && big.len() == 3 + 64, "{big}");
        let middle = offsets(large.len() as u64).nth(7).unwrap() as usize + 7;
        for at in [0, middle, large.len() - 1] {
            let mut edited = large.clone();
            edited[at] ^= 0xff;
            assert_ne!(write("edited", &edited).0, big, "a change at byte {at}");
        }
        assert_ne!(write("longer", &[large.as_slice(), b"x"].concat()).0, big);
        // A file that shrank since its size was read is not fingerprinted as if whole.
        assert!(fingerprint(&big_path, large.len() as u64 + 10).is_err());
    }
}
