//! Designs of experiments on the unit hypercube `[0, 1]^k`.
//!
//! Every design here returns points in the unit cube, one `Vec<f64>` of length `k` per point; the
//! sweep maps each coordinate onto its parameter's range (linear or log), so the designs know
//! nothing about parameters, units or scenarios. What lives here:
//!
//! - [`grid`]: full factorial with equally spaced levels;
//! - [`random`]: independent uniform points;
//! - [`latin_hypercube`]: one point per stratum per dimension (McKay, Beckman & Conover 1979);
//! - [`sobol`]: a Sobol low-discrepancy sequence with Joe & Kuo (2008) direction numbers,
//!   randomised by a digital shift; [`sobol_unscrambled`] gives the raw sequence for checks;
//! - [`morris`]: one-at-a-time trajectories for elementary effects (Morris 1991);
//! - [`saltelli`]: the A / AB_i / B layout for Sobol indices (Saltelli et al. 2010).
//!
//! All randomness comes from [`crate::rng::keyed_stream`] with a fixed name per design, so a
//! design is a pure function of its arguments and the seed (no thread or time dependence).
//! Invalid sizes (no points, no dimensions, too many Sobol dimensions, odd Morris levels) are
//! reported as [`DesignError`], never as a panic.

use rand::RngExt;

use crate::rng::keyed_stream;

/// Why a design could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DesignError {
    /// `n == 0`.
    #[error("a design needs at least one point, but 0 points were requested")]
    NoPoints,
    /// `k == 0`.
    #[error("a design needs at least one dimension (parameter), but 0 were requested")]
    NoDimensions,
    /// A grid dimension with zero levels.
    #[error("grid dimension {dimension} has 0 levels; every dimension needs at least 1 level")]
    ZeroLevels { dimension: usize },
    /// The full factorial would have more points than fit in memory (`usize` overflow).
    #[error("the grid {levels:?} has more points than can be enumerated")]
    GridTooLarge { levels: Vec<usize> },
    /// More Sobol dimensions than the embedded Joe & Kuo table provides.
    #[error(
        "the Sobol generator supports at most {max} dimensions (rows of the embedded Joe & Kuo \
         table), but {requested} were requested"
    )]
    TooManySobolDimensions { requested: usize, max: usize },
    /// More Sobol points than the 32-bit generator can index.
    #[error("the Sobol generator supports at most {max} points, but {requested} were requested")]
    TooManySobolPoints { requested: usize, max: u64 },
    /// Saltelli sampling of `k` parameters needs `2k` Sobol dimensions.
    #[error(
        "Saltelli sampling of {parameters} parameters needs {needed} Sobol dimensions, but at \
         most {max_dimensions} are supported (so at most {max_parameters} parameters)"
    )]
    TooManySaltelliParameters { parameters: usize, needed: usize, max_dimensions: usize, max_parameters: usize },
    /// Morris needs an even number of levels, at least 2.
    #[error("the Morris design needs an even number of levels >= 2, but {levels} were requested")]
    MorrisLevels { levels: usize },
    /// Morris with no trajectories.
    #[error("the Morris design needs at least one trajectory, but 0 were requested")]
    NoTrajectories,
}

