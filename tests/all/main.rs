//! Integration tests: one test binary, one module per area.

mod browser;
mod chromium;
mod cli;
mod compare;
mod compiler;
mod diff;
mod dump;
mod errors;
mod filter;
mod fixtures;
mod golden;
mod hostile;
mod http;
mod legacy;
mod list;
mod pclntab;
mod platforms;
mod present;
mod scale;
mod symbolize;
mod top;
mod traces;
mod util;
