//! The arguments of `#[cache_key(prefix = "…", id = field, version = field, crate = path)]`,
//! read by [`crate::attr`] like every other attribute of these macros.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{DeriveInput, LitStr, Member, Path, Token};

use crate::attr::{self, ArgList};
use crate::errors::Errors;

mod kw {
    syn::custom_keyword!(prefix);
    syn::custom_keyword!(id);
    syn::custom_keyword!(version);
}

/// The parsed arguments, each `None` when not given.
#[derive(Default)]
pub(super) struct KeyArgs {
    pub(super) prefix: Option<LitStr>,
    pub(super) id: Option<Member>,
    pub(super) version: Option<Member>,
    pub(super) krate: Option<Path>,
}

impl ArgList for KeyArgs {
    const ATTR: &'static str = "#[cache_key]";
    const NAMES: &'static [&'static str] = &["prefix", "id", "version", "crate"];

    fn parse_one(&mut self, input: ParseStream<'_>) -> syn::Result<bool> {
        use attr::value;
        if input.peek(kw::prefix) {
            self.prefix = Some(value::<kw::prefix, _>(input, <LitStr as Parse>::parse)?);
        } else if input.peek(kw::id) {
            self.id = Some(value::<kw::id, _>(input, Member::parse)?);
        } else if input.peek(kw::version) {
            self.version = Some(value::<kw::version, _>(input, Member::parse)?);
        } else if input.peek(Token![crate]) {
            self.krate = Some(value::<Token![crate], _>(input, Path::parse_mod_style)?);
        } else {
            return Ok(false);
        }
        Ok(true)
    }
}

/// The record's `#[cache_key(..)]`.
pub(super) struct KeyAttr {
    pub(super) args: KeyArgs,
    /// Where errors about the attribute as a whole (a missing argument) point.
    pub(super) span: Span,
}

/// Reads the `#[cache_key(..)]` attribute of `input`, if it has one.
pub(super) fn parse(input: &DeriveInput, errors: &Errors) -> Option<KeyAttr> {
    let (args, attr) = attr::parse_single::<KeyArgs>(&input.attrs, "cache_key", errors)?;
    Some(KeyAttr {
        args,
        span: attr.meta.span(),
    })
}
