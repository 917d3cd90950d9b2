//! The two static networks of MODEL.md §2, the compact form the day loop reads them in, and a few
//! metrics to check them.
//!
//! - The community network links citizens: a Watts-Strogatz small world inside each neighbourhood
//!   plus sparse random links across neighbourhoods. Trust and coproduction travel over it.
//! - The organisation network links teams and managers: a reporting tree (approval chains and
//!   overhead) and peer links between teams (practice diffusion, MODEL.md §5.2).
//!
//! Graphs read every day are kept as [`Csr`] (compressed sparse rows): two flat vectors, which stay
//! small and cache-friendly at a million citizens. petgraph is used where typed nodes and links or
//! its algorithms help, and [`Csr::from_graph`] / [`Csr::to_graph`] convert between the two.
//!
//! Determinism: every draw comes from a [`crate::rng`] stream with a fixed name; work done in
//! parallel draws from streams keyed by the neighbourhood index and is concatenated in index order,
//! so a graph depends on the run seed only, never on the rayon thread count.

use std::collections::HashSet;

use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex, UnGraph};
use petgraph::visit::EdgeRef;
use rand::RngExt;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::rng::{Stream, keyed_stream};

// ---------------------------------------------------------------------------------------------
// Compressed sparse rows
// ---------------------------------------------------------------------------------------------

/// An undirected graph in compressed-sparse-row form.
///
/// The neighbours of node `v` are `targets[offsets[v]..offsets[v + 1]]`. Invariants (checked by
/// [`Csr::is_well_formed`]): every undirected edge appears in both rows, rows are sorted
/// ascending, there are no self loops and no duplicate edges. Node ids and offsets are `u32`, so a
/// graph holds at most `u32::MAX` nodes and `u32::MAX / 2` edges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Csr {
    /// `node_count() + 1` row starts into `targets`; the first is 0, the last `targets.len()`.
    pub offsets: Vec<u32>,
    /// Neighbour ids, row after row.
    pub targets: Vec<u32>,
}

impl Default for Csr {
    /// The graph with no nodes.
    fn default() -> Self {
        Csr { offsets: vec![0], targets: Vec::new() }
    }
}

impl Csr {
    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Number of undirected edges (each is stored twice).
    pub fn edge_count(&self) -> usize {
        self.targets.len() / 2
    }

    /// Neighbours of `v`, sorted ascending. Panics if `v` is not a node.
    pub fn neighbours(&self, v: usize) -> &[u32] {
        &self.targets[self.offsets[v] as usize..self.offsets[v + 1] as usize]
    }

    /// Number of neighbours of `v`. Panics if `v` is not a node.
    pub fn degree(&self, v: usize) -> usize {
        (self.offsets[v + 1] - self.offsets[v]) as usize
    }

    /// Whether `u` and `v` are linked (binary search in `u`'s row). Panics if `u` is not a node.
    pub fn has_edge(&self, u: usize, v: usize) -> bool {
        u32::try_from(v).is_ok_and(|v| self.neighbours(u).binary_search(&v).is_ok())
    }

    /// Each undirected edge once, as `(u, v)` with `u < v`, in ascending order of `u` then `v`.
    pub fn edges(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        (0..self.node_count()).flat_map(move |u| {
            let u32_id = u as u32;
            self.neighbours(u).iter().filter(move |&&v| v > u32_id).map(move |&v| (u32_id, v))
        })
    }

    /// Builds the graph on nodes `0..n` from an edge list in any order. Self loops are dropped and
    /// repeated edges (in either orientation) are kept once.
    ///
    /// # Panics
    /// If an endpoint is `>= n`, or the graph has more than `u32::MAX` adjacency entries.
    pub fn from_edges(n: usize, edges: &[(u32, u32)]) -> Csr {
        // Count degrees, turn them into row starts, scatter both orientations of each edge.
        let mut cursor = vec![0u32; n];
        for &(u, v) in edges {
            if u != v {
                cursor[u as usize] += 1;
                cursor[v as usize] += 1;
            }
        }
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0u32);
        let mut total: u64 = 0;
        for c in cursor.iter_mut() {
            let start = total;
            total += u64::from(*c);
            assert!(total <= u64::from(u32::MAX), "graph too large for u32 offsets");
            *c = start as u32;
            offsets.push(total as u32);
        }
        let mut targets = vec![0u32; total as usize];
        for &(u, v) in edges {
            if u != v {
                targets[cursor[u as usize] as usize] = v;
                cursor[u as usize] += 1;
                targets[cursor[v as usize] as usize] = u;
                cursor[v as usize] += 1;
            }
        }
        drop(cursor);
        // Sort each row and drop repeats, compacting in place (the write index never passes the
        // read index).
        let mut write = 0usize;
        let mut start = 0usize;
        for v in 0..n {
            let end = offsets[v + 1] as usize;
            targets[start..end].sort_unstable();
            let row_start = write;
            for r in start..end {
                let t = targets[r];
                if write == row_start || targets[write - 1] != t {
                    targets[write] = t;
                    write += 1;
                }
            }
            offsets[v + 1] = write as u32;
            start = end;
        }
        targets.truncate(write);
        Csr { offsets, targets }
    }

    /// Converts a petgraph undirected graph (node `i` becomes node `i`). Self loops are dropped and
    /// parallel edges kept once; weights are ignored.
    pub fn from_graph<N, E>(g: &UnGraph<N, E>) -> Csr {
        let edges: Vec<(u32, u32)> = g.edge_references().map(|e| (e.source().index() as u32, e.target().index() as u32)).collect();
        Csr::from_edges(g.node_count(), &edges)
    }

    /// Converts to a petgraph undirected graph, one edge per undirected edge, for analysis or
    /// export. Not for the hot path: a petgraph graph of a million citizens is several times larger.
    pub fn to_graph(&self) -> UnGraph<(), ()> {
        let mut g = UnGraph::with_capacity(self.node_count(), self.edge_count());
        for _ in 0..self.node_count() {
            g.add_node(());
        }
        for (u, v) in self.edges() {
            g.add_edge(NodeIndex::new(u as usize), NodeIndex::new(v as usize), ());
        }
        g
    }

    /// Whether the invariants hold: offsets start at 0, never decrease and end at
    /// `targets.len()`; rows are strictly ascending (sorted, no duplicates); no self loops; every
    /// target is a node; every edge appears in both rows.
    pub fn is_well_formed(&self) -> bool {
        let n = self.node_count();
        if self.offsets.first() != Some(&0)
            || self.offsets.last().map(|&o| o as usize) != Some(self.targets.len())
            || self.offsets.windows(2).any(|w| w[0] > w[1])
        {
            return false;
        }
        (0..n).all(|u| {
            let row = self.neighbours(u);
            row.windows(2).all(|w| w[0] < w[1]) && row.iter().all(|&v| (v as usize) < n && v as usize != u && self.has_edge(v as usize, u))
        })
    }
}

