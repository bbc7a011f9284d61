//! One server per test binary: a `harness = false` test's `main` hands its cases to [`run`],
//! which starts the server the cases take ([`SuiteServer`]: privacyIDEA or eduMFA) only if a case
//! is selected, runs the cases with libtest's filtering and report (libtest-mimic), and stops the
//! server after the last one. The default harness has no "after all tests" hook, hence this.

use std::ops::Deref;
use std::process::ExitCode;
use std::sync::{Arc, RwLock};

pub use libtest_mimic::Failed;
use libtest_mimic::{Arguments, Trial};

use crate::edumfa::{EDUMFA, EduMfa};
use crate::privacyidea::{PRIVACYIDEA, PrivacyIdea};
use crate::server::{Product, Result, Server};

/// What a case returns: `Err` (or a panic) fails it.
pub type Outcome = std::result::Result<(), Failed>;
/// A case: a named function of the running server `S`.
pub type Case<S> = fn(&S) -> Outcome;

/// A server a suite can start: a harness that derefs to the shared [`Server`].
pub trait SuiteServer: Deref<Target = Server> + Send + Sync + Sized + 'static {
    const PRODUCT: &'static Product;
    fn start() -> Result<Self>;
}

impl SuiteServer for PrivacyIdea {
    const PRODUCT: &'static Product = &PRIVACYIDEA;
    fn start() -> Result<Self> {
        PrivacyIdea::start()
    }
}

impl SuiteServer for EduMfa {
    const PRODUCT: &'static Product = &EDUMFA;
    fn start() -> Result<Self> {
        EduMfa::start()
    }
}

/// How a binary's cases share the server.
pub struct Suite<S: 'static> {
    pub cases: &'static [(&'static str, Case<S>)],
    /// Cases that change server-wide settings for a moment: they run alone even when
    /// `--test-threads` lets the others share the server.
    pub alone: &'static [&'static str],
    /// Threads when the command line does not say (`None`: libtest's default, one per core).
    pub default_threads: Option<usize>,
}

/// Whether libtest-mimic will run the case `name` with these arguments (its filter rules).
fn selected(args: &Arguments, name: &str) -> bool {
    let matches = |pattern: &str| {
        if args.exact {
            name == pattern
        } else {
            name.contains(pattern)
        }
    };
    args.filter.as_deref().is_none_or(matches) && !args.skip.iter().any(|s| matches(s))
}

/// Runs an async call of the core to completion on this thread (the core's futures need no
/// runtime; the reqwest transport runs its requests on its own).
pub use authcore_http::block_on;

static SETTINGS: RwLock<()> = RwLock::new(());

/// Runs `suite` against one server it starts; fails (never skips) when the server cannot be
/// installed or started.
pub fn run<S: SuiteServer>(suite: &Suite<S>) -> ExitCode {
    let mut args = Arguments::from_args();
    if args.test_threads.is_none() {
        args.test_threads = suite.default_threads;
    }
    // `cargo test --workspace some_filter` runs this binary too: start no server when the
    // filter leaves no case to run (or when only listing).
    let any_selected = suite.cases.iter().any(|(name, _)| selected(&args, name));
    let server = if args.list || !any_selected {
        None
    } else {
        match S::start() {
            Ok(server) => {
                eprintln!(
                    "{} serving at {} (started in {:.1?})",
                    S::PRODUCT.label,
                    server.base_url(),
                    server.started_in()
                );
                Some(Arc::new(server))
            }
            Err(e) => {
                eprintln!(
                    "error: the {} test server could not be started: {e}",
                    S::PRODUCT.label
                );
                return ExitCode::FAILURE;
            }
        }
    };
    let trials = suite
        .cases
        .iter()
        .map(|&(name, case)| {
            let server = server.clone();
            let alone = suite.alone.contains(&name);
            Trial::test(name, move || {
                let Some(server) = &server else {
                    return Err("the server was not started".into());
                };
                if alone {
                    let _alone = SETTINGS.write().unwrap_or_else(|p| p.into_inner());
                    case(server)
                } else {
                    let _shared = SETTINGS.read().unwrap_or_else(|p| p.into_inner());
                    case(server)
                }
            })
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    // The trials (and their clones of the Arc) are gone: this drop stops the server.
    drop(server);
    conclusion.exit_code()
}