fn check_nk(n: usize, k: usize) -> Result<(), DesignError> {
    if n == 0 {
        return Err(DesignError::NoPoints);
    }
    if k == 0 {
        return Err(DesignError::NoDimensions);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Grid, random, Latin hypercube
// ---------------------------------------------------------------------------------------------

/// Number of points of the full factorial `levels` (product of the levels), if it fits.
pub fn grid_size(levels: &[usize]) -> Option<usize> {
    levels.iter().try_fold(1usize, |acc, &l| acc.checked_mul(l))
}

/// Full factorial design: dimension `d` takes `levels[d]` equally spaced values in `[0, 1]`
/// (`0, 1/(L-1), ..., 1`; a single level sits at the centre, 0.5). Points are listed with the
/// last dimension varying fastest (row-major order, like nested loops over the dimensions).
pub fn grid(levels: &[usize]) -> Result<Vec<Vec<f64>>, DesignError> {
    if levels.is_empty() {
        return Err(DesignError::NoDimensions);
    }
    if let Some(dimension) = levels.iter().position(|&l| l == 0) {
        return Err(DesignError::ZeroLevels { dimension });
    }
    let total = grid_size(levels).ok_or_else(|| DesignError::GridTooLarge { levels: levels.to_vec() })?;
    let value = |level: usize, count: usize| {
        if count == 1 { 0.5 } else { level as f64 / (count - 1) as f64 }
    };
    let k = levels.len();
    let mut points = Vec::with_capacity(total);
    let mut index = vec![0usize; k];
    for _ in 0..total {
        points.push(index.iter().zip(levels).map(|(&i, &l)| value(i, l)).collect());
        // Odometer increment, last dimension fastest.
        for d in (0..k).rev() {
            index[d] += 1;
            if index[d] < levels[d] {
                break;
            }
            index[d] = 0;
        }
    }
    Ok(points)
}

/// `n` independent uniform points in `[0, 1)^k`. Row `i` is drawn from its own stream
/// (`"design.random"`, key `i`), so `random(n, ..)` is a prefix of `random(n + 1, ..)`.
pub fn random(n: usize, k: usize, seed: u64) -> Result<Vec<Vec<f64>>, DesignError> {
    check_nk(n, k)?;
    Ok((0..n)
        .map(|i| {
            let mut rng = keyed_stream(seed, "design.random", &[i as u64]);
            (0..k).map(|_| rng.random::<f64>()).collect()
        })
        .collect())
}

/// Latin hypercube sample (McKay, Beckman & Conover 1979, Technometrics 21:239): each dimension
/// is cut into `n` equal strata and every stratum holds exactly one point; the strata are matched
/// across dimensions by independent random permutations, and each point is jittered uniformly
/// within its stratum. Dimension `d` draws from stream `"design.lhs"`, key `d`.
pub fn latin_hypercube(n: usize, k: usize, seed: u64) -> Result<Vec<Vec<f64>>, DesignError> {
    check_nk(n, k)?;
    let columns: Vec<Vec<f64>> = (0..k)
        .map(|d| {
            let mut rng = keyed_stream(seed, "design.lhs", &[d as u64]);
            let strata = permutation(n, &mut rng);
            strata.into_iter().map(|stratum| (stratum as f64 + rng.random::<f64>()) / n as f64).collect()
        })
        .collect();
    Ok((0..n).map(|i| columns.iter().map(|c| c[i]).collect()).collect())
}

/// A uniformly random permutation of `0..n` (Fisher-Yates), written out so that it depends only
/// on the stream, not on a library's shuffle implementation.
fn permutation(n: usize, rng: &mut crate::rng::Stream) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.random_range(0..=i);
        p.swap(i, j);
    }
    p
}

// ---------------------------------------------------------------------------------------------
// Sobol sequence
// ---------------------------------------------------------------------------------------------

/// One row of the Joe & Kuo direction-number file: degree `s` of the primitive polynomial, its
/// inner coefficients `a` (bit `s-1-j` is the coefficient of `x^(s-j)`, for `j = 1..s-1`), and the
/// initial direction numbers `m_1..m_s` (odd, `m_j < 2^j`).
struct JoeKuoRow {
    s: u32,
    a: u32,
    m: &'static [u32],
}