/// Clamps a probability to [0, 1]; NaN becomes 0.
fn unit_interval(p: f64) -> f64 {
    if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) }
}

// ---------------------------------------------------------------------------------------------
// Community network
// ---------------------------------------------------------------------------------------------

/// Parameters of the community network (MODEL.md §2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommunitySpec {
    /// Citizens per neighbourhood; citizens are numbered consecutively neighbourhood by
    /// neighbourhood.
    pub neighbourhood_sizes: Vec<usize>,
    /// Lattice degree inside a neighbourhood (even; an odd value acts as `k - 1`). Default 6.
    pub k: usize,
    /// Probability that a lattice edge is rewired, in [0, 1] (outside values are clamped).
    /// Default 0.1.
    pub rewire: f64,
    /// Links across neighbourhoods per citizen: the network gets `round(this x citizens)` such
    /// links, so each citizen has on average `2 x this` cross-neighbourhood neighbours.
    /// Default 0.05.
    pub cross_links_per_citizen: f64,
}

impl Default for CommunitySpec {
    /// 40,000 citizens in 8 neighbourhoods of 5,000 (MODEL.md §1), k = 6, rewiring 0.1.
    fn default() -> Self {
        CommunitySpec { neighbourhood_sizes: vec![5_000; 8], k: 6, rewire: 0.1, cross_links_per_citizen: 0.05 }
    }
}

/// Builds the community network: a Watts-Strogatz small world inside each neighbourhood
/// (Watts & Strogatz 1998, Nature 393:440) plus random links across neighbourhoods.
///
/// Inside a neighbourhood of `n` citizens: a ring lattice where each citizen is linked to its
/// `k / 2` nearest neighbours on each side; then, offset by offset and citizen by citizen (the
/// original algorithm's order), each lattice edge `(u, u + j)` is rewired with probability
/// `rewire` to `(u, w)`, `w` uniform in the neighbourhood, avoiding self loops and duplicate
/// edges (an edge stays put if `u` is already linked to everyone). Rewiring keeps the edge count,
/// `n x k / 2`. A neighbourhood too small for a lattice (`n <= k + 1`) becomes a complete graph:
/// everyone knows everyone, which is the lattice's own limit at `n = k + 1`.
///
/// Across neighbourhoods: exactly `round(cross_links_per_citizen x N)` links (fewer only if there
/// are not that many distinct cross pairs), each a uniformly random pair of citizens in different
/// neighbourhoods, without repeats. A fixed count rather than a Poisson draw keeps the network's
/// size a pure function of the spec.
///
/// Neighbourhoods are built in parallel, each from the stream `community_small_world` keyed by
/// its index, so one neighbourhood's graph does not depend on the others or on the thread count;
/// cross links come from the stream `community_cross`.
///
/// # Panics
/// If there are more than `u32::MAX` citizens.
pub fn community(spec: &CommunitySpec, run_seed: u64) -> Csr {
    let sizes = &spec.neighbourhood_sizes;
    let mut starts = Vec::with_capacity(sizes.len());
    let mut n_total = 0usize;
    for &s in sizes {
        starts.push(n_total);
        n_total += s;
    }
    assert!(n_total <= u32::MAX as usize, "community of {n_total} citizens exceeds u32 ids");
    let rewire = unit_interval(spec.rewire);

    let per_hood: Vec<Vec<(u32, u32)>> = sizes
        .par_iter()
        .enumerate()
        .map(|(h, &size)| {
            let mut rng = keyed_stream(run_seed, "community_small_world", &[h as u64]);
            small_world_edges(size, spec.k, rewire, starts[h] as u32, &mut rng)
        })
        .collect();

    let per_citizen = non_negative(spec.cross_links_per_citizen);
    let wanted = (per_citizen * n_total as f64).round() as u64;
    let mut rng = keyed_stream(run_seed, "community_cross", &[]);
    let cross = cross_links(sizes, &starts, wanted, &mut rng);

    let mut edges = Vec::with_capacity(per_hood.iter().map(Vec::len).sum::<usize>() + cross.len());
    for hood in per_hood {
        edges.extend_from_slice(&hood);
    }
    edges.extend_from_slice(&cross);
    Csr::from_edges(n_total, &edges)
}

/// A non-negative finite rate; NaN and negative values become 0.
fn non_negative(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 { 0.0 } else { x }
}

