//! The one way the macros read their attribute arguments — `#[cached(..)]`, `#[cache(..)]` on a
//! parameter and `#[cache_key(..)]` alike: a comma-separated list of `name = value` (or a bare
//! `name` flag), one typed field per argument, dispatched on `custom_keyword!`s.
//!
//! The list is read here; each attribute's [`ArgList`] impl only says which keyword fills
//! which field. Every unknown, repeated or unreadable argument is recorded as a spanned error
//! and reading goes on after the next comma, so one pass reports them all.

use proc_macro2::{TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Attribute, Ident, Token};

use crate::errors::Errors;

/// An attribute's arguments: one field per argument, `None`/`false` when not given.
pub(crate) trait ArgList: Default {
    /// The attribute as messages write it, e.g. `#[cached]`.
    const ATTR: &'static str;
    /// The argument names, in the order messages list them.
    const NAMES: &'static [&'static str];

    /// Reads the argument at the start of `input` into its field. `Ok(false)`, consuming
    /// nothing, when the next name is not one of this attribute's.
    fn parse_one(&mut self, input: ParseStream<'_>) -> syn::Result<bool>;

    /// The message for an argument name the attribute does not know.
    fn unknown(name: &Ident) -> String {
        format!(
            "unknown argument `{name}`; `{}` accepts: {}",
            Self::ATTR,
            Self::NAMES.join(", ")
        )
    }
}

/// `name = value`: the keyword `K`, `=`, then the value read by `value`.
pub(crate) fn value<K: syn::parse::Parse, T>(
    input: ParseStream<'_>,
    value: impl FnOnce(ParseStream<'_>) -> syn::Result<T>,
) -> syn::Result<T> {
    input.parse::<K>()?;
    input.parse::<Token![=]>()?;
    value(input)
}

/// A bare `name` flag.
pub(crate) fn flag<K: syn::parse::Parse>(input: ParseStream<'_>) -> syn::Result<bool> {
    input.parse::<K>()?;
    Ok(true)
}

/// Reads the argument list `tokens` (the inside of the attribute's parentheses).
pub(crate) fn parse<A: ArgList>(tokens: TokenStream, errors: &Errors) -> A {
    let mut args = A::default();
    let read = |input: ParseStream<'_>| {
        read_list(&mut args, input, errors);
        Ok(())
    };
    errors.ok(read.parse2(tokens));
    args
}

/// Reads the arguments of `attr`, which must be written as a list: `#[name(..)]`.
pub(crate) fn parse_attr<A: ArgList>(attr: &Attribute, errors: &Errors) -> A {
    match attr.meta.require_list() {
        Ok(list) => parse(list.tokens.clone(), errors),
        Err(error) => {
            errors.push(error);
            A::default()
        }
    }
}

fn read_list<A: ArgList>(args: &mut A, input: ParseStream<'_>, errors: &Errors) {
    let mut seen: Vec<String> = Vec::new();
    while !input.is_empty() {
        let Ok(name) = input.fork().call(Ident::parse_any) else {
            let message = format!(
                "expected an argument name; `{}` accepts: {}",
                A::ATTR,
                A::NAMES.join(", ")
            );
            errors.push(input.error(message));
            skip_argument(input);
            continue;
        };
        let key = name.unraw().to_string();
        if seen.contains(&key) {
            errors.at(
                name.span(),
                format!(
                    "duplicate argument `{key}`: each `{}` argument may appear once",
                    A::ATTR
                ),
            );
            skip_argument(input);
            continue;
        }
        match args.parse_one(input) {
            Ok(true) => seen.push(key),
            Ok(false) => {
                errors.at(name.span(), A::unknown(&name));
                skip_argument(input);
                continue;
            }
            Err(error) => {
                // Not recorded as seen: a repeat of an unreadable argument is no duplicate.
                errors.push(error);
                skip_argument(input);
                continue;
            }
        }
        if input.is_empty() {
            break;
        }
        if let Err(error) = input.parse::<Token![,]>() {
            errors.push(syn::Error::new(
                error.span(),
                "expected `,` between arguments",
            ));
            skip_argument(input);
        }
    }
}

/// Skips the rest of an argument that could not be read, and the comma after it, so the
/// remaining arguments are still checked.
fn skip_argument(input: ParseStream<'_>) {
    // Stepping over whole token trees cannot fail.
    let _ = input.step(|cursor| {
        let mut rest = *cursor;
        while let Some((tt, next)) = rest.token_tree() {
            rest = next;
            if matches!(&tt, TokenTree::Punct(p) if p.as_char() == ',') {
                break;
            }
        }
        Ok(((), rest))
    });
}

/// The arguments of the attribute `#[name(..)]` among `attrs`, when it is there. Given more
/// than once, each repeat is an error and only the first is read.
pub(crate) fn parse_single<'a, A: ArgList>(
    attrs: &'a [Attribute],
    name: &str,
    errors: &Errors,
) -> Option<(A, &'a Attribute)> {
    let mut found = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident(name)) {
        if found.is_some() {
            errors.push(syn::Error::new_spanned(
                attr,
                format!("`#[{name}(..)]` is given twice"),
            ));
        } else {
            found = Some((parse_attr(attr, errors), attr));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use quote::quote;
    use syn::LitInt;
    use syn::parse::{Parse, ParseStream};

    use super::{ArgList, flag, parse, value};
    use crate::errors::Errors;

    mod kw {
        syn::custom_keyword!(size);
        syn::custom_keyword!(fast);
    }

    #[derive(Default)]
    struct Sample {
        size: Option<LitInt>,
        fast: bool,
    }

    impl ArgList for Sample {
        const ATTR: &'static str = "#[sample]";
        const NAMES: &'static [&'static str] = &["size", "fast"];

        fn parse_one(&mut self, input: ParseStream<'_>) -> syn::Result<bool> {
            if input.peek(kw::size) {
                self.size = Some(value::<kw::size, _>(input, LitInt::parse)?);
            } else if input.peek(kw::fast) {
                self.fast = flag::<kw::fast>(input)?;
            } else {
                return Ok(false);
            }
            Ok(true)
        }
    }

    fn messages(errors: Errors) -> Vec<String> {
        match errors.finish() {
            Ok(()) => Vec::new(),
            Err(all) => all.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn every_mistake_is_reported_and_the_rest_is_still_read() {
        let errors = Errors::new();
        let args: Sample = parse(
            quote!(colour = "red", size = "big", fast, size = 3, fast),
            &errors,
        );
        assert!(args.fast);
        assert_eq!(args.size.map(|s| s.to_string()).as_deref(), Some("3"));
        assert_eq!(
            messages(errors),
            [
                "unknown argument `colour`; `#[sample]` accepts: size, fast",
                "expected integer literal",
                "duplicate argument `fast`: each `#[sample]` argument may appear once",
            ]
        );
    }

    #[test]
    fn a_missing_comma_is_reported_where_it_is_missing() {
        let errors = Errors::new();
        let args: Sample = parse(quote!(size = 3 fast), &errors);
        assert_eq!(args.size.map(|s| s.to_string()).as_deref(), Some("3"));
        assert_eq!(messages(errors), ["expected `,` between arguments"]);
    }
}
