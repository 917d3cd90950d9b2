//! Building the world: citizens, the community network, the workforce and the teams of a
//! scenario for one run seed (MODEL.md §2).

use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};

use super::needs::NO_WORKER;
use super::*;
use crate::scenario::PopulationParams;

/// The citizens and their community network of a run: built from the population section and the
/// run seed alone (their own random streams), so runs of scenarios that share both can share one
/// (`sim compare` runs every scenario on the same seeds).
#[derive(Debug, Clone)]
pub struct Population {
    params: PopulationParams,
    seed: u64,
    citizens: Citizens,
    community: Arc<Csr>,
    neighbourhood_sizes: Vec<usize>,
}

impl Population {
    /// Whether this is the population of a run of `scenario` with seed `seed`.
    pub fn fits(&self, scenario: &Scenario, seed: u64) -> bool {
        self.seed == seed && self.params == scenario.population
    }

    /// Builds the population of section `pop` for run seed `seed`.
    pub fn new(pop: &PopulationParams, seed: u64) -> Self {
        let n = pop.citizens;
        let nn = pop.neighbourhoods;

        // Citizens, neighbourhood by neighbourhood in equal blocks.
        let sizes: Vec<usize> = (0..nn).map(|k| n / nn + usize::from(k < n % nn)).collect();
        let spec = CommunitySpec {
            neighbourhood_sizes: sizes.clone(),
            k: pop.community_k,
            rewire: pop.community_rewire,
            cross_links_per_citizen: pop.cross_links_per_citizen,
        };
        // The citizens and the network draw from streams of their own: built side by side.
        let (c, community) = rayon::join(|| citizens(pop, &sizes, seed), || community(&spec, seed));
        Population { params: pop.clone(), seed, citizens: c, community: Arc::new(community), neighbourhood_sizes: sizes }
    }
}

/// The citizens of population section `pop`, `sizes[k]` in neighbourhood `k`, for run seed `seed`.
fn citizens(pop: &PopulationParams, sizes: &[usize], seed: u64) -> Citizens {
    let (n, nn) = (pop.citizens, pop.neighbourhoods);
    let mut rng = stream(seed, "population");
    // Sized once: grown by doubling, a million citizens' vectors would briefly take half again.
    let mut c = Citizens {
        neighbourhood: Vec::with_capacity(n),
        deprivation: Vec::with_capacity(n),
        wellbeing: SummedValues::with_capacity(n),
        wellbeing_baseline: Vec::with_capacity(n),
        trust: SummedValues::with_capacity(n),
        latent: Vec::with_capacity(n),
        opinion: Vec::with_capacity(n),
        ..Citizens::default()
    };
    let (dep, wb, tr, lat) = (
        beta(pop.deprivation_mean, pop.spread_concentration),
        beta(pop.wellbeing_mean, pop.spread_concentration),
        beta(pop.trust_mean, pop.spread_concentration),
        beta(pop.latent_mean, pop.spread_concentration),
    );
    let mut opinions = stream(seed, "opinions");
    for (k, &size) in sizes.iter().enumerate() {
        // Deprivation may differ between neighbourhoods (0: the same everywhere).
        let tilt = if nn > 1 { 2.0 * k as f64 / (nn - 1) as f64 - 1.0 } else { 0.0 };
        let dep_k = if pop.deprivation_gradient > 0.0 {
            beta((pop.deprivation_mean * (1.0 + pop.deprivation_gradient * tilt)).clamp(0.01, 0.99), pop.spread_concentration)
        } else {
            dep
        };
        for _ in 0..size {
            c.neighbourhood.push(k as u32);
            c.deprivation.push(dep_k.sample(&mut rng));
            // Two camps on the contested question, with noise.
            let camp = if opinions.random::<bool>() { pop.opinion_camps } else { -pop.opinion_camps };
            let noise: f64 = opinions.sample(StandardNormal);
            c.opinion.push((camp + 0.2 * noise).clamp(-1.0, 1.0));
            let w = wb.sample(&mut rng);
            c.wellbeing.push(w);
            c.wellbeing_baseline.push(w);
            c.trust.push(tr.sample(&mut rng));
            c.latent.push(lat.sample(&mut rng));
        }
    }
    c.arrears = vec![0; n];
    c.last_worker = vec![NO_WORKER; n];
    c.home_team = vec![0; n];
    c.served_in_window = vec![false; n];
    c.last_served_day = vec![u32::MAX; n];
    c
}