/// Rows `d = 2..=32` of `new-joe-kuo-6.21201`, the direction numbers of S. Joe and F. Y. Kuo,
/// "Constructing Sobol sequences with better two-dimensional projections", SIAM J. Sci. Comput.
/// 30 (2008) 2635-2654, file published at <https://web.maths.unsw.edu.au/~fkuo/sobol/> (the same
/// table SciPy's `qmc.Sobol` uses). Dimension 1 (the van der Corput sequence) has no row. Copied
/// verbatim: columns d, s, a, m_i. The tests check that every polynomial is primitive and every
/// m_j is odd and below 2^j.
#[rustfmt::skip]
const JOE_KUO: [JoeKuoRow; 31] = [
    JoeKuoRow { s: 1, a: 0, m: &[1] },                          // d = 2
    JoeKuoRow { s: 2, a: 1, m: &[1, 3] },                       // d = 3
    JoeKuoRow { s: 3, a: 1, m: &[1, 3, 1] },                    // d = 4
    JoeKuoRow { s: 3, a: 2, m: &[1, 1, 1] },                    // d = 5
    JoeKuoRow { s: 4, a: 1, m: &[1, 1, 3, 3] },                 // d = 6
    JoeKuoRow { s: 4, a: 4, m: &[1, 3, 5, 13] },                // d = 7
    JoeKuoRow { s: 5, a: 2, m: &[1, 1, 5, 5, 17] },             // d = 8
    JoeKuoRow { s: 5, a: 4, m: &[1, 1, 5, 5, 5] },              // d = 9
    JoeKuoRow { s: 5, a: 7, m: &[1, 1, 7, 11, 19] },            // d = 10
    JoeKuoRow { s: 5, a: 11, m: &[1, 1, 5, 1, 1] },             // d = 11
    JoeKuoRow { s: 5, a: 13, m: &[1, 1, 1, 3, 11] },            // d = 12
    JoeKuoRow { s: 5, a: 14, m: &[1, 3, 5, 5, 31] },            // d = 13
    JoeKuoRow { s: 6, a: 1, m: &[1, 3, 3, 9, 7, 49] },          // d = 14
    JoeKuoRow { s: 6, a: 13, m: &[1, 1, 1, 15, 21, 21] },       // d = 15
    JoeKuoRow { s: 6, a: 16, m: &[1, 3, 1, 13, 27, 49] },       // d = 16
    JoeKuoRow { s: 6, a: 19, m: &[1, 1, 1, 15, 7, 5] },         // d = 17
    JoeKuoRow { s: 6, a: 22, m: &[1, 3, 1, 15, 13, 25] },       // d = 18
    JoeKuoRow { s: 6, a: 25, m: &[1, 1, 5, 5, 19, 61] },        // d = 19
    JoeKuoRow { s: 7, a: 1, m: &[1, 3, 7, 11, 23, 15, 103] },   // d = 20
    JoeKuoRow { s: 7, a: 4, m: &[1, 3, 7, 13, 13, 15, 69] },    // d = 21
    JoeKuoRow { s: 7, a: 7, m: &[1, 1, 3, 13, 7, 35, 63] },     // d = 22
    JoeKuoRow { s: 7, a: 8, m: &[1, 3, 5, 9, 1, 25, 53] },      // d = 23
    JoeKuoRow { s: 7, a: 14, m: &[1, 3, 1, 13, 9, 35, 107] },   // d = 24
    JoeKuoRow { s: 7, a: 19, m: &[1, 3, 1, 5, 27, 61, 31] },    // d = 25
    JoeKuoRow { s: 7, a: 21, m: &[1, 1, 5, 11, 19, 41, 61] },   // d = 26
    JoeKuoRow { s: 7, a: 28, m: &[1, 3, 5, 3, 3, 13, 69] },     // d = 27
    JoeKuoRow { s: 7, a: 31, m: &[1, 1, 7, 13, 1, 19, 1] },     // d = 28
    JoeKuoRow { s: 7, a: 32, m: &[1, 3, 7, 5, 13, 19, 59] },    // d = 29
    JoeKuoRow { s: 7, a: 37, m: &[1, 1, 3, 9, 25, 29, 41] },    // d = 30
    JoeKuoRow { s: 7, a: 41, m: &[1, 3, 5, 13, 23, 1, 55] },    // d = 31
    JoeKuoRow { s: 7, a: 42, m: &[1, 3, 7, 3, 13, 59, 17] },    // d = 32
];

/// Bits of resolution of the Sobol generator (points are multiples of 2^-32).
const SOBOL_BITS: usize = 32;

/// Largest dimension the Sobol generator supports: dimension 1 plus the 31 embedded table rows.
pub const SOBOL_MAX_DIMENSIONS: usize = 1 + JOE_KUO.len();

/// Largest number of parameters [`saltelli`] supports (it needs `2k` Sobol dimensions).
pub const SALTELLI_MAX_PARAMETERS: usize = SOBOL_MAX_DIMENSIONS / 2;

/// Largest number of Sobol points (indices must fit in 32 bits).
pub const SOBOL_MAX_POINTS: u64 = 1 << SOBOL_BITS;

/// The 32 direction numbers `V_1..V_32` of dimension `dim` (0-based), as 32-bit integers:
/// `V_j = m_j * 2^(32-j)`, and for `j > s` the Bratley-Fox recurrence
/// `V_j = V_{j-s} ^ (V_{j-s} >> s) ^ XOR_{l=1..s-1} a_l V_{j-l}` (Joe & Kuo 2008, eq. 2).
fn direction_numbers(dim: usize) -> [u32; SOBOL_BITS] {
    let mut v = [0u32; SOBOL_BITS];
    if dim == 0 {
        for (j, vj) in v.iter_mut().enumerate() {
            *vj = 1u32 << (SOBOL_BITS - 1 - j);
        }
        return v;
    }
    let row = &JOE_KUO[dim - 1];
    let s = row.s as usize;
    for (j, (vj, &m)) in v.iter_mut().zip(row.m).enumerate() {
        *vj = m << (SOBOL_BITS - 1 - j);
    }
    for j in s..SOBOL_BITS {
        let mut x = v[j - s] ^ (v[j - s] >> s);
        for l in 1..s {
            if (row.a >> (s - 1 - l)) & 1 == 1 {
                x ^= v[j - l];
            }
        }
        v[j] = x;
    }
    v
}

