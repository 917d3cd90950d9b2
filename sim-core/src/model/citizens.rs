//! Trust, opinions and assemblies (MODEL.md §5.5). Trust moves after each encounter, falling
//! `trust_asymmetry` times faster on a bad outcome than it rises on a good one (Kampen, Van De
//! Walle & Bouckaert 2006), and spreads over the community network by weighted averaging (DeGroot
//! 1974). Opinions on a contested service question follow bounded confidence (Deffuant et al.
//! 2000). Citizens' assemblies of a random, stratified sample deliberate with a widened confidence
//! bound (depolarising; Fishkin 2009); self-selected like-minded ones drift to their extreme
//! (Schkade, Sunstein & Hastie 2007). Members gain trust through voice; everyone else reacts only to
//! the outcomes that follow, through their own encounters.

use rand::RngExt;

use std::sync::Arc;

use super::World;
use super::ahead::StreamAhead;
use crate::network::Csr;
use crate::rng::Stream;
use crate::scenario::{AssemblySelection, CitizenParams};

/// Trust after an encounter: up by `rise` of the gap to 1 on a good outcome, down by
/// `rise x asymmetry` of the trust held on a bad one.
pub fn trust_after(trust: f64, good: bool, p: &CitizenParams) -> f64 {
    if good { trust + p.trust_rise * (1.0 - trust) } else { trust - (p.trust_rise * p.trust_asymmetry).min(1.0) * trust }
}

/// One bounded-confidence interaction: if the opinions are closer than `bound`, both move toward
/// each other by `mu` of the gap.
pub fn deffuant(a: f64, b: f64, bound: f64, mu: f64) -> (f64, f64) {
    let d = b - a;
    if d.abs() < bound { (a + mu * d, b - mu * d) } else { (a, b) }
}

/// Opinion polarisation: the variance of opinions (0 consensus; 1 two camps at -1 and +1).
/// Two passes (mean, then squared deviations) for accuracy.
pub fn polarisation(opinions: impl Iterator<Item = f64> + Clone) -> f64 {
    let (n, sum) = opinions.clone().fold((0usize, 0.0), |(n, s), o| (n + 1, s + o));
    if n < 2 {
        return 0.0;
    }
    let mean = sum / n as f64;
    opinions.map(|o| (o - mean).powi(2)).sum::<f64>() / n as f64
}

/// Target pressure after an assembly recommends `recommendation` (-1..1; + orders by need): it
/// moves toward 0 for a positive recommendation, toward 1 for a negative one, by `shift` times the
/// recommendation's strength of the way.
pub fn assembly_target_pressure(target_pressure: f64, recommendation: f64, shift: f64) -> f64 {
    let r = recommendation.clamp(-1.0, 1.0);
    let goal = if r >= 0.0 { 0.0 } else { 1.0 };
    (target_pressure + shift * r.abs() * (goal - target_pressure)).clamp(0.0, 1.0)
}

/// Citizens from which trust spreading goes in id order asking for far neighbours' trust ahead of
/// time (2 MiB of trust; below it, over the rows packed by degree, [`RowsByDegree`]). Timed
/// alone, one step in id order: no gain from asking ahead at 40,000 to 160,000 citizens (up to
/// 15% slower at 40,000), 1.3x at 320,000, 1.6-2x at a million. From `SPLIT_FROM` citizens (the
/// same size) the rows are also split into blocks on the thread pool.
const SPREAD_PREFETCH_FROM: usize = 1 << 18;

/// The days before a spreading, that day counted, over which its neighbour sums are taken on a
/// split world ([`TrustSums`]): a row summed earlier is summed again each day a neighbour's
/// trust changes.
const SUM_DAYS: u32 = 3;

/// How many changed citizens ahead [`resum_beside`] asks for the rows it will read.
const RESUM_PREFETCH_AHEAD: usize = 8;

/// How many rows ahead trust spreading asks for a row's first and last neighbour's trust.
const SPREAD_PREFETCH_AHEAD: usize = 16;

/// One synchronous step of trust spreading (DeGroot 1974): each citizen's trust moves `spread` of
/// the way to their neighbours' mean of yesterday's `old` values. `trust` holds the rows from
/// `first` on, `offsets` starts at row `first`. Row by row, each row's end the next row's start;
/// each sum from -0.0 in row order, as `Iterator::sum` (the same bits). With `PREFETCH`, a row's
/// first and last neighbour (lowest and highest index: where rewired and cross links sit, far from
/// the citizen's own) are asked for a few rows ahead; it changes no result.
fn spread_trust<const PREFETCH: bool>(old: &[f64], trust: &mut [f64], first: usize, offsets: &[u32], targets: &[u32], spread: f64) {
    let rows = trust.len().min(offsets.len().saturating_sub(1));
    let mut start = offsets.first().map_or(0, |&o| o as usize);
    for (i, (t, &end)) in trust[..rows].iter_mut().zip(&offsets[1..=rows]).enumerate() {
        if PREFETCH && i + SPREAD_PREFETCH_AHEAD < rows {
            prefetch_row_ends(old, offsets, targets, i + SPREAD_PREFETCH_AHEAD);
        }
        let end = end as usize;
        let nb = &targets[start..end];
        start = end;
        if nb.is_empty() {
            continue;
        }
        *t += spread * (row_sum(old, nb) / nb.len() as f64 - old[first + i]);
    }
}

