//! A copy of a random stream run ahead of the real one, so that the citizen a coming draw will
//! read can be asked for (prefetched) before it is needed. Needs arising and the opinion exchanges
//! draw a random citizen and read their data at once; nothing in the hardware can fetch it early,
//! because the address is the draw. The copy guesses the coming draws and never touches the real
//! stream: a wrong guess costs a wasted prefetch, never a different result.

use rand::RngExt;

use crate::rng::Stream;

/// A copy of a stream kept `AHEAD` steps ahead of the real one. A step is the pattern both users
/// draw most of the time: a citizen in 0..n, then one value (the thinning variate of a candidate
/// that is not kept; the neighbour of a meeting, one draw whatever the row's length). The caller
/// reports each real step's citizen and whether it kept to the pattern (a kept candidate draws
/// more; a citizen without neighbours draws less); the copy starts again from the real stream when
/// it did not, or when its guess was wrong (rand's rare bias correction draws once more).
pub(super) struct StreamAhead<const AHEAD: usize> {
    stream: Stream,
    /// The copy's guess of step k's citizen, at k % AHEAD.
    guess: [usize; AHEAD],
    /// Steps the copy has drawn.
    drawn: usize,
    steps: usize,
}

impl<const AHEAD: usize> StreamAhead<AHEAD> {
    /// A copy of `stream` for `steps` steps of citizens in 0..n, asking for the first `AHEAD`.
    #[inline(always)]
    pub(super) fn new(stream: &Stream, steps: usize, n: usize, ask: impl FnMut(usize)) -> Self {
        let mut ahead = StreamAhead { stream: stream.clone(), guess: [usize::MAX; AHEAD], drawn: 0, steps };
        ahead.draw_until(AHEAD, n, ask);
        ahead
    }

    /// Step `k` drew citizen `i`; `kept_pattern` whether it then drew exactly one value. `stream`
    /// is the real stream after the step. Asks for the step `AHEAD` further on.
    #[inline(always)]
    pub(super) fn done(&mut self, k: usize, i: usize, kept_pattern: bool, stream: &Stream, n: usize, ask: impl FnMut(usize)) {
        if !kept_pattern || self.guess[k % AHEAD] != i {
            self.stream.clone_from(stream);
            self.drawn = k + 1;
        }
        self.draw_until(k + 1 + AHEAD, n, ask);
    }

    #[inline(always)]
    fn draw_until(&mut self, until: usize, n: usize, mut ask: impl FnMut(usize)) {
        let until = until.min(self.steps);
        while self.drawn < until {
            let i = self.stream.random_range(0..n);
            let _: u64 = self.stream.random();
            self.guess[self.drawn % AHEAD] = i;
            ask(i);
            self.drawn += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use rand::SeedableRng;

    use super::*;

    /// Every step's citizen is asked for among the copy's last `AHEAD` draws before the real
    /// stream draws it (in step, not by chance among 40,000): through steps that draw more and say
    /// so, steps that draw nothing more, and steps that draw more without saying so (caught by the
    /// wrong guess that follows). The step's one value is an f64 or a small range: one draw each.
    #[test]
    fn asks_for_each_step_before_its_draw() {
        const AHEAD: usize = 8;
        let n = 40_000;
        for seed in 0..30u64 {
            let mut real = Stream::seed_from_u64(seed);
            let steps = 3 + seed as usize * 13;
            let asked = RefCell::new(Vec::new());
            let ask = |i: usize| asked.borrow_mut().push(i);
            let mut ahead = StreamAhead::<AHEAD>::new(&real, steps, n, ask);
            let (mut off_pattern, mut unreported) = (0, false);
            for k in 0..steps {
                let i = real.random_range(0..n);
                // After an unreported extra draw the copy is out of step until this step's check.
                let recent = asked.borrow().iter().rev().take(AHEAD).any(|&a| a == i);
                assert!(recent || unreported, "seed {seed}, step {k}: citizen {i} not asked for just ahead");
                let kept_pattern = match i % 10 {
                    // A kept candidate: more draws, reported.
                    0 => {
                        for _ in 0..1 + i % 3 {
                            let _: f64 = real.random();
                        }
                        false
                    }
                    // A citizen without neighbours: no second draw, reported.
                    1 => false,
                    // An extra draw not reported (as a bias correction would be).
                    2 => {
                        let _: u32 = real.random();
                        let _: u32 = real.random();
                        true
                    }
                    3..=5 => {
                        let _ = real.random_range(0..1 + i % 12);
                        true
                    }
                    _ => {
                        let _: f64 = real.random();
                        true
                    }
                };
                off_pattern += usize::from(i % 10 < 3 || unreported);
                unreported = i % 10 == 2;
                ahead.done(k, i, kept_pattern, &real, n, ask);
            }
            assert!(ahead.drawn <= steps, "seed {seed}: drew past the last step");
            // One window at first, one step a step, and at most a new window after each step off
            // the pattern.
            assert!(asked.borrow().len() <= AHEAD + steps + off_pattern * AHEAD);
        }
    }
}
