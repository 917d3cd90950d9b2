//! Approximate Bayesian computation over any stochastic simulator of summary statistics:
//! plain rejection ABC (Pritchard et al. 1999, keeping the closest draws: Beaumont, Zhang &
//! Balding 2002) and ABC-SMC, the population Monte Carlo sampler of Toni et al. (2009) with the
//! importance weights of Beaumont, Cornuet, Marin & Robert (2009) and tolerances chosen
//! adaptively from the effective sample size, after Del Moral, Doucet & Jasra (2012).
//!
//! # ABC-SMC, generation by generation
//!
//! Generation 0 draws `particles` parameter vectors from the prior and simulates each; every one
//! is kept with weight 1/N (tolerance infinite). Generation t >= 1:
//!
//! 1. Tolerance (Del Moral et al. 2012): eps_t is the smallest distance d_j of generation t-1 such
//!    that the effective sample size of generation t-1 re-weighted by 1[d_i <= eps_t],
//!    (sum w_i 1_i)^2 / sum w_i^2 1_i, is at least `alpha` times generation t-1's own ESS
//!    (with equal weights this is the alpha-quantile of the distances), and never below
//!    `min_tolerance`.
//! 2. Proposals (Toni et al. 2009): attempt a draws an ancestor j with probability w_j, moves it
//!    by a Gaussian kernel with per-parameter variance twice the weighted variance of generation
//!    t-1 (Beaumont et al. 2009), redraws the move while the prior density is 0, and simulates.
//!    It is accepted when its distance is at most eps_t.
//! 3. Weights (Beaumont et al. 2009): w_i proportional to pi(theta_i) / sum_j w_j K(theta_i | theta_j),
//!    normalised; ESS = 1 / sum w_i^2.
//!
//! Attempts run in batches of N on rayon; results come back in attempt order and the first N
//! accepted in that order are kept, so the generation depends only on the seed, never on the
//! thread count. Every attempt draws from its own stream keyed by (seed, generation, attempt).
//!
//! It stops after `generations`, when eps_t reaches `min_tolerance`, when a generation's acceptance
//! rate falls below `min_acceptance`, or when the next generation could exceed `max_simulations`
//! (that generation is then not started).
//!
//! # Rejection
//!
//! `samples` draws from the prior, each simulated once; the `particles` closest (ties by draw
//! order) form the posterior with equal weights, the tolerance being the largest distance kept.

use rand::RngExt;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;

use crate::rng;

/// A prior over one parameter, truncated to `[lo, hi]` (the parameter's valid range, or the
/// narrower bounds the calibration file gives).
#[derive(Debug, Clone, PartialEq)]
pub enum Prior {
    Uniform {
        lo: f64,
        hi: f64,
    },
    /// Normal(mean, sd) truncated to [lo, hi].
    Normal {
        mean: f64,
        sd: f64,
        lo: f64,
        hi: f64,
    },
    /// log x ~ Normal(mu, sigma), truncated to [lo, hi] (lo >= 0).
    LogNormal {
        mu: f64,
        sigma: f64,
        lo: f64,
        hi: f64,
    },
    /// (x - lo) / (hi - lo) ~ Beta(a, b).
    Beta {
        a: f64,
        b: f64,
        lo: f64,
        hi: f64,
    },
}

impl Prior {
    pub fn bounds(&self) -> (f64, f64) {
        match *self {
            Prior::Uniform { lo, hi } | Prior::Normal { lo, hi, .. } | Prior::LogNormal { lo, hi, .. } | Prior::Beta { lo, hi, .. } => {
                (lo, hi)
            }
        }
    }