/// The first `n` Sobol points as 32-bit integers, in natural (not Gray-code) order: point `i` is
/// the XOR of the direction numbers selected by the binary digits of `i`. In one dimension this
/// is exactly the van der Corput sequence; any block of `2^m` consecutive points starting at a
/// multiple of `2^m` is the same point set as the Gray-code order produces.
fn sobol_bits(n: usize, k: usize) -> Result<Vec<Vec<u32>>, DesignError> {
    check_nk(n, k)?;
    if k > SOBOL_MAX_DIMENSIONS {
        return Err(DesignError::TooManySobolDimensions { requested: k, max: SOBOL_MAX_DIMENSIONS });
    }
    if n as u64 > SOBOL_MAX_POINTS {
        return Err(DesignError::TooManySobolPoints { requested: n, max: SOBOL_MAX_POINTS });
    }
    let directions: Vec<[u32; SOBOL_BITS]> = (0..k).map(direction_numbers).collect();
    Ok((0..n)
        .map(|i| {
            let i = i as u64;
            directions
                .iter()
                .map(|v| {
                    let mut x = 0u32;
                    let mut bits = i;
                    let mut j = 0;
                    while bits != 0 {
                        if bits & 1 == 1 {
                            x ^= v[j];
                        }
                        bits >>= 1;
                        j += 1;
                    }
                    x
                })
                .collect()
        })
        .collect())
}

const TWO_POW_32: f64 = 4_294_967_296.0;

/// The first `n` points of the raw (unrandomised) `k`-dimensional Sobol sequence with Joe & Kuo
/// (2008) direction numbers, starting with point 0 (the origin) and in natural order, so the
/// first coordinate is the van der Corput sequence 0, 0.5, 0.25, 0.75, 0.125, ... Meant for
/// checks; experiments should use the randomised [`sobol`]. Supports `k <= 32`.
pub fn sobol_unscrambled(n: usize, k: usize) -> Result<Vec<Vec<f64>>, DesignError> {
    Ok(sobol_bits(n, k)?.into_iter().map(|row| row.into_iter().map(|x| x as f64 / TWO_POW_32).collect()).collect())
}

/// The first `n` points of a randomised `k`-dimensional Sobol sequence (Joe & Kuo 2008 direction
/// numbers, `k <= 32`).
///
/// Randomisation is a random digital shift: each dimension's 32-bit integer coordinates are
/// XOR-ed with one random 32-bit integer drawn from stream `"design.sobol.shift"` (Owen 1995,
/// "Randomly permuted (t,m,s)-nets and (t,s)-sequences"; L'Ecuyer & Lemieux 2002, "Recent advances
/// in randomized quasi-Monte Carlo methods"). A digital shift maps every elementary interval onto
/// another one, so the net properties survive (2^m points stay stratified), each point is
/// uniform on the cube, and the estimates become unbiased with a seed-to-seed spread. The point is
/// then placed at the centre of its 2^-32 cell, so no coordinate is ever exactly 0 or 1 and the
/// (all-zero) first point of the raw sequence needs no skipping (Owen 2020 advises against
/// skipping, which breaks the net property).
///
/// Use a power of two for `n` to keep the balance properties.
pub fn sobol(n: usize, k: usize, seed: u64) -> Result<Vec<Vec<f64>>, DesignError> {
    let bits = sobol_bits(n, k)?;
    let mut rng = keyed_stream(seed, "design.sobol.shift", &[]);
    let shift: Vec<u32> = (0..k).map(|_| rng.random::<u32>()).collect();
    Ok(bits.into_iter().map(|row| row.into_iter().zip(&shift).map(|(x, &s)| ((x ^ s) as f64 + 0.5) / TWO_POW_32).collect()).collect())
}

// ---------------------------------------------------------------------------------------------
// Morris
// ---------------------------------------------------------------------------------------------

/// A Morris one-at-a-time design (Morris 1991, Technometrics 33:161): `trajectories` random
/// trajectories of `k + 1` points each on a grid of `levels` values per dimension
/// (`0, 1/(levels-1), ..., 1`). Within a trajectory, each row differs from the previous one in
/// exactly one dimension (`changed`) by `+delta` or `-delta`, and every dimension changes once.
#[derive(Debug, Clone, PartialEq)]
pub struct MorrisDesign {
    /// Number of dimensions (parameters).
    pub k: usize,
    /// Number of trajectories `r`.
    pub trajectories: usize,
    /// Number of grid levels `p` per dimension (even).
    pub levels: usize,
    /// `trajectories * (k + 1)` rows, trajectory by trajectory.
    pub points: Vec<Vec<f64>>,
    /// Per row: the dimension that changed from the previous row of the same trajectory;
    /// `None` for a trajectory's first row.
    pub changed: Vec<Option<usize>>,
    /// Step size `p / (2 (p - 1))` in unit-cube coordinates.
    pub delta: f64,
}

