//! Memory for the packet path, as safe calls: a software prefetch, and
//! huge-page-backed lines for a large table.
#![allow(unsafe_code)]

/// Asks the CPU to bring the cache line of `r` into L1 without waiting for
/// it (x86-64; elsewhere nothing). Unlike a load, a prefetch never holds up
/// the retirement of later instructions, so a burst's worth of them overlap
/// even when much work separates them.
#[inline(always)]
pub fn prefetch<T>(r: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        let p = (r as *const T).cast::<i8>();
        // SAFETY: a prefetch is only a hint: it never faults and reads nothing
        // architecturally; the pointer comes from a live reference besides.
        unsafe { core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = r;
}

/// Words per cache line.
pub const LINE_WORDS: usize = 8;

/// A zeroed array of cache lines of atomic words for a large table that
/// readers probe at random: mapped from explicit huge pages (2 MiB,
/// `vm.nr_hugepages`) when the system has enough free, else from ordinary
/// anonymous memory with the transparent-huge-page advice. Either way each
/// line is 64-byte aligned (the mapping is page aligned) and starts zero.
/// With 4 KiB pages a 64 MiB table costs a TLB miss on nearly every probe;
/// with 2 MiB pages its 32 translations stay cached.
pub struct Lines {
    ptr: core::ptr::NonNull<[core::sync::atomic::AtomicU64; LINE_WORDS]>,
    len: usize,
    bytes: usize,
    huge: bool,
}

// SAFETY: the mapping is owned by this value and only reached through
// shared references to atomics, which any thread may use.
unsafe impl Send for Lines {}
// SAFETY: as above: &Lines gives out &AtomicU64 only.
unsafe impl Sync for Lines {}

impl Lines {
    /// `len` zeroed lines (at least one). Panics if no memory can be mapped.
    pub fn zeroed(len: usize) -> Lines {
        const HUGE: usize = 2 << 20;
        let len = len.max(1);
        let want = len * LINE_WORDS * 8;
        let huge_bytes = want.next_multiple_of(HUGE);
        let prot = libc::PROT_READ | libc::PROT_WRITE;
        let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
        // Only with pages to spare: DPDK allocates from the same pool later
        // (rings, memzones) and must not find it empty.
        let spare = free_huge_pages().is_some_and(|free| free >= huge_bytes / HUGE + HUGE_PAGES_LEFT);
        let p = if spare {
            // SAFETY: an anonymous private mapping at an address of the kernel's
            // choosing touches no existing memory; the result is checked.
            unsafe {
                libc::mmap(
                    core::ptr::null_mut(),
                    huge_bytes,
                    prot,
                    flags | libc::MAP_HUGETLB | libc::MAP_HUGE_2MB | libc::MAP_POPULATE,
                    -1,
                    0,
                )
            }
        } else {
            libc::MAP_FAILED
        };
        let (p, bytes, huge) = if p == libc::MAP_FAILED {
            let bytes = want.next_multiple_of(4096);
            // SAFETY: as above, without huge pages.
            let p = unsafe { libc::mmap(core::ptr::null_mut(), bytes, prot, flags, -1, 0) };
            assert!(p != libc::MAP_FAILED, "cannot map {bytes} bytes for a table");
            // SAFETY: advice on a mapping we own; it never changes contents.
            unsafe { libc::madvise(p, bytes, libc::MADV_HUGEPAGE) };
            (p, bytes, false)
        } else {
            (p, huge_bytes, true)
        };
        let ptr = core::ptr::NonNull::new(p.cast()).expect("mmap returned null");
        Lines { ptr, len, bytes, huge }
    }

    /// Whether explicit huge pages back the lines.
    pub fn huge(&self) -> bool {
        self.huge
    }
}

/// 2 MiB pages a table leaves free for DPDK's own later allocations.
const HUGE_PAGES_LEFT: usize = 64;

/// Free 2 MiB huge pages of the system, if it says.
fn free_huge_pages() -> Option<usize> {
    std::fs::read_to_string("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages").ok()?.trim().parse().ok()
}

impl core::ops::Deref for Lines {
    type Target = [[core::sync::atomic::AtomicU64; LINE_WORDS]];

    fn deref(&self) -> &Self::Target {
        // The mapping holds `len` page-aligned lines, alive as long as `self`.
        // SAFETY: so the slice is in bounds; any bit pattern is a valid AtomicU64.
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for Lines {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `zeroed`; no reference
        // into it outlives `self`.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.bytes) };
    }
}

impl core::fmt::Debug for Lines {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Lines").field("len", &self.len).field("huge", &self.huge).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::sync::atomic::Ordering::Relaxed;

    #[test]
    fn lines_start_zeroed_line_aligned_and_hold_what_is_stored() {
        for len in [0, 1, 1000, 40_000] {
            let lines = Lines::zeroed(len);
            assert_eq!(lines.len(), len.max(1));
            assert_eq!(lines.as_ptr() as usize % 64, 0);
            assert!(lines.iter().flatten().all(|w| w.load(Relaxed) == 0));
            let last = lines.len() - 1;
            lines[last][7].store(0xdead_beef, Relaxed);
            assert_eq!(lines[last][7].load(Relaxed), 0xdead_beef);
        }
    }
}
