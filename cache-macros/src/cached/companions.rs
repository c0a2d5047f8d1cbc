//! The companions of a cached function: `<fn>_cache_key` (the key the function computes, from
//! the same code in `key.rs`), `<fn>_invalidate` and `<fn>_refresh` (whose real body, the
//! function's own forced load, comes from `expand.rs`).
//!
//! Next to an error they are still emitted, with the same signatures and bodies that never run
//! (the crate does not compile anyway), so callers of the companions raise no errors of their
//! own and the one mistake is reported once.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{GenericParam, Ident};

use super::key::{KeyUse, key_value};
use super::mentions::Mentions;
use super::outline::{CacheSource, Companions, Outline};
use super::params::Param;
use super::validate::Plan;

/// What the companions' bodies are.
#[derive(Clone, Copy)]
pub(super) enum Bodies<'a> {
    /// Computed from a checked plan.
    Real(&'a Plan),
    /// Placeholders next to the errors.
    Stub,
}

/// Both companions, where the outline places them (or nothing).
pub(super) fn companions(outline: &Outline, bodies: Bodies<'_>) -> TokenStream {
    if outline.companions == Companions::None {
        return TokenStream::new();
    }
    let key_fn = key_fn(outline, bodies);
    let invalidate_fn = invalidate_fn(outline, bodies);
    // The real `<fn>_refresh` is the cached function's own load, emitted by `expand.rs`.
    let refresh_fn = matches!(bodies, Bodies::Stub).then(|| refresh_fn(outline, None));
    quote!(#key_fn #invalidate_fn #refresh_fn)
}

/// `<fn>_refresh`: the function's signature under the companion name, with `body` (the
/// forced load) or, next to errors, a placeholder.
pub(super) fn refresh_fn(outline: &Outline, body: Option<TokenStream>) -> TokenStream {
    let allow = lints(body.is_none());
    let body = body.unwrap_or_else(|| {
        let stub = stub_body();
        quote!({ #stub })
    });
    let mut sig = outline.func.sig.clone();
    sig.ident = outline.companion_name("refresh");
    let func = match &outline.boxed {
        Some(boxed) => boxed.rewrap(&sig, body),
        None => quote!(#sig #body),
    };
    let doc = format!(
        "Loads `{}` for these arguments now, whatever is cached, and writes the value through \
         every tier (`Options::force_refresh`); callers that miss meanwhile share this load.",
        outline.func.sig.ident
    );
    let vis = &outline.func.vis;
    quote! {
        #[doc = #doc]
        #allow
        #vis #func
    }
}

/// Lints that generated items may trigger through the user's types and names; a stub also
/// leaves its parameters unused.
fn allow_lints(bodies: Bodies<'_>) -> TokenStream {
    lints(matches!(bodies, Bodies::Stub))
}

fn lints(stub: bool) -> TokenStream {
    let unused = stub.then(|| quote!(unused_variables,));
    quote!(#[allow(
        #unused
        dead_code,
        clippy::ptr_arg,
        clippy::extra_unused_lifetimes,
        clippy::extra_unused_type_parameters,
        clippy::too_many_arguments,
        clippy::needless_lifetimes
    )])
}

fn stub_body() -> TokenStream {
    quote!(::core::unreachable!(
        "`#[cached]` reported an error for this function"
    ))
}

/// Parameters of a companion: `&self` and each listed parameter by reference.
fn companion_inputs<'a>(
    outline: &'a Outline,
    keep: impl Fn(&Param) -> bool + 'a,
    named: bool,
) -> TokenStream {
    let receiver = outline.params.receiver.as_ref().map(|_| quote!(&self,));
    let typed = outline.params.typed.iter().filter(|t| keep(t)).map(|t| {
        // `&impl A + B` is ambiguous: `&(impl A + B)`.
        let ty = match &t.ty {
            ty @ (syn::Type::ImplTrait(_) | syn::Type::TraitObject(_)) => quote!((#ty)),
            ty => quote!(#ty),
        };
        if named {
            let name = &t.name;
            quote!(#name: &#ty)
        } else {
            let pat = &t.key_pat;
            quote!(#pat: &#ty)
        }
    });
    quote!(#receiver #(#typed),*)
}

fn key_fn(outline: &Outline, bodies: Bodies<'_>) -> TokenStream {
    let p = &outline.private;
    let (vis, sig) = (&outline.func.vis, &outline.func.sig);
    let name = outline.companion_name("cache_key");
    let generics = &sig.generics;
    let where_clause = &generics.where_clause;
    let inputs = companion_inputs(outline, |t| !t.skip, false);
    let body = match bodies {
        Bodies::Real(plan) => key_value(plan, quote!(self), KeyUse::Build),
        Bodies::Stub => stub_body(),
    };
    let allow = allow_lints(bodies);
    let doc = format!(
        "The cache key `{}` uses for these arguments (each by reference; \
         `#[cache(skip)]` ones left out).",
        sig.ident
    );
    quote! {
        #[doc = #doc]
        #allow
        #vis fn #name #generics (#inputs) -> #p::CacheKey #where_clause {
            #body
        }
    }
}

fn invalidate_fn(outline: &Outline, bodies: Bodies<'_>) -> TokenStream {
    let p = &outline.private;
    let (vis, sig) = (&outline.func.vis, &outline.func.sig);
    let name = outline.companion_name("invalidate");
    let generics = &sig.generics;
    let where_clause = &generics.where_clause;
    // The `cache = …` expression may read skipped arguments: take those too.
    let cache_uses: Vec<String> = match &outline.cache {
        CacheSource::Borrowed(e) | CacheSource::Owned(e) => {
            Mentions::of(e).values.into_keys().collect()
        }
        CacheSource::Global => Vec::new(),
    };
    let wanted = |t: &Param| {
        !t.skip
            || t.bindings
                .iter()
                .any(|b| cache_uses.contains(&b.to_string()))
    };
    let inputs = companion_inputs(outline, wanted, true);
    let body = match bodies {
        Bodies::Real(_) => {
            let destructure = outline
                .params
                .typed
                .iter()
                .filter(|t| wanted(t))
                .filter_map(|t| {
                    let name = &t.name;
                    let uses = t
                        .bindings
                        .iter()
                        .any(|b| cache_uses.contains(&b.to_string()));
                    t.destructure.as_ref().filter(|_| uses).map(|_| {
                        let pat = &t.key_pat;
                        quote!(let #pat = #name;)
                    })
                });
            let key = key_call(outline);
            let cache = outline.cache_ref(false);
            quote! {
                #(#destructure)*
                let __cached_cache: &#p::Cache = #cache;
                __cached_cache.invalidate(&#key).await;
            }
        }
        Bodies::Stub => stub_body(),
    };
    let allow = allow_lints(bodies);
    let doc = format!(
        "Removes the entry `{}` cached for these arguments from every tier (and every node), \
         so the next call loads again.",
        sig.ident
    );
    quote! {
        #[doc = #doc]
        #allow
        #vis async fn #name #generics (#inputs) #where_clause {
            #body
        }
    }
}

/// The call of `<fn>_cache_key` from another companion, whose arguments already are
/// references.
fn key_call(outline: &Outline) -> TokenStream {
    let path = key_fn_path(outline);
    let receiver = outline.params.receiver.as_ref().map(|_| quote!(self,));
    let args = outline
        .params
        .typed
        .iter()
        .filter(|t| !t.skip)
        .map(|t| &t.name);
    quote!(#path(#receiver #(#args),*))
}

/// `load_cache_key::<T, N>` or `Self::load_cache_key::<T, N>`.
fn key_fn_path(outline: &Outline) -> TokenStream {
    let name = outline.companion_name("cache_key");
    let generics: Vec<&Ident> = outline
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
    match outline.companions {
        Companions::Assoc => quote!(Self::#name #turbofish),
        Companions::Free | Companions::None => quote!(#name #turbofish),
    }
}
