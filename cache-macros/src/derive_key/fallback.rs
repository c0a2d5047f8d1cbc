//! What `#[derive(CacheKey)]` emits when it reports errors: the same two items with bodies that
//! never run (the crate does not compile anyway), so every `.cache_key()` call and every use
//! of the record as a key part still type-checks, and one mistake is one error.

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use crate::errors::Errors;

pub(super) fn expand(input: &DeriveInput, private: &TokenStream, errors: Errors) -> TokenStream {
    let p = private;
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let error = errors.finish().err().map(|error| error.to_compile_error());
    quote! {
        #error

        impl #impl_generics #p::KeyPart for #ident #ty_generics #where_clause {
            fn write_key(&self, _: &mut #p::KeyWriter<'_>) {
                ::core::unreachable!("`#[derive(CacheKey)]` reported an error for this type")
            }
        }

        impl #impl_generics #ident #ty_generics #where_clause {
            /// Not generated: `#[derive(CacheKey)]` reported an error for this type.
            #[must_use]
            pub fn cache_key(&self) -> #p::CacheKey {
                ::core::unreachable!("`#[derive(CacheKey)]` reported an error for this type")
            }
        }
    }
}