/// A row's sum of `values` over its neighbours `nb`: from -0.0 in row order, as `Iterator::sum`.
#[inline(always)]
fn row_sum(values: &[f64], nb: &[u32]) -> f64 {
    let mut sum = -0.0;
    for &j in nb {
        sum += values[j as usize];
    }
    sum
}

/// Asks for the `values` of row `row`'s first and last neighbour (lowest and highest index: where
/// rewired and cross links sit, far from the row's own); `offsets` starts where the caller's rows do.
#[inline(always)]
fn prefetch_row_ends(values: &[f64], offsets: &[u32], targets: &[u32], row: usize) {
    let (a, b) = (offsets[row] as usize, offsets[row + 1] as usize);
    if a < b {
        super::prefetch(targets.get(a).and_then(|&j| values.get(j as usize)));
        super::prefetch(targets.get(b - 1).and_then(|&j| values.get(j as usize)));
    }
}

/// Each row's [`row_sum`] of `values` over `g`, for the rows from `first` on (`sums` holds them),
/// asking for a row's first and last neighbour a few rows ahead as [`spread_trust`] does.
fn neighbour_sums(values: &[f64], sums: &mut [f64], first: usize, g: &Csr) {
    let rows = sums.len();
    for (k, sum) in sums.iter_mut().enumerate() {
        let i = first + k;
        if k + SPREAD_PREFETCH_AHEAD < rows {
            prefetch_row_ends(values, &g.offsets, &g.targets, i + SPREAD_PREFETCH_AHEAD);
        }
        *sum = row_sum(values, g.neighbours(i));
    }
}

/// Sums again, over `values`, each row before `sums.len()` that holds a citizen in `changed`:
/// `g` is undirected, so those rows are the citizen's neighbours.
fn resum_beside(changed: &[u32], values: &[f64], sums: &mut [f64], g: &Csr) {
    for (k, &j) in changed.iter().enumerate() {
        // The changed citizens are far apart: ask for a later one's row start and values around it
        // early, and, once its row start is in, the row.
        if let Some(&a) = changed.get(k + RESUM_PREFETCH_AHEAD) {
            super::prefetch(g.offsets.get(a as usize));
            super::prefetch(values.get(a as usize));
            super::prefetch(sums.get(a as usize));
        }
        if let Some(&a) = changed.get(k + RESUM_PREFETCH_AHEAD / 2) {
            super::prefetch(g.targets.get(g.offsets[a as usize] as usize));
        }
        for &i in g.neighbours(j as usize) {
            if let Some(sum) = sums.get_mut(i as usize) {
                *sum = row_sum(values, g.neighbours(i as usize));
            }
        }
    }
}

/// Trust spread from each row's neighbour sum (rows from `first`, `offsets` starting at row
/// `first`): `trust` moves as in [`spread_trust`] (whose `old` is the trust itself here), and
/// `seen` takes the result.
fn spread_from_sums(trust: &mut [f64], seen: &mut [f64], sums: &[f64], offsets: &[u32], spread: f64) {
    for (i, ((t, s), &sum)) in trust.iter_mut().zip(seen.iter_mut()).zip(sums).enumerate() {
        let degree = offsets[i + 1] - offsets[i];
        if degree > 0 {
            *t += spread * (sum / degree as f64 - *t);
        }
        *s = *t;
    }
}

/// Trust spreading's neighbour sums on a split world (`World::split`), taken a share a day beside
/// the service (`World::step`) instead of all at once on the spreading day. The sums run over
/// `seen`, the trust as last seen: as the last spreading left it, then each change the trust's
/// note names (`SummedValues::changes_since`), copied in before each share and before the
/// spreading, when the rows beside a changed citizen are summed again. So on the spreading day
/// every row's sum is over that moment's trust, in row order from -0.0: the bits of
/// [`spread_trust`], whatever the shares.
#[derive(Debug, Clone, Default)]
pub(super) struct TrustSums {
    /// The network the sums are over (the world's, fixed in a run; another starts afresh).
    community: Arc<Csr>,
    seen: Vec<f64>,
    /// Each row's neighbour sum of `seen`, for the rows before `done`.
    sums: Vec<f64>,
    done: usize,
    /// The changes last copied into `seen` (kept for the allocation).
    changed: Vec<u32>,
}

impl TrustSums {
    /// The sums' buffer while it holds no sum (from a spreading to the next share), for another
    /// use of the day: the next share overwrites it.
    pub(super) fn spare(&mut self) -> Option<&mut Vec<f64>> {
        (self.done == 0 && !self.sums.is_empty()).then_some(&mut self.sums)
    }
}

/// A day's share of [`TrustSums`], out of the world beside the service.
pub(super) struct TrustSumsDay {
    sums: TrustSums,
    /// Rows to sum today: the rows left over the days left to the spreading, today counted.
    rows: usize,
}

