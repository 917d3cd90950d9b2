use sim_core::model::World;
use sim_core::scenario::{Override, Scenario};
fn main() {
    let sets: Vec<Override> = std::env::args().skip(1).map(|a| Override::parse(&a).unwrap()).collect();
    let s = Scenario::builtin(&sets).unwrap();
    let mut w = World::new(&s, 1);
    for d in 0..s.run.days { w.step(); if d % 365 == 364 {
        let mut counts = vec![0usize; w.teams.len()];
        for (_, n) in w.needs.iter() { if matches!(n.state, sim_core::model::needs::NeedState::Queued) { counts[n.team as usize]+=1; } }
        let aw = w.needs.count(sim_core::model::needs::NeedState::AwaitingApproval);
        println!("day {d}: teams {:?} queued {:?} awaiting {aw} factors {:?}", w.teams.iter().map(|t| t.workers.len()).collect::<Vec<_>>(), counts, w.teams.iter().map(|t| (t.desired_time_factor*100.0).round()/100.0).collect::<Vec<_>>());
    }}
}
