//! Network snapshots: a graph drawn with a deterministic layout and its nodes coloured by a value
//! (the community network by trust) or by a group (the organisation network by practice).
//!
//! The layout is Fruchterman-Reingold force-directed placement (Fruchterman & Reingold 1991) from
//! seeded starting positions, with a fixed number of iterations and a fixed order of operations, so
//! the same graph and seed give the same picture. Above [`FORCE_LIMIT`] nodes the quadratic force
//! step is too slow and the nodes are placed on a circle in id order (neighbourhoods, which are
//! numbered consecutively, then show as arcs).
//!
//! `sim run` (and `sim plot` on a run's folder) draws the community sample by trust and the
//! organisation by department or practice from networks.json ([`super::draw_networks`]).

use std::io;
use std::path::{Path, PathBuf};

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::figure::{self, Area, DrawResult, Figure, Header, Key, Mark};
use super::style::{self, DARK, GREY, TICK, Ticks};

/// Largest graph laid out by forces; bigger graphs are laid out on a circle.
pub const FORCE_LIMIT: usize = 1500;
/// Iterations of the force layout.
const ITERATIONS: usize = 200;
/// Most edges drawn (the rest are left out; the nodes are all drawn).
const MAX_EDGES: usize = 20_000;

/// An undirected graph on nodes `0..nodes`.
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    pub nodes: usize,
    pub edges: Vec<(u32, u32)>,
}

/// Graphs straight from the model's networks (runs read theirs from networks.json).
#[cfg(test)]
impl Graph {
    /// The graph of a CSR network (the community network, or the organisation's peer links).
    pub fn from_csr(g: &sim_core::network::Csr) -> Graph {
        Graph { nodes: g.node_count(), edges: g.edges().collect() }
    }

    /// The whole organisation: teams (nodes `0..teams`) then managers, linked by reporting lines
    /// and peer links (directions dropped).
    pub fn from_org(org: &sim_core::network::OrgNetwork) -> Graph {
        let edges = org.graph.raw_edges().iter().map(|e| (e.source().index() as u32, e.target().index() as u32)).collect();
        Graph { nodes: org.graph.node_count(), edges }
    }
}

/// How nodes are coloured.
#[derive(Debug, Clone)]
pub enum Colouring<'a> {
    /// A value per node on the viridis scale (e.g. trust, 0..1), with its name for the scale.
    Scale { values: &'a [f64], label: &'a str },
    /// A group per node (e.g. practice), with the groups' names for the legend.
    Groups { group: &'a [usize], names: &'a [String] },
}

/// A 64-bit mix (SplitMix64), for seeded starting positions without a random-number crate.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn unit(seed: u64, i: u64, k: u64) -> f64 {
    (mix(seed ^ mix(i.wrapping_mul(2).wrapping_add(k))) >> 11) as f64 / (1u64 << 53) as f64
}

/// Node positions in [0, 1]²: force-directed for graphs up to [`FORCE_LIMIT`] nodes, a circle
/// above. Deterministic in (graph, seed).
pub fn layout(g: &Graph, seed: u64) -> Vec<(f64, f64)> {
    let n = g.nodes;
    if n == 0 {
        return Vec::new();
    }
    if n == 1 {
        return vec![(0.5, 0.5)];
    }
    if n > FORCE_LIMIT {
        return (0..n)
            .map(|i| {
                let a = std::f64::consts::TAU * i as f64 / n as f64;
                (0.5 + 0.5 * a.cos(), 0.5 + 0.5 * a.sin())
            })
            .collect();
    }
    // Positions in columns, so the repulsion can take four nodes at a time.
    let mut xs: Vec<f64> = (0..n as u64).map(|i| unit(seed, i, 0)).collect();
    let mut ys: Vec<f64> = (0..n as u64).map(|i| unit(seed, i, 1)).collect();
    let k = (1.0 / n as f64).sqrt();
    let mut temperature = 0.1;
    let cool = temperature / (ITERATIONS as f64 + 1.0);
    // Each node's displacement this iteration.
    let (mut rx, mut ry) = (vec![0.0; n], vec![0.0; n]);
    for _ in 0..ITERATIONS {
        rx.fill(0.0);
        ry.fill(0.0);
        // Repulsion between every pair.
        for i in 0..n {
            repel(i, &xs, &ys, &mut rx, &mut ry, k * k);
        }
        // Attraction along edges.
        for &(a, b) in &g.edges {
            let (a, b) = (a as usize, b as usize);
            let (dx, dy) = (xs[a] - xs[b], ys[a] - ys[b]);
            let dist = (dx * dx + dy * dy).sqrt().max(1e-9);
            let f = dist / k;
            rx[a] -= dx * f;
            ry[a] -= dy * f;
            rx[b] += dx * f;
            ry[b] += dy * f;
        }
        // Move, limited by the temperature.
        for i in 0..n {
            let len = (rx[i] * rx[i] + ry[i] * ry[i]).sqrt();
            if len > 0.0 {
                let step = len.min(temperature) / len;
                xs[i] += rx[i] * step;
                ys[i] += ry[i] * step;
            }
        }
        temperature -= cool;
    }
    let mut p: Vec<(f64, f64)> = xs.into_iter().zip(ys).collect();
    normalise(&mut p);
    p
}

