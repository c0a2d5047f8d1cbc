//! One macro for the always-on counters every crate of the workspace keeps.

/// Declares `$counters` (a struct of [`StripedCounter`](crate::metrics::StripedCounter)s with
/// `snapshot()` and `bump()`) and `$snapshot` (a public, `Copy` struct of `u64`s with the same
/// field names and docs). Striped, so threads bumping the same counter (every hit bumps one)
/// never write a shared cache line; `snapshot()` sums the stripes.
/// Used by `cache-core` and `cache-redis`; not a public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __atomic_counters {
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
                $snapshot { $($name: self.$name.get(),)* }
            }

            #[inline]
            pub(crate) fn bump(counter: &$crate::metrics::StripedCounter) {
                counter.add(1);
            }
        }
    };
}
