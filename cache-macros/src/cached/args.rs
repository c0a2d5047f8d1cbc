//! Parsing `#[cached(...)]` arguments: one typed field per argument, every unknown or repeated
//! argument a spanned error that lists what is allowed. Values are only parsed here; what they
//! mean (durations, tiers, key coverage) is checked in `validate.rs`.

use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Expr, ExprArray, Ident, LitBool, LitInt, LitStr, Path, Token};

mod kw {
    syn::custom_keyword!(key);
    syn::custom_keyword!(ttl);
    syn::custom_keyword!(stale);
    syn::custom_keyword!(jitter);
    syn::custom_keyword!(early_refresh);
    syn::custom_keyword!(tags);
    syn::custom_keyword!(name);
    syn::custom_keyword!(flag);
    syn::custom_keyword!(tiers);
    syn::custom_keyword!(version);
    syn::custom_keyword!(cache);
    syn::custom_keyword!(cache_none);
    syn::custom_keyword!(soft_timeout);
    syn::custom_keyword!(hard_timeout);
    syn::custom_keyword!(companions);
}

/// Every argument `#[cached]` accepts, in the order the error messages list them.
pub(crate) const ALLOWED: &str = "key, ttl, stale, jitter, early_refresh, tags, name, flag, \
     tiers, version, cache, crate, cache_none, soft_timeout, hard_timeout, companions";

/// A duration argument: a humantime literal checked at compile time, or any expression.
pub(crate) enum DurationArg {
    Lit(LitStr),
    Expr(Expr),
}

/// The parsed arguments, each `None` when not given.
#[derive(Default)]
pub(crate) struct CachedArgs {
    pub(crate) key: Option<Expr>,
    pub(crate) ttl: Option<DurationArg>,
    pub(crate) stale: Option<DurationArg>,
    pub(crate) soft_timeout: Option<DurationArg>,
    pub(crate) hard_timeout: Option<DurationArg>,
    pub(crate) jitter: Option<Expr>,
    pub(crate) early_refresh: Option<Expr>,
    pub(crate) tags: Option<ExprArray>,
    pub(crate) name: Option<LitStr>,
    pub(crate) flag: Option<LitStr>,
    pub(crate) tiers: Option<LitStr>,
    pub(crate) version: Option<LitInt>,
    pub(crate) cache: Option<Expr>,
    pub(crate) krate: Option<Path>,
    pub(crate) cache_none: Option<LitBool>,
    pub(crate) companions: Option<LitBool>,
    /// Unknown and repeated arguments; parsing goes on past them to report them all.
    pub(crate) errors: Vec<syn::Error>,
}

impl Parse for CachedArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = CachedArgs::default();
        while !input.is_empty() {
            args.parse_one(input)?;
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(args)
    }
}

