//! The arguments of `#[cached(...)]`, read by [`crate::attr`]: one typed field per argument.
//! Values are only parsed here; what they mean (durations, tiers, key coverage) is checked in
//! `validate.rs`.

use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Expr, ExprArray, LitBool, LitInt, LitStr, Path, Token};

use crate::attr::{self, ArgList};

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
    syn::custom_keyword!(none_ttl);
    syn::custom_keyword!(adapt);
    syn::custom_keyword!(soft_timeout);
    syn::custom_keyword!(hard_timeout);
    syn::custom_keyword!(companions);
    syn::custom_keyword!(batch);
}

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
    pub(crate) none_ttl: Option<DurationArg>,
    pub(crate) adapt: Option<Expr>,
    pub(crate) companions: Option<LitBool>,
    /// `batch`: the function loads many ids at once (see `batch.rs`); where it was written.
    pub(crate) batch: Option<proc_macro2::Span>,
}

impl ArgList for CachedArgs {
    const ATTR: &'static str = "#[cached]";
    const NAMES: &'static [&'static str] = &[
        "key",
        "ttl",
        "stale",
        "jitter",
        "early_refresh",
        "tags",
        "name",
        "flag",
        "tiers",
        "version",
        "cache",
        "crate",
        "cache_none",
        "none_ttl",
        "adapt",
        "soft_timeout",
        "hard_timeout",
        "companions",
        "batch",
    ];

    fn parse_one(&mut self, input: ParseStream<'_>) -> syn::Result<bool> {
        use attr::value;
        if input.peek(kw::key) {
            self.key = Some(value::<kw::key, _>(input, Expr::parse)?);
        } else if input.peek(kw::ttl) {
            self.ttl = Some(value::<kw::ttl, _>(input, DurationArg::parse)?);
        } else if input.peek(kw::stale) {
            self.stale = Some(value::<kw::stale, _>(input, DurationArg::parse)?);
        } else if input.peek(kw::soft_timeout) {
            self.soft_timeout = Some(value::<kw::soft_timeout, _>(input, DurationArg::parse)?);
        } else if input.peek(kw::hard_timeout) {
            self.hard_timeout = Some(value::<kw::hard_timeout, _>(input, DurationArg::parse)?);
        } else if input.peek(kw::jitter) {
            self.jitter = Some(value::<kw::jitter, _>(input, Expr::parse)?);
        } else if input.peek(kw::early_refresh) {
            self.early_refresh = Some(value::<kw::early_refresh, _>(input, Expr::parse)?);
        } else if input.peek(kw::tags) {
            self.tags = Some(value::<kw::tags, _>(input, tags)?);
        } else if input.peek(kw::name) {
            self.name = Some(value::<kw::name, _>(input, <LitStr as Parse>::parse)?);
        } else if input.peek(kw::flag) {
            self.flag = Some(value::<kw::flag, _>(input, <LitStr as Parse>::parse)?);
        } else if input.peek(kw::tiers) {
            self.tiers = Some(value::<kw::tiers, _>(input, <LitStr as Parse>::parse)?);
        } else if input.peek(kw::version) {
            self.version = Some(value::<kw::version, _>(input, LitInt::parse)?);
        } else if input.peek(kw::cache_none) {
            self.cache_none = Some(value::<kw::cache_none, _>(input, LitBool::parse)?);
        } else if input.peek(kw::none_ttl) {
            self.none_ttl = Some(value::<kw::none_ttl, _>(input, DurationArg::parse)?);
        } else if input.peek(kw::adapt) {
            self.adapt = Some(value::<kw::adapt, _>(input, Expr::parse)?);
        } else if input.peek(kw::cache) {
            self.cache = Some(value::<kw::cache, _>(input, Expr::parse)?);
        } else if input.peek(kw::companions) {
            self.companions = Some(value::<kw::companions, _>(input, LitBool::parse)?);
        } else if input.peek(kw::batch) {
            self.batch = Some(input.parse::<kw::batch>()?.span);
        } else if input.peek(Token![crate]) {
            self.krate = Some(value::<Token![crate], _>(input, Path::parse_mod_style)?);
        } else {
            return Ok(false);
        }
        Ok(true)
    }
}

impl DurationArg {
    /// Where the argument's value was written, for errors about it.
    pub(crate) fn span(&self) -> proc_macro2::Span {
        match self {
            DurationArg::Lit(lit) => lit.span(),
            DurationArg::Expr(expr) => expr.span(),
        }
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