impl MorrisDesign {
    /// Rows per trajectory (`k + 1`).
    pub fn rows_per_trajectory(&self) -> usize {
        self.k + 1
    }
}

/// Number of model runs a Morris design needs: `trajectories * (k + 1)`.
pub fn morris_runs(trajectories: usize, k: usize) -> usize {
    trajectories * (k + 1)
}

/// Builds `trajectories` random Morris trajectories in `k` dimensions on a `levels`-level grid
/// (Morris 1991, Technometrics 33:161; the step `delta = p / (2 (p - 1))` and even `p` as
/// recommended by Morris and by Campolongo, Cariboni & Saltelli 2007, Environ. Model. Softw.
/// 22:1509). Plain random trajectories; no optimisation of their spread.
///
/// Construction (equivalent to Morris's `B*` matrix with random base point, random signs and
/// random order): each coordinate starts at a level drawn uniformly from the `p` levels; a level
/// in the lower half moves up by `delta`, one in the upper half moves down, so every step stays
/// in `[0, 1]`; the dimensions are stepped in a random order. Levels are kept as integers and
/// converted to `[0, 1]` at the end, so steps are exact up to one rounding. Trajectory `t` draws
/// from stream `"design.morris"`, key `t`, so adding trajectories keeps the earlier ones.
pub fn morris(trajectories: usize, k: usize, levels: usize, seed: u64) -> Result<MorrisDesign, DesignError> {
    if trajectories == 0 {
        return Err(DesignError::NoTrajectories);
    }
    if k == 0 {
        return Err(DesignError::NoDimensions);
    }
    if levels < 2 || levels & 1 == 1 {
        return Err(DesignError::MorrisLevels { levels });
    }
    let half = levels / 2;
    let scale = (levels - 1) as f64;
    let delta = half as f64 / scale;
    let rows = morris_runs(trajectories, k);
    let mut points = Vec::with_capacity(rows);
    let mut changed = Vec::with_capacity(rows);
    for t in 0..trajectories {
        let mut rng = keyed_stream(seed, "design.morris", &[t as u64]);
        let mut level: Vec<usize> = (0..k).map(|_| rng.random_range(0..levels)).collect();
        let order = permutation(k, &mut rng);
        let to_unit = |level: &[usize]| level.iter().map(|&l| l as f64 / scale).collect::<Vec<f64>>();
        points.push(to_unit(&level));
        changed.push(None);
        for &d in &order {
            level[d] = if level[d] < half { level[d] + half } else { level[d] - half };
            points.push(to_unit(&level));
            changed.push(Some(d));
        }
    }
    Ok(MorrisDesign { k, trajectories, levels, points, changed, delta })
}

// ---------------------------------------------------------------------------------------------
// Saltelli
// ---------------------------------------------------------------------------------------------

/// The sampling design for Sobol indices (Saltelli et al. 2010, Comput. Phys. Commun. 181:259).
///
/// Layout of `points` (this is what [`crate::experiment::sensitivity::sobol_indices`] reads):
/// `n` blocks of `k + 2` rows, one block per base sample `j = 0..n`:
///
/// | row in block | content |
/// |---|---|
/// | `0` | `A_j` |
/// | `1 + i` for `i = 0..k` | `AB_j^(i)`: `A_j` with column `i` taken from `B_j` |
/// | `k + 1` | `B_j` |
///
/// so the design has `n (k + 2)` rows; [`SaltelliDesign::row_a`], [`SaltelliDesign::row_ab`]
/// and [`SaltelliDesign::row_b`] give the row indices.
#[derive(Debug, Clone, PartialEq)]
pub struct SaltelliDesign {
    /// Number of base samples (rows of A and of B).
    pub n: usize,
    /// Number of parameters.
    pub k: usize,
    /// `n * (k + 2)` rows in the block layout described on the type.
    pub points: Vec<Vec<f64>>,
}

impl SaltelliDesign {
    /// Rows per base sample (`k + 2`).
    pub fn block(&self) -> usize {
        self.k + 2
    }
    /// Row index of `A_j`.
    pub fn row_a(&self, j: usize) -> usize {
        j * self.block()
    }
    /// Row index of `AB_j^(i)` (A_j with column `i` from B_j).
    pub fn row_ab(&self, j: usize, i: usize) -> usize {
        j * self.block() + 1 + i
    }
    /// Row index of `B_j`.
    pub fn row_b(&self, j: usize) -> usize {
        j * self.block() + self.k + 1
    }
}