impl CachedArgs {
    fn parse_one(&mut self, input: ParseStream<'_>) -> syn::Result<()> {
        let la = input.lookahead1();
        if la.peek(kw::key) {
            self.arg::<kw::key, _>(input, "key", |a| &mut a.key, Expr::parse)
        } else if la.peek(kw::ttl) {
            self.arg::<kw::ttl, _>(input, "ttl", |a| &mut a.ttl, DurationArg::parse)
        } else if la.peek(kw::stale) {
            self.arg::<kw::stale, _>(input, "stale", |a| &mut a.stale, DurationArg::parse)
        } else if la.peek(kw::soft_timeout) {
            self.arg::<kw::soft_timeout, _>(
                input,
                "soft_timeout",
                |a| &mut a.soft_timeout,
                DurationArg::parse,
            )
        } else if la.peek(kw::hard_timeout) {
            self.arg::<kw::hard_timeout, _>(
                input,
                "hard_timeout",
                |a| &mut a.hard_timeout,
                DurationArg::parse,
            )
        } else if la.peek(kw::jitter) {
            self.arg::<kw::jitter, _>(input, "jitter", |a| &mut a.jitter, Expr::parse)
        } else if la.peek(kw::early_refresh) {
            self.arg::<kw::early_refresh, _>(
                input,
                "early_refresh",
                |a| &mut a.early_refresh,
                Expr::parse,
            )
        } else if la.peek(kw::tags) {
            self.arg::<kw::tags, _>(input, "tags", |a| &mut a.tags, tags)
        } else if la.peek(kw::name) {
            self.arg::<kw::name, _>(input, "name", |a| &mut a.name, <LitStr as Parse>::parse)
        } else if la.peek(kw::flag) {
            self.arg::<kw::flag, _>(input, "flag", |a| &mut a.flag, <LitStr as Parse>::parse)
        } else if la.peek(kw::tiers) {
            self.arg::<kw::tiers, _>(input, "tiers", |a| &mut a.tiers, <LitStr as Parse>::parse)
        } else if la.peek(kw::version) {
            self.arg::<kw::version, _>(input, "version", |a| &mut a.version, LitInt::parse)
        } else if la.peek(kw::cache_none) {
            self.arg::<kw::cache_none, _>(
                input,
                "cache_none",
                |a| &mut a.cache_none,
                LitBool::parse,
            )
        } else if la.peek(kw::cache) {
            self.arg::<kw::cache, _>(input, "cache", |a| &mut a.cache, Expr::parse)
        } else if la.peek(kw::companions) {
            self.arg::<kw::companions, _>(
                input,
                "companions",
                |a| &mut a.companions,
                LitBool::parse,
            )
        } else if la.peek(Token![crate]) {
            self.arg::<Token![crate], _>(input, "crate", |a| &mut a.krate, Path::parse_mod_style)
        } else if input.peek(Ident::peek_any) {
            let error = unknown(input)?;
            self.errors.push(error);
            Ok(())
        } else {
            Err(la.error())
        }
    }

    /// Parses `name = value` into `slot`; a repeated argument is recorded as an error at its
    /// second `name`, and parsing goes on.
    fn arg<K: Parse + Spanned, T>(
        &mut self,
        input: ParseStream<'_>,
        name: &str,
        slot: fn(&mut Self) -> &mut Option<T>,
        parse: fn(ParseStream<'_>) -> syn::Result<T>,
    ) -> syn::Result<()> {
        let at = input.parse::<K>()?.span();
        input.parse::<Token![=]>()?;
        let value = parse(input)?;
        if slot(self).is_some() {
            let msg =
                format!("duplicate argument `{name}`: each `#[cached]` argument may appear once");
            self.errors.push(syn::Error::new(at, msg));
        } else {
            *slot(self) = Some(value);
        }
        Ok(())
    }
}

impl Parse for DurationArg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(LitStr) {
            return Ok(DurationArg::Lit(input.parse()?));
        }
        let expr: Expr = input.parse()?;
        if let Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(_) | syn::Lit::Float(_),
            ..
        }) = &expr
        {
            return Err(syn::Error::new(
                expr.span(),
                "a duration needs a unit: write a string like \"90s\", \"10m\" or \"1h 30m\", \
                 or a `Duration` expression",
            ));
        }
        Ok(DurationArg::Expr(expr))
    }
}

fn tags(input: ParseStream<'_>) -> syn::Result<ExprArray> {
    if !input.peek(syn::token::Bracket) {
        return Err(
            input.error("`tags` takes a list: `tags = [\"users\", format!(\"user:{id}\")]`")
        );
    }
    input.parse()
}

/// An unknown `name = value`: the error names it and what is allowed; the value is skipped so
/// the remaining arguments are still checked.
fn unknown(input: ParseStream<'_>) -> syn::Result<syn::Error> {
    let name = input.call(Ident::parse_any)?;
    let error = syn::Error::new(
        name.span(),
        format!("unknown argument `{name}`; `#[cached]` accepts: {ALLOWED}"),
    );
    input.step(|cursor| {
        let mut rest = *cursor;
        while let Some((tt, next)) = rest.token_tree() {
            if matches!(&tt, proc_macro2::TokenTree::Punct(p) if p.as_char() == ',') {
                break;
            }
            rest = next;
        }
        Ok(((), rest))
    })?;
    Ok(error)
}
