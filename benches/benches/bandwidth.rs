//! This machine's memory, the yardstick for the simulator's cost per citizen-day
//! (docs/performance.md): STREAM-style copy and sequential read of arrays far larger than the last
//! level cache (McCalpin 1995: each array at least four times the caches), and the latency of
//! dependent random reads (a pointer chase over one random cycle, as in lmbench's lat_mem_rd).
//!
//! Run with `taskset -c 0 cargo bench -p sim-benches --bench bandwidth`. Divan prints bytes per
//! second for the copy (bytes read plus bytes written, as STREAM counts them) and the read; the
//! chase's time divided by its steps is the latency of one read that misses every cache.

use divan::counter::BytesCount;
use divan::{Bencher, black_box};

fn main() {
    divan::main();
}

/// 128 MiB per array: four times the 32 MiB L3 of the machine in docs/performance.md.
const BYTES: usize = 128 << 20;
const WORDS: usize = BYTES / 8;

/// STREAM copy: `b = a` over 128 MiB (256 MiB of traffic counted).
#[divan::bench(sample_count = 10)]
fn stream_copy_128mib(bencher: Bencher) {
    let a: Vec<f64> = (0..WORDS).map(|i| i as f64).collect();
    let mut b = vec![0.0f64; WORDS];
    bencher.counter(BytesCount::new(2 * BYTES)).bench_local(|| {
        b.copy_from_slice(black_box(&a));
        black_box(&mut b);
    });
}

/// Sequential read: the sum of 128 MiB of f64 in eight independent lanes (the adds keep up with
/// memory, so the time is the read).
#[divan::bench(sample_count = 10)]
fn read_sum_128mib(bencher: Bencher) {
    let a: Vec<f64> = (0..WORDS).map(|i| (i % 7) as f64).collect();
    bencher.counter(BytesCount::new(BYTES)).bench_local(|| {
        let mut lanes = [0.0f64; 8];
        for chunk in black_box(&a).chunks_exact(8) {
            for (l, x) in lanes.iter_mut().zip(chunk) {
                *l += x;
            }
        }
        lanes.iter().sum::<f64>()
    });
}

/// Steps of the pointer chase per sample.
const CHASE_STEPS: usize = 1 << 20;

/// Dependent random reads over 256 MiB (one random cycle through 2^26 u32 slots, Sattolo's
/// algorithm): each read must wait for the one before. Time / 2^20 = latency of one read.
#[divan::bench(sample_count = 10)]
fn random_chase_256mib(bencher: Bencher) {
    let n = 1usize << 26;
    let mut next: Vec<u32> = (0..n as u32).collect();
    // Sattolo: a single cycle through every slot. A fixed xorshift keeps this free of the model's
    // random streams.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in (1..n).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let j = (x % i as u64) as usize;
        next.swap(i, j);
    }
    bencher.bench_local(|| {
        let mut p = 0u32;
        for _ in 0..CHASE_STEPS {
            p = next[p as usize];
        }
        black_box(p)
    });
}