/// Edges of one Watts-Strogatz neighbourhood of `n` nodes, numbered from `offset`.
fn small_world_edges(n: usize, k: usize, rewire: f64, offset: u32, rng: &mut Stream) -> Vec<(u32, u32)> {
    let half = k / 2;
    if n < 2 || half == 0 {
        return Vec::new();
    }
    let id = |u: usize| offset + u as u32;
    if n <= 2 * half + 1 {
        let mut edges = Vec::with_capacity(n * (n - 1) / 2);
        for u in 0..n {
            for v in u + 1..n {
                edges.push((id(u), id(v)));
            }
        }
        return edges;
    }
    // Local adjacency lists (unordered) while rewiring; degrees stay near k, so a linear scan is
    // the fastest membership test.
    let mut adj: Vec<Vec<u32>> = (0..n)
        .map(|u| {
            let mut row = Vec::with_capacity(2 * half + 2);
            for j in 1..=half {
                row.push(((u + j) % n) as u32);
                row.push(((u + n - j) % n) as u32);
            }
            row
        })
        .collect();
    if rewire > 0.0 {
        let remove = |row: &mut Vec<u32>, x: u32| {
            if let Some(pos) = row.iter().position(|&y| y == x) {
                row.swap_remove(pos);
            }
        };
        for j in 1..=half {
            for u in 0..n {
                // random::<f64>() is in [0, 1): rewire 0 never fires, rewire 1 always does.
                if rng.random::<f64>() >= rewire || adj[u].len() >= n - 1 {
                    continue;
                }
                // The lattice edge (u, u + j) is still present: no earlier step can remove it,
                // and rewired edges never duplicate an existing one.
                let v = ((u + j) % n) as u32;
                let w = loop {
                    let w = rng.random_range(0..n as u32);
                    if w as usize != u && !adj[u].contains(&w) {
                        break w;
                    }
                };
                remove(&mut adj[u], v);
                remove(&mut adj[v as usize], u as u32);
                adj[u].push(w);
                adj[w as usize].push(u as u32);
            }
        }
    }
    let mut edges = Vec::with_capacity(n * half);
    for (u, row) in adj.iter().enumerate() {
        for &w in row {
            if (u as u32) < w {
                edges.push((id(u), offset + w));
            }
        }
    }
    edges
}

/// `wanted` distinct links, each a uniform pair of nodes in different neighbourhoods.
fn cross_links(sizes: &[usize], starts: &[usize], wanted: u64, rng: &mut Stream) -> Vec<(u32, u32)> {
    let n_total: usize = sizes.iter().sum();
    // Node u in neighbourhood h has N - n_h possible cross partners; weighting neighbourhoods by
    // n_h (N - n_h) and then picking u and its partner uniformly gives every cross pair the same
    // chance.
    let weights: Vec<u128> = sizes.iter().map(|&s| s as u128 * (n_total - s) as u128).collect();
    let total_weight: u128 = weights.iter().sum();
    let possible = total_weight / 2;
    let wanted = u128::from(wanted).min(possible);
    if wanted == 0 {
        return Vec::new();
    }
    let hood_of = |u: usize| starts.partition_point(|&s| s <= u) - 1;

    if wanted * 2 >= possible {
        // Dense request (only in tiny graphs, since wanted is about a citizen count): enumerate
        // every cross pair and keep a random subset by a partial Fisher-Yates shuffle.
        let mut all = Vec::with_capacity(possible as usize);
        for u in 0..n_total {
            let end_of_hood = starts[hood_of(u)] + sizes[hood_of(u)];
            for v in end_of_hood..n_total {
                all.push((u as u32, v as u32));
            }
        }
        let wanted = wanted as usize;
        for i in 0..wanted {
            let j = rng.random_range(i..all.len());
            all.swap(i, j);
        }
        all.truncate(wanted);
        return all;
    }

    let mut cumulative = Vec::with_capacity(weights.len());
    let mut acc = 0u128;
    for &w in &weights {
        acc += w;
        cumulative.push(acc);
    }
    // The set is only asked for membership, never iterated, so its hash order cannot leak out.
    let mut seen: HashSet<(u32, u32)> = HashSet::with_capacity(wanted as usize);
    let mut links = Vec::with_capacity(wanted as usize);
    while (links.len() as u128) < wanted {
        let r = rng.random_range(0..total_weight);
        let h = cumulative.partition_point(|&c| c <= r);
        let outside = (n_total - sizes[h]) as u128;
        let r = r - (cumulative[h] - weights[h]);
        let u = starts[h] + (r / outside) as usize;
        let rest = (r % outside) as usize;
        let v = if rest < starts[h] { rest } else { rest + sizes[h] };
        let pair = (u.min(v) as u32, u.max(v) as u32);
        if seen.insert(pair) {
            links.push(pair);
        }
    }
    links
}

// ---------------------------------------------------------------------------------------------
// Organisation network
// ---------------------------------------------------------------------------------------------

/// Parameters of the organisation network (MODEL.md §2, levers of §3).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrgSpec {
    /// Number of frontline teams.
    pub teams: usize,
    /// Layers of managers above the teams; 0 means teams self-manage.
    pub management_layers: u32,
    /// Most subordinates per manager (0 acts as 1).
    pub span_of_control: u32,
    /// Probability that a given pair of teams is peer-linked, in [0, 1] (clamped), so the
    /// expected peer degree of a team is `peer_links x (teams - 1)`.
    pub peer_links: f64,
    /// Teams are split into this many departments in contiguous blocks of near-equal size
    /// (0 acts as 1).
    pub departments: usize,
    /// How the peer links are laid out for that expected degree.
    #[serde(default)]
    pub peer_structure: PeerStructure,
    /// Watts-Strogatz rewiring of the clustered lattice (0: a pure ring lattice).
    #[serde(default)]
    pub peer_rewire: f64,
}

/// The layout of the peer links between teams (MODEL.md §5.2; Centola 2010 compared clustered and
/// random networks of equal degree).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PeerStructure {
    /// Each pair of teams linked independently (Erdős-Rényi G(n, p)).
    #[default]
    Random,
    /// A ring lattice over the teams in department order, each team linked to its nearest
    /// `k / 2` on either side (k the expected degree rounded to an even number), optionally
    /// rewired into a small world: neighbours of a team are mostly neighbours of each other.
    Clustered,
    /// The clustered lattice with every link shuffled by degree-preserving swaps: the same degree
    /// for every team, next to no clustering.
    RandomRegular,
}

/// A node of the organisation network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrgNode {
    /// Frontline team with its index in `0..teams`.
    Team(usize),
    /// Manager in layer 1 (supervises teams) and up.
    Manager { layer: u32 },
}

/// A link of the organisation network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrgLink {
    /// From a subordinate (team or manager) up to its manager.
    Reports,
    /// Between two teams, stored once from the lower to the higher team index; undirected in
    /// meaning.
    Peer,
}