impl World {
    /// Builds the world of `scenario` for run seed `seed`.
    pub fn new(scenario: &Scenario, seed: u64) -> Self {
        Self::with_population(scenario, seed, Population::new(&scenario.population, seed))
    }

    /// Builds the world of `scenario` for run seed `seed` on `population`, which must be that
    /// run's ([`Population::fits`]; panics otherwise).
    pub fn with_population(scenario: &Scenario, seed: u64, population: Population) -> Self {
        assert!(population.fits(scenario, seed), "a population built for another seed or population section");
        let s = scenario;
        let Population { citizens: c, community, neighbourhood_sizes: sizes, .. } = population;
        let n_citizens = c.len();

        // Workforce and teams.
        let g = &s.governance;
        let staff = s.workforce.frontline_staff;
        let mut wrng = stream(seed, "workforce");
        let (sk, ig) = (
            beta(s.workforce.skill_mean, s.workforce.spread_concentration),
            beta(s.workforce.integrity_mean, s.workforce.spread_concentration),
        );
        let mut workers = Workers::default();
        for _ in 0..staff {
            let (skill, integrity) = (sk.sample(&mut wrng), ig.sample(&mut wrng));
            workers.push(skill, integrity, s.staff.morale_base + 0.5 * s.staff.morale_from_resolution);
        }

        let rate_total: f64 = s.need_types.iter().map(|t| t.rate_per_year).sum();
        let reference_hours = if rate_total > 0.0 {
            s.need_types.iter().map(|t| t.rate_per_year * t.standard_hours).sum::<f64>() / rate_total
        } else {
            s.need_types.iter().map(|t| t.standard_hours).sum::<f64>() / s.need_types.len() as f64
        };
        let reference_complexity = if rate_total > 0.0 {
            s.need_types.iter().map(|t| t.rate_per_year * t.complexity_mean).sum::<f64>() / rate_total
        } else {
            s.need_types.iter().map(|t| t.complexity_mean).sum::<f64>() / s.need_types.len() as f64
        };
        let stocks = StockFlow::from_pairs(&[
            ("budget", s.money.initial_budget),
            ("perceived_performance", 1.0),
            ("recruitment_pipeline", 0.0),
            ("recruits_arrived", 0.0),
        ]);
        let mut world = World {
            scenario: s.clone(),
            governance: g.clone(),
            policy: g.clone(),
            seed,
            day: 0,
            citizens: c,
            community,
            organisation: organisation(
                &OrgSpec { teams: 0, management_layers: 0, span_of_control: 1, peer_links: 0.0, departments: 1, ..Default::default() },
                seed,
            ),
            workers,
            teams: Vec::new(),
            needs: NeedSet::default(),
            totals: CaseTotals::default(),
            stocks,
            stage_teams: Vec::new(),
            streams: Streams {
                demand: stream(seed, "demand"),
                presentation: stream(seed, "presentation"),
                response: stream(seed, "response"),
                outcome: stream(seed, "outcome"),
                gaming: stream(seed, "gaming"),
                social: stream(seed, "social"),
                staff: stream(seed, "staff"),
            },
            scratch: Scratch::default(),
            // On one thread the split paths would only hand work back and forth (city-1m pinned to
            // one core: 1.04x the time of the one-thread paths).
            split: n_citizens >= SPLIT_FROM && rayon::current_num_threads() > 1,
            neighbourhood_sizes: sizes,
            recruitment: Recruitment::default(),
            shocks: shocks::Shocks::default(),
            assemblies: citizens::Assemblies::default(),
            accounts: accounting::Accounts::new(reference_hours),
            management: management::Management::new(staff),
            learning: learning::Learning::new(seed, reference_complexity),
        };
        world.build_structure();
        world
    }
}