/// Number of model runs a Saltelli design needs: `n * (k + 2)`.
pub fn saltelli_runs(n: usize, k: usize) -> usize {
    n * (k + 2)
}

/// Builds the Saltelli design of `n` base samples for `k` parameters (Saltelli et al. 2010,
/// Comput. Phys. Commun. 181:259): A and B are the first and last `k` columns of one
/// `2k`-dimensional randomised Sobol sequence ([`sobol`]), as that paper recommends, and the
/// rows are laid out as described on [`SaltelliDesign`]. The Sobol table supports 32 dimensions,
/// so `k <= 16` parameters ([`SALTELLI_MAX_PARAMETERS`]). Use a power of two for `n`.
pub fn saltelli(n: usize, k: usize, seed: u64) -> Result<SaltelliDesign, DesignError> {
    check_nk(n, k)?;
    if 2 * k > SOBOL_MAX_DIMENSIONS {
        return Err(DesignError::TooManySaltelliParameters {
            parameters: k,
            needed: 2 * k,
            max_dimensions: SOBOL_MAX_DIMENSIONS,
            max_parameters: SALTELLI_MAX_PARAMETERS,
        });
    }
    let base = sobol(n, 2 * k, seed)?;
    let mut points = Vec::with_capacity(saltelli_runs(n, k));
    for row in &base {
        let (a, b) = row.split_at(k);
        points.push(a.to_vec());
        for i in 0..k {
            let mut ab = a.to_vec();
            ab[i] = b[i];
            points.push(ab);
        }
        points.push(b.to_vec());
    }
    Ok(SaltelliDesign { n, k, points })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_size_order_and_corners() {
        let g = grid(&[2, 3]).unwrap();
        assert_eq!(g.len(), 6);
        assert_eq!(g[0], vec![0.0, 0.0]);
        assert_eq!(g[1], vec![0.0, 0.5]); // last dimension fastest
        assert_eq!(g[2], vec![0.0, 1.0]);
        assert_eq!(g[3], vec![1.0, 0.0]);
        assert_eq!(g[5], vec![1.0, 1.0]);
        let g = grid(&[3, 1, 2]).unwrap();
        assert_eq!(g.len(), 6);
        assert!(g.iter().all(|p| p[1] == 0.5)); // a single level sits at the centre
        assert_eq!(g[0], vec![0.0, 0.5, 0.0]);
        assert_eq!(g[5], vec![1.0, 0.5, 1.0]);
        assert_eq!(grid(&[]), Err(DesignError::NoDimensions));
        assert_eq!(grid(&[2, 0]), Err(DesignError::ZeroLevels { dimension: 1 }));
        assert!(matches!(grid(&[usize::MAX, 3]), Err(DesignError::GridTooLarge { .. })));
    }

    #[test]
    fn random_is_uniform_seeded_and_prefix_stable() {
        let a = random(100, 3, 5).unwrap();
        assert_eq!(a.len(), 100);
        assert!(a.iter().flatten().all(|&x| (0.0..1.0).contains(&x)));
        assert_eq!(a, random(100, 3, 5).unwrap());
        assert_ne!(a, random(100, 3, 6).unwrap());
        assert_eq!(a[..10], random(10, 3, 5).unwrap()[..]);
        assert_eq!(random(0, 3, 5), Err(DesignError::NoPoints));
        assert_eq!(random(3, 0, 5), Err(DesignError::NoDimensions));
    }

    #[test]
    fn latin_hypercube_has_one_point_per_stratum_in_every_dimension() {
        for &(n, k) in &[(1, 1), (7, 3), (50, 5), (128, 2)] {
            let pts = latin_hypercube(n, k, 11).unwrap();
            assert_eq!(pts.len(), n);
            for d in 0..k {
                let mut seen = vec![false; n];
                for p in &pts {
                    assert!((0.0..1.0).contains(&p[d]));
                    let s = (p[d] * n as f64).floor() as usize;
                    assert!(!seen[s], "stratum {s} of dimension {d} holds two points");
                    seen[s] = true;
                }
                assert!(seen.iter().all(|&b| b));
            }
        }
        assert_eq!(latin_hypercube(20, 3, 1).unwrap(), latin_hypercube(20, 3, 1).unwrap());
        assert_ne!(latin_hypercube(20, 3, 1).unwrap(), latin_hypercube(20, 3, 2).unwrap());
        assert_eq!(latin_hypercube(0, 3, 1), Err(DesignError::NoPoints));
    }

    #[test]
    fn joe_kuo_table_is_well_formed() {
        for (r, row) in JOE_KUO.iter().enumerate() {
            let s = row.s;
            assert_eq!(row.m.len(), s as usize, "row d = {}", r + 2);
            assert!(row.a < (1 << (s - 1)).max(1), "row d = {}", r + 2);
            for (j, &m) in row.m.iter().enumerate() {
                assert!(m % 2 == 1 && m < (1 << (j + 1)), "row d = {}: m_{} = {m}", r + 2, j + 1);
            }
            // The polynomial x^s + a_1 x^(s-1) + ... + a_(s-1) x + 1 must be primitive over GF(2):
            // x has multiplicative order exactly 2^s - 1 modulo it.
            let poly: u32 = (1 << s) | (row.a << 1) | 1;
            let mut x: u32 = 1;
            let mut order = 0u32;
            loop {
                x <<= 1;
                if x & (1 << s) != 0 {
                    x ^= poly;
                }
                order += 1;
                if x == 1 {
                    break;
                }
                assert!(order < (1 << s), "row d = {} not primitive", r + 2);
            }
            assert_eq!(order, (1 << s) - 1, "row d = {} not primitive", r + 2);
        }
        // Degrees are non-decreasing, as in the file.
        assert!(JOE_KUO.windows(2).all(|w| w[0].s <= w[1].s));
    }

    #[test]
    fn sobol_first_dimension_is_van_der_corput() {
        let pts = sobol_unscrambled(9, 1).unwrap();
        let got: Vec<f64> = pts.iter().map(|p| p[0]).collect();
        // Point 0 is the origin; then 0.5, 0.25, 0.75, 0.125, ...
        assert_eq!(got, vec![0.0, 0.5, 0.25, 0.75, 0.125, 0.625, 0.375, 0.875, 0.0625]);
    }

    #[test]
    fn sobol_matches_published_joe_kuo_points() {
        // First ten 3-D points of the Joe & Kuo reference generator (Gray-code order) as published
        // with their C++ program; Gray-code point g is natural-order point g ^ (g >> 1).
        let reference = [
            [0.0, 0.0, 0.0],
            [0.5, 0.5, 0.5],
            [0.75, 0.25, 0.25],
            [0.25, 0.75, 0.75],
            [0.375, 0.375, 0.625],
            [0.875, 0.875, 0.125],
            [0.625, 0.125, 0.875],
            [0.125, 0.625, 0.375],
            [0.1875, 0.3125, 0.9375],
            [0.6875, 0.8125, 0.4375],
        ];
        let pts = sobol_unscrambled(16, 3).unwrap();
        for (g, r) in reference.iter().enumerate() {
            assert_eq!(pts[g ^ (g >> 1)], r.to_vec(), "Gray-code point {g}");
        }
    }

    /// Every elementary interval [a 2^-p, (a+1) 2^-p) x [b 2^-q, (b+1) 2^-q) with p + q = m holds
    /// exactly one of 2^m points (the (0, m, 2)-net property), and boxes 2^-p x 2^-p with 2p <= m
    /// hold 2^(m-2p).
    fn assert_net(pts: &[Vec<f64>], d0: usize, d1: usize, m: u32) {
        let n = 1usize << m;
        assert_eq!(pts.len(), n);
        for p in 0..=m {
            let q = m - p;
            let mut count = vec![0usize; n];
            for x in pts {
                let a = (x[d0] * (1u64 << p) as f64).floor() as usize;
                let b = (x[d1] * (1u64 << q) as f64).floor() as usize;
                count[(a << q) | b] += 1;
            }
            assert!(count.iter().all(|&c| c == 1), "dims ({d0},{d1}), boxes 2^-{p} x 2^-{q}");
        }
        for p in [1u32, 2] {
            let cells = 1usize << p;
            let mut count = vec![0usize; cells * cells];
            for x in pts {
                let a = (x[d0] * cells as f64).floor() as usize;
                let b = (x[d1] * cells as f64).floor() as usize;
                count[a * cells + b] += 1;
            }
            let expected = n / (cells * cells);
            assert!(count.iter().all(|&c| c == expected), "{cells}x{cells} boxes");
        }
    }

    #[test]
    fn sobol_two_dimensions_form_a_net_raw_and_shifted() {
        for m in [4u32, 6, 8] {
            let n = 1usize << m;
            assert_net(&sobol_unscrambled(n, 2).unwrap(), 0, 1, m);
            for seed in [1u64, 2, 3] {
                let pts = sobol(n, 2, seed).unwrap();
                assert!(pts.iter().flatten().all(|&x| x > 0.0 && x < 1.0));
                assert_net(&pts, 0, 1, m);
            }
        }
        // Every single dimension of the 32 is a (0, m, 1)-net: one point per 1/2^m stratum.
        let pts = sobol(256, SOBOL_MAX_DIMENSIONS, 9).unwrap();
        for d in 0..SOBOL_MAX_DIMENSIONS {
            let mut seen = [false; 256];
            for p in &pts {
                seen[(p[d] * 256.0).floor() as usize] = true;
            }
            assert!(seen.iter().all(|&b| b), "dimension {d}");
        }
    }

    #[test]
    fn sobol_is_seeded_and_checks_its_inputs() {
        let a = sobol(64, 5, 1).unwrap();
        assert_eq!(a, sobol(64, 5, 1).unwrap());
        assert_ne!(a, sobol(64, 5, 2).unwrap());
        assert!(sobol(8, SOBOL_MAX_DIMENSIONS, 1).is_ok());
        assert_eq!(sobol(8, SOBOL_MAX_DIMENSIONS + 1, 1), Err(DesignError::TooManySobolDimensions { requested: 33, max: 32 }));
        assert_eq!(sobol(0, 2, 1), Err(DesignError::NoPoints));
        assert_eq!(sobol_unscrambled(4, 0), Err(DesignError::NoDimensions));
    }

    #[test]
    fn morris_rows_step_by_delta_in_the_changed_dimension() {
        for &(r, k, p) in &[(10, 4, 4), (5, 1, 2), (7, 6, 6), (3, 3, 8)] {
            let d = morris(r, k, p, 42).unwrap();
            assert_eq!(d.points.len(), r * (k + 1));
            assert_eq!(d.changed.len(), d.points.len());
            assert!((d.delta - p as f64 / (2.0 * (p as f64 - 1.0))).abs() < 1e-15);
            for t in 0..r {
                let base = t * (k + 1);
                assert_eq!(d.changed[base], None);
                let mut moved = vec![false; k];
                for row in base + 1..base + k + 1 {
                    let i = d.changed[row].expect("non-first row has a changed dimension");
                    assert!(!moved[i], "dimension {i} moved twice in trajectory {t}");
                    moved[i] = true;
                    for j in 0..k {
                        let step = d.points[row][j] - d.points[row - 1][j];
                        if j == i {
                            assert!((step.abs() - d.delta).abs() < 1e-12);
                        } else {
                            assert_eq!(step, 0.0);
                        }
                    }
                }
                for row in base..base + k + 1 {
                    for &x in &d.points[row] {
                        assert!((0.0..=1.0).contains(&x));
                        // On the grid 0, 1/(p-1), ..., 1.
                        let l = x * (p - 1) as f64;
                        assert!((l - l.round()).abs() < 1e-12);
                    }
                }
            }
        }
        let a = morris(8, 3, 4, 1).unwrap();
        assert_eq!(a, morris(8, 3, 4, 1).unwrap());
        assert_ne!(a.points, morris(8, 3, 4, 2).unwrap().points);
        assert_eq!(morris(2, 3, 3, 1), Err(DesignError::MorrisLevels { levels: 3 }));
        assert_eq!(morris(2, 3, 0, 1), Err(DesignError::MorrisLevels { levels: 0 }));
        assert_eq!(morris(0, 3, 4, 1), Err(DesignError::NoTrajectories));
        assert_eq!(morris(2, 0, 4, 1), Err(DesignError::NoDimensions));
    }

    #[test]
    fn saltelli_layout() {
        let (n, k) = (16, 3);
        let d = saltelli(n, k, 7).unwrap();
        assert_eq!(d.points.len(), saltelli_runs(n, k));
        let base = sobol(n, 2 * k, 7).unwrap();
        for (j, base_j) in base.iter().enumerate() {
            let a = &d.points[d.row_a(j)];
            let b = &d.points[d.row_b(j)];
            assert_eq!(a[..], base_j[..k]);
            assert_eq!(b[..], base_j[k..]);
            for i in 0..k {
                let ab = &d.points[d.row_ab(j, i)];
                for c in 0..k {
                    assert_eq!(ab[c], if c == i { b[c] } else { a[c] });
                }
            }
        }
        assert_eq!(d.row_a(1), k + 2);
        assert_eq!(d, saltelli(n, k, 7).unwrap());
        assert!(saltelli(4, SALTELLI_MAX_PARAMETERS, 1).is_ok());
        assert!(matches!(
            saltelli(4, SALTELLI_MAX_PARAMETERS + 1, 1),
            Err(DesignError::TooManySaltelliParameters { parameters: 17, needed: 34, .. })
        ));
    }
}