impl TrustSumsDay {
    /// Takes the sums out of a split world that spreads trust, with the trust's changes since the
    /// last share copied into `seen` (all of it afresh when there is no note); None, and no note
    /// kept, otherwise.
    pub(super) fn take(world: &mut World) -> Option<Self> {
        let p = &world.scenario.citizens;
        let (interval, n) = (p.trust_spread_interval_days, world.citizens.len());
        if !world.split || p.trust_spread <= 0.0 || n == 0 {
            world.citizens.trust.stop_noting();
            return None;
        }
        let mut sums = std::mem::take(&mut world.scratch.trust_sums);
        let trust = &mut world.citizens.trust;
        match trust.changes_since(std::mem::take(&mut sums.changed)) {
            Some(changed) if sums.seen.len() == n && sums.sums.len() == n && Arc::ptr_eq(&sums.community, &world.community) => {
                for &j in &changed {
                    sums.seen[j as usize] = trust[j as usize];
                }
                sums.changed = changed;
            }
            other => {
                sums.community = Arc::clone(&world.community);
                sums.seen.clear();
                sums.seen.extend_from_slice(trust);
                sums.sums.clear();
                sums.sums.resize(n, 0.0);
                sums.done = 0;
                sums.changed = other.unwrap_or_default();
                sums.changed.clear();
            }
        }
        let days_left = (interval - world.day % interval) % interval + 1;
        let rows = if days_left > SUM_DAYS { 0 } else { (n - sums.done).div_ceil(days_left as usize) };
        Some(TrustSumsDay { sums, rows })
    }

    /// The day's share: the rows already summed beside a changed citizen again, then the next rows
    /// in blocks on the thread pool (the service's thread takes blocks once it is done).
    #[inline(never)] // a phase: one call a day, kept apart so a profile shows it by name
    pub(super) fn run(&mut self) {
        use rayon::prelude::*;
        let s = &mut self.sums;
        let g = &*s.community;
        resum_beside(&s.changed, &s.seen, &mut s.sums[..s.done], g);
        let (done, rows, seen) = (s.done, super::SPLIT_ROWS, &s.seen);
        s.sums[done..done + self.rows].par_chunks_mut(rows).enumerate().for_each(|(k, block)| {
            neighbour_sums(seen, block, done + k * rows, g);
        });
        s.done += self.rows;
    }
}

/// [`spread_trust`] with prefetching over blocks of `rows_per_task` rows on the thread pool: each
/// row depends only on `old`, so the same bits however the rows are split or run.
fn spread_trust_split(old: &[f64], trust: &mut [f64], offsets: &[u32], targets: &[u32], spread: f64, rows_per_task: usize) {
    use rayon::prelude::*;
    trust.par_chunks_mut(rows_per_task.max(1)).enumerate().for_each(|(k, block)| {
        let first = k * rows_per_task.max(1);
        spread_trust::<true>(old, block, first, offsets.get(first..).unwrap_or(&[]), targets, spread);
    });
}

/// The community network packed for trust spreading below [`SPREAD_PREFETCH_FROM`] citizens:
/// the rows that have neighbours, grouped by degree (ascending ids within a degree), each as its
/// id followed by its neighbours. Built once (the network does not change in a run).
#[derive(Debug, Clone, Default)]
pub(super) struct RowsByDegree {
    /// The network it was built from, once set by its user (another is packed afresh).
    built_for: Option<Arc<Csr>>,
    /// Each degree with its number of rows, in rising degree.
    groups: Vec<(u32, u32)>,
    /// Row after row, in the groups' order: the row's id, then its neighbours.
    packed: Vec<u32>,
}

impl RowsByDegree {
    /// Packs the rows of the graph `(offsets, targets)` by a counting sort on degree.
    fn new(offsets: &[u32], targets: &[u32]) -> Self {
        let degree = |i: usize| (offsets[i + 1] - offsets[i]) as usize;
        let rows = offsets.len().saturating_sub(1);
        let mut count = vec![0u32; (0..rows).map(degree).max().unwrap_or(0) + 1];
        for i in 0..rows {
            count[degree(i)] += 1;
        }
        let groups: Vec<(u32, u32)> = count.iter().enumerate().skip(1).filter(|(_, c)| **c > 0).map(|(d, c)| (d as u32, *c)).collect();
        // Where each degree's first row goes in `packed`.
        let mut at = vec![0usize; count.len()];
        let mut next = 0;
        for &(d, c) in &groups {
            at[d as usize] = next;
            next += c as usize * (d as usize + 1);
        }
        let mut packed = vec![0u32; next];
        for i in 0..rows {
            let d = degree(i);
            if d > 0 {
                packed[at[d]] = i as u32;
                packed[at[d] + 1..at[d] + 1 + d].copy_from_slice(&targets[offsets[i] as usize..offsets[i + 1] as usize]);
                at[d] += d + 1;
            }
        }
        RowsByDegree { built_for: None, groups, packed }
    }