    /// The density up to a constant (the constant cancels in normalised weights); 0 outside the bounds.
    pub fn density(&self, x: f64) -> f64 {
        let (lo, hi) = self.bounds();
        if !(x >= lo && x <= hi) {
            return 0.0;
        }
        match *self {
            Prior::Uniform { .. } => 1.0,
            Prior::Normal { mean, sd, .. } => (-0.5 * ((x - mean) / sd).powi(2)).exp(),
            Prior::LogNormal { mu, sigma, .. } => {
                if x <= 0.0 {
                    0.0
                } else {
                    (-0.5 * ((x.ln() - mu) / sigma).powi(2)).exp() / x
                }
            }
            Prior::Beta { a, b, .. } => {
                let u = (x - lo) / (hi - lo);
                let d = u.powf(a - 1.0) * (1.0 - u).powf(b - 1.0);
                if d.is_finite() { d } else { 0.0 }
            }
        }
    }

    /// Share of the untruncated distribution's mass inside the bounds (Simpson's rule on the
    /// normalised density; 1 for uniform and beta). Priors with almost no mass inside are refused
    /// at load time, so rejection sampling below ends quickly.
    pub fn mass_inside(&self) -> f64 {
        let (lo, hi) = self.bounds();
        let (pdf, norm): (Box<dyn Fn(f64) -> f64>, f64) = match *self {
            Prior::Uniform { .. } | Prior::Beta { .. } => return 1.0,
            Prior::Normal { sd, .. } => (Box::new(|x| self.density(x)), sd * (2.0 * std::f64::consts::PI).sqrt()),
            Prior::LogNormal { sigma, .. } => (Box::new(|x| self.density(x)), sigma * (2.0 * std::f64::consts::PI).sqrt()),
        };
        let n = 4000;
        let h = (hi - lo) / n as f64;
        let mut s = pdf(lo) + pdf(hi);
        for i in 1..n {
            s += pdf(lo + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        (s * h / 3.0 / norm).min(1.0)
    }

    /// One draw (rejection from the untruncated distribution for normal and log-normal).
    pub fn sample(&self, s: &mut rng::Stream) -> f64 {
        let (lo, hi) = self.bounds();
        match *self {
            Prior::Uniform { .. } => lo + s.random::<f64>() * (hi - lo),
            Prior::Normal { mean, sd, .. } => {
                let n = Normal::new(mean, sd).expect("validated sd > 0");
                (0..100_000).map(|_| n.sample(s)).find(|x| (lo..=hi).contains(x)).unwrap_or((lo + hi) / 2.0)
            }
            Prior::LogNormal { mu, sigma, .. } => {
                let n = Normal::new(mu, sigma).expect("validated sigma > 0");
                (0..100_000).map(|_| n.sample(s).exp()).find(|x| (lo..=hi).contains(x)).unwrap_or((lo + hi) / 2.0)
            }
            Prior::Beta { a, b, .. } => {
                let d = rand_distr::Beta::new(a, b).expect("validated a, b > 0");
                lo + d.sample(s) * (hi - lo)
            }
        }
    }
}

/// How the sampler runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub method: Method,
    /// Particles in every generation (the posterior sample size).
    pub particles: usize,
    /// Master seed: streams are keyed by (seed, generation, attempt).
    pub seed: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Method {
    Rejection {
        /// Draws from the prior.
        samples: usize,
    },
    Smc {
        /// Most generations, generation 0 included.
        generations: usize,
        /// Share of the effective sample size kept when choosing the next tolerance (0 < alpha < 1).
        alpha: f64,
        /// Stop once the tolerance reaches this.
        min_tolerance: f64,
        /// Stop after a generation whose acceptance rate is below this.
        min_acceptance: f64,
        /// Most simulations over all generations.
        max_simulations: u64,
    },
}

/// One particle of a generation.
#[derive(Debug, Clone, PartialEq)]
pub struct Particle {
    pub theta: Vec<f64>,
    pub weight: f64,
    pub distance: f64,
}

/// One finished generation.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    pub index: usize,
    /// Infinite for generation 0 of ABC-SMC.
    pub tolerance: f64,
    /// Simulations run for this generation (whole batches).
    pub simulations: u64,
    /// Attempts up to and including the one that completed the generation.
    pub attempts: u64,
    pub particles: Vec<Particle>,
}

impl Generation {
    /// Accepted / attempts up to the last particle kept.
    pub fn acceptance_rate(&self) -> f64 {
        self.particles.len() as f64 / self.attempts.max(1) as f64
    }

