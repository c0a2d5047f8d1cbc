//! The key expression of a cached function, shared by the function itself (which probes for a
//! hit first) and by `<fn>_cache_key`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::GenericParam;
use syn::spanned::Spanned;

use super::validate::Plan;

/// What the key expression produces.
#[derive(Clone, Copy)]
pub(super) enum KeyUse {
    /// A `CacheKey` (companions).
    Build,
    /// A `Probe<T>`: the hit path's value, or the key (in the function itself).
    Probe,
}

/// The key computed in the function itself: arguments are rebound as references first, so
/// `key = …` sees the same types as in `<fn>_cache_key`.
pub(super) fn inline_key(plan: &Plan, using: KeyUse) -> TokenStream {
    let params = &plan.outline.params;
    let rebinds = params.typed.iter().filter(|t| !t.skip).map(|t| {
        let (pat, name) = (&t.key_pat, &t.name);
        quote!(#[allow(unused_variables)] let #pat = &#name;)
    });
    let by_ref = params.receiver.as_ref().is_none_or(|r| r.by_ref);
    let self_part = if by_ref { quote!(self) } else { quote!(&self) };
    let value = key_value(plan, self_part, using);
    quote!({ #(#rebinds)* #value })
}

/// `CacheKey::with_schema(name, version, &(type names…, parts…))`, or with
/// [`KeyUse::Probe`] `probe_parts(cache, opts, name, version, &(…))`.
pub(super) fn key_value(plan: &Plan, self_part: TokenStream, using: KeyUse) -> TokenStream {
    let (p, params) = (&plan.outline.private, &plan.outline.params);
    let mut parts = Vec::new();
    if params.receiver.is_some() && plan.name_is_default {
        parts.push(quote!(#p::type_name::<Self>()));
    }
    for g in &plan.outline.func.sig.generics.params {
        match g {
            GenericParam::Type(t) => {
                let ident = &t.ident;
                parts.push(quote!(#p::type_name::<#ident>()));
            }
            GenericParam::Const(c) => {
                let ident = &c.ident;
                parts.push(quote!(#p::key_part(&#ident)));
            }
            GenericParam::Lifetime(_) => {}
        }
    }
    match &plan.key {
        Some(key) => parts.push(quote_spanned!(key.span()=> #p::key_part(&(#key)))),
        None => {
            if let Some(r) = params.receiver.as_ref().filter(|r| !r.skip) {
                parts.push(quote_spanned!(r.span=> #p::key_part(#self_part)));
            }
            for t in params.typed.iter().filter(|t| !t.skip) {
                for b in &t.bindings {
                    parts.push(quote_spanned!(b.span()=> #p::key_part(#b)));
                }
            }
        }
    }
    let (name, version) = (&plan.name, plan.version);
    if let (Some(key), [_only]) = (&plan.key, parts.as_slice()) {
        // A `key = …` that is already a `CacheKey` is used as it is; anything else becomes the
        // parts of a key named after the function.
        let call = match using {
            KeyUse::Build => quote!(cache_key_for(#name, #version)),
            KeyUse::Probe => {
                quote!(probe_for(__cached_probe))
            }
        };
        return quote_spanned!(key.span()=> {
            #[allow(unused_imports)]
            use #p::{KeyFromParts as _, KeyIsCacheKey as _};
            (&#p::KeyProbe(&(#key))).#call
        });
    }
    let tuple = tuple(&parts);
    match using {
        KeyUse::Build => quote!(#p::CacheKey::with_schema(#name, #version, &#tuple)),
        KeyUse::Probe => quote!(#p::probe_parts(__cached_probe, &#tuple)),
    }
}

/// A tuple of `parts`, nested in groups of 12 (the largest tuple `KeyPart` covers).
fn tuple(parts: &[TokenStream]) -> TokenStream {
    if parts.len() <= 12 {
        return quote!((#(#parts,)*));
    }
    let chunk = parts.len().div_ceil(12);
    let groups: Vec<TokenStream> = parts.chunks(chunk).map(tuple).collect();
    tuple(&groups)
}