/// The organisation: reporting tree plus peer links between teams.
#[derive(Debug, Clone)]
pub struct OrgNetwork {
    /// Teams first (node `i` is team `i`), then managers layer by layer, bottom up.
    pub graph: DiGraph<OrgNode, OrgLink>,
    /// Node of each team, by team index.
    pub teams: Vec<NodeIndex>,
    /// Managers in layers 1, 2, ... (as [`managers_needed`] for the team count).
    pub managers_per_layer: Vec<usize>,
    /// Department of each team, by team index.
    pub team_department: Vec<usize>,
}

impl OrgNetwork {
    /// Number of managers in all layers.
    pub fn manager_count(&self) -> usize {
        self.managers_per_layer.iter().sum()
    }

    /// The team-to-team peer graph (node `i` is team `i`).
    pub fn peer_csr(&self) -> Csr {
        let edges: Vec<(u32, u32)> = self
            .graph
            .edge_references()
            .filter(|e| *e.weight() == OrgLink::Peer)
            .filter_map(|e| match (self.graph[e.source()], self.graph[e.target()]) {
                (OrgNode::Team(a), OrgNode::Team(b)) => Some((a as u32, b as u32)),
                _ => None,
            })
            .collect();
        Csr::from_edges(self.teams.len(), &edges)
    }

    /// Number of peer links.
    pub fn peer_link_count(&self) -> usize {
        self.graph.edge_weights().filter(|&&l| l == OrgLink::Peer).count()
    }

    /// The manager `node` reports to; `None` for a top-layer manager or a self-managing team.
    pub fn supervisor(&self, node: NodeIndex) -> Option<NodeIndex> {
        self.graph.edges_directed(node, Direction::Outgoing).find(|e| *e.weight() == OrgLink::Reports).map(|e| e.target())
    }
}

/// Managers per layer for `workers` units supervised directly by layer 1, with at most `span`
/// subordinates each: layer 1 has `ceil(workers / span)`, layer l + 1 has
/// `ceil(layer l / span)`.
///
/// The rule for the top: the result always has `layers` entries, because the number of layers is
/// a lever (MODEL.md §3). Once a layer is down to one manager, every layer above also has one (a
/// chain of single managers: the real cost of a tall hierarchy over a small workforce). The top
/// layer is not forced down to one manager: that would break the span of control (one coach over
/// 120 teams), so a flat structure may have several top managers, who answer to the executive
/// outside the model. With no workers every layer is 0. A span of 0 acts as 1.
///
/// `managers_needed(120, 4, 8) == [15, 2, 1, 1]`, `managers_needed(120, 1, 40) == [3]`.
pub fn managers_needed(workers: usize, layers: u32, span: u32) -> Vec<usize> {
    let span = span.max(1) as usize;
    let mut below = workers;
    (0..layers)
        .map(|_| {
            below = below.div_ceil(span);
            below
        })
        .collect()
}

/// Builds the organisation network (MODEL.md §2, levers management_layers, span_of_control and
/// peer_links of §3).
///
/// Reporting tree: teams, in index order, are grouped in consecutive blocks of `span` under the
/// layer-1 managers; layer-l managers likewise under layer l + 1; the manager counts per layer are
/// [`managers_needed`]`(teams, layers, span)`, so the top layer may hold several managers (roots of
/// a forest, see there). Every team and every manager below the top has exactly one `Reports`
/// edge, pointing up. With 0 layers there are no managers and no `Reports` edges.
///
/// Peer links, from the stream `org_peer_links`, as [`PeerStructure`] says: `Random` links each
/// pair of teams independently with probability `peer_links` (an Erdős-Rényi G(n, p) graph, drawn
/// with the geometric skipping of Batagelj & Brandes 2005, Phys. Rev. E 71:036113); `Clustered`
/// and `RandomRegular` give every team the expected degree `peer_links x (teams - 1)` rounded to an
/// even number (at least 2 when `peer_links > 0`). `team_department` tells which links cross a
/// department boundary.
pub fn organisation(spec: &OrgSpec, run_seed: u64) -> OrgNetwork {
    let n_teams = spec.teams;
    let span = spec.span_of_control.max(1) as usize;
    let managers_per_layer = managers_needed(n_teams, spec.management_layers, spec.span_of_control);
    let p = unit_interval(spec.peer_links);

    let mut rng = keyed_stream(run_seed, "org_peer_links", &[]);
    let peers = match spec.peer_structure {
        PeerStructure::Random => random_pairs(n_teams, p, &mut rng),
        PeerStructure::Clustered | PeerStructure::RandomRegular => {
            let degree = lattice_degree(n_teams, p);
            let lattice = small_world_edges(n_teams, degree, unit_interval(spec.peer_rewire), 0, &mut rng);
            let mut edges =
                if spec.peer_structure == PeerStructure::RandomRegular { degree_preserving_shuffle(lattice, &mut rng) } else { lattice };
            edges.sort_unstable_by_key(|&(a, b)| (b, a));
            edges.into_iter().map(|(a, b)| (a as usize, b as usize)).collect()
        }
    };

    let managers: usize = managers_per_layer.iter().sum();
    let mut graph = DiGraph::with_capacity(n_teams + managers, n_teams + managers + peers.len());
    let teams: Vec<NodeIndex> = (0..n_teams).map(|t| graph.add_node(OrgNode::Team(t))).collect();

    let mut below = teams.clone();
    for (l, &count) in managers_per_layer.iter().enumerate() {
        let layer = l as u32 + 1;
        let level: Vec<NodeIndex> = (0..count).map(|_| graph.add_node(OrgNode::Manager { layer })).collect();
        // count = ceil(below / span), so i / span < count.
        for (i, &sub) in below.iter().enumerate() {
            graph.add_edge(sub, level[i / span], OrgLink::Reports);
        }
        below = level;
    }
    for &(a, b) in &peers {
        graph.add_edge(teams[a], teams[b], OrgLink::Peer);
    }

    let departments = spec.departments.max(1);
    let team_department = (0..n_teams).map(|t| t * departments / n_teams).collect();
    OrgNetwork { graph, teams, managers_per_layer, team_department }
}