    /// Effective sample size 1 / sum w^2 (Kong, Liu & Wong 1994).
    pub fn ess(&self) -> f64 {
        let s: f64 = self.particles.iter().map(|p| p.weight * p.weight).sum();
        if s > 0.0 { 1.0 / s } else { 0.0 }
    }
}

/// Why the sampler stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Not stopped: another generation follows.
    Continue,
    Generations,
    Tolerance,
    Acceptance,
    Budget,
    /// Rejection ABC is one generation.
    Done,
}

impl Stop {
    pub fn words(self) -> &'static str {
        match self {
            Stop::Continue => "not finished",
            Stop::Generations => "reached the most generations",
            Stop::Tolerance => "reached the smallest tolerance",
            Stop::Acceptance => "the acceptance rate fell below its floor",
            Stop::Budget => "another generation could exceed the simulation budget",
            Stop::Done => "rejection ABC is a single generation",
        }
    }
}

/// The simulator as ABC sees it: parameters and a seed in, distance to the data out (infinite
/// when the simulation gives no value for a target).
pub trait Simulator: Sync {
    fn distance(&self, theta: &[f64], seed: u64) -> f64;
}

impl<F: Fn(&[f64], u64) -> f64 + Sync> Simulator for F {
    fn distance(&self, theta: &[f64], seed: u64) -> f64 {
        self(theta, seed)
    }
}

/// The sampler: priors, settings and a simulator.
pub struct Sampler<'a, S: Simulator> {
    pub priors: &'a [Prior],
    pub settings: &'a Settings,
    pub simulator: &'a S,
}

/// The simulation seed of (generation, attempt).
pub fn simulation_seed(seed: u64, generation: usize, attempt: u64) -> u64 {
    rng::run_seed(rng::derive(seed, rng::name_hash("calibrate")), generation as u64, attempt)
}

fn attempt_stream(seed: u64, generation: usize, attempt: u64) -> rng::Stream {
    rng::keyed_stream(seed, "calibrate-proposal", &[generation as u64, attempt])
}

/// Weighted mean and variance of each parameter.
pub fn weighted_moments(g: &Generation, k: usize) -> Vec<(f64, f64)> {
    (0..k)
        .map(|j| {
            let m: f64 = g.particles.iter().map(|p| p.weight * p.theta[j]).sum();
            let v: f64 = g.particles.iter().map(|p| p.weight * (p.theta[j] - m).powi(2)).sum();
            (m, v)
        })
        .collect()
}

/// The weighted `q`-quantile of `xs` (weights normalised inside; the smallest x whose cumulative
/// weight reaches q).
pub fn weighted_quantile(xs: &[f64], ws: &[f64], q: f64) -> f64 {
    let mut idx: Vec<usize> = (0..xs.len()).filter(|&i| xs[i].is_finite()).collect();
    if idx.is_empty() {
        return f64::NAN;
    }
    idx.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]).then(a.cmp(&b)));
    let total: f64 = idx.iter().map(|&i| ws[i]).sum();
    let mut c = 0.0;
    for &i in &idx {
        c += ws[i];
        if c >= q * total - 1e-12 * total {
            return xs[i];
        }
    }
    xs[*idx.last().expect("not empty")]
}

