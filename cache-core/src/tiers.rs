//! Which tiers a call may read and write: a small set of flags.

use std::ops::BitOr;

/// Which tiers a call may read and write.
///
/// ```
/// use cache_core::Tiers;
/// let t = Tiers::REQUEST | Tiers::LOCAL;
/// assert!(t.contains(Tiers::LOCAL) && !t.contains(Tiers::REMOTE));
/// assert_eq!("request, local".parse::<Tiers>().unwrap(), t);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tiers(u8);

impl Tiers {
    /// The request tier (values shared within one `request_scope`).
    pub const REQUEST: Tiers = Tiers(1);
    /// The local in-memory tier.
    pub const LOCAL: Tiers = Tiers(2);
    /// The shared remote tier (Redis).
    pub const REMOTE: Tiers = Tiers(4);
    /// Every tier.
    pub const ALL: Tiers = Tiers(7);
    /// No tier: every call goes to the loader.
    pub const NONE: Tiers = Tiers(0);

    /// Whether every tier in `other` is in `self`.
    pub const fn contains(self, other: Tiers) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for Tiers {
    type Output = Tiers;
    fn bitor(self, rhs: Tiers) -> Tiers {
        Tiers(self.0 | rhs.0)
    }
}

impl std::str::FromStr for Tiers {
    type Err = String;

    /// Parses a comma-separated subset of `request`, `local`, `redis`/`remote`.
    fn from_str(s: &str) -> Result<Tiers, String> {
        s.split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .try_fold(Tiers::NONE, |acc, t| match t {
                "request" => Ok(acc | Tiers::REQUEST),
                "local" => Ok(acc | Tiers::LOCAL),
                "redis" | "remote" => Ok(acc | Tiers::REMOTE),
                other => Err(format!(
                    "unknown tier `{other}`; expected a comma-separated subset of request, local, redis"
                )),
            })
    }
}
