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