/// Repulsion between node `i` and every later node `j` (force `kk / dist²` along their
/// difference): added to `i`'s displacement in `j` order, taken from each `j`'s. Four `j` at a
/// time, so the division and products run side by side; the additions to `i` stay one after the
/// other, in `j` order, so the bits are those of a pair-by-pair loop.
fn repel(i: usize, xs: &[f64], ys: &[f64], rx: &mut [f64], ry: &mut [f64], kk: f64) {
    let n = xs.len();
    let (xi, yi) = (xs[i], ys[i]);
    let (mut ax, mut ay) = (rx[i], ry[i]);
    let force = |j: usize| {
        let (dx, dy) = (xi - xs[j], yi - ys[j]);
        let f = kk / (dx * dx + dy * dy).max(1e-9);
        (dx * f, dy * f)
    };
    let mut j = i + 1;
    while j + 4 <= n {
        let (mut fx, mut fy) = ([0.0; 4], [0.0; 4]);
        for l in 0..4 {
            (fx[l], fy[l]) = force(j + l);
        }
        for l in 0..4 {
            ax += fx[l];
            ay += fy[l];
            rx[j + l] -= fx[l];
            ry[j + l] -= fy[l];
        }
        j += 4;
    }
    for j in j..n {
        let (fx, fy) = force(j);
        ax += fx;
        ay += fy;
        rx[j] -= fx;
        ry[j] -= fy;
    }
    (rx[i], ry[i]) = (ax, ay);
}

/// Scales positions into [0, 1]² keeping the aspect ratio.
fn normalise(p: &mut [(f64, f64)]) {
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in p.iter() {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    let span = (x1 - x0).max(y1 - y0).max(1e-12);
    for v in p.iter_mut() {
        v.0 = (v.0 - x0) / span + (1.0 - (x1 - x0) / span) / 2.0;
        v.1 = (v.1 - y0) / span + (1.0 - (y1 - y0) / span) / 2.0;
    }
}

/// A network snapshot figure.
pub struct Snapshot<'a> {
    pub graph: &'a Graph,
    pub positions: Vec<(f64, f64)>,
    pub colouring: Colouring<'a>,
    pub title: &'a str,
}

const SIDE: u32 = 760;
const SCALE_WIDTH: u32 = 110;

impl Snapshot<'_> {
    fn keys(&self) -> Vec<Key> {
        match &self.colouring {
            Colouring::Groups { names, .. } => {
                names.iter().enumerate().map(|(i, n)| Key::new(n.clone(), style::colour(i), Mark::Dot)).collect()
            }
            Colouring::Scale { .. } => Vec::new(),
        }
    }

    fn subtitle(&self) -> String {
        format!(
            "{} nodes, {} links; layout: {}",
            self.graph.nodes,
            self.graph.edges.len(),
            if self.graph.nodes > FORCE_LIMIT { "circle in id order" } else { "force-directed, seeded" }
        )
    }
}