    /// Each row with its neighbours, in the packed order.
    #[cfg(test)]
    fn rows(&self) -> impl Iterator<Item = (u32, &[u32])> {
        let mut at = 0;
        self.groups.iter().flat_map(|&(d, c)| std::iter::repeat_n(d as usize, c as usize)).map(move |d| {
            let row = (self.packed[at], &self.packed[at + 1..at + 1 + d]);
            at += d + 1;
            row
        })
    }
}

/// [`spread_trust`] over the rows packed by degree ([`RowsByDegree`]) instead of in id order: each
/// row's new trust depends only on `old`, and each sum runs over the row's neighbours in order,
/// so the same bits. The neighbour loop runs the same number of times row after row, and its end
/// is predicted, where in id order the degree (3 to 11 in the default network) changes from row
/// to row; the rows and their neighbours are read in one sequential pass.
fn spread_trust_by_degree(old: &[f64], trust: &mut [f64], rows: &RowsByDegree, spread: f64) {
    let mut at = 0;
    for &(d, count) in &rows.groups {
        let d = d as usize;
        let group = &rows.packed[at..at + count as usize * (d + 1)];
        // The common degrees with a constant length, so the neighbour loop is unrolled.
        macro_rules! unrolled {
            ($($k:literal)*) => {
                match d {
                    $($k => spread_rows(old, trust, group, $k, spread),)*
                    _ => spread_rows(old, trust, group, d, spread),
                }
            };
        }
        unrolled!(1 2 3 4 5 6 7 8 9 10 11 12);
        at += count as usize * (d + 1);
    }
}

/// The rows of one degree `d` ([`spread_trust_by_degree`]): each row's id, then its `d`
/// neighbours. Inlined where `d` is a constant, whose loop the compiler unrolls.
#[inline(always)]
fn spread_rows(old: &[f64], trust: &mut [f64], group: &[u32], d: usize, spread: f64) {
    for row in group.chunks_exact(d + 1) {
        let i = row[0] as usize;
        let mut sum = -0.0;
        for &j in &row[1..=d] {
            sum += old[j as usize];
        }
        trust[i] += spread * (sum / d as f64 - old[i]);
    }
}

/// The day's opinion exchanges over the community network (bounded confidence, Deffuant et al.
/// 2000; MODEL.md §5.5) with what they alone touch, taken out of the world for the day: the
/// opinions, the social stream and the network (fixed in a run). Nothing else in the day up to the
/// assembly reads or changes them, so `World::step` may run them beside the service phases: the
/// same draws in the same order, the same opinions.
pub(super) struct OpinionExchange {
    opinion: Vec<f64>,
    social: Stream,
    pairs: Vec<(u32, u32)>,
    community: Arc<Csr>,
    /// Meetings a citizen a day, the confidence bound and the convergence (`CitizenParams`).
    interactions_per_day: f64,
    confidence_bound: f64,
    convergence: f64,
    /// Whether the day's accounts record polarisation afresh (weekly, or none yet), and its value
    /// after the day's meetings, taken here (beside the service on a split world).
    polarisation_due: bool,
    polarisation: Option<f64>,
}

impl OpinionExchange {
    /// Takes the opinions, the social stream and the meeting buffer out of `world`.
    pub(super) fn take(world: &mut World) -> Self {
        OpinionExchange {
            opinion: std::mem::take(&mut world.citizens.opinion),
            social: world.streams.social.clone(),
            pairs: std::mem::take(&mut world.scratch.pairs),
            community: Arc::clone(&world.community),
            interactions_per_day: world.scenario.citizens.interactions_per_day,
            confidence_bound: world.scenario.citizens.confidence_bound,
            convergence: world.scenario.citizens.convergence,
            polarisation_due: world.polarisation_due(),
            polarisation: None,
        }
    }

    /// Puts them back, with the polarisation taken, if it was due.
    pub(super) fn put_back(self, world: &mut World) {
        world.citizens.opinion = self.opinion;
        world.streams.social = self.social;
        world.scratch.pairs = self.pairs;
        world.accounts.polarisation_after_meetings = self.polarisation;
    }

    /// One day of meetings.
    #[inline(never)] // a phase: one call a day, kept apart so a profile shows it by name
    pub(super) fn run(&mut self) {
        let n = self.opinion.len();
        if n == 0 {
            return;
        }
        let expected = self.interactions_per_day * n as f64;
        let count = expected.floor() as usize + usize::from(self.social.random::<f64>() < expected.fract());
        // First draw who meets whom (the draws do not depend on opinions), then let them talk in
        // the same order: the second loop's reads do not wait on each other.
        let pairs = &mut self.pairs;
        pairs.clear();
        let offsets = &self.community.offsets;
        // A copy of the stream guesses the coming meetings' citizens and asks for their rows.
        let ask = |i: usize| super::prefetch(offsets.get(i));
        let mut ahead = StreamAhead::<MEET_PREFETCH_AHEAD>::new(&self.social, count, n, ask);
        for k in 0..count {
            let i = self.social.random_range(0..n);
            let (start, end) = (offsets[i], offsets[i + 1]);
            if start != end {
                let r = self.social.random_range(0..(end - start) as usize);
                pairs.push((i as u32, start + r as u32));
            }
            ahead.done(k, i, start != end, &self.social, n, ask);
        }
        let opinion = &mut self.opinion;
        let targets = &self.community.targets;
        for (k, &(i, link)) in pairs.iter().enumerate() {
            // Ask for a meeting's link and first opinion early, and, once its link is in, the other.
            if let Some(&(a, l)) = pairs.get(k + MEET_PREFETCH_AHEAD) {
                super::prefetch(targets.get(l as usize));
                super::prefetch(opinion.get(a as usize));
            }
            if let Some(&(_, l)) = pairs.get(k + MEET_PREFETCH_AHEAD / 2) {
                super::prefetch(targets.get(l as usize).and_then(|&j| opinion.get(j as usize)));
            }
            let (i, j) = (i as usize, self.community.targets[link as usize] as usize);
            let (a, b) = deffuant(opinion[i], opinion[j], self.confidence_bound, self.convergence);
            opinion[i] = a;
            opinion[j] = b;
        }
        if self.polarisation_due {
            self.polarisation = Some(polarisation(self.opinion.iter().copied()));
        }
    }
}

