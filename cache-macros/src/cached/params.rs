//! The function's parameters as the key sees them: `#[cache(skip)]` markers (stripped from the
//! emitted signature), the names each parameter binds, and parameter patterns renamed to
//! `__cached_arg<N>` so the whole value can be handed to the key helper.

use proc_macro2::Span;
use quote::format_ident;
use syn::parse::ParseStream;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{Attribute, FnArg, Ident, Pat, Signature, Type};

use crate::attr::{self, ArgList};
use crate::errors::Errors;

mod kw {
    syn::custom_keyword!(skip);
}

/// The arguments of `#[cache(..)]` on a parameter.
#[derive(Default)]
struct ParamArgs {
    skip: bool,
}

impl ArgList for ParamArgs {
    const ATTR: &'static str = "#[cache]";
    const NAMES: &'static [&'static str] = &["skip"];

    fn parse_one(&mut self, input: ParseStream<'_>) -> syn::Result<bool> {
        if input.peek(kw::skip) {
            self.skip = attr::flag::<kw::skip>(input)?;
        } else {
            return Ok(false);
        }
        Ok(true)
    }

    fn unknown(_: &Ident) -> String {
        "unknown parameter option; the only one is `#[cache(skip)]`".into()
    }
}

/// The `self` parameter.
pub(crate) struct Receiver {
    /// `&self` / `&mut self` (as opposed to `self`, `mut self`, `self: Arc<Self>`).
    pub(crate) by_ref: bool,
    /// `&self` exactly: a shared reference is `Copy`, so borrowing from it is always fine.
    pub(crate) shared_ref: bool,
    pub(crate) skip: bool,
    pub(crate) span: Span,
}

/// A typed parameter.
pub(crate) struct Param {
    /// The name in the emitted signature: the original identifier, or `__cached_arg<N>`.
    pub(crate) name: Ident,
    /// The pattern with `mut` and `ref` removed: how the key helper and the inline key bind it
    /// from a reference.
    pub(crate) key_pat: Pat,
    /// The original pattern, when the parameter was renamed; destructured in the body.
    pub(crate) destructure: Option<Pat>,
    pub(crate) ty: Type,
    pub(crate) skip: bool,
    /// Every name the pattern binds, in order.
    pub(crate) bindings: Vec<Ident>,
}

impl Param {
    /// Whether the parameter is a shared reference (`Copy`, so borrowing it never conflicts).
    pub(crate) fn is_shared_ref(&self) -> bool {
        matches!(&self.ty, Type::Reference(r) if r.mutability.is_none())
    }
}

pub(crate) struct Params {
    pub(crate) receiver: Option<Receiver>,
    pub(crate) typed: Vec<Param>,
}

/// Reads the parameters of `sig`, removing `#[cache(..)]` attributes and renaming patterns in
/// it. Errors (unknown `#[cache(..)]` options) are recorded in `errors`.
pub(crate) fn analyze(sig: &mut Signature, errors: &Errors) -> Params {
    let mut receiver = None;
    let mut typed = Vec::new();
    for (index, input) in sig.inputs.iter_mut().enumerate() {
        match input {
            FnArg::Receiver(r) => {
                let skip = take_skip(&mut r.attrs, errors);
                receiver = Some(Receiver {
                    by_ref: r.reference.is_some() && r.colon_token.is_none(),
                    shared_ref: r.reference.is_some()
                        && r.mutability.is_none()
                        && r.colon_token.is_none(),
                    skip,
                    span: r.self_token.span,
                });
            }
            FnArg::Typed(t) => {
                let skip = take_skip(&mut t.attrs, errors);
                let mut bindings = Bindings::default();
                bindings.visit_pat(&t.pat);
                let mut key_pat = (*t.pat).clone();
                StripModes.visit_pat_mut(&mut key_pat);
                let (name, destructure) = match &*t.pat {
                    Pat::Ident(p) if p.subpat.is_none() => (p.ident.clone(), None),
                    pat => {
                        let name = format_ident!("__cached_arg{}", index, span = pat.span());
                        let original = pat.clone();
                        *t.pat = syn::parse_quote!(#name);
                        (name, Some(original))
                    }
                };
                typed.push(Param {
                    name,
                    key_pat,
                    destructure,
                    ty: (*t.ty).clone(),
                    skip,
                    bindings: bindings.0,
                });
            }
        }
    }
    Params { receiver, typed }
}

/// Removes `#[cache(..)]` from `attrs`; whether it said `skip`.
fn take_skip(attrs: &mut Vec<Attribute>, errors: &Errors) -> bool {
    let found = attr::parse_single::<ParamArgs>(attrs, "cache", errors);
    let skip = found.is_some_and(|(args, _)| args.skip);
    attrs.retain(|a| !a.path().is_ident("cache"));
    skip
}

/// Collects the identifiers a pattern binds.
#[derive(Default)]
struct Bindings(Vec<Ident>);

impl<'ast> Visit<'ast> for Bindings {
    fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
        self.0.push(p.ident.clone());
        syn::visit::visit_pat_ident(self, p);
    }

    fn visit_pat_or(&mut self, p: &'ast syn::PatOr) {
        // Every alternative binds the same names.
        if let Some(first) = p.cases.first() {
            self.visit_pat(first);
        }
    }
}

/// Removes `mut` and `ref` from bindings: the key binds through a reference.
struct StripModes;

impl VisitMut for StripModes {
    fn visit_pat_ident_mut(&mut self, p: &mut syn::PatIdent) {
        p.mutability = None;
        p.by_ref = None;
        syn::visit_mut::visit_pat_ident_mut(self, p);
    }

    fn visit_pat_reference_mut(&mut self, p: &mut syn::PatReference) {
        p.mutability = None;
        syn::visit_mut::visit_pat_reference_mut(self, p);
    }
}
