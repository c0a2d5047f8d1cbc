//! One macro for the always-on counters every crate of the workspace keeps.

/// Declares `$counters` (a struct of counters with `snapshot()` and `bump()`) and `$snapshot`
/// (a public, `Copy` struct of `u64`s with the same field names and docs).
///
/// Plain: the counters are [`AtomicCounter`](crate::metrics::AtomicCounter)s, for events
/// counted on cold paths. With a leading `striped`, they are
/// [`StripedCounter`](crate::metrics::StripedCounter)s, for events every thread counts on
/// its hot path (every hit bumps one): threads then never write a shared cache line, and
/// `snapshot()` sums the stripes.
/// Used by `cache-core` and `cache-redis`; not a public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __atomic_counters {
    (striped $($counters:tt)*) => {
        $crate::__atomic_counters!(@with $crate::metrics::StripedCounter, sum; $($counters)*);
    };
    (
        @with $counter:ty, $read:ident;
        $(#[$snapshot_doc:meta])*
        $counters:ident => $snapshot:ident {
            $($(#[$doc:meta])* $name:ident),* $(,)?
        }
    ) => {
        #[derive(Debug, Default)]
        pub(crate) struct $counters {
            $(pub(crate) $name: $counter,)*
        }

        $(#[$snapshot_doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct $snapshot { $($(#[$doc])* pub $name: u64,)* }

        impl $counters {
            pub(crate) fn snapshot(&self) -> $snapshot {
                $snapshot { $($name: self.$name.$read(),)* }
            }

            #[inline]
            pub(crate) fn bump(counter: &$counter) {
                counter.increment();
            }
        }
    };
    ($($counters:tt)*) => {
        $crate::__atomic_counters!(@with $crate::metrics::AtomicCounter, get; $($counters)*);
    };
}