/// How many meetings ahead the opinion exchanges ask for the drawn citizen's network row, and the
/// talks for a meeting's link and first opinion (the other opinion half as far ahead).
const MEET_PREFETCH_AHEAD: usize = 16;

/// What only the assemblies change: the record of the last one.
#[derive(Debug, Clone, Default)]
pub struct Assemblies {
    /// The last citizens' assembly, if any.
    pub last: Option<AssemblyRecord>,
}

/// What the last assembly did, for observation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssemblyRecord {
    pub day: u32,
    pub members: Vec<u32>,
    pub polarisation_before: f64,
    pub polarisation_after: f64,
}

impl World {
    /// Trust after an encounter's outcome.
    pub(super) fn encounter(&mut self, citizen: usize, good: bool) {
        let t = self.citizens.trust[citizen];
        self.citizens.trust.set(citizen, trust_after(t, good, &self.scenario.citizens));
    }

    /// Weekly trust spreading over the community network (the day's opinion exchanges are
    /// [`OpinionExchange`]).
    #[inline(never)] // a phase: one call a day, kept apart so a profile shows it by name
    pub(super) fn spread_trust_day(&mut self, ahead: Option<TrustSumsDay>) {
        let (interval, spread) = (self.scenario.citizens.trust_spread_interval_days, self.scenario.citizens.trust_spread);
        let n = self.citizens.len();
        if n == 0 {
            return;
        }
        let today = self.day.is_multiple_of(interval) && spread > 0.0;
        if let Some(ahead) = ahead {
            self.scratch.trust_sums = ahead.sums;
            if today {
                self.spread_trust_from_sums(spread);
            }
            return;
        }
        if today {
            // Synchronous update from yesterday's values, so order does not matter.
            let old = &mut self.scratch.values;
            old.clear();
            old.extend_from_slice(&self.citizens.trust);
            let old = &old[..n];
            let community = &self.community;
            let (offsets, targets) = (&community.offsets, &community.targets);
            let rows = &mut self.scratch.rows_by_degree;
            let split = self.split;
            self.citizens.trust.update_all(|trust| {
                if split {
                    spread_trust_split(old, trust, offsets, targets, spread, super::SPLIT_ROWS);
                } else if n >= SPREAD_PREFETCH_FROM {
                    spread_trust::<true>(old, trust, 0, offsets, targets, spread);
                } else {
                    // Built on the first step (the community network does not change in a run).
                    if !rows.built_for.as_ref().is_some_and(|g| Arc::ptr_eq(g, community)) {
                        *rows = RowsByDegree { built_for: Some(Arc::clone(community)), ..RowsByDegree::new(offsets, targets) };
                    }
                    spread_trust_by_degree(old, trust, rows, spread);
                }
            });
        }
    }

    /// Trust spreading from the sums taken beside the service ([`TrustSums`]): the service's
    /// changes into `seen` and the rows beside them summed again, then each row's new trust (and
    /// `seen`) in blocks on the thread pool; a new note of changes starts.
    fn spread_trust_from_sums(&mut self, spread: f64) {
        use rayon::prelude::*;
        let n = self.citizens.len();
        let s = &mut self.scratch.trust_sums;
        let community = Arc::clone(&s.community);
        let g = &*community;
        match self.citizens.trust.changes_since(std::mem::take(&mut s.changed)) {
            Some(changed) => {
                for &j in &changed {
                    s.seen[j as usize] = self.citizens.trust[j as usize];
                }
                resum_beside(&changed, &s.seen, &mut s.sums[..s.done], g);
                s.changed = changed;
            }
            None => {
                // Every value may have changed since the note began: every row afresh.
                s.seen.copy_from_slice(&self.citizens.trust);
                s.done = 0;
            }
        }
        // Rows not yet summed (none when the day's share ran to the end).
        let done = s.done;
        neighbour_sums(&s.seen, &mut s.sums[done..n], done, g);
        let (seen, sums) = (&mut s.seen, &s.sums);
        let rows = super::SPLIT_ROWS;
        self.citizens.trust.update_all(|trust| {
            trust
                .par_chunks_mut(rows)
                .zip(seen.par_chunks_mut(rows))
                .zip(sums.par_chunks(rows))
                .enumerate()
                .for_each(|(k, ((trust, seen), sums))| spread_from_sums(trust, seen, sums, &g.offsets[k * rows..], spread));
        });
        s.done = 0;
        // `update_all` ended the note; `seen` is the trust now.
        let ended = self.citizens.trust.changes_since(std::mem::take(&mut s.changed));
        s.changed = ended.unwrap_or_default();
    }

