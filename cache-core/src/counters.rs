//! One macro for the always-on counters of [`Stats`](crate::stats): the field list is written
//! once and gives both the counters and their public snapshot.

/// Declares `$counters` (a struct of [`StripedCounter`](crate::metrics::StripedCounter)s with
/// `snapshot()` and `bump()`) and `$snapshot` (a public, `Copy` struct of `u64`s with the same
/// field names and docs). Striped, because every call bumps one of them (every hit does):
/// threads then never write a shared cache line, and `snapshot()` sums the stripes.
macro_rules! striped_counters {
    (
        $(#[$snapshot_doc:meta])*
        $counters:ident => $snapshot:ident {
            $($(#[$doc:meta])* $name:ident),* $(,)?
        }
    ) => {
        #[derive(Debug, Default)]
        pub(crate) struct $counters {
            $(pub(crate) $name: $crate::metrics::StripedCounter,)*
        }

        $(#[$snapshot_doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct $snapshot { $($(#[$doc])* pub $name: u64,)* }

        impl $counters {
            pub(crate) fn snapshot(&self) -> $snapshot {
                $snapshot { $($name: self.$name.sum(),)* }
            }

            #[inline]
            pub(crate) fn bump(counter: &$crate::metrics::StripedCounter) {
                counter.increment();
            }
        }
    };
}
