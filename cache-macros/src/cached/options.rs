//! The `Options` builder calls of `#[cached(..)]`: durations and tiers checked at compile time,
//! and each call sorted into "built once" or "per call" by whether it reads the arguments.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Expr, GenericParam, LitStr};

use super::args::{CachedArgs, DurationArg};
use super::mentions::Mentions;
use super::outline::Outline;
use crate::errors::Errors;

/// Builder calls such as `ttl(..)`, without the leading dot.
pub(crate) struct OptionCalls {
    /// Independent of the arguments: applied once, in a `static LazyLock<Options>`.
    pub(crate) fixed: Vec<TokenStream>,
    /// Read the arguments (or generic parameters): applied to a clone on every call.
    pub(crate) per_call: Vec<TokenStream>,
}

pub(crate) fn calls(args: &CachedArgs, outline: &Outline, errors: &Errors) -> OptionCalls {
    let (sig, params, p) = (&outline.func.sig, &outline.params, &outline.private);
    // Names that, when an option uses them, make it per call.
    let mut dynamic_names: Vec<String> = vec!["self".into(), "Self".into()];
    for p in &params.typed {
        dynamic_names.extend(p.bindings.iter().map(ToString::to_string));
    }
    for g in &sig.generics.params {
        match g {
            GenericParam::Type(t) => dynamic_names.push(t.ident.to_string()),
            GenericParam::Const(c) => dynamic_names.push(c.ident.to_string()),
            GenericParam::Lifetime(_) => {}
        }
    }
    let is_dynamic = |e: &Expr| {
        let m = Mentions::of(e);
        dynamic_names.iter().any(|n| m.uses(n))
    };

    let mut out = OptionCalls {
        fixed: Vec::new(),
        per_call: Vec::new(),
    };
    let mut push = |call: TokenStream, dynamic: bool| {
        if dynamic {
            out.per_call.push(call);
        } else {
            out.fixed.push(call);
        }
    };
    for (method, arg) in [
        ("ttl", &args.ttl),
        ("stale", &args.stale),
        ("soft_timeout", &args.soft_timeout),
        ("hard_timeout", &args.hard_timeout),
        ("none_ttl", &args.none_ttl),
    ] {
        let method = syn::Ident::new(method, Span::call_site());
        match arg {
            Some(DurationArg::Lit(lit)) => match duration(lit, p) {
                Ok(d) => push(quote!(#method(#d)), false),
                Err(e) => errors.push(e),
            },
            Some(DurationArg::Expr(e)) => push(quote!(#method(#e)), is_dynamic(e)),
            None => {}
        }
    }
    if let Some(e) = &args.jitter {
        push(quote!(jitter(#e)), is_dynamic(e));
    }
    if let Some(e) = &args.early_refresh {
        push(quote!(early_refresh(#e)), is_dynamic(e));
    }
    if let Some(tags) = &args.tags {
        let dynamic = tags.elems.iter().any(&is_dynamic);
        let elems = tags.elems.iter().map(|e| quote!(#p::tag(&(#e))));
        push(quote!(tags([#(#elems),*])), dynamic);
    }
    match (&args.tiers, sig.asyncness.is_some()) {
        (Some(lit), is_async) => match tiers(lit, is_async, p) {
            Ok(t) => push(quote!(tiers(#t)), false),
            Err(e) => errors.push(e),
        },
        (None, true) => {}
        (None, false) => push(quote!(tiers(#p::Tiers::REQUEST | #p::Tiers::LOCAL)), false),
    }
    if let Some(flag) = &args.flag {
        push(quote!(flag(#flag)), false);
    }
    out
}

/// A humantime literal as `Duration::new(secs, nanos)`.
fn duration(lit: &LitStr, p: &TokenStream) -> syn::Result<TokenStream> {
    let d = humantime::parse_duration(&lit.value()).map_err(|e| {
        syn::Error::new(
            lit.span(),
            format!(
                "invalid duration {:?}: {e}; write it like \"90s\", \"10m\" or \"1h 30m\"",
                lit.value()
            ),
        )
    })?;
    let (secs, nanos) = (d.as_secs(), d.subsec_nanos());
    Ok(quote!(#p::Duration::new(#secs, #nanos)))
}

/// `"request, local"` as `Tiers::REQUEST | Tiers::LOCAL`.
fn tiers(lit: &LitStr, is_async: bool, p: &TokenStream) -> syn::Result<TokenStream> {
    let mut consts = Vec::new();
    for tier in lit
        .value()
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let c = match tier {
            "request" => quote!(#p::Tiers::REQUEST),
            "local" => quote!(#p::Tiers::LOCAL),
            "redis" | "remote" if !is_async => {
                let msg = format!(
                    "a sync function cannot use the `{tier}` tier: reading Redis needs async \
                     I/O, and a sync `#[cached]` fn never blocks on a runtime; make the \
                     function `async` or use `tiers = \"request, local\"`"
                );
                return Err(syn::Error::new(lit.span(), msg));
            }
            "redis" | "remote" => quote!(#p::Tiers::REMOTE),
            other => {
                let msg = format!(
                    "unknown tier `{other}`; `tiers` is a comma-separated subset of \
                     `request, local, redis`"
                );
                return Err(syn::Error::new(lit.span(), msg));
            }
        };
        consts.push(c);
    }
    if consts.is_empty() {
        return Err(syn::Error::new(
            lit.span(),
            "`tiers` names no tier; use a subset of `request, local, redis`",
        ));
    }
    Ok(quote!(#(#consts)|*))
}
