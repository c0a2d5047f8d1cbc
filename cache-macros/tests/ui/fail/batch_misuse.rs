#![allow(unused_variables)] use std::collections::HashMap;

use cache_core::cached;

#[cached(batch)]
fn not_async(ids: Vec<u32>) -> HashMap<u32, u8> {
    HashMap::new()
}

#[cached(batch)]
async fn two_keys(ids: Vec<u32>, region: u8) -> HashMap<u32, u8> {
    HashMap::new()
}

#[cached(batch)]
async fn one_id(id: u32) -> HashMap<u32, u8> {
    HashMap::new()
}

#[cached(batch)]
async fn not_a_map(ids: Vec<u32>) -> Vec<u8> {
    Vec::new()
}

#[cached(batch, key = ids.len(), hard_timeout = "1s")]
async fn with_key(ids: Vec<u32>) -> HashMap<u32, u8> {
    HashMap::new()
}

#[cached(batch, tags = [format!("first:{}", ids[0])])]
async fn tags_of_ids(ids: Vec<u32>) -> HashMap<u32, u8> {
    HashMap::new()
}

struct Repo;

impl Repo {
    #[cached(batch)]
    async fn keyed_self(&self, ids: Vec<u32>) -> HashMap<u32, u8> {
        HashMap::new()
    }
}

fn main() {}

fn keep(names: u8) -> cache_core::Entry<u8> {
    cache_core::Entry::new(names)
}

#[cached(batch, adapt = keep)]
async fn adapted(ids: Vec<u32>) -> HashMap<u32, u8> {
    HashMap::new()
}
