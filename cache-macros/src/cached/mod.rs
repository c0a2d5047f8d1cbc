//! `#[cached]`: parse (`args.rs`, `params.rs`) → outline (`outline.rs`) → validate
//! (`validate.rs`) → expand (`expand.rs`, `key.rs`, `companions.rs`), or on any error the
//! fallback (`fallback.rs`).

mod args;
mod batch;
mod boxed;
mod companions;
mod expand;
mod fallback;
mod key;
mod mentions;
mod options;
mod outline;
mod params;
mod validate;

use proc_macro2::TokenStream;
use syn::ItemFn;

use crate::attr;
use crate::errors::Errors;

/// The attribute's entry point. Every error is collected and reported together; with any, the
/// fallback emits the function unchanged and its companions, so the rest of the crate still
/// type-checks.
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
    let errors = Errors::new();
    let args = attr::parse::<args::CachedArgs>(args, &errors);
    // Checking the function against arguments that did not read cleanly would only guess
    // (an unreadable `key` is not "no key"): then only what is wrong with them is reported.
    let args_read_cleanly = errors.is_empty();
    if args.batch.is_some() {
        return batch::expand(args, func, args_read_cleanly, errors);
    }
    // A method `#[async_trait]` rewrote is cached as the `async fn` it was written as.
    let (cached_fn, boxed) = match boxed::BoxedFuture::unwrap(&func) {
        Some((async_fn, boxed)) => (async_fn, Some(boxed)),
        None => (func.clone(), None),
    };
    let outline = outline::outline(&args, cached_fn, boxed, &errors);
    if !args_read_cleanly {
        return fallback::expand(func, &outline, errors);
    }
    let plan = validate::plan(args, outline, &errors);
    if !errors.is_empty() {
        return fallback::expand(func, &plan.outline, errors);
    }
    expand::expand(&plan)
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
            out.contains(&format!(
                "let __cached_opts : & :: cache_core :: {} :: Options = & __CACHED_OPTS",
                crate::private::MODULE
            )),
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

    #[test]
    fn errors_keep_the_companions_callers_name() {
        let out = expand(
            quote!(tiers = "disk"),
            quote!(
                pub fn f(#[cache(skip)] db: u8, id: u64) -> u8 {
                    db
                }
            ),
        );
        assert!(out.contains("pub fn f (db : u8 , id : u64)"), "{out}");
        assert!(out.contains("pub fn f_cache_key (id : & u64)"), "{out}");
        assert!(
            out.contains("pub async fn f_invalidate (id : & u64)"),
            "{out}"
        );
        assert_eq!(out.matches("compile_error").count(), 1, "{out}");
    }
}