/// The next tolerance by the ESS rule (see the module doc); `None` when no particle has a finite distance.
pub fn next_tolerance(prev: &Generation, alpha: f64) -> Option<f64> {
    let target = alpha * prev.ess();
    let mut idx: Vec<usize> = (0..prev.particles.len()).filter(|&i| prev.particles[i].distance.is_finite()).collect();
    idx.sort_by(|&a, &b| prev.particles[a].distance.total_cmp(&prev.particles[b].distance).then(a.cmp(&b)));
    let (mut s, mut s2) = (0.0, 0.0);
    for (n, &i) in idx.iter().enumerate() {
        let w = prev.particles[i].weight;
        s += w;
        s2 += w * w;
        let d = prev.particles[i].distance;
        // Ties: take every particle at this distance before testing.
        if idx.get(n + 1).is_some_and(|&nx| prev.particles[nx].distance == d) {
            continue;
        }
        if s2 > 0.0 && s * s / s2 >= target {
            return Some(d);
        }
    }
    idx.last().map(|&i| prev.particles[i].distance)
}

impl<S: Simulator> Sampler<'_, S> {
    fn k(&self) -> usize {
        self.priors.len()
    }

    fn prior_density(&self, theta: &[f64]) -> f64 {
        self.priors.iter().zip(theta).map(|(p, &x)| p.density(x)).product()
    }

    fn draw_prior(&self, s: &mut rng::Stream) -> Vec<f64> {
        self.priors.iter().map(|p| p.sample(s)).collect()
    }

    /// Kernel standard deviations for moves from `prev`: sqrt(2 var) per parameter, floored at a
    /// millionth of the prior's width so a collapsed parameter can still move.
    fn kernel_sd(&self, prev: &Generation) -> Vec<f64> {
        weighted_moments(prev, self.k())
            .iter()
            .zip(self.priors)
            .map(|(&(_, v), p)| {
                let (lo, hi) = p.bounds();
                (2.0 * v).sqrt().max((hi - lo) * 1e-6)
            })
            .collect()
    }

    /// Runs `work` for attempts `range` in parallel; results in attempt order.
    fn batch<T: Send>(&self, pool: Option<&rayon::ThreadPool>, range: std::ops::Range<u64>, work: impl Fn(u64) -> T + Sync) -> Vec<T> {
        let go = || range.clone().into_par_iter().map(&work).collect::<Vec<T>>();
        match pool {
            Some(p) => p.install(go),
            None => go(),
        }
    }

    /// Generation 0 (SMC) or the single generation (rejection). `tick` is called once per simulation.
    pub fn first(&self, pool: Option<&rayon::ThreadPool>, tick: &(dyn Fn() + Sync)) -> Generation {
        let n = self.settings.particles;
        let seed = self.settings.seed;
        let draws = match self.settings.method {
            Method::Rejection { samples } => samples,
            Method::Smc { .. } => n,
        };
        let sims = self.batch(pool, 0..draws as u64, |a| {
            let mut s = attempt_stream(seed, 0, a);
            let theta = self.draw_prior(&mut s);
            let d = self.simulator.distance(&theta, simulation_seed(seed, 0, a));
            tick();
            (theta, d)
        });
        match self.settings.method {
            Method::Smc { .. } => {
                let w = 1.0 / n as f64;
                Generation {
                    index: 0,
                    tolerance: f64::INFINITY,
                    simulations: n as u64,
                    attempts: n as u64,
                    particles: sims.into_iter().map(|(theta, distance)| Particle { theta, weight: w, distance }).collect(),
                }
            }
            Method::Rejection { .. } => {
                let mut order: Vec<usize> = (0..sims.len()).collect();
                order.sort_by(|&a, &b| sims[a].1.total_cmp(&sims[b].1).then(a.cmp(&b)));
                order.truncate(n);
                // Kept in draw order.
                order.sort_unstable();
                let tolerance = order.iter().map(|&i| sims[i].1).fold(f64::NEG_INFINITY, f64::max);
                let w = 1.0 / order.len() as f64;
                Generation {
                    index: 0,
                    tolerance,
                    simulations: draws as u64,
                    attempts: draws as u64,
                    particles: order.iter().map(|&i| Particle { theta: sims[i].0.clone(), weight: w, distance: sims[i].1 }).collect(),
                }
            }
        }
    }

    /// Whether to stop after `last` (with `total` simulations so far), and the next tolerance if not.
    pub fn plan_next(&self, last: &Generation, total: u64) -> (Stop, f64) {
        let Method::Smc { generations, alpha, min_tolerance, min_acceptance, max_simulations } = self.settings.method else {
            return (Stop::Done, f64::NAN);
        };
        if last.index + 1 >= generations {
            return (Stop::Generations, f64::NAN);
        }
        if last.tolerance <= min_tolerance {
            return (Stop::Tolerance, f64::NAN);
        }
        if last.index > 0 && last.acceptance_rate() < min_acceptance {
            return (Stop::Acceptance, f64::NAN);
        }
        // The next generation needs at least one batch of N.
        if total + self.settings.particles as u64 > max_simulations {
            return (Stop::Budget, f64::NAN);
        }
        match next_tolerance(last, alpha) {
            Some(eps) => (Stop::Continue, eps.max(min_tolerance)),
            None => (Stop::Acceptance, f64::NAN),
        }
    }

    /// Generation `prev.index + 1` at tolerance `eps`, using at most `budget` simulations;
    /// `None` when the budget ran out first (the generation is then incomplete and dropped).
    pub fn next(
        &self,
        prev: &Generation,
        eps: f64,
        budget: u64,
        pool: Option<&rayon::ThreadPool>,
        tick: &(dyn Fn() + Sync),
    ) -> Option<Generation> {
        let n = self.settings.particles;
        let t = prev.index + 1;
        let seed = self.settings.seed;
        let sd = self.kernel_sd(prev);
        let cumulative: Vec<f64> = prev
            .particles
            .iter()
            .scan(0.0, |c, p| {
                *c += p.weight;
                Some(*c)
            })
            .collect();
        let total_w = *cumulative.last().unwrap_or(&1.0);
        let mut accepted: Vec<(Vec<f64>, f64)> = Vec::with_capacity(n);
        let mut next_attempt = 0u64;
        let mut attempts = 0u64;
        while accepted.len() < n {
            if next_attempt + n as u64 > budget {
                return None;
            }
            let range = next_attempt..next_attempt + n as u64;
            next_attempt = range.end;
            let results = self.batch(pool, range.clone(), |a| {
                let mut s = attempt_stream(seed, t, a);
                let u = s.random::<f64>() * total_w;
                let j = cumulative.partition_point(|&c| c <= u).min(prev.particles.len() - 1);
                let base = &prev.particles[j].theta;
                let mut theta = base.clone();
                for _ in 0..10_000 {
                    for (i, x) in theta.iter_mut().enumerate() {
                        let z: f64 = rand_distr::StandardNormal.sample(&mut s);
                        *x = base[i] + sd[i] * z;
                    }
                    if self.prior_density(&theta) > 0.0 {
                        break;
                    }
                }
                if self.prior_density(&theta) <= 0.0 {
                    return (theta, f64::INFINITY);
                }
                let d = self.simulator.distance(&theta, simulation_seed(seed, t, a));
                tick();
                (theta, d)
            });
            for (a, (theta, d)) in range.zip(results) {
                if accepted.len() < n && d <= eps {
                    accepted.push((theta, d));
                    attempts = a + 1;
                }
            }
        }
        // Beaumont et al. 2009 weights.
        let norm: Vec<f64> = sd.iter().map(|s| 1.0 / s).collect();
        let kernel = |x: &[f64], y: &[f64]| -> f64 {
            let q: f64 = x.iter().zip(y).zip(&norm).map(|((a, b), k)| ((a - b) * k).powi(2)).sum();
            (-0.5 * q).exp()
        };
        let raw: Vec<f64> = accepted
            .iter()
            .map(|(theta, _)| {
                let denom: f64 = prev.particles.iter().map(|p| p.weight * kernel(theta, &p.theta)).sum();
                let w = self.prior_density(theta) / denom;
                if w.is_finite() { w } else { 0.0 }
            })
            .collect();
        let sum: f64 = raw.iter().sum();
        let particles = accepted
            .into_iter()
            .zip(&raw)
            .map(|((theta, distance), &w)| Particle { theta, weight: if sum > 0.0 { w / sum } else { 1.0 / n as f64 }, distance })
            .collect();
        Some(Generation { index: t, tolerance: eps, simulations: next_attempt, attempts, particles })
    }

    /// Runs to the end from `done` (the generations already finished, possibly none), calling
    /// `finished` after each new generation. Returns every generation and why it stopped.
    pub fn run(
        &self,
        mut done: Vec<Generation>,
        pool: Option<&rayon::ThreadPool>,
        tick: &(dyn Fn() + Sync),
        finished: &mut dyn FnMut(&Generation, f64) -> bool,
    ) -> (Vec<Generation>, Stop) {
        if done.is_empty() {
            let g = self.first(pool, tick);
            if !finished(&g, f64::INFINITY) {
                done.push(g);
                return (done, Stop::Continue);
            }
            done.push(g);
        }
        loop {
            let last = done.last().expect("one generation at least");
            let total: u64 = done.iter().map(|g| g.simulations).sum();
            let (stop, eps) = self.plan_next(last, total);
            if stop != Stop::Continue {
                return (done, stop);
            }
            let budget = match self.settings.method {
                Method::Smc { max_simulations, .. } => max_simulations - total,
                Method::Rejection { .. } => 0,
            };
            match self.next(last, eps, budget, pool, tick) {
                Some(g) => {
                    let go_on = finished(&g, eps);
                    done.push(g);
                    if !go_on {
                        return (done, Stop::Continue);
                    }
                }
                None => return (done, Stop::Budget),
            }
        }
    }
}

