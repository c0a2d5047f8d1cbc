//! Shared pieces of the criterion benches in `benches/`: the value types every bench caches,
//! the 800-store chain list of the example server (generated here, deterministically), a Zipf
//! key sampler, and the `FIGURE` lines the benches print for non-time results.
//!
//! The benches themselves live in `benches/*.rs`; see `README.md` for how to run them.

use std::time::Duration;

use serde::{Deserialize, Serialize};

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

/// A store as the example server's API shows it (`examples/web-server/src/models.rs`): the
/// same fields, so the codec bench measures the same shape of data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreJson {
    /// Primary key.
    pub id: i64,
    /// The chain it belongs to.
    pub chain_id: i64,
    /// Display name.
    pub name: String,
    /// Street address.
    pub address: String,
    /// Phone number.
    pub phone: String,
    /// Latitude.
    pub latitude: f64,
    /// Longitude.
    pub longitude: f64,
    /// Opening hours, human readable.
    pub opening_hours: String,
    /// Brands carried.
    pub brands: Vec<String>,
    /// Services offered.
    pub services: Vec<String>,
    /// Last change, µs since the epoch.
    pub updated_at: i64,
}

const SERVICES: &[&str] = &[
    "eye exam",
    "contact lenses",
    "frame repair",
    "same-day glasses",
    "sunglasses",
    "kids' frames",
];
const STREETS: &[&str] = &[
    "Teheran-ro",
    "Gangnam-daero",
    "Sejong-daero",
    "Hangang-daero",
    "Olympic-ro",
];

/// The example server's xorshift64* generator (`examples/web-server/src/db/seed.rs`).
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> i64 {
        i64::try_from(self.next_u64() % n).unwrap_or(0)
    }

    /// A uniform number in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1_u64 << 53) as f64
    }
}

/// The chain list of the example server's largest chain: `stores` stores generated the way
/// seed 002 generates chain 1 (same generator, seed and field order), brands and services
/// folded in as the API returns them.
pub fn chain_stores(stores: i64) -> Vec<StoreJson> {
    let mut rng = Rng(0x5EED_CAFE);
    let now = 1_732_700_000_000_000_i64;
    let mut out = Vec::with_capacity(usize::try_from(stores).unwrap_or(0));
    for n in 1..=stores {
        let street = STREETS[rng.below(STREETS.len() as u64) as usize];
        let address = format!("{} {street}, Seoul", 1 + rng.below(400));
        let phone = format!("02-{:04}-{:04}", rng.below(10_000), rng.below(10_000));
        let latitude = 37.45 + rng.below(20_000) as f64 / 100_000.0;
        let longitude = 126.85 + rng.below(30_000) as f64 / 100_000.0;
        let opening_hours = format!("Mon-Fri 10:00-{}:00, Sat 10:00-18:00", 19 + rng.below(3));
        let updated_at = now - rng.below(86_400_000_000);
        let first_brand = 1 + rng.below(30);
        let mut brands: Vec<String> = (0..(1 + rng.below(3)))
            .map(|b| format!("Brand {:02}", 1 + (first_brand + b * 7) % 30))
            .collect();
        brands.sort();
        let first_service = rng.below(SERVICES.len() as u64);
        let mut services: Vec<String> = (0..(1 + rng.below(4)))
            .map(|s| SERVICES[((first_service + s) % SERVICES.len() as i64) as usize].to_string())
            .collect();
        services.sort();
        out.push(StoreJson {
            id: n,
            chain_id: 1,
            name: format!("Optics Chain 1 #{n}"),
            address,
            phone,
            latitude,
            longitude,
            opening_hours,
            brands,
            services,
            updated_at,
        });
    }
    out
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