/// Even degree nearest to `p x (n - 1)`, at least 2 when `p > 0`, at most `n - 1`.
fn lattice_degree(n: usize, p: f64) -> usize {
    if n < 2 || p <= 0.0 {
        return 0;
    }
    let k = 2 * ((p * (n - 1) as f64) / 2.0).round().max(1.0) as usize;
    k.min(n - 1)
}

/// Shuffles `edges` by double-edge swaps ((a, b), (c, d)) -> ((a, d), (c, b)) that keep every
/// node's degree and never make a loop or a duplicate (Maslov & Sneppen 2002), ten tries per edge.
/// Returns pairs `(a, b)` with `a < b`.
fn degree_preserving_shuffle(mut edges: Vec<(u32, u32)>, rng: &mut Stream) -> Vec<(u32, u32)> {
    let m = edges.len();
    if m < 2 {
        return edges;
    }
    let key = |a: u32, b: u32| (a.min(b), a.max(b));
    let mut present: HashSet<(u32, u32)> = edges.iter().map(|&(a, b)| key(a, b)).collect();
    for _ in 0..10 * m {
        let (i, j) = (rng.random_range(0..m), rng.random_range(0..m));
        let ((a, b), (c, d)) = (edges[i], edges[j]);
        // Either orientation of the second edge, so every rewiring is reachable.
        let (c, d) = if rng.random::<bool>() { (c, d) } else { (d, c) };
        if i == j || a == d || c == b || present.contains(&key(a, d)) || present.contains(&key(c, b)) {
            continue;
        }
        present.remove(&key(a, b));
        present.remove(&key(c, d));
        present.insert(key(a, d));
        present.insert(key(c, b));
        edges[i] = key(a, d);
        edges[j] = key(c, b);
    }
    edges
}

/// The pairs `(a, b)`, `a < b < n`, of a G(n, p) random graph, ordered by `b` then `a`.
/// Skips geometrically between successes, so the cost is proportional to the number of links.
fn random_pairs(n: usize, p: f64, rng: &mut Stream) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    if n < 2 || p <= 0.0 {
        return pairs;
    }
    if p >= 1.0 {
        for b in 1..n {
            for a in 0..b {
                pairs.push((a, b));
            }
        }
        return pairs;
    }
    let log_q = (-p).ln_1p();
    // Walk the pairs (a, b) with a < b in order; w is a, v is b.
    let mut v: usize = 1;
    let mut w: i64 = -1;
    while v < n {
        let r: f64 = rng.random();
        let skip = ((1.0 - r).ln() / log_q).floor();
        w = w.saturating_add(1).saturating_add(skip as i64);
        while v < n && w >= v as i64 {
            w -= v as i64;
            v += 1;
        }
        if v < n {
            pairs.push((w as usize, v));
        }
    }
    pairs
}

// ---------------------------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------------------------

/// Nodes per parallel chunk in metrics; fixed so partial sums add up in the same order whatever
/// the thread count.
const METRIC_CHUNK: usize = 4096;

/// Average local clustering coefficient (Watts & Strogatz 1998): for each node, the share of
/// pairs of its neighbours that are linked, averaged over all nodes. Nodes with degree < 2 count
/// as 0 (as in networkx). An empty graph gives 0.
pub fn clustering_coefficient(g: &Csr) -> f64 {
    let n = g.node_count();
    if n == 0 {
        return 0.0;
    }
    let partial: Vec<f64> = (0..n.div_ceil(METRIC_CHUNK))
        .into_par_iter()
        .map(|c| (c * METRIC_CHUNK..((c + 1) * METRIC_CHUNK).min(n)).map(|v| local_clustering(g, v)).sum())
        .collect();
    partial.iter().sum::<f64>() / n as f64
}

fn local_clustering(g: &Csr, v: usize) -> f64 {
    let row = g.neighbours(v);
    let d = row.len();
    if d < 2 {
        return 0.0;
    }
    // Each link among neighbours is found from both ends.
    let twice_links: usize = row.iter().map(|&a| sorted_intersection(row, g.neighbours(a as usize))).sum();
    twice_links as f64 / (d * (d - 1)) as f64
}

fn sorted_intersection(a: &[u32], b: &[u32]) -> usize {
    let (mut i, mut j, mut count) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                count += 1;
                i += 1;
                j += 1;
            }
        }
    }
    count
}

/// Mean shortest-path length estimated by breadth-first search from `samples` distinct random
/// sources (stream `network_path_sample`), averaged over all (source, reachable other node)
/// pairs. With `samples >= node_count` every node is a source and the result is exact. Returns 0
/// when there is no reachable pair (no samples, no edges).
pub fn mean_shortest_path_sample(g: &Csr, samples: usize, run_seed: u64) -> f64 {
    let n = g.node_count();
    if n == 0 || samples == 0 {
        return 0.0;
    }
    let mut sources: Vec<u32> = (0..n as u32).collect();
    if samples < n {
        let mut rng = keyed_stream(run_seed, "network_path_sample", &[]);
        for i in 0..samples {
            let j = rng.random_range(i..n);
            sources.swap(i, j);
        }
        sources.truncate(samples);
    }
    // Integer sums: exact, so the order of the reduction does not matter.
    let (dist_sum, pairs) = sources
        .par_iter()
        .map_init(|| (vec![u32::MAX; n], Vec::with_capacity(n)), |(dist, queue), &s| bfs_distance_sum(g, s, dist, queue))
        .reduce(|| (0u64, 0u64), |a, b| (a.0 + b.0, a.1 + b.1));
    if pairs == 0 { 0.0 } else { dist_sum as f64 / pairs as f64 }
}

/// Sum of distances from `s` to the nodes it reaches, and how many it reaches (not counting
/// itself). `dist` must be all `u32::MAX` on entry and is restored on exit.
fn bfs_distance_sum(g: &Csr, s: u32, dist: &mut [u32], queue: &mut Vec<u32>) -> (u64, u64) {
    queue.clear();
    queue.push(s);
    dist[s as usize] = 0;
    let mut head = 0;
    let mut sum = 0u64;
    while head < queue.len() {
        let u = queue[head] as usize;
        head += 1;
        let du = dist[u];
        sum += u64::from(du);
        for &v in g.neighbours(u) {
            if dist[v as usize] == u32::MAX {
                dist[v as usize] = du + 1;
                queue.push(v);
            }
        }
    }
    for &v in queue.iter() {
        dist[v as usize] = u32::MAX;
    }
    (sum, queue.len() as u64 - 1)
}

