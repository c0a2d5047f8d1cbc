//! One macro for the always-on atomic counters every crate of the workspace keeps.

/// Declares `$counters` (a struct of `AtomicU64`s with `snapshot()` and `bump()`) and
/// `$snapshot` (a public, `Copy` struct of `u64`s with the same field names and docs).
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
            $(pub(crate) $name: ::std::sync::atomic::AtomicU64,)*
        }

        $(#[$snapshot_doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct $snapshot { $($(#[$doc])* pub $name: u64,)* }

        impl $counters {
            pub(crate) fn snapshot(&self) -> $snapshot {
                $snapshot { $($name: self.$name.load(::std::sync::atomic::Ordering::Relaxed),)* }
            }

            pub(crate) fn bump(counter: &::std::sync::atomic::AtomicU64) {
                counter.fetch_add(1, ::std::sync::atomic::Ordering::Relaxed);
            }
        }
    };
}
