use std::fmt::Display;

use cache_core::cached;

#[cached]
fn show(value: impl Display) -> String {
    value.to_string()
}

fn main() {}
