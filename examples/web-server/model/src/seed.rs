//! Deterministic seed data: ~50 chains, the largest with ~800 stores (seed 002), brands and
//! services per store, and posts with like counts (seed 003). The same data on every machine
//! and run: one xorshift64* generator with a fixed seed, drawn in a fixed order.
//!
//! The server writes it into its database (`web_server::db`); the benches encode chain 1's
//! store list as the API returns it ([`SeedStore::to_json`]).

use crate::StoreJson;

/// How much to seed; tests use a small data set to start fast.
#[derive(Debug, Clone, Copy)]
pub struct SeedSize {
    /// Number of chains.
    pub chains: i64,
    /// Stores in chain 1 (the big one).
    pub largest_chain: i64,
    /// Number of posts.
    pub posts: i64,
}

impl SeedSize {
    /// The demo data set.
    pub const FULL: SeedSize = SeedSize {
        chains: 50,
        largest_chain: 800,
        posts: 100,
    };
}

/// Brands have ids `1..=BRANDS`.
pub const BRANDS: i64 = 30;

/// The services a store may offer.
pub const SERVICES: &[&str] = &[
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

/// The seed generator's first state.
const SEED: u64 = 0x5EED_CAFE;

/// A tiny deterministic generator (xorshift64*): the same numbers on every machine and run.
///
/// ```
/// use web_server_model::seed::Rng;
///
/// let (mut a, mut b) = (Rng(7), Rng(7));
/// assert_eq!(a.next_u64(), b.next_u64());
/// assert!((0..10).all(|_| a.below(6) < 6 && (0.0..1.0).contains(&a.unit())));
/// ```
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

/// The name of brand `id`.
pub fn brand_name(id: i64) -> String {
    format!("Brand {id:02}")
}

/// Everything the database starts with.
#[derive(Debug, Clone)]
pub struct SeedData {
    /// Chains `1..=chains`, chain 1 the big one.
    pub chains: Vec<SeedChain>,
    /// Posts `1..=posts`.
    pub posts: Vec<SeedPost>,
}

/// A chain and its stores.
#[derive(Debug, Clone)]
pub struct SeedChain {
    /// Primary key.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Its stores, ids ascending.
    pub stores: Vec<SeedStore>,
}

/// A store row with the ids of its brands and its services, as the seed inserts them.
#[derive(Debug, Clone)]
pub struct SeedStore {
    /// Primary key, numbered across chains.
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
    /// Last change, µs since the epoch.
    pub updated_at: i64,
    /// Brands carried (ids in `1..=BRANDS`).
    pub brand_ids: Vec<i64>,
    /// Services offered (entries of [`SERVICES`]).
    pub services: Vec<&'static str>,
}

impl SeedStore {
    /// The store as the API returns it: brand names and services folded in, each sorted.
    pub fn to_json(&self) -> StoreJson {
        let mut brands: Vec<String> = self.brand_ids.iter().copied().map(brand_name).collect();
        brands.sort();
        let mut services: Vec<String> = self.services.iter().map(|s| s.to_string()).collect();
        services.sort();
        StoreJson {
            id: self.id,
            chain_id: self.chain_id,
            name: self.name.clone(),
            address: self.address.clone(),
            phone: self.phone.clone(),
            latitude: self.latitude,
            longitude: self.longitude,
            opening_hours: self.opening_hours.clone(),
            brands,
            services,
            updated_at: self.updated_at,
        }
    }
}

/// A post row.
#[derive(Debug, Clone)]
pub struct SeedPost {
    /// Primary key.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Body text.
    pub body: String,
    /// Likes so far.
    pub likes: i64,
}

/// The seed data of `size`, every `updated_at` within the day before `now` (µs since the epoch).
///
/// ```
/// use web_server_model::seed::{SeedSize, generate};
///
/// let size = SeedSize { chains: 2, largest_chain: 800, posts: 3 };
/// let data = generate(size, 1_732_700_000_000_000);
/// assert_eq!(data.chains[0].stores.len(), 800);
/// assert_eq!(data.posts.len(), 3);
/// assert_eq!(data.chains[0].stores[0].to_json().name, "Optics Chain 1 #1");
/// ```
pub fn generate(size: SeedSize, now: i64) -> SeedData {
    // The draws happen in this exact order; changing it changes every seeded value.
    let mut rng = Rng(SEED);
    let mut store_id = 0_i64;
    let mut chains = Vec::with_capacity(usize::try_from(size.chains).unwrap_or(0));
    for chain in 1..=size.chains {
        let count = if chain == 1 {
            size.largest_chain
        } else {
            3 + rng.below(60)
        };
        let stores = (1..=count)
            .map(|n| {
                store_id += 1;
                store(&mut rng, store_id, chain, n, now)
            })
            .collect();
        chains.push(SeedChain {
            id: chain,
            name: format!("Optics Chain {chain}"),
            stores,
        });
    }
    let posts = (1..=size.posts)
        .map(|post| SeedPost {
            id: post,
            title: format!("Post {post}"),
            body: format!("Why lens coating {post} matters"),
            likes: rng.below(500),
        })
        .collect();
    SeedData { chains, posts }
}

/// Store `n` of `chain`, drawn field by field in the seed's order.
fn store(rng: &mut Rng, id: i64, chain: i64, n: i64, now: i64) -> SeedStore {
    let street = STREETS[usize::try_from(rng.below(STREETS.len() as u64)).unwrap_or(0)];
    let address = format!("{} {street}, Seoul", 1 + rng.below(400));
    let phone = format!("02-{:04}-{:04}", rng.below(10_000), rng.below(10_000));
    let latitude = 37.45 + rng.below(20_000) as f64 / 100_000.0;
    let longitude = 126.85 + rng.below(30_000) as f64 / 100_000.0;
    let opening_hours = format!("Mon-Fri 10:00-{}:00, Sat 10:00-18:00", 19 + rng.below(3));
    let updated_at = now - rng.below(86_400_000_000);
    let first_brand = 1 + rng.below(BRANDS as u64);
    let brand_ids = (0..(1 + rng.below(3)))
        .map(|b| 1 + (first_brand + b * 7) % BRANDS)
        .collect();
    let first_service = rng.below(SERVICES.len() as u64);
    let services = (0..(1 + rng.below(4)))
        .map(|s| {
            SERVICES[usize::try_from((first_service + s) % SERVICES.len() as i64).unwrap_or(0)]
        })
        .collect();
    SeedStore {
        id,
        chain_id: chain,
        name: format!("Optics Chain {chain} #{n}"),
        address,
        phone,
        latitude,
        longitude,
        opening_hours,
        updated_at,
        brand_ids,
        services,
    }
}
