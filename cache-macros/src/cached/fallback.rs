//! What `#[cached]` emits when it reports errors: the function as written (minus the
//! `#[cache(..)]` parameter attributes, uncached), its companions with placeholder bodies, and
//! the errors. Callers of the function and of its companions then type-check as usual, so one
//! mistake is one error, and rust-analyzer keeps resolving the items.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{FnArg, ItemFn};

use super::companions::{self, Bodies};
use super::outline::Outline;
use crate::errors::Errors;

pub(super) fn expand(mut original: ItemFn, outline: &Outline, errors: Errors) -> TokenStream {
    strip_cache_attrs(&mut original);
    let mut out = original.into_token_stream();
    out.extend(companions::companions(outline, Bodies::Stub));
    if let Err(error) = errors.finish() {
        out.extend(error.to_compile_error());
    }
    out
}

/// Removes every `#[cache(..)]` attribute from the parameters, leaving the rest as it is.
fn strip_cache_attrs(func: &mut ItemFn) {
    for input in &mut func.sig.inputs {
        let attrs = match input {
            FnArg::Receiver(r) => &mut r.attrs,
            FnArg::Typed(t) => &mut t.attrs,
        };
        attrs.retain(|a| !a.path().is_ident("cache"));
    }
}
