//! Code generation from a validated [`Plan`].
//!
//! For `#[cached(..)] async fn load(#[cache(skip)] db: &Db, id: i64) -> Result<T, E>` it emits:
//!
//! ```text
//! async fn load(db: &Db, id: i64) -> Result<T, E> {
//!     let __cached_key = load_cache_key(&id);
//!     static __CACHED_OPTS: LazyLock<Options> = LazyLock::new(|| Options::new().ttl(..));
//!     let __cached_opts: &Options = &__CACHED_OPTS;
//!     let __cached_cache: &Cache = &global();
//!     load_result(__cached_cache, &__cached_key, __cached_opts, async move || -> Result<T, E> {
//!         /* original body */
//!     }).await
//! }
//! fn load_cache_key(id: &i64) -> CacheKey { CacheKey::with_schema(NAME, 0, &(key_part(id),)) }
//! async fn load_invalidate(id: &i64) { global().invalidate(&load_cache_key(id)).await }
//! ```
//!
//! (every path spelled `::cache_core::__private::…`).

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{GenericParam, Ident};

use super::companions;
use super::validate::{CacheSource, Companions, Plan, Shape};

pub(crate) fn expand(plan: &Plan) -> TokenStream {
    let func = emitted_fn(plan);
    if plan.companions == Companions::None {
        return func;
    }
    let key_fn = companions::key_fn(plan);
    let invalidate_fn = companions::invalidate_fn(plan);
    quote!(#func #key_fn #invalidate_fn)
}

pub(super) fn p(plan: &Plan) -> TokenStream {
    let krate = &plan.krate;
    quote!(#krate::__private)
}

pub(super) fn helper_name(plan: &Plan, suffix: &str) -> Ident {
    let ident = &plan.func.sig.ident;
    format_ident!("{}_{}", ident, suffix, span = ident.span())
}

/// The call of `<fn>_cache_key` from the function (`in_companion: false`: arguments are values,
/// passed by reference) or from another companion (they already are references).
pub(super) fn key_call(plan: &Plan, in_companion: bool) -> TokenStream {
    let path = key_fn_path(plan);
    let receiver = plan.params.receiver.as_ref().map(|r| {
        if r.by_ref || in_companion {
            quote!(self,)
        } else {
            quote!(&self,)
        }
    });
    let borrow = (!in_companion).then(|| quote!(&));
    let args = plan
        .params
        .typed
        .iter()
        .filter(|t| !t.skip)
        .map(|t| &t.name);
    quote!(#path(#receiver #(#borrow #args),*))
}

/// `load_cache_key::<T, N>` or `Self::load_cache_key::<T, N>`.
fn key_fn_path(plan: &Plan) -> TokenStream {
    let name = helper_name(plan, "cache_key");
    let generics: Vec<&Ident> = plan
        .func
        .sig
        .generics
        .params
        .iter()
        .filter_map(|g| match g {
            GenericParam::Type(t) => Some(&t.ident),
            GenericParam::Const(c) => Some(&c.ident),
            GenericParam::Lifetime(_) => None,
        })
        .collect();
    let turbofish = (!generics.is_empty()).then(|| quote!(::<#(#generics),*>));
    match plan.companions {
        Companions::Assoc => quote!(Self::#name #turbofish),
        Companions::Free | Companions::None => quote!(#name #turbofish),
    }
}

fn emitted_fn(plan: &Plan) -> TokenStream {
    let p = p(plan);
    let func = &plan.func;
    let (attrs, vis, sig, ret) = (&func.attrs, &func.vis, &func.sig, &plan.ret);

    let static_opts = &plan.static_opts;
    let opts_static = quote! {
        static __CACHED_OPTS: #p::LazyLock<#p::Options> =
            #p::LazyLock::new(|| #p::Options::new() #(.#static_opts)*);
    };
    let opts = if plan.dynamic_opts.is_empty() {
        quote!(&__CACHED_OPTS)
    } else {
        let dynamic = &plan.dynamic_opts;
        quote!(&#p::Options::clone(&__CACHED_OPTS) #(.#dynamic)*)
    };
    let cache = cache_ref(plan, true);

    let destructure = plan.params.typed.iter().filter_map(|t| {
        let name = &t.name;
        t.destructure.as_ref().map(|pat| quote!(let #pat = #name;))
    });
    let block = &func.block;
    let body = quote!({ #(#destructure)* #block });
    let entry = match (plan.is_async(), &plan.shape) {
        (true, Shape::Result) => "load_result",
        (true, Shape::Option) => "load_option",
        (true, Shape::Value) => "load_value",
        (false, Shape::Result) => "load_result_sync",
        (false, Shape::Option) => "load_option_sync",
        (false, Shape::Value) => "load_value_sync",
    };
    // Spanned at the error type (or the value type), so a type that cannot be cached is
    // reported there and only once.
    let span = shape_span(ret, &plan.shape);
    let entry = Ident::new(entry, Span::call_site());
    let call = respan(quote!(#p::#entry), span);
    let loader = if plan.is_async() {
        quote!(async move || -> #ret #body)
    } else {
        quote!(move || -> #ret #body)
    };
    let mut args = proc_macro2::Group::new(
        proc_macro2::Delimiter::Parenthesis,
        quote!(__cached_cache, &__cached_key, __cached_opts, #loader),
    );
    args.set_span(span);
    let load = if plan.is_async() {
        let await_ = respan(quote!(.await), span);
        quote!(#call #args #await_)
    } else {
        quote!(#call #args)
    };
    let probe = inline_key(plan, KeyUse::Probe);
    let (name, version) = (&plan.name, plan.version);
    let hit_fn = match value_type(ret, &plan.shape) {
        Some(value) => quote! {{
            #[allow(unused_imports)]
            use #p::{ProbeCacheable as _, ProbeUncacheable as _};
            (&#p::ProbeFor::<#value>::new()).hit_fn()
        }},
        None => quote!(::core::option::Option::None),
    };
    let hit = match plan.shape {
        Shape::Result => quote!(::core::result::Result::Ok(__cached_hit)),
        Shape::Option => quote!(::core::option::Option::Some(__cached_hit)),
        Shape::Value => quote!(__cached_hit),
    };
    quote! {
        #(#attrs)*
        #vis #sig {
            #opts_static
            let __cached_opts: &#p::Options = #opts;
            let __cached_cache: &#p::Cache = #cache;
            let __cached_probe = #p::ProbeArgs {
                hit: #hit_fn,
                cache: __cached_cache,
                opts: __cached_opts,
                name: #name,
                version: #version,
            };
            // The hit path writes the key into a reused buffer; the key is only allocated
            // when the full path (a miss, a refresh) needs it.
            let __cached_key: #p::CacheKey = match #probe {
                #p::Probe::Hit(__cached_hit) => return #hit,
                #p::Probe::Miss(__cached_key) => __cached_key,
            };
            #load
        }
    }
}

/// `&Cache` for the call. An `Owned` source is cloned only where the loader moves arguments
/// (`moves`); a companion just borrows it.
pub(super) fn cache_ref(plan: &Plan, moves: bool) -> TokenStream {
    let p = p(plan);
    match &plan.cache {
        CacheSource::Global => quote!(&#p::global_ref()),
        CacheSource::Owned(e) if moves => quote_spanned!(e.span()=> &#p::owned_cache(&(#e))),
        CacheSource::Borrowed(e) | CacheSource::Owned(e) => quote_spanned!(e.span()=> &(#e)),
    }
}

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
fn inline_key(plan: &Plan, using: KeyUse) -> TokenStream {
    let rebinds = plan.params.typed.iter().filter(|t| !t.skip).map(|t| {
        let (pat, name) = (&t.key_pat, &t.name);
        quote!(#[allow(unused_variables)] let #pat = &#name;)
    });
    let by_ref = plan.params.receiver.as_ref().is_none_or(|r| r.by_ref);
    let self_part = if by_ref { quote!(self) } else { quote!(&self) };
    let value = key_value(plan, self_part, using);
    quote!({ #(#rebinds)* #value })
}

/// `CacheKey::with_schema(name, version, &(type names…, parts…))`, or with
/// [`KeyUse::Probe`] `probe_parts(cache, opts, name, version, &(…))`.
pub(super) fn key_value(plan: &Plan, self_part: TokenStream, using: KeyUse) -> TokenStream {
    let p = p(plan);
    let mut parts = Vec::new();
    if plan.params.receiver.is_some() && plan.name_is_default {
        parts.push(quote!(#p::type_name::<Self>()));
    }
    for g in &plan.func.sig.generics.params {
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
            if let Some(r) = plan.params.receiver.as_ref().filter(|r| !r.skip) {
                parts.push(quote_spanned!(r.span=> #p::key_part(#self_part)));
            }
            for t in plan.params.typed.iter().filter(|t| !t.skip) {
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

/// `tokens` with every span set to `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tt| {
            if let TokenTree::Group(g) = &tt {
                let mut group = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                return TokenTree::Group(group);
            }
            tt.set_span(span);
            tt
        })
        .collect()
}

/// Where type errors about the cached types go: `E` of `Result<T, E>`, `T` of `Option<T>`,
/// else the return type.
/// The cached value's type as written (`T` of `Result<T, E>`, `Option<T>` or plain `T`), when
/// it can be named in the function body; `None` leaves the call without a hit path.
fn value_type<'a>(ret: &'a syn::Type, shape: &Shape) -> Option<&'a syn::Type> {
    let value = match shape {
        Shape::Value => ret,
        Shape::Result | Shape::Option => match ret {
            syn::Type::Path(p) => match &p.path.segments.last()?.arguments {
                syn::PathArguments::AngleBracketed(a) => {
                    a.args.iter().find_map(|arg| match arg {
                        syn::GenericArgument::Type(t) => Some(t),
                        _ => None,
                    })?
                }
                _ => return None,
            },
            _ => return None,
        },
    };
    // `impl Trait` cannot be named in a body (and cannot be cached anyway).
    let text = quote!(#value).to_string();
    (!text.contains("impl ") && !text.contains("dyn ")).then_some(value)
}

fn shape_span(ret: &syn::Type, shape: &Shape) -> Span {
    let index = match shape {
        Shape::Result => 1,
        Shape::Option => 0,
        Shape::Value => return ret.span(),
    };
    let arg = match ret {
        syn::Type::Path(p) => p.path.segments.last().and_then(|s| match &s.arguments {
            syn::PathArguments::AngleBracketed(a) => a.args.iter().nth(index),
            _ => None,
        }),
        _ => None,
    };
    arg.map_or_else(|| ret.span(), Spanned::span)
}
