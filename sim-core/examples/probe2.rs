use sim_core::model::World;
use sim_core::scenario::{Override, Scenario};
fn main() {
    let sets: Vec<Override> = std::env::args().skip(1).map(|a| Override::parse(&a).unwrap()).collect();
    let s = Scenario::builtin(&sets).unwrap();
    let mut w = World::new(&s, 1);
    for _ in 0..400 { w.step(); }
    let mut hist = [0usize; 40];
    for (_, n) in w.needs.iter() { if matches!(n.state, sim_core::model::needs::NeedState::Queued) { let wt = (w.day - n.case_arrival) as usize; hist[wt.min(39)] += 1; } }
    println!("{:?}", hist);
    println!("integrity {:?}", w.teams.iter().map(|t| t.integrity_mean).collect::<Vec<_>>());
}
