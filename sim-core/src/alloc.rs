//! A global allocator for the binaries: the system allocator for ordinary blocks; blocks of
//! 2 MiB and more (citizens' attributes, need records, the community network at a million
//! citizens and more) mapped on their own, starting on a 2 MiB boundary and marked for
//! transparent huge pages (Linux `madvise(MADV_HUGEPAGE)`). At scale the model's reads of these
//! arrays are random, and with 4 KiB pages nearly each one also missed the TLB. Where memory
//! comes from changes no result.
//!
//! Large blocks are mapped, moved on growth (`mremap`) and unmapped directly, as glibc does above
//! its mmap threshold: a freed one goes back to the system at once, a growing one is not copied.
//! Tried first: jemalloc's `thp:always` (tikv-jemallocator) was as fast but raised city-1m's
//! peak from 138 to 188 MiB; 2 MiB-aligned blocks from glibc itself, to 160 MiB (blocks copied on
//! growth stayed in its heap).

use std::alloc::{GlobalAlloc, Layout, System};

/// The size of a transparent huge page on x86_64 and aarch64 Linux.
const HUGE_PAGE: usize = 2 << 20;

/// The system allocator, with large blocks on huge pages (Linux; elsewhere the system allocator).
/// Declare it in a binary: `#[global_allocator] static A: HugePageAlloc = HugePageAlloc;`.
pub struct HugePageAlloc;

/// Whether a block of this layout is mapped on its own: a function of the layout alone, so
/// `dealloc` and `realloc` know how `alloc` served it.
#[cfg(target_os = "linux")]
fn mapped(layout: Layout) -> bool {
    layout.size() >= HUGE_PAGE && layout.align() <= PAGE
}

/// The alignment every mapping has (a page; a moved block keeps no more than that).
#[cfg(target_os = "linux")]
const PAGE: usize = 4096;

#[cfg(target_os = "linux")]
mod map {
    use super::HUGE_PAGE;

    /// The length of the mapping that holds `size` bytes: whole 4 KiB pages.
    fn length(size: usize) -> usize {
        size.next_multiple_of(super::PAGE)
    }

    /// A fresh zeroed mapping of `size` bytes starting on a huge-page boundary, advised; null if
    /// the system refuses.
    pub(super) fn map(size: usize) -> *mut u8 {
        let len = length(size);
        let Some(reserve) = len.checked_add(HUGE_PAGE) else { return std::ptr::null_mut() };
        // SAFETY: an anonymous private mapping at an address of the kernel's choosing.
        let p = unsafe {
            libc::mmap(std::ptr::null_mut(), reserve, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0)
        };
        if p == libc::MAP_FAILED {
            return std::ptr::null_mut();
        }
        let base = p as usize;
        let start = base.next_multiple_of(HUGE_PAGE);
        // SAFETY: both ranges lie in the mapping just made and outside [start, start + len);
        // all three bounds are 4 KiB aligned (mmap's result, HUGE_PAGE and `len` are).
        unsafe {
            if start > base {
                libc::munmap(p, start - base);
            }
            let tail = base + reserve - (start + len);
            if tail > 0 {
                libc::munmap((start + len) as *mut libc::c_void, tail);
            }
        }
        advise(start, len);
        start as *mut u8
    }

    /// Marks the mapping `[start, start + len)` for huge pages. The kernel puts one only where a
    /// whole aligned 2 MiB lies inside; the rest stays on small pages, so no block takes more
    /// memory than it did. The whole mapping, not its huge part, so it stays one mapping for
    /// `mremap`. Only a hint: a refusal is ignored.
    fn advise(start: usize, len: usize) {
        // SAFETY: exactly one of our mappings.
        unsafe { libc::madvise(start as *mut libc::c_void, len, libc::MADV_HUGEPAGE) };
    }

    /// Resizes a block from [`map`] of `size` bytes to `new_size` (both mapped sizes), moving
    /// its pages rather than copying them, as glibc does for its own mapped blocks; null if the
    /// system refuses (the block is then untouched).
    ///
    /// # Safety
    /// `p` must come from `map(size)` or `remap(.., size)` and not have been released.
    pub(super) unsafe fn remap(p: *mut u8, size: usize, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract: exactly the mapping `map` or `remap` kept.
        let q = unsafe { libc::mremap(p.cast(), length(size), length(new_size), libc::MREMAP_MAYMOVE) };
        if q == libc::MAP_FAILED {
            return std::ptr::null_mut();
        }
        advise(q as usize, length(new_size));
        q.cast()
    }

