//! `#[cached]`: parse (`args.rs`, `params.rs`) → validate (`validate.rs`) → expand (`expand.rs`).

mod args;
mod companions;
mod expand;
mod mentions;
mod options;
mod params;
mod validate;

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::ItemFn;

fn err(span: Span, msg: &str) -> syn::Error {
    syn::Error::new(span, msg)
}

/// The attribute's entry point. On any error the function is emitted unchanged (minus the
/// `#[cache(..)]` parameter attributes) next to the errors, so the rest of the crate still
/// type-checks and rust-analyzer keeps working.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(func) => func,
        Err(_) => {
            let error = syn::Error::new_spanned(
                &item,
                "`#[cached]` applies to a function with a body (free function or method)",
            );
            let mut out = error.to_compile_error();
            out.extend(item);
            return out;
        }
    };
    let parsed = syn::parse2::<args::CachedArgs>(args);
    let planned = parsed.and_then(|args| validate::plan(args, func.clone()));
    match planned {
        Ok(plan) => expand::expand(&plan),
        Err(error) => {
            let mut original = func;
            params::strip_cache_attrs(&mut original.sig);
            let mut out = original.into_token_stream();
            out.extend(error.to_compile_error());
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    fn expand(args: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> String {
        super::expand(args, item).to_string()
    }

    #[test]
    fn crate_override_replaces_every_cache_core_path() {
        let out = expand(
            quote!(crate = my::facade, ttl = "1m"),
            quote!(
                async fn f(id: i64) -> Option<u8> {
                    None
                }
            ),
        );
        assert!(out.contains("my :: facade :: __private"), "{out}");
        assert!(!out.contains("cache_core"), "{out}");
    }

    #[test]
    fn humantime_ttl_becomes_a_duration_constant() {
        let out = expand(
            quote!(ttl = "1h 30m"),
            quote!(
                fn f(id: i64) -> u8 {
                    1
                }
            ),
        );
        assert!(out.contains("Duration :: new (5400u64 , 0u32)"), "{out}");
    }

    #[test]
    fn options_using_arguments_are_built_per_call() {
        let out = expand(
            quote!(tags = [format!("t:{id}")]),
            quote!(
                async fn f(id: i64) -> u8 {
                    1
                }
            ),
        );
        assert!(
            out.contains("Options :: clone (& __CACHED_OPTS) . tags"),
            "{out}"
        );
        let out = expand(
            quote!(tags = ["users"]),
            quote!(
                async fn f(id: i64) -> u8 {
                    1
                }
            ),
        );
        assert!(
            out.contains(
                "let __cached_opts : & :: cache_core :: __private :: Options = & __CACHED_OPTS"
            ),
            "{out}"
        );
    }

    #[test]
    fn errors_keep_the_function_without_parameter_attributes() {
        let out = expand(
            quote!(bogus = 1),
            quote!(
                fn f(#[cache(skip)] db: u8) -> u8 {
                    db
                }
            ),
        );
        assert!(out.contains("fn f (db : u8)"), "{out}");
        assert!(out.contains("compile_error"), "{out}");
    }
}