impl Figure for Snapshot<'_> {
    fn size(&self) -> (u32, u32) {
        let (keys, sub) = (self.keys(), self.subtitle());
        let w = SIDE + SCALE_WIDTH;
        (w, Header { title: self.title, subtitle: Some(&sub), keys: &keys }.height(w) + SIDE)
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> DrawResult<DB> {
        let (keys, sub) = (self.keys(), self.subtitle());
        let body = Header { title: self.title, subtitle: Some(&sub), keys: &keys }.draw(root)?;
        let (plot, side) = body.split_horizontally(SIDE);
        let plot = plot.margin(20, 20, 20, 20);
        let (w, h) = plot.dim_in_pixel();
        let at = |i: usize| {
            let (x, y) = self.positions[i];
            ((x * w as f64) as i32, ((1.0 - y) * h as f64) as i32)
        };
        let n = self.graph.nodes;
        let radius = if n <= 100 {
            6
        } else if n <= 1000 {
            3
        } else {
            1
        };
        let edge_alpha = if self.graph.edges.len() > 2000 { 0.15 } else { 0.4 };
        for &(a, b) in self.graph.edges.iter().take(MAX_EDGES) {
            plot.draw(&PathElement::new(vec![at(a as usize), at(b as usize)], GREY.mix(edge_alpha).stroke_width(1)))?;
        }
        let (lo, hi) = match &self.colouring {
            Colouring::Scale { values, .. } => {
                let (lo, hi) =
                    values.iter().filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
                if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) }
            }
            Colouring::Groups { .. } => (0.0, 1.0),
        };
        for i in 0..n {
            let c = match &self.colouring {
                Colouring::Scale { values, .. } => match values.get(i).copied().filter(|v| v.is_finite()) {
                    Some(v) => style::viridis(if hi > lo { (v - lo) / (hi - lo) } else { 0.5 }),
                    None => style::LIGHT_GREY,
                },
                Colouring::Groups { group, .. } => style::colour(group.get(i).copied().unwrap_or(0)),
            };
            plot.draw(&Circle::new(at(i), radius, c.filled()))?;
        }
        if let Colouring::Scale { label, .. } = &self.colouring {
            scale_bar(&side, lo, hi, label)?;
        }
        Ok(())
    }
}

/// A vertical viridis scale with its end values and name.
fn scale_bar<DB: DrawingBackend>(area: &Area<DB>, lo: f64, hi: f64, label: &str) -> DrawResult<DB> {
    let ticks = Ticks::for_range(lo, hi);
    let (top, bottom, x) = (60, SIDE as i32 - 60, 12);
    const STEPS: i32 = 48;
    for s in 0..STEPS {
        let y0 = bottom - (s + 1) * (bottom - top) / STEPS;
        let y1 = bottom - s * (bottom - top) / STEPS;
        area.draw(&Rectangle::new([(x, y0), (x + 22, y1)], style::viridis((s as f64 + 0.5) / STEPS as f64).filled()))?;
    }
    let t = |y: i32, s: String| Text::new(s, (x + 28, y), style::text(TICK).color(&DARK).pos(Pos::new(HPos::Left, VPos::Center)));
    area.draw(&t(top, ticks.format(hi)))?;
    area.draw(&t(bottom, ticks.format(lo)))?;
    area.draw(&Text::new(label.to_string(), (x, top - 24), style::text(style::LABEL).color(&DARK)))
}