/// A toy model with a known posterior, to check the sampler (`sim calibrate --self-check`, the
/// unit tests, notebooks/06-calibration.ipynb): n observations y ~ N(theta, sigma^2) summarised by
/// their mean, the distance ((mean - ybar) / (sigma / sqrt n))^2, and a conjugate prior
/// N(m0, s0^2) (truncated far out at m0 +- 10 s0, mass outside ~1e-23). The posterior is normal with
/// precision 1/s0^2 + n/sigma^2 and mean (m0/s0^2 + n ybar/sigma^2) / precision (e.g. Gelman et al.
/// 2013, Bayesian Data Analysis, section 2.5).
#[derive(Debug, Clone, Copy)]
pub struct NormalMean {
    pub m0: f64,
    pub s0: f64,
    pub n: usize,
    pub sigma: f64,
    pub ybar: f64,
}

impl NormalMean {
    /// The case of the self-check: prior N(0, 2^2), n = 4, sigma = 1, ybar = 1.5.
    pub const STANDARD: NormalMean = NormalMean { m0: 0.0, s0: 2.0, n: 4, sigma: 1.0, ybar: 1.5 };

    pub fn prior(&self) -> Prior {
        Prior::Normal { mean: self.m0, sd: self.s0, lo: self.m0 - 10.0 * self.s0, hi: self.m0 + 10.0 * self.s0 }
    }