    /// Holds an assembly when one is due (MODEL.md §5.5).
    #[inline(never)] // a phase: one call a day, kept apart so a profile shows it by name
    pub(super) fn assembly_day(&mut self) {
        let g = &self.governance;
        if g.assembly_interval_days == 0 || self.day == 0 || !self.day.is_multiple_of(g.assembly_interval_days) {
            return;
        }
        let members = self.select_assembly(g.assembly_size, g.assembly_selection);
        self.hold_assembly(members);
    }

    /// Chooses members: stratified random (each neighbourhood in proportion, without repeats) or
    /// self-selected (the most convinced of the larger camp).
    pub fn select_assembly(&mut self, size: usize, selection: AssemblySelection) -> Vec<u32> {
        let n = self.citizens.len();
        let size = size.min(n);
        match selection {
            AssemblySelection::Random => {
                let mut members = Vec::with_capacity(size);
                let sizes = self.neighbourhood_sizes.clone();
                let mut start = 0usize;
                let mut placed = 0usize;
                for (k, &nk) in sizes.iter().enumerate() {
                    let upto = if k + 1 == sizes.len() { size } else { size * (start + nk) / n };
                    let quota = upto.saturating_sub(placed).min(nk);
                    // Floyd's algorithm: `quota` distinct citizens of this neighbourhood.
                    let mut chosen: Vec<u32> = Vec::with_capacity(quota);
                    for j in nk - quota..nk {
                        let t = self.streams.social.random_range(0..=j) as u32;
                        let pick = if chosen.contains(&t) { j as u32 } else { t };
                        chosen.push(pick);
                    }
                    chosen.sort_unstable();
                    members.extend(chosen.iter().map(|&c| c + start as u32));
                    placed += quota;
                    start += nk;
                }
                members
            }
            AssemblySelection::SelfSelected => {
                let positive = self.citizens.opinion.iter().filter(|&&o| o > 0.0).count();
                let sign = if positive * 2 >= n { 1.0 } else { -1.0 };
                let mut idx: Vec<u32> = (0..n as u32).filter(|&i| self.citizens.opinion[i as usize] * sign > 0.0).collect();
                idx.sort_by(|&a, &b| {
                    let (oa, ob) = (self.citizens.opinion[a as usize] * sign, self.citizens.opinion[b as usize] * sign);
                    ob.total_cmp(&oa).then(a.cmp(&b))
                });
                idx.truncate(size);
                idx.sort_unstable();
                idx
            }
        }
    }

    /// Deliberation, voice, and the recommendation (MODEL.md §5.5).
    pub fn hold_assembly(&mut self, members: Vec<u32>) {
        let p = self.scenario.citizens.clone();
        let before = polarisation(members.iter().map(|&i| self.citizens.opinion[i as usize]));
        let mean: f64 = members.iter().map(|&i| self.citizens.opinion[i as usize]).sum::<f64>() / members.len().max(1) as f64;
        // Like-minded when every member shares the camp of the mean.
        let like_minded = members.iter().all(|&i| self.citizens.opinion[i as usize] * mean > 0.0);
        let m = members.len();
        for _ in 0..p.deliberation_rounds {
            if m < 2 {
                break;
            }
            for k in 0..m {
                let a = members[k] as usize;
                let b = members[self.streams.social.random_range(0..m)] as usize;
                if a == b {
                    continue;
                }
                if like_minded {
                    // Group polarisation: arguments heard are one-sided; the group moves outward.
                    let s = mean.signum() * p.like_minded_shift;
                    self.citizens.opinion[a] = (self.citizens.opinion[a] + s).clamp(-1.0, 1.0);
                } else {
                    let bound = p.confidence_bound * p.deliberation_widening;
                    let (x, y) = deffuant(self.citizens.opinion[a], self.citizens.opinion[b], bound, p.convergence);
                    self.citizens.opinion[a] = x;
                    self.citizens.opinion[b] = y;
                }
            }
        }
        for &i in &members {
            let t = self.citizens.trust[i as usize];
            self.citizens.trust.set(i as usize, t + p.voice_trust * (1.0 - t));
        }
        let after = polarisation(members.iter().map(|&i| self.citizens.opinion[i as usize]));
        // The recommendation is what the members think after deliberating: their mean opinion on
        // the contested question (+1: order the service by need; -1: by targets and rules). The
        // service follows it, moving target pressure toward 0 (or 1) by `assembly_priority_shift`
        // times its strength; citizens notice only through what happens to their own cases.
        let recommendation = members.iter().map(|&i| self.citizens.opinion[i as usize]).sum::<f64>() / members.len().max(1) as f64;
        let tp = assembly_target_pressure(self.governance.target_pressure, recommendation, p.assembly_priority_shift);
        self.governance.target_pressure = tp;
        self.policy.target_pressure = tp;
        self.assemblies.last = Some(AssemblyRecord { day: self.day, members, polarisation_before: before, polarisation_after: after });
    }

