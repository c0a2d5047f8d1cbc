//! Code generation from a checked [`KeyPlan`]: `impl KeyPart` (the id, then the version in
//! microseconds) and an inherent `fn cache_key(&self) -> CacheKey`.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};

use super::validate::KeyPlan;

pub(super) fn expand(plan: &KeyPlan<'_>) -> TokenStream {
    let KeyPlan {
        input,
        private: p,
        prefix,
        id,
        id_ty,
        version,
    } = plan;
    let ident = &input.ident;
    let mut generics = input.generics.clone();
    if generics.type_params().next().is_some() {
        let clause = generics.make_where_clause();
        clause
            .predicates
            .push(syn::parse_quote!(#id_ty: #p::KeyPart));
        if let Some((_, version_ty)) = version {
            clause
                .predicates
                .push(syn::parse_quote!(#version_ty: #p::VersionStamp));
        }
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let (write_version, key, shape) = match version {
        Some((version, _)) => (
            quote!(out.i64(#p::VersionStamp::version_micros(&self.#version));),
            quote!(#p::CacheKey::versioned(#prefix, &self.#id, &self.#version)),
            format!(
                "`{}/<{}>-<{} in µs>`",
                prefix.value(),
                id.to_token_stream(),
                version.to_token_stream()
            ),
        ),
        None => (
            quote!(),
            quote!(#p::CacheKey::record(#prefix, &self.#id)),
            format!("`{}/<{}>`", prefix.value(), id.to_token_stream()),
        ),
    };
    let doc = format!("This record's cache key: {shape}.");
    quote! {
        impl #impl_generics #p::KeyPart for #ident #ty_generics #where_clause {
            fn write_key(&self, out: &mut #p::KeyWriter<'_>) {
                out.part(&self.#id);
                #write_version
            }
        }

        impl #impl_generics #ident #ty_generics #where_clause {
            #[doc = #doc]
            #[must_use]
            pub fn cache_key(&self) -> #p::CacheKey {
                #key
            }
        }
    }
}
