//! `#[derive(CacheKey)]`: parse (`args.rs`) → validate (`validate.rs`) → expand
//! (`expand.rs`), or on any error the fallback (`fallback.rs`).

mod args;
mod expand;
mod fallback;
mod validate;

use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::errors::Errors;
use crate::private;

/// The derive's entry point. Every error is collected and reported together, next to
/// placeholder items so that code using the record still type-checks.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    let errors = Errors::new();
    let attr = args::parse(&input, &errors);
    let private = private::path(attr.as_ref().and_then(|a| a.args.krate.as_ref()));
    // Checking the record against arguments that did not read cleanly would only guess: then
    // only what is wrong with them is reported.
    let plan = if errors.is_empty() {
        validate::plan(&input, attr, private.clone(), &errors)
    } else {
        None
    };
    match plan {
        Some(plan) => expand::expand(&plan),
        None => fallback::expand(&input, &private, errors),
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    #[test]
    fn errors_keep_the_items_callers_use() {
        let out = super::expand(quote!(
            #[cache_key(prefix = "store", id = store_id)]
            struct Store {
                id: i64,
            }
        ))
        .to_string();
        assert!(out.contains("KeyPart for Store"), "{out}");
        assert!(out.contains("pub fn cache_key (& self)"), "{out}");
        assert_eq!(out.matches("compile_error").count(), 1, "{out}");
    }
}