    /// The analytic posterior's mean and sd.
    pub fn posterior(&self) -> (f64, f64) {
        let precision = 1.0 / (self.s0 * self.s0) + self.n as f64 / (self.sigma * self.sigma);
        ((self.m0 / (self.s0 * self.s0) + self.n as f64 * self.ybar / (self.sigma * self.sigma)) / precision, precision.recip().sqrt())
    }
}

impl Simulator for NormalMean {
    fn distance(&self, theta: &[f64], seed: u64) -> f64 {
        let mut s = rng::from_u64(seed);
        let d = Normal::new(theta[0], self.sigma).expect("sigma > 0");
        let m = (0..self.n).map(|_| d.sample(&mut s)).sum::<f64>() / self.n as f64;
        ((m - self.ybar) / (self.sigma / (self.n as f64).sqrt())).powi(2)
    }
}

/// The ABC-SMC settings of the self-check: `particles`, tolerance down to 0.005 (a twentieth of
/// the statistic's sd in distance units), up to 30 generations.
pub fn self_check_settings(seed: u64, particles: usize) -> Settings {
    Settings {
        method: Method::Smc { generations: 30, alpha: 0.5, min_tolerance: 0.005, min_acceptance: 0.0, max_simulations: 10_000_000 },
        particles,
        seed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smc(seed: u64, particles: usize) -> Settings {
        self_check_settings(seed, particles)
    }

    fn posterior(g: &Generation) -> (f64, f64) {
        let m = weighted_moments(g, 1);
        (m[0].0, m[0].1.sqrt())
    }

    #[test]
    fn abc_smc_matches_the_analytic_posterior_of_a_normal_mean() {
        // Prior N(0, 2^2) truncated to [-20, 20]; data: n = 4, sigma = 1, ybar = 1.5.
        let toy = NormalMean::STANDARD;
        let (post_mean, post_sd) = toy.posterior();
        let priors = [toy.prior()];
        let (mut means, mut sds) = (Vec::new(), Vec::new());
        for seed in 1..=5 {
            let settings = smc(seed, 400);
            let sampler = Sampler { priors: &priors, settings: &settings, simulator: &toy };
            let (gens, stop) = sampler.run(Vec::new(), None, &|| {}, &mut |_, _| true);
            assert_eq!(stop, Stop::Tolerance, "seed {seed}: stopped because {}", stop.words());
            let (m, s) = posterior(gens.last().unwrap());
            means.push(m);
            sds.push(s);
        }
        // Monte Carlo error of a weighted mean of ~400 particles: about post_sd / sqrt(ESS) ~ 0.03;
        // the mean over 5 seeds is within 0.05 (about 3 standard errors), each seed within 0.12.
        let avg = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        for (m, s) in means.iter().zip(&sds) {
            assert!((m - post_mean).abs() < 0.12, "mean {m} vs {post_mean}");
            assert!((s / post_sd - 1.0).abs() < 0.2, "sd {s} vs {post_sd}");
        }
        eprintln!("means {means:?} sds {sds:?} vs {post_mean} {post_sd}");
        assert!((avg(&means) - post_mean).abs() < 0.05, "mean of means {} vs {post_mean}", avg(&means));
        assert!((avg(&sds) / post_sd - 1.0).abs() < 0.1, "mean of sds {} vs {post_sd}", avg(&sds));
    }

    #[test]
    fn the_prior_alone_comes_back_when_data_say_nothing() {
        // A distance that ignores theta: every generation keeps the prior (uniform on [2, 6]).
        let priors = [Prior::Uniform { lo: 2.0, hi: 6.0 }];
        let flat = |_: &[f64], seed: u64| (seed % 1000) as f64 / 1000.0;
        let settings = smc(3, 500);
        let sampler = Sampler { priors: &priors, settings: &settings, simulator: &flat };
        let (gens, _) = sampler.run(Vec::new(), None, &|| {}, &mut |g, _| g.index < 3);
        let (m, s) = posterior(gens.last().unwrap());
        // Uniform(2, 6): mean 4, sd 4/sqrt(12) = 1.155.
        assert!((m - 4.0).abs() < 0.15, "{m}");
        assert!((s - 1.155).abs() < 0.12, "{s}");
    }

    #[test]
    fn same_seed_same_generations_any_thread_count_and_resume() {
        let priors = [Prior::Uniform { lo: -5.0, hi: 5.0 }, Prior::Beta { a: 2.0, b: 2.0, lo: 0.0, hi: 1.0 }];
        let sim = |th: &[f64], seed: u64| {
            let mut s = rng::from_u64(seed);
            let e: f64 = rand_distr::StandardNormal.sample(&mut s);
            (th[0] + th[1] - 1.0 + 0.3 * e).powi(2)
        };
        let settings = smc(11, 60);
        let sampler = Sampler { priors: &priors, settings: &settings, simulator: &sim };
        let pool = |n| rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap();
        let (p1, p2) = (pool(1), pool(2));
        let (a, sa) = sampler.run(Vec::new(), Some(&p1), &|| {}, &mut |g, _| g.index < 5);
        let (b, sb) = sampler.run(Vec::new(), Some(&p2), &|| {}, &mut |g, _| g.index < 5);
        assert_eq!(a, b);
        assert_eq!(sa, sb);
        // Stopped after generation 2, then resumed from generations 0..=2.
        let (part, _) = sampler.run(Vec::new(), Some(&p2), &|| {}, &mut |g, _| g.index < 2);
        assert_eq!(part.len(), 3);
        let (c, _) = sampler.run(part, Some(&p1), &|| {}, &mut |g, _| g.index < 5);
        assert_eq!(a, c);
        // Tolerances fall.
        assert!(a.windows(2).all(|w| w[1].tolerance <= w[0].tolerance));
    }

    #[test]
    fn rejection_keeps_the_closest_draws() {
        let priors = [Prior::Uniform { lo: 0.0, hi: 10.0 }];
        let sim = |th: &[f64], _: u64| (th[0] - 3.0).powi(2);
        let settings = Settings { method: Method::Rejection { samples: 2000 }, particles: 100, seed: 5 };
        let sampler = Sampler { priors: &priors, settings: &settings, simulator: &sim };
        let (gens, stop) = sampler.run(Vec::new(), None, &|| {}, &mut |_, _| true);
        assert_eq!(stop, Stop::Done);
        let g = &gens[0];
        assert_eq!(g.particles.len(), 100);
        // The closest 5% of uniform draws on [0, 10] lie within about 0.25 of 3.
        assert!(g.particles.iter().all(|p| (p.theta[0] - 3.0).abs() <= g.tolerance.sqrt() + 1e-12));
        assert!(g.tolerance.sqrt() < 0.4, "{}", g.tolerance);
    }

    #[test]
    fn truncated_priors_stay_inside_and_report_their_mass() {
        let p = Prior::Normal { mean: 0.0, sd: 1.0, lo: 0.0, hi: 10.0 };
        assert!((p.mass_inside() - 0.5).abs() < 1e-3);
        let l = Prior::LogNormal { mu: 0.0, sigma: 0.5, lo: 0.0, hi: 1.0 };
        assert!((l.mass_inside() - 0.5).abs() < 1e-3, "{}", l.mass_inside());
        let mut s = rng::from_u64(1);
        for prior in [p, l, Prior::Beta { a: 0.5, b: 0.5, lo: 2.0, hi: 3.0 }] {
            let (lo, hi) = prior.bounds();
            assert!((0..1000).map(|_| prior.sample(&mut s)).all(|x| (lo..=hi).contains(&x)));
        }
    }

    #[test]
    fn ess_tolerance_is_the_quantile_for_equal_weights() {
        let g = Generation {
            index: 0,
            tolerance: f64::INFINITY,
            simulations: 10,
            attempts: 10,
            particles: (0..10).map(|i| Particle { theta: vec![0.0], weight: 0.1, distance: (10 - i) as f64 }).collect(),
        };
        assert_eq!(next_tolerance(&g, 0.5), Some(5.0));
        assert_eq!(weighted_quantile(&[3.0, 1.0, 2.0], &[1.0, 1.0, 1.0], 0.5), 2.0);
    }
}
