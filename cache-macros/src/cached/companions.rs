//! The companions of a cached function: `<fn>_cache_key` (the one place the key is computed;
//! the function calls it too) and `<fn>_invalidate`.

use proc_macro2::TokenStream;
use quote::quote;

use super::expand::{KeyUse, cache_ref, helper_name, key_call, key_value, p};
use super::mentions::Mentions;
use super::params::Param;
use super::validate::{CacheSource, Plan};

/// Lints that generated items may trigger through the user's types and names.
fn allow_lints() -> TokenStream {
    quote!(#[allow(
        dead_code,
        clippy::ptr_arg,
        clippy::extra_unused_lifetimes,
        clippy::extra_unused_type_parameters,
        clippy::too_many_arguments,
        clippy::needless_lifetimes
    )])
}

/// Parameters of a companion: `&self` and each listed parameter by reference.
fn companion_inputs<'a>(
    plan: &'a Plan,
    keep: impl Fn(&Param) -> bool + 'a,
    named: bool,
) -> TokenStream {
    let receiver = plan.params.receiver.as_ref().map(|_| quote!(&self,));
    let typed = plan.params.typed.iter().filter(|t| keep(t)).map(|t| {
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

pub(super) fn key_fn(plan: &Plan) -> TokenStream {
    let p = p(plan);
    let (vis, sig) = (&plan.func.vis, &plan.func.sig);
    let name = helper_name(plan, "cache_key");
    let generics = &sig.generics;
    let where_clause = &generics.where_clause;
    let inputs = companion_inputs(plan, |t| !t.skip, false);
    let value = key_value(plan, quote!(self), KeyUse::Build);
    let allow = allow_lints();
    let doc = format!(
        "The cache key `{}` uses for these arguments (each by reference; \
         `#[cache(skip)]` ones left out).",
        sig.ident
    );
    quote! {
        #[doc = #doc]
        #allow
        #vis fn #name #generics (#inputs) -> #p::CacheKey #where_clause {
            #value
        }
    }
}

pub(super) fn invalidate_fn(plan: &Plan) -> TokenStream {
    let p = p(plan);
    let (vis, sig) = (&plan.func.vis, &plan.func.sig);
    let name = helper_name(plan, "invalidate");
    let generics = &sig.generics;
    let where_clause = &generics.where_clause;
    // The `cache = …` expression may read skipped arguments: take those too.
    let cache_uses: Vec<String> = match &plan.cache {
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
    let inputs = companion_inputs(plan, wanted, true);
    let destructure = plan
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
    let key = key_call(plan, true);
    let cache = cache_ref(plan, false);
    let allow = allow_lints();
    let doc = format!(
        "Removes the entry `{}` cached for these arguments from every tier (and every node), \
         so the next call loads again.",
        sig.ident
    );
    quote! {
        #[doc = #doc]
        #allow
        #vis async fn #name #generics (#inputs) #where_clause {
            #(#destructure)*
            let __cached_cache: &#p::Cache = #cache;
            __cached_cache.invalidate(&#key).await;
        }
    }
}