    /// Mean wellbeing per neighbourhood now.
    pub fn neighbourhood_wellbeing(&self) -> Vec<f64> {
        let mut means = vec![0.0; self.neighbourhood_sizes.len()];
        self.for_each_neighbourhood_wellbeing(|k, mean| means[k] = mean);
        means
    }

    /// Calls `f(neighbourhood, mean wellbeing)` for each neighbourhood, in order, without
    /// allocating. Citizens are numbered neighbourhood by neighbourhood, so each neighbourhood is
    /// one block of the wellbeing array ([`for_each_block_mean`]).
    pub(super) fn for_each_neighbourhood_wellbeing(&self, f: impl FnMut(usize, f64)) {
        debug_assert!({
            let mut start = 0;
            self.neighbourhood_sizes.iter().enumerate().all(|(k, &size)| {
                start += size;
                self.citizens.neighbourhood[start - size..start].iter().all(|&h| h as usize == k)
            })
        });
        for_each_block_mean(&self.citizens.wellbeing, &self.neighbourhood_sizes, f);
    }
}

/// Calls `f(k, mean)` for each block `k` of `values` in order (block `k` has `sizes[k]` values,
/// one after another; NaN for an empty block), each sum in the block's order from 0.0. Four blocks
/// at a time in lock-step: four chains of additions instead of one, the same sums, sooner.
pub(super) fn for_each_block_mean(values: &[f64], sizes: &[usize], mut f: impl FnMut(usize, f64)) {
    const LANES: usize = 4;
    let mut start = 0usize;
    for (g, sizes) in sizes.chunks(LANES).enumerate() {
        let mut blocks: [&[f64]; LANES] = [&[]; LANES];
        for (block, &size) in blocks.iter_mut().zip(sizes) {
            *block = &values[start..start + size];
            start += size;
        }
        // The first `common` values of four blocks in lock-step, the rest of each on its own.
        let common = if sizes.len() == LANES { blocks.iter().map(|b| b.len()).min().unwrap_or(0) } else { 0 };
        let mut sums = [0.0f64; LANES];
        let [b0, b1, b2, b3] = blocks.map(|b| &b[..common.min(b.len())]);
        for (((x0, x1), x2), x3) in b0.iter().zip(b1).zip(b2).zip(b3) {
            sums[0] += x0;
            sums[1] += x1;
            sums[2] += x2;
            sums[3] += x3;
        }
        for (j, ((sum, block), &size)) in sums.iter_mut().zip(&blocks).zip(sizes).enumerate() {
            *sum = block[common..].iter().fold(*sum, |s, &w| s + w);
            f(g * LANES + j, if size > 0 { *sum / size as f64 } else { f64::NAN });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_means_are_each_blocks_sum_in_order() {
        use rand::RngExt;
        let mut rng = crate::rng::from_u64(7);
        for case in 0..200 {
            let blocks = rng.random_range(0..11);
            let sizes: Vec<usize> = (0..blocks).map(|_| if rng.random::<f64>() < 0.2 { 0 } else { rng.random_range(1..60) }).collect();
            let n: usize = sizes.iter().sum();
            // Values of mixed magnitude, so the order of the additions shows in the bits.
            let values: Vec<f64> = (0..n).map(|_| rng.random::<f64>() * 10f64.powi(rng.random_range(-8..8))).collect();
            let mut seen = Vec::new();
            for_each_block_mean(&values, &sizes, |k, mean| seen.push((k, mean)));
            let mut start = 0;
            assert_eq!(seen.len(), sizes.len(), "case {case}");
            for (k, &size) in sizes.iter().enumerate() {
                let sum = values[start..start + size].iter().fold(0.0, |s, &w| s + w);
                let mean = if size > 0 { sum / size as f64 } else { f64::NAN };
                assert_eq!(seen[k].0, k, "case {case}");
                assert_eq!(seen[k].1.to_bits(), mean.to_bits(), "case {case} block {k} of {sizes:?}");
                start += size;
            }
        }
    }

    #[test]
    fn trust_falls_faster_than_it_rises() {
        let p = CitizenParams::default();
        let up = trust_after(0.5, true, &p) - 0.5;
        let down = 0.5 - trust_after(0.5, false, &p);
        assert!((down / up - p.trust_asymmetry).abs() < 1e-12);
        // Equal numbers of good and bad encounters, in either order, lower trust.
        let mut t = 0.6;
        for k in 0..100 {
            t = trust_after(t, k % 2 == 0, &p);
        }
        assert!(t < 0.6, "{t}");
    }

    #[test]
    fn bounded_confidence_only_within_the_bound() {
        assert_eq!(deffuant(-0.5, 0.5, 0.4, 0.3), (-0.5, 0.5));
        let (a, b) = deffuant(0.0, 0.2, 0.4, 0.5);
        assert!((a - 0.1).abs() < 1e-12 && (b - 0.1).abs() < 1e-12);
    }

    #[test]
    fn an_assembly_moves_priorities_the_way_its_members_recommend() {
        assert!((assembly_target_pressure(0.8, 0.5, 0.5) - 0.6).abs() < 1e-12);
        assert!((assembly_target_pressure(0.8, -0.5, 0.5) - 0.85).abs() < 1e-12);
        assert_eq!(assembly_target_pressure(0.8, 0.0, 0.5), 0.8);
        assert_eq!(assembly_target_pressure(0.8, 1.0, 0.0), 0.8);
    }

    #[test]
    fn trust_spreads_to_the_same_bits_asking_ahead_or_by_degree() {
        // Issue 23: the prefetching path (taken from SPREAD_PREFETCH_FROM citizens) and the rows
        // grouped by degree (below) must give the plain path's bits, and all the mean of each
        // citizen's neighbours.
        let spec = crate::network::CommunitySpec { neighbourhood_sizes: vec![700; 12], ..Default::default() };
        let g = crate::network::community(&spec, 7);
        let n = g.node_count();
        let old: Vec<f64> = (0..n).map(|i| (i as f64 * 0.618_033_988_7).fract()).collect();
        let (mut plain, mut ahead) = (old.clone(), old.clone());
        spread_trust::<false>(&old, &mut plain, 0, &g.offsets, &g.targets, 0.1);
        spread_trust::<true>(&old, &mut ahead, 0, &g.offsets, &g.targets, 0.1);
        assert!(plain.iter().zip(&ahead).all(|(a, b)| a.to_bits() == b.to_bits()));
        // Split into blocks of rows (sizes that do and do not divide the rows), on one thread and
        // on two: the same bits.
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            for rows_per_task in [1, 333, 4096, n, n + 5] {
                let mut split = old.clone();
                pool.install(|| spread_trust_split(&old, &mut split, &g.offsets, &g.targets, 0.1, rows_per_task));
                assert!(plain.iter().zip(&split).all(|(a, b)| a.to_bits() == b.to_bits()), "{threads} threads, {rows_per_task} rows");
            }
        }
        // Rows grouped by degree: every row with neighbours once, degrees not falling, ids rising
        // within a degree; spreading in that order gives the same bits.
        let packed = RowsByDegree::new(&g.offsets, &g.targets);
        let rows: Vec<(u32, &[u32])> = packed.rows().collect();
        let key = |&(i, nb): &(u32, &[u32])| (nb.len(), i);
        assert!(rows.windows(2).all(|w| key(&w[0]) < key(&w[1])));
        assert!(rows.iter().all(|&(i, nb)| nb == g.neighbours(i as usize)));
        assert_eq!(rows.len(), (0..n).filter(|&i| g.degree(i) > 0).count());
        assert!(packed.groups.len() >= 3, "the test network has several degrees: {:?}", packed.groups);
        let mut grouped = old.clone();
        spread_trust_by_degree(&old, &mut grouped, &packed, 0.1);
        assert!(plain.iter().zip(&grouped).all(|(a, b)| a.to_bits() == b.to_bits()));
        // A degree past the unrolled ones (13) beside unrolled ones (2): the same bits too.
        let (offsets, targets): (Vec<u32>, Vec<u32>) = {
            let mut rows: Vec<Vec<u32>> = (0..20u32).map(|i| vec![(i + 1) % 20, (i + 7) % 20]).collect();
            rows[3] = (4..17).collect();
            let offsets = std::iter::once(0)
                .chain(rows.iter().scan(0, |at, r| {
                    *at += r.len() as u32;
                    Some(*at)
                }))
                .collect();
            (offsets, rows.concat())
        };
        let old20 = &old[..20];
        let (mut plain20, mut grouped20) = (old20.to_vec(), old20.to_vec());
        spread_trust::<false>(old20, &mut plain20, 0, &offsets, &targets, 0.1);
        let packed20 = RowsByDegree::new(&offsets, &targets);
        assert_eq!(packed20.groups, vec![(2, 19), (13, 1)]);
        spread_trust_by_degree(old20, &mut grouped20, &packed20, 0.1);
        assert!(plain20.iter().zip(&grouped20).all(|(a, b)| a.to_bits() == b.to_bits()));
        assert_ne!(plain20[3].to_bits(), old20[3].to_bits());
        for i in [0, 1, n / 2, n - 1] {
            let nb = g.neighbours(i);
            let mean = nb.iter().map(|&j| old[j as usize]).sum::<f64>() / nb.len() as f64;
            assert_eq!(plain[i].to_bits(), (old[i] + 0.1 * (mean - old[i])).to_bits(), "citizen {i}");
        }
    }

    #[test]
    fn polarisation_is_the_variance() {
        assert_eq!(polarisation([0.3, 0.3, 0.3].into_iter()), 0.0);
        assert!((polarisation([-1.0, 1.0].into_iter()) - 1.0).abs() < 1e-12);
    }
}
