//! What a `#[cached]` function looks like from outside: the function as emitted, its
//! parameters, where it gets its cache and where its companions go. Everything here is known
//! even when the arguments or the function have errors, so the fallback still emits the
//! companions that callers name.

use proc_macro2::{TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, Ident, ItemFn};

use super::args::CachedArgs;
use super::boxed::BoxedFuture;
use super::mentions::Mentions;
use super::params::{self, Params};
use crate::errors::Errors;
use crate::private;

/// Where the emitted function gets its `Cache`.
pub(crate) enum CacheSource {
    Global,
    /// Borrowed for the whole call.
    Borrowed(Expr),
    /// Uses arguments that the loader moves: cloned first.
    Owned(Expr),
}

/// Where `<fn>_cache_key` / `<fn>_invalidate` go, if anywhere.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Companions {
    None,
    /// Free functions (called unqualified).
    Free,
    /// Associated functions of the same impl (called as `Self::…`).
    Assoc,
}

pub(crate) struct Outline {
    /// `::cache_core::__private_x_y_z` (or under `crate = …`).
    pub(crate) private: TokenStream,
    /// The function as emitted: `#[cache]` attributes removed, patterns renamed.
    pub(crate) func: ItemFn,
    pub(crate) params: Params,
    pub(crate) cache: CacheSource,
    pub(crate) companions: Companions,
    /// Set when `#[async_trait]` rewrote the method: `func` is then the `async fn` it was
    /// written as, and the emitted body is boxed again under the rewritten signature.
    pub(crate) boxed: Option<BoxedFuture>,
}

impl Outline {
    pub(crate) fn is_async(&self) -> bool {
        self.func.sig.asyncness.is_some()
    }

    /// `<fn>_<suffix>`, e.g. `load_cache_key`.
    pub(crate) fn companion_name(&self, suffix: &str) -> Ident {
        let ident = &self.func.sig.ident;
        format_ident!("{}_{}", ident, suffix, span = ident.span())
    }

    /// `&Cache` for the call. An `Owned` source is cloned only where the loader moves
    /// arguments (`moves`); a companion just borrows it.
    pub(crate) fn cache_ref(&self, moves: bool) -> TokenStream {
        let p = &self.private;
        match &self.cache {
            CacheSource::Global => quote!(&#p::global_ref()),
            CacheSource::Owned(e) if moves => quote_spanned!(e.span()=> &#p::owned_cache(&(#e))),
            CacheSource::Borrowed(e) | CacheSource::Owned(e) => quote_spanned!(e.span()=> &(#e)),
        }
    }
}

/// Reads the parameters of `func` (recording errors in their `#[cache(..)]` attributes) and
/// decides where the cache comes from and where the companions go.
pub(crate) fn outline(
    args: &CachedArgs,
    mut func: ItemFn,
    boxed: Option<BoxedFuture>,
    errors: &Errors,
) -> Outline {
    let params = params::analyze(&mut func.sig, errors);
    let cache = match &args.cache {
        None => CacheSource::Global,
        Some(e) => {
            let m = Mentions::of(e);
            let self_moves =
                params.receiver.as_ref().is_some_and(|r| !r.shared_ref) && m.uses("self");
            let arg_moves = params
                .typed
                .iter()
                .any(|t| !t.is_shared_ref() && t.bindings.iter().any(|b| m.uses(&b.to_string())));
            if self_moves || arg_moves {
                CacheSource::Owned(e.clone())
            } else {
                CacheSource::Borrowed(e.clone())
            }
        }
    };
    let companions = match (&args.companions, &params.receiver) {
        (Some(b), _) if !b.value => Companions::None,
        (Some(_), Some(_)) => Companions::Assoc,
        (None, Some(_)) if matches!(func.vis, syn::Visibility::Inherited) => Companions::None,
        (None, Some(_)) => Companions::Assoc,
        (_, None) if mentions_self_type(&func) => Companions::Assoc,
        (_, None) => Companions::Free,
    };
    Outline {
        private: private::path(args.krate.as_ref()),
        func,
        params,
        cache,
        companions,
        boxed,
    }
}

/// Whether the signature or body names `Self` (then the function is in an impl).
fn mentions_self_type(func: &ItemFn) -> bool {
    fn walk(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|tt| match tt {
            TokenTree::Ident(i) => i == "Self",
            TokenTree::Group(g) => walk(g.stream()),
            _ => false,
        })
    }
    walk(func.sig.to_token_stream()) || walk(func.block.to_token_stream())
}
