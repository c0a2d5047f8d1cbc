//! Where generated code finds `cache-core`'s support items: one module whose name carries this
//! crate's version, `<crate>::__private_<major>_<minor>_<patch>`.
//!
//! `cache-core` pins `cache-macros` exactly (`=x.y.z`) and names its hidden module after the
//! same version, so the pair always agrees. When a build mixes versions anyway (a direct
//! `cache-macros` dependency, a `crate = path` facade over another `cache-core`), the module
//! this crate asks for does not exist there, and the error names the version it expected
//! instead of a confusing mismatch in some helper's signature.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::{Ident, Path};

/// The hidden module's name, built from this crate's version (the one place it is spelled).
pub(crate) const MODULE: &str = concat!(
    "__private_",
    env!("CARGO_PKG_VERSION_MAJOR"),
    "_",
    env!("CARGO_PKG_VERSION_MINOR"),
    "_",
    env!("CARGO_PKG_VERSION_PATCH"),
);

/// `::cache_core::__private_x_y_z`, or `<krate>::__private_x_y_z` for `crate = krate`.
pub(crate) fn path(krate: Option<&Path>) -> TokenStream {
    let module = Ident::new(MODULE, Span::call_site());
    let krate = krate.map_or_else(|| quote!(::cache_core), ToTokens::to_token_stream);
    quote!(#krate::#module)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_module_is_named_after_this_crates_version() {
        let version = env!("CARGO_PKG_VERSION")
            .split('-')
            .next()
            .unwrap_or_default();
        assert_eq!(
            super::MODULE,
            format!("__private_{}", version.replace('.', "_"))
        );
        assert_eq!(
            super::path(None).to_string(),
            format!(":: cache_core :: {}", super::MODULE)
        );
    }
}
