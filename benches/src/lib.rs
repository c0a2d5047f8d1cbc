//! Shared pieces of the criterion benches in `benches/`: the value types every bench caches,
//! the 800-store chain list of the example server (from the example's own model and seed
//! generator, the `web-server-model` crate), a Zipf key sampler, and the `FIGURE` lines the
//! benches print for non-time results.
//!
//! The benches themselves live in `benches/*.rs`; see `README.md` for how to run them.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use web_server_model::seed::{self, SeedSize, SeedStore};

/// A store as the example server's API shows it (the example's own type).
pub use web_server_model::StoreJson;
/// The example server's xorshift64* generator (the one its seed data comes from).
pub use web_server_model::seed::Rng;

/// A small value: a struct with two short strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Small {
    /// A store name.
    pub name: String,
    /// A city.
    pub city: String,
}

/// The small value every bench caches.
pub fn small() -> Small {
    Small {
        name: "Store 42".into(),
        city: "Seoul".into(),
    }
}

/// A value of about 2 KiB: two short strings and a 2,000-byte text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Big {
    /// A store name.
    pub name: String,
    /// A city.
    pub city: String,
    /// 2,000 bytes of text.
    pub body: String,
}

/// The 2 KiB value every bench caches.
pub fn big() -> Big {
    let mut rng = Rng(0xB16_B0D7);
    let words = [
        "lens", "frame", "coating", "store", "Seoul", "optics", "repair",
    ];
    let mut body = String::with_capacity(2_048);
    while body.len() < 2_000 {
        body.push_str(words[rng.below(words.len() as u64) as usize]);
        body.push(' ');
    }
    body.truncate(2_000);
    Big {
        name: "Store 42".into(),
        city: "Seoul".into(),
        body,
    }
}

/// The chain list of the example server's largest chain: the first `stores` stores of chain 1
/// exactly as the example's seed generates them, brands and services folded in as the API
/// returns them, every `updated_at` within the day before a fixed instant (so every run
/// encodes the same bytes).
pub fn chain_stores(stores: i64) -> Vec<StoreJson> {
    let size = SeedSize {
        chains: 1,
        largest_chain: stores,
        posts: 0,
    };
    let now = 1_732_700_000_000_000_i64;
    seed::generate(size, now).chains[0]
        .stores
        .iter()
        .map(SeedStore::to_json)
        .collect()
}

/// Zipf-distributed ranks `0..n` (rank 0 the most popular), with exponent `s`.
#[derive(Debug, Clone)]
pub struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    /// The distribution over `n` keys.
    pub fn new(n: usize, s: f64) -> Zipf {
        let mut cdf = Vec::with_capacity(n);
        let mut total = 0.0;
        for rank in 1..=n {
            total += 1.0 / (rank as f64).powf(s);
            cdf.push(total);
        }
        for p in &mut cdf {
            *p /= total;
        }
        Zipf { cdf }
    }

    /// One rank.
    pub fn sample(&self, rng: &mut Rng) -> u64 {
        let u = rng.unit();
        self.cdf.partition_point(|&p| p < u).min(self.cdf.len() - 1) as u64
    }
}

/// Prints a non-time result as `FIGURE <bench> <name> = <value>`, for the README.
pub fn figure(bench: &str, name: &str, value: impl std::fmt::Display) {
    println!("FIGURE {bench} {name} = {value}");
}

/// A rate per second, rounded.
pub fn per_sec(count: u64, elapsed: Duration) -> u64 {
    (count as f64 / elapsed.as_secs_f64().max(1e-9)).round() as u64
}