/// Draws `graph` laid out with `seed` and coloured by `colouring` into `dir/STEM.png` and `.svg`.
pub fn draw(graph: &Graph, colouring: Colouring, title: &str, seed: u64, dir: &Path, stem: &str) -> io::Result<Vec<PathBuf>> {
    let positions = layout(graph, seed);
    figure::save(&Snapshot { graph, positions, colouring, title }, dir, stem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::network::{CommunitySpec, OrgSpec, community, organisation};

    fn ring(n: usize) -> Graph {
        Graph { nodes: n, edges: (0..n as u32).map(|i| (i, (i + 1) % n as u32)).collect() }
    }

    /// The force layout pair by pair, as first written: the reference for [`layout`]'s bits.
    fn layout_pair_by_pair(g: &Graph, seed: u64) -> Vec<(f64, f64)> {
        let n = g.nodes;
        let mut p: Vec<(f64, f64)> = (0..n as u64).map(|i| (unit(seed, i, 0), unit(seed, i, 1))).collect();
        let k = (1.0 / n as f64).sqrt();
        let mut temperature = 0.1;
        let cool = temperature / (ITERATIONS as f64 + 1.0);
        let mut d = vec![(0.0f64, 0.0f64); n];
        for _ in 0..ITERATIONS {
            d.iter_mut().for_each(|v| *v = (0.0, 0.0));
            for i in 0..n {
                for j in i + 1..n {
                    let (dx, dy) = (p[i].0 - p[j].0, p[i].1 - p[j].1);
                    let dist2 = (dx * dx + dy * dy).max(1e-9);
                    let f = k * k / dist2;
                    d[i].0 += dx * f;
                    d[i].1 += dy * f;
                    d[j].0 -= dx * f;
                    d[j].1 -= dy * f;
                }
            }
            for &(a, b) in &g.edges {
                let (a, b) = (a as usize, b as usize);
                let (dx, dy) = (p[a].0 - p[b].0, p[a].1 - p[b].1);
                let dist = (dx * dx + dy * dy).sqrt().max(1e-9);
                let f = dist / k;
                d[a].0 -= dx * f;
                d[a].1 -= dy * f;
                d[b].0 += dx * f;
                d[b].1 += dy * f;
            }
            for i in 0..n {
                let len = (d[i].0 * d[i].0 + d[i].1 * d[i].1).sqrt();
                if len > 0.0 {
                    let step = len.min(temperature) / len;
                    p[i].0 += d[i].0 * step;
                    p[i].1 += d[i].1 * step;
                }
            }
            temperature -= cool;
        }
        normalise(&mut p);
        p
    }

    #[test]
    fn layout_has_the_bits_of_the_pair_by_pair_loop() {
        // Sizes around the four-at-a-time step (tails of 0 to 3), rings and a denser graph.
        let dense = |n: u32| Graph {
            nodes: n as usize,
            edges: (0..n).flat_map(|i| [(i, (i + 1) % n), (i, (i * 7 + 3) % n)]).filter(|(a, b)| a != b).collect(),
        };
        for g in [ring(2), ring(3), ring(5), ring(8), ring(30), ring(31), dense(97), dense(400)] {
            for seed in [1, 9] {
                let (a, b) = (layout(&g, seed), layout_pair_by_pair(&g, seed));
                assert!(
                    a.iter().zip(&b).all(|(a, b)| a.0.to_bits() == b.0.to_bits() && a.1.to_bits() == b.1.to_bits()),
                    "{} nodes",
                    g.nodes
                );
            }
        }
    }

    #[test]
    fn layout_is_deterministic_and_in_the_unit_square() {
        let g = ring(30);
        let a = layout(&g, 7);
        assert_eq!(a, layout(&g, 7));
        assert_ne!(a, layout(&g, 8));
        assert!(a.iter().all(|&(x, y)| (0.0..=1.0).contains(&x) && (0.0..=1.0).contains(&y)));
        // Linked nodes end up closer than the average pair.
        let dist = |i: usize, j: usize| ((a[i].0 - a[j].0).powi(2) + (a[i].1 - a[j].1).powi(2)).sqrt();
        let linked: f64 = g.edges.iter().map(|&(i, j)| dist(i as usize, j as usize)).sum::<f64>() / g.edges.len() as f64;
        let all: f64 = (0..30).flat_map(|i| (0..30).map(move |j| (i, j))).map(|(i, j)| dist(i, j)).sum::<f64>() / 900.0;
        assert!(linked < all, "linked {linked} vs all {all}");
        let big = layout(&ring(FORCE_LIMIT + 1), 1);
        assert_eq!(big.len(), FORCE_LIMIT + 1);
    }

    #[test]
    fn community_by_trust_and_organisation_by_practice_draw_the_same_bytes_twice() {
        let dir = tempfile::tempdir().unwrap();
        let spec = CommunitySpec { neighbourhood_sizes: vec![40; 4], ..CommunitySpec::default() };
        let g = Graph::from_csr(&community(&spec, 3));
        let trust: Vec<f64> = (0..g.nodes).map(|i| (i % 40) as f64 / 40.0).collect();
        let colouring = Colouring::Scale { values: &trust, label: "trust (0..1)" };
        let files = draw(&g, colouring.clone(), "Community network by trust", 1, dir.path(), "community").unwrap();
        let first: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
        draw(&g, colouring, "Community network by trust", 1, dir.path(), "community").unwrap();
        let second: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
        assert_eq!(first, second);
        assert!(first[0].starts_with(b"\x89PNG"));

        let org = organisation(
            &OrgSpec { teams: 12, management_layers: 2, span_of_control: 4, peer_links: 0.2, departments: 3, ..Default::default() },
            5,
        );
        let og = Graph::from_org(&org);
        assert!(og.edges.len() >= og.nodes - 1, "reporting lines plus peer links");
        let mut practice: Vec<usize> = org.team_department.clone();
        practice.resize(og.nodes, 3);
        let names: Vec<String> = ["department 1", "department 2", "department 3", "managers"].map(String::from).to_vec();
        let files =
            draw(&og, Colouring::Groups { group: &practice, names: &names }, "Organisation by practice", 1, dir.path(), "organisation")
                .unwrap();
        let svg = std::fs::read_to_string(&files[1]).unwrap();
        assert!(svg.contains("managers"));
    }
}
