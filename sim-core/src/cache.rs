//! Cache hints for the day loop's random reads (citizens met, needs served at a million citizens
//! and more). A hint changes no result.

/// A hint to bring `x` into the cache before it is read. It changes no result (a no-op off x86_64).
#[inline(always)]
pub(crate) fn prefetch<T>(x: Option<&T>) {
    #[cfg(target_arch = "x86_64")]
    if let Some(x) = x {
        // SAFETY: a prefetch is only a hint and cannot fault; the address is a valid reference.
        #[allow(unused_unsafe)]
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>((x as *const T).cast::<i8>())
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