    /// Releases a block from [`map`] or [`remap`] of `size` bytes.
    ///
    /// # Safety
    /// `p` must come from `map(size)` or `remap(.., size)` and not have been released.
    pub(super) unsafe fn unmap(p: *mut u8, size: usize) {
        // SAFETY: the caller's contract: exactly the mapping `map` or `remap` kept.
        unsafe { libc::munmap(p.cast(), length(size)) };
    }
}

// SAFETY: a block is mapped on its own exactly when `mapped(layout)` holds, the same test for its
// allocation, its growth and its release; other blocks go to `System` with their own layout.
// Mapped blocks are aligned to a page at least, no less than the alignment they were asked for.
unsafe impl GlobalAlloc for HugePageAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        #[cfg(target_os = "linux")]
        if mapped(layout) {
            return map::map(layout.size());
        }
        // SAFETY: the caller's layout, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        #[cfg(target_os = "linux")]
        if mapped(layout) {
            // A fresh anonymous mapping is zeroed by the kernel, page by page as it is touched.
            return map::map(layout.size());
        }
        // SAFETY: the caller's layout, passed on.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        #[cfg(target_os = "linux")]
        if mapped(layout) {
            // SAFETY: `alloc` mapped this block for this size.
            return unsafe { map::unmap(ptr, layout.size()) };
        }
        // SAFETY: `ptr` came from `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `new_size` with `layout.align()` is a valid layout.
        let new = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        #[cfg(target_os = "linux")]
        if mapped(layout) && mapped(new) {
            // SAFETY: `alloc` or an earlier `realloc` mapped this block for `layout.size()`.
            return unsafe { map::remap(ptr, layout.size(), new_size) };
        }
        #[cfg(target_os = "linux")]
        if mapped(layout) || mapped(new) {
            // SAFETY: a fresh block for the new layout, the common prefix copied, then the old
            // block released as it was served.
            unsafe {
                let p = self.alloc(new);
                if !p.is_null() {
                    std::ptr::copy_nonoverlapping(ptr, p, layout.size().min(new_size));
                    self.dealloc(ptr, layout);
                }
                return p;
            }
        }
        // SAFETY: `ptr` came from `System` with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_blocks_are_huge_page_aligned_zeroed_and_keep_their_contents() {
        let a = HugePageAlloc;
        unsafe {
            let small = Layout::from_size_align(1000, 8).unwrap();
            let p = a.alloc(small);
            assert!(!p.is_null());
            p.write_bytes(7, 1000);
            // Grow past 2 MiB: moved to its own aligned mapping, contents kept.
            let big = 3 * HUGE_PAGE + 5;
            let q = a.realloc(p, small, big);
            assert!(!q.is_null());
            if cfg!(target_os = "linux") {
                assert_eq!(q as usize % HUGE_PAGE, 0);
            }
            assert!((0..1000).all(|i| *q.add(i) == 7));
            q.add(big - 1).write(9);
            // Large to larger, then back below 2 MiB.
            let r = a.realloc(q, Layout::from_size_align(big, 8).unwrap(), 5 * HUGE_PAGE);
            assert!(*r.add(999) == 7 && *r.add(big - 1) == 9);
            let s = a.realloc(r, Layout::from_size_align(5 * HUGE_PAGE, 8).unwrap(), 500);
            assert!((0..500).all(|i| *s.add(i) == 7));
            a.dealloc(s, Layout::from_size_align(500, 8).unwrap());
            // Zeroed, whatever was freed before it.
            let z_layout = Layout::from_size_align(HUGE_PAGE + 1, 64).unwrap();
            for _ in 0..2 {
                let z = a.alloc_zeroed(z_layout);
                assert!((0..=HUGE_PAGE).all(|i| *z.add(i) == 0));
                z.write_bytes(0xAB, HUGE_PAGE + 1);
                a.dealloc(z, z_layout);
            }
        }
    }

    #[test]
    fn a_large_alignment_is_kept() {
        // An alignment above a page is left to the system allocator, and honoured.
        let a = HugePageAlloc;
        let l = Layout::from_size_align(3 * HUGE_PAGE, 4 * HUGE_PAGE).unwrap();
        unsafe {
            let p = a.alloc(l);
            assert_eq!(p as usize % (4 * HUGE_PAGE), 0);
            a.dealloc(p, l);
        }
    }
}
