//! What torch does with the profiles it loaded, one module per mode: draw a
//! flame graph (or print folded stacks), compare with a base, hunt a leak
//! over time, print the top table or every trace, summarize MemStats, or write a report
//! folder. Each calls the shared stages in `lib.rs`.

pub mod compare;
pub mod diff;
pub mod draw;
pub mod hunt;
pub mod memstats;
pub mod report;
pub mod snapshot;
pub mod top;
pub mod traces;
