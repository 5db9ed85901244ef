//! Integration tests: one test binary, one module per area.

mod cli;
mod errors;
mod fixtures;
mod golden;
mod http;
mod symbolize;
mod top;
mod util;