/// Summary of the degree distribution.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DegreeStats {
    pub mean: f64,
    pub min: usize,
    pub max: usize,
    /// Population standard deviation (divides by the node count).
    pub sd: f64,
}

/// Mean, minimum, maximum and standard deviation of the degrees; all 0 for an empty graph.
pub fn degree_stats(g: &Csr) -> DegreeStats {
    let n = g.node_count();
    if n == 0 {
        return DegreeStats { mean: 0.0, min: 0, max: 0, sd: 0.0 };
    }
    let (mut min, mut max, mut sum) = (usize::MAX, 0usize, 0u64);
    for v in 0..n {
        let d = g.degree(v);
        min = min.min(d);
        max = max.max(d);
        sum += d as u64;
    }
    let mean = sum as f64 / n as f64;
    let var = (0..n).map(|v| (g.degree(v) as f64 - mean).powi(2)).sum::<f64>() / n as f64;
    DegreeStats { mean, min, max, sd: var.sqrt() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use petgraph::algo::is_cyclic_directed;

    fn spec(sizes: Vec<usize>, k: usize, rewire: f64, cross: f64) -> CommunitySpec {
        CommunitySpec { neighbourhood_sizes: sizes, k, rewire, cross_links_per_citizen: cross }
    }

    fn hood_of(sizes: &[usize], v: usize) -> usize {
        let mut start = 0;
        for (h, &s) in sizes.iter().enumerate() {
            if v < start + s {
                return h;
            }
            start += s;
        }
        unreachable!("node {v} outside every neighbourhood")
    }

    #[test]
    fn ring_lattice_has_exact_degree_and_clustering() {
        for k in [4usize, 6, 8] {
            let g = community(&spec(vec![2000], k, 0.0, 0.0), 1);
            assert!(g.is_well_formed());
            assert_eq!(g.node_count(), 2000);
            assert_eq!(g.edge_count(), 2000 * k / 2);
            assert!((0..2000).all(|v| g.degree(v) == k));
            let expected = 3.0 * (k as f64 - 2.0) / (4.0 * (k as f64 - 1.0));
            let c = clustering_coefficient(&g);
            assert!((c - expected).abs() < 1e-12, "k={k}: clustering {c}, expected {expected}");
        }
        assert!((clustering_coefficient(&community(&spec(vec![2000], 6, 0.0, 0.0), 1)) - 0.6).abs() < 1e-12);
    }

    #[test]
    fn small_world_keeps_clustering_and_shortens_paths() {
        let lattice = community(&spec(vec![2000], 6, 0.0, 0.0), 3);
        let ws = community(&spec(vec![2000], 6, 0.1, 0.0), 3);
        assert_eq!(ws.edge_count(), 6000, "rewiring keeps the edge count");
        let c = clustering_coefficient(&ws);
        assert!(c > 0.4 && c < 0.6, "clustering {c}");
        let l_lattice = mean_shortest_path_sample(&lattice, 50, 9);
        let l_ws = mean_shortest_path_sample(&ws, 50, 9);
        assert!(l_lattice > 150.0, "lattice path {l_lattice}");
        assert!(l_ws < l_lattice / 2.0, "ws path {l_ws} vs lattice {l_lattice}");
        assert!(l_ws < 12.0, "ws path {l_ws}");
    }

    #[test]
    fn full_rewiring_looks_random() {
        let g = community(&spec(vec![2000], 6, 1.0, 0.0), 5);
        assert!(g.is_well_formed());
        assert_eq!(g.edge_count(), 6000);
        let c = clustering_coefficient(&g);
        // A random graph with mean degree k has clustering about k / n = 0.003.
        assert!(c < 0.01, "clustering {c}");
    }

    #[test]
    fn community_csr_invariants_and_small_neighbourhoods() {
        let sizes = vec![500, 300, 7, 3, 0, 1, 2, 6, 1000];
        let g = community(&spec(sizes.clone(), 6, 0.1, 0.1), 11);
        assert_eq!(g.node_count(), sizes.iter().sum::<usize>());
        assert!(g.is_well_formed());
        for u in 0..g.node_count() {
            let row = g.neighbours(u);
            assert!(row.windows(2).all(|w| w[0] < w[1]), "row {u} not strictly sorted");
            assert!(!row.contains(&(u as u32)), "self loop at {u}");
            for &v in row {
                assert!(g.neighbours(v as usize).contains(&(u as u32)), "edge {u}-{v} not symmetric");
            }
        }
        // Tiny neighbourhoods are complete graphs: count their internal edges.
        let internal = |h: usize| g.edges().filter(|&(u, v)| hood_of(&sizes, u as usize) == h && hood_of(&sizes, v as usize) == h).count();
        assert_eq!(internal(2), 21); // 7 nodes <= k + 1: complete
        assert_eq!(internal(3), 3);
        assert_eq!(internal(5), 0);
        assert_eq!(internal(6), 1);
        assert_eq!(internal(7), 15);
        assert_eq!(internal(0), 500 * 3);
        assert_eq!(internal(8), 1000 * 3);
    }

    #[test]
    fn cross_links_join_different_neighbourhoods_in_the_specified_number() {
        let sizes = vec![800, 600, 400, 200];
        let per_citizen = 0.1;
        let g = community(&spec(sizes.clone(), 6, 0.1, per_citizen), 21);
        let n: usize = sizes.iter().sum();
        let cross = g.edges().filter(|&(u, v)| hood_of(&sizes, u as usize) != hood_of(&sizes, v as usize)).count();
        assert_eq!(cross, (per_citizen * n as f64).round() as usize);
        assert_eq!(g.edge_count(), n * 3 + cross);
        // Every neighbourhood takes part, roughly in proportion to n_h (N - n_h).
        for h in 0..sizes.len() {
            assert!(g.edges().any(|(u, v)| {
                let (a, b) = (hood_of(&sizes, u as usize), hood_of(&sizes, v as usize));
                a != b && (a == h || b == h)
            }));
        }
        // No cross links with a single neighbourhood; a dense request is capped at all pairs.
        assert_eq!(community(&spec(vec![100], 6, 0.1, 1.0), 1).edge_count(), 300);
        let tiny = community(&spec(vec![2, 3], 6, 0.0, 10.0), 1);
        assert_eq!(tiny.edge_count(), 1 + 3 + 6);
        let half = community(&spec(vec![3, 3], 6, 0.0, 0.5), 1);
        assert_eq!(half.edge_count(), 3 + 3 + 3);
    }

    #[test]
    fn community_is_deterministic_across_thread_counts_and_seed_sensitive() {
        let s = spec(vec![3000, 2500, 10, 4000], 6, 0.1, 0.05);
        let a = community(&s, 42);
        let b = community(&s, 42);
        assert_eq!(a, b);
        let in_pool =
            |threads: usize| rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool").install(|| community(&s, 42));
        assert_eq!(in_pool(1), a);
        assert_eq!(in_pool(2), a);
        assert_ne!(community(&s, 43), a);
        // Metrics do not depend on the thread count either.
        let metric_in_pool = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool")
                .install(|| (clustering_coefficient(&a).to_bits(), mean_shortest_path_sample(&a, 20, 1).to_bits()))
        };
        assert_eq!(metric_in_pool(1), metric_in_pool(2));
    }

    #[test]
    fn one_million_citizens_build_quickly() {
        let s = spec(vec![5000; 200], 6, 0.1, 0.05);
        let t = std::time::Instant::now();
        let g = community(&s, 7);
        let elapsed = t.elapsed();
        eprintln!("1,000,000 citizens built in {elapsed:?}");
        assert_eq!(g.node_count(), 1_000_000);
        assert_eq!(g.edge_count(), 3_000_000 + 50_000);
        let stats = degree_stats(&g);
        assert!((stats.mean - 6.1).abs() < 1e-9, "mean degree {}", stats.mean);
        assert!(stats.min >= 3, "min degree {}", stats.min);
    }

    #[test]
    fn csr_converts_to_and_from_petgraph() {
        let mut g = UnGraph::<(), ()>::new_undirected();
        let n: Vec<_> = (0..5).map(|_| g.add_node(())).collect();
        g.add_edge(n[0], n[1], ());
        g.add_edge(n[1], n[0], ()); // duplicate, other orientation
        g.add_edge(n[2], n[2], ()); // self loop
        g.add_edge(n[3], n[1], ());
        g.add_edge(n[4], n[0], ());
        let csr = Csr::from_graph(&g);
        assert!(csr.is_well_formed());
        assert_eq!(csr.node_count(), 5);
        assert_eq!(csr.edge_count(), 3);
        assert_eq!(csr.neighbours(1), &[0, 3]);
        assert_eq!(csr.neighbours(2), &[] as &[u32]);
        let back = csr.to_graph();
        assert_eq!(back.node_count(), 5);
        assert_eq!(back.edge_count(), 3);
        assert_eq!(Csr::from_graph(&back), csr);
        assert_eq!(Csr::default().node_count(), 0);
        assert!(Csr::default().is_well_formed());
        let broken = Csr { offsets: vec![0, 1, 1], targets: vec![1] };
        assert!(!broken.is_well_formed(), "one-sided edge must be rejected");
    }

    #[test]
    fn metrics_on_known_graphs() {
        // Path 0-1-2-3: ordered-pair distances sum to 20 over 12 pairs.
        let path = Csr::from_edges(4, &[(0, 1), (1, 2), (2, 3)]);
        assert!((mean_shortest_path_sample(&path, 4, 0) - 20.0 / 12.0).abs() < 1e-12);
        assert_eq!(clustering_coefficient(&path), 0.0);
        let complete = Csr::from_edges(5, &[(0, 1), (0, 2), (0, 3), (0, 4), (1, 2), (1, 3), (1, 4), (2, 3), (2, 4), (3, 4)]);
        assert_eq!(mean_shortest_path_sample(&complete, 100, 0), 1.0);
        assert!((clustering_coefficient(&complete) - 1.0).abs() < 1e-12);
        // Triangle 0-1-2 plus pendant 3 on 0: C = (1/3 + 1 + 1 + 0) / 4.
        let tri = Csr::from_edges(4, &[(0, 1), (1, 2), (2, 0), (0, 3)]);
        assert!((clustering_coefficient(&tri) - (1.0 / 3.0 + 2.0) / 4.0).abs() < 1e-12);
        // Star with 4 leaves: degrees 4,1,1,1,1.
        let star = Csr::from_edges(5, &[(0, 1), (0, 2), (0, 3), (0, 4)]);
        let s = degree_stats(&star);
        assert_eq!((s.min, s.max), (1, 4));
        assert!((s.mean - 1.6).abs() < 1e-12);
        assert!((s.sd - 1.2).abs() < 1e-12);
        // Unreachable pairs are left out; no pairs at all gives 0.
        let two_parts = Csr::from_edges(4, &[(0, 1), (2, 3)]);
        assert_eq!(mean_shortest_path_sample(&two_parts, 4, 0), 1.0);
        assert_eq!(mean_shortest_path_sample(&Csr::from_edges(3, &[]), 3, 0), 0.0);
        assert_eq!(mean_shortest_path_sample(&path, 0, 0), 0.0);
        assert_eq!(degree_stats(&Csr::default()).max, 0);
    }

    #[test]
    fn managers_needed_follows_the_documented_rule() {
        assert_eq!(managers_needed(120, 4, 8), vec![15, 2, 1, 1]);
        assert_eq!(managers_needed(120, 1, 40), vec![3]);
        assert_eq!(managers_needed(1000, 2, 8), vec![125, 16]);
        assert_eq!(managers_needed(120, 0, 8), Vec::<usize>::new());
        assert_eq!(managers_needed(0, 3, 8), vec![0, 0, 0]);
        assert_eq!(managers_needed(5, 2, 0), vec![5, 5]);
    }

    fn org(teams: usize, layers: u32, span: u32, peer_links: f64) -> OrgNetwork {
        organisation(
            &OrgSpec { teams, management_layers: layers, span_of_control: span, peer_links, departments: 4, ..Default::default() },
            17,
        )
    }

    #[test]
    fn reporting_structure_is_a_tree_within_the_span() {
        let o = org(120, 4, 8, 0.05);
        assert_eq!(o.managers_per_layer, vec![15, 2, 1, 1]);
        assert_eq!(o.manager_count(), 19);
        assert_eq!(o.graph.node_count(), 139);
        assert!(!is_cyclic_directed(&o.graph));
        let top = o.managers_per_layer.len() as u32;
        for node in o.graph.node_indices() {
            let up: Vec<_> = o.graph.edges_directed(node, Direction::Outgoing).filter(|e| *e.weight() == OrgLink::Reports).collect();
            let down = o.graph.edges_directed(node, Direction::Incoming).filter(|e| *e.weight() == OrgLink::Reports).count();
            match o.graph[node] {
                OrgNode::Team(_) => {
                    assert_eq!(up.len(), 1);
                    assert_eq!(o.graph[up[0].target()], OrgNode::Manager { layer: 1 });
                    assert_eq!(down, 0);
                }
                OrgNode::Manager { layer } => {
                    assert!((1..=8).contains(&down), "manager with {down} reports");
                    if layer == top {
                        assert!(up.is_empty());
                    } else {
                        assert_eq!(up.len(), 1);
                        assert_eq!(o.graph[up[0].target()], OrgNode::Manager { layer: layer + 1 });
                    }
                }
            }
        }
        // Following supervisors from any team reaches the single top manager in `top` steps.
        let mut node = o.teams[77];
        let mut steps = 0;
        while let Some(s) = o.supervisor(node) {
            node = s;
            steps += 1;
        }
        assert_eq!(steps, 4);
        assert_eq!(o.team_department.first(), Some(&0));
        assert_eq!(o.team_department.last(), Some(&3));
        assert!(o.team_department.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn flat_and_empty_organisations() {
        let flat = org(120, 1, 40, 0.2);
        assert_eq!(flat.managers_per_layer, vec![3]);
        assert!(flat.teams.iter().all(|&t| flat.supervisor(t).is_some()));
        let self_managed = org(30, 0, 8, 0.2);
        assert_eq!(self_managed.manager_count(), 0);
        assert!(self_managed.graph.edge_weights().all(|&l| l == OrgLink::Peer));
        let empty = org(0, 3, 8, 0.5);
        assert_eq!(empty.graph.node_count(), 0);
        assert_eq!(empty.managers_per_layer, vec![0, 0, 0]);
        assert_eq!(empty.peer_csr().node_count(), 0);
        let zero_departments = organisation(
            &OrgSpec { teams: 5, management_layers: 1, span_of_control: 0, peer_links: f64::NAN, departments: 0, ..Default::default() },
            1,
        );
        assert_eq!(zero_departments.team_department, vec![0; 5]);
        assert_eq!(zero_departments.managers_per_layer, vec![5]);
        assert_eq!(zero_departments.peer_link_count(), 0);
    }

    #[test]
    fn peer_links_follow_the_density() {
        assert_eq!(org(200, 2, 8, 0.0).peer_link_count(), 0);
        let all = org(20, 2, 8, 1.0);
        assert_eq!(all.peer_link_count(), 190);
        let teams = 2000;
        let p = 0.02;
        let o = org(teams, 3, 8, p);
        for e in o.graph.edge_references().filter(|e| *e.weight() == OrgLink::Peer) {
            let (OrgNode::Team(a), OrgNode::Team(b)) = (o.graph[e.source()], o.graph[e.target()]) else {
                panic!("peer link between non-teams");
            };
            assert!(a < b, "peer link stored from higher to lower index");
        }
        let peers = o.peer_csr();
        assert!(peers.is_well_formed());
        assert_eq!(peers.edge_count(), o.peer_link_count());
        let mean = degree_stats(&peers).mean;
        let expected = p * (teams - 1) as f64;
        // sd of the mean degree is about 0.2 here.
        assert!((mean - expected).abs() < 1.5, "mean peer degree {mean}, expected {expected}");
        assert_eq!(org(teams, 3, 8, p).peer_csr(), peers, "same seed, same peers");
        // Sparse densities take the geometric-skip path without bias.
        let sparse = org(3000, 1, 8, 0.001);
        let mean = degree_stats(&sparse.peer_csr()).mean;
        assert!((mean - 2.999).abs() < 0.3, "sparse mean peer degree {mean}");
    }

    #[test]
    fn clustered_and_random_regular_peers_share_the_degree_not_the_clustering() {
        let spec = |peer_structure| OrgSpec {
            teams: 60,
            management_layers: 1,
            span_of_control: 8,
            peer_links: 4.0 / 59.0,
            departments: 6,
            peer_structure,
            peer_rewire: 0.0,
        };
        let clustered = organisation(&spec(PeerStructure::Clustered), 3).peer_csr();
        let shuffled = organisation(&spec(PeerStructure::RandomRegular), 3).peer_csr();
        assert!(clustered.is_well_formed() && shuffled.is_well_formed());
        for v in 0..60 {
            assert_eq!(clustered.degree(v), 4, "lattice degree of team {v}");
            assert_eq!(shuffled.degree(v), 4, "shuffled degree of team {v}");
        }
        // A ring lattice with k = 4 has clustering 3(k-2)/(4(k-1)) = 0.5.
        assert!((clustering_coefficient(&clustered) - 0.5).abs() < 1e-12);
        assert!(clustering_coefficient(&shuffled) < 0.15, "shuffled clustering {}", clustering_coefficient(&shuffled));
        assert_ne!(clustered, shuffled);
        assert_eq!(organisation(&spec(PeerStructure::RandomRegular), 3).peer_csr(), shuffled, "same seed, same links");
        assert_eq!(lattice_degree(60, 0.0), 0);
        assert_eq!(lattice_degree(5, 1.0), 4);
        assert_eq!(lattice_degree(10, 0.01), 2);
    }
}
