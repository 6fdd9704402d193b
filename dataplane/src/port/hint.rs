//! Hints to the CPU and the kernel about memory, as safe calls: a software
//! prefetch, and transparent huge pages for a large table.
#![allow(unsafe_code)]

use core::mem::MaybeUninit;

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

/// Asks the kernel to back the untouched memory `spare` (a fresh vector's
/// spare capacity) with transparent huge pages when it is first written:
/// a randomly probed table of many megabytes then costs a TLB miss far less
/// often. Returns whether the kernel took the advice (it may not: THP off,
/// or the range holds no whole 2 MiB page); the memory is the same either way.
pub fn advise_huge<T>(spare: &mut [MaybeUninit<T>]) -> bool {
    const HUGE: usize = 2 << 20;
    let start = spare.as_mut_ptr() as usize;
    let end = start + core::mem::size_of_val(spare);
    let (first, last) = (start.next_multiple_of(HUGE), end / HUGE * HUGE);
    if last <= first {
        return false;
    }
    // SAFETY: [first, last) lies inside memory we own exclusively (the
    // borrowed spare capacity); MADV_HUGEPAGE changes how the kernel backs
    // it, never its contents or mapping.
    let rc = unsafe { libc::madvise(first as *mut libc::c_void, last - first, libc::MADV_HUGEPAGE) };
    rc == 0
}
