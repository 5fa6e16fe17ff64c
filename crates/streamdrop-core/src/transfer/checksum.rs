//! CRC32C of file ranges, and how S3 spells it. Parts are checksummed before
//! they are sent so the server can verify each one; the part CRCs combine into
//! the whole object's CRC without reading the file again.

use std::ops::Range;
use std::path::Path;

use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

const READ_CHUNK: usize = 1024 * 1024;

/// CRC32C of `range` of the file at `path`.
pub async fn crc32c_of_range(path: &Path, range: Range<u64>) -> std::io::Result<u32> {
    let mut file = tokio::fs::File::open(path).await?;
    file.seek(std::io::SeekFrom::Start(range.start)).await?;
    let mut remaining = range.end - range.start;
    let mut buf = vec![0u8; READ_CHUNK.min(remaining as usize).max(1)];
    let mut crc = 0u32;
    while remaining > 0 {
        let want = buf.len().min(remaining as usize);
        let n = file.read(&mut buf[..want]).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the file is shorter than when it was added",
            ));
        }
        crc = crc32c::crc32c_append(crc, &buf[..n]);
        remaining -= n as u64;
    }
    Ok(crc)
}

/// Combines per-part CRCs (in part order, with their lengths) into the CRC of the whole.
pub fn combine(parts: impl IntoIterator<Item = (u32, u64)>) -> u32 {
    parts.into_iter().fold(0u32, |acc, (crc, len)| crc32c::crc32c_combine(acc, crc, len as usize))
}

/// S3's header form: base64 of the big-endian CRC.
pub fn to_header(crc: u32) -> String {
    base64::engine::general_purpose::STANDARD.encode(crc.to_be_bytes())
}

/// The multipart "checksum of checksums" some servers report (`<b64>-<parts>`).
pub fn composite_header(part_crcs: &[u32]) -> String {
    let bytes: Vec<u8> = part_crcs.iter().flat_map(|c| c.to_be_bytes()).collect();
    format!("{}-{}", to_header(crc32c::crc32c(&bytes)), part_crcs.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn range_crcs_combine_into_the_whole_files_crc() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..3_000_001u32).map(|i| (i * 7 % 256) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let a = crc32c_of_range(&path, 0..1_000_000).await.unwrap();
        let b = crc32c_of_range(&path, 1_000_000..3_000_001).await.unwrap();
        assert_eq!(combine([(a, 1_000_000), (b, 2_000_001)]), crc32c::crc32c(&data));
        assert!(crc32c_of_range(&path, 0..4_000_000).await.is_err(), "a short file is an error");
    }

    #[test]
    fn header_is_base64_of_big_endian() {
        // RFC 3720's test vector: 32 bytes of zeros has CRC32C 0x8a9136aa.
        assert_eq!(crc32c::crc32c(&[0u8; 32]), 0x8a91_36aa);
        assert_eq!(to_header(0x8a91_36aa), "ipE2qg==");
    }
}
