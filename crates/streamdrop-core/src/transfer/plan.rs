//! How a file is cut into parts.

use std::ops::Range;

const MIB: u64 = 1024 * 1024;
/// S3's smallest part (except the last).
pub const MIN_PART_SIZE: u64 = 5 * MIB;
/// S3's largest part.
pub const MAX_PART_SIZE: u64 = 5 * 1024 * MIB;
pub const DEFAULT_PART_SIZE: u64 = 8 * MIB;
/// S3's limit on parts in one multipart upload.
pub const MAX_PARTS: u64 = 10_000;
/// S3's largest object.
pub const MAX_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * MIB;

/// The part size for a file: the preferred size (clamped to S3's limits), grown
/// in whole MiB until the file fits in [`MAX_PARTS`].
pub fn part_size_for(file_size: u64, preferred: u64) -> u64 {
    let needed = file_size.div_ceil(MAX_PARTS).div_ceil(MIB) * MIB;
    preferred.clamp(MIN_PART_SIZE, MAX_PART_SIZE).max(needed)
}

/// The parts of a multipart upload: numbers from 1, byte ranges of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartPlan {
    pub file_size: u64,
    pub part_size: u64,
}

impl PartPlan {
    pub fn new(file_size: u64, part_size: u64) -> Self {
        Self { file_size, part_size }
    }

    pub fn count(&self) -> u32 {
        self.file_size.div_ceil(self.part_size).max(1) as u32
    }

    /// Byte range of part `number` (1-based).
    pub fn range(&self, number: u32) -> Range<u64> {
        let start = u64::from(number - 1) * self.part_size;
        start..(start + self.part_size).min(self.file_size)
    }

    pub fn numbers(&self) -> impl Iterator<Item = u32> {
        1..=self.count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_size_fits_any_file_in_ten_thousand_parts() {
        assert_eq!(part_size_for(0, DEFAULT_PART_SIZE), DEFAULT_PART_SIZE);
        assert_eq!(part_size_for(1, MIB), MIN_PART_SIZE, "never under 5 MiB");
        assert_eq!(part_size_for(1, 10 * 1024 * MIB), MAX_PART_SIZE, "never over 5 GiB");
        let size = part_size_for(MAX_OBJECT_SIZE, DEFAULT_PART_SIZE);
        assert!(MAX_OBJECT_SIZE.div_ceil(size) <= MAX_PARTS);
        assert!(size <= MAX_PART_SIZE);
        assert_eq!(size % MIB, 0);
        // 100 GB at 8 MiB would need 11,921 parts: the size must grow.
        let big = 100_000_000_000;
        let grown = part_size_for(big, DEFAULT_PART_SIZE);
        assert!(grown > DEFAULT_PART_SIZE);
        assert!(big.div_ceil(grown) <= MAX_PARTS);
    }

    #[test]
    fn parts_cover_the_file_exactly() {
        let plan = PartPlan::new(12 * MIB + 5, 5 * MIB);
        assert_eq!(plan.count(), 3);
        assert_eq!(plan.range(1), 0..5 * MIB);
        assert_eq!(plan.range(3), 10 * MIB..12 * MIB + 5);
        let covered: u64 = plan.numbers().map(|n| plan.range(n).end - plan.range(n).start).sum();
        assert_eq!(covered, plan.file_size);
        assert_eq!(PartPlan::new(5 * MIB, 5 * MIB).count(), 1);
    }
}
