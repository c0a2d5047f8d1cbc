//! `#[cached(batch)]`: a function that loads many ids at once, cached per id.
//!
//! ```text
//! #[cached(batch, ttl = "10m")]
//! async fn users(#[cache(skip)] db: &Db, ids: Vec<u32>) -> Result<HashMap<u32, User>, E> { .. }
//! ```
//!
//! becomes a call of [`Cache::get_or_load_many`] whose loader is the body, run with only the
//! ids no tier had (bound to the same parameter). Each id's key is the key a plain `#[cached]`
//! function of that one id would have (same name, version and escaping), so the key-safety
//! rule reads: the ids are the only argument not `#[cache(skip)]`. The companions take one id:
//! `users_cache_key(id: &u32)`, `users_invalidate(id: &u32)`.
//!
//! [`Cache::get_or_load_many`]: https://docs.rs/cache-core

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, Ident, ItemFn, Pat, ReturnType, Type};

use super::args::{CachedArgs, DurationArg};
use super::boxed::BoxedFuture;
use super::companions::{self, Bodies};
use super::fallback;
use super::key::{KeyUse, key_value};
use super::mentions::Mentions;
use super::options;
use super::outline::{self, Outline};
use super::validate::{Plan, Shape, name_and_version};
use crate::errors::Errors;

const IDS_SHAPE: &str = "a batch function takes its ids as its only argument that is not \
                         #[cache(skip)]: `ids: Vec<I>` or `ids: &[I]`";

/// The ids parameter: its place among the typed parameters, and its element type.
struct Ids {
    index: usize,
    elem: Type,
    /// Written `&[I]` (else `Vec<I>`).
    slice: bool,
}

pub(super) fn expand(
    args: CachedArgs,
    func: ItemFn,
    read_cleanly: bool,
    errors: Errors,
) -> TokenStream {
    if BoxedFuture::unwrap(&func).is_some() {
        let msg = "`#[cached(batch)]` does not support `#[async_trait]` methods; \
                   call `Cache::get_or_load_many` in the method instead";
        errors.at(func.sig.ident.span(), msg);
    }
    let mut outline = outline::outline(&args, func.clone(), None, &errors);
    if !read_cleanly {
        return fallback::expand(func, &outline, errors);
    }
    let checked = check(&args, &outline, &errors);
    let (Some((ids, fallible)), true) = (checked, errors.is_empty()) else {
        return fallback::expand(func, &outline, errors);
    };
    // From here on the outline describes one id, as the key and the companions see it.
    let (ids_arg, ids_pat) = per_id(&mut outline, &ids);
    let opts = options::calls(&args, &outline, &errors);
    let (name, name_is_default, version) = name_and_version(&args, &outline.func.sig, &errors);
    let ret = match &outline.func.sig.output {
        ReturnType::Type(_, ty) => (**ty).clone(),
        ReturnType::Default => syn::parse_quote!(()),
    };
    let plan = Plan {
        outline,
        ret,
        shape: Shape::Result,
        none_ttl: false,
        adapt: None,
        key: None,
        name,
        name_is_default,
        version,
        static_opts: opts.fixed,
        dynamic_opts: opts.per_call,
    };
    if !errors.is_empty() {
        return fallback::expand(func, &plan.outline, errors);
    }
    let emitted = emitted_fn(&plan, &ids, (ids_arg, ids_pat), fallible);
    let companions = companions::companions(&plan.outline, Bodies::Real(&plan));
    quote!(#emitted #companions)
}

/// Checks the function's shape for a batch; returns the ids parameter and whether the
/// function returns a `Result`.
fn check(args: &CachedArgs, outline: &Outline, errors: &Errors) -> Option<(Ids, bool)> {
    let sig = &outline.func.sig;
    if sig.asyncness.is_none() {
        let msg = "`#[cached(batch)]` needs an `async fn`: a batch reads the remote tier";
        errors.at(sig.fn_token.span, msg);
    }
    let unsupported = [
        ("key", args.key.as_ref().map(Spanned::span)),
        ("cache_none", args.cache_none.as_ref().map(Spanned::span)),
        ("adapt", args.adapt.as_ref().map(Spanned::span)),
        (
            "soft_timeout",
            args.soft_timeout.as_ref().map(DurationArg::span),
        ),
        (
            "hard_timeout",
            args.hard_timeout.as_ref().map(DurationArg::span),
        ),
    ];
    for (arg, span) in unsupported {
        if let Some(span) = span {
            let why = match arg {
                "key" => "each id's key is the id itself (with the cache name and version)",
                "cache_none" => "use `none_ttl` to cache ids the loader does not return",
                "adapt" => {
                    "a batch stores every id as the options say (adaptive entries are \
                            per single load)"
                }
                _ => "a batch has no per-id timeout",
            };
            errors.at(span, format!("`{arg}` does not apply to `batch`: {why}"));
        }
    }
    if let Some(r) = outline.params.receiver.as_ref().filter(|r| !r.skip) {
        let msg = "`self` would be part of every id's key; write `#[cache(skip)] &self`: \
                   a batch key is the id alone";
        errors.at(r.span, msg);
    }
    let mut keyed = outline
        .params
        .typed
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.skip);
    let Some((index, param)) = keyed.next() else {
        errors.at(sig.ident.span(), IDS_SHAPE);
        return None;
    };
    for (_, extra) in keyed {
        let msg = format!(
            "argument `{}` would be part of every id's key; mark it #[cache(skip)]: {IDS_SHAPE}",
            extra.name
        );
        errors.at(extra.ty.span(), msg);
    }
    let ids = match ids_type(&param.ty) {
        Some((elem, slice)) => Ids {
            index,
            elem: elem.clone(),
            slice,
        },
        None => {
            errors.at(param.ty.span(), IDS_SHAPE);
            return None;
        }
    };
    let fallible = check_return(&sig.output, errors)?;
    check_options_ignore_ids(args, &param.bindings, errors);
    Some((ids, fallible))
}

/// `I` of `Vec<I>` or `&[I]`, and whether it was the slice.
fn ids_type(ty: &Type) -> Option<(&Type, bool)> {
    match ty {
        Type::Reference(r) if r.mutability.is_none() => match &*r.elem {
            Type::Slice(s) => Some((&s.elem, true)),
            _ => None,
        },
        Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            (last.ident == "Vec").then_some(())?;
            Some((single_type_arg(&last.arguments)?, false))
        }
        _ => None,
    }
}

fn single_type_arg(args: &syn::PathArguments) -> Option<&Type> {
    match args {
        syn::PathArguments::AngleBracketed(a) => a.args.iter().find_map(|arg| match arg {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        }),
        _ => None,
    }
}

/// `Result<HashMap<I, T>, E>` (fallible) or `HashMap<I, T>`.
fn check_return(output: &ReturnType, errors: &Errors) -> Option<bool> {
    const SHAPE: &str = "a batch function returns the values it found by id: \
                         `Result<HashMap<I, T>, E>` or `HashMap<I, T>`";
    let ReturnType::Type(_, ty) = output else {
        errors.at(output.span(), SHAPE);
        return None;
    };
    let last = |ty: &Type| match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last().cloned(),
        _ => None,
    };
    let is_map = |ty: &Type| last(ty).is_some_and(|s| s.ident == "HashMap");
    let outcome = match last(ty) {
        Some(s) if s.ident == "Result" => single_type_arg(&s.arguments)
            .filter(|t| is_map(t))
            .map(|_| true),
        Some(s) if s.ident == "HashMap" => Some(false),
        _ => None,
    };
    if outcome.is_none() {
        errors.at(ty.span(), SHAPE);
    }
    outcome
}

/// Options are computed once for the whole batch, so they cannot depend on the ids.
fn check_options_ignore_ids(args: &CachedArgs, ids: &[Ident], errors: &Errors) {
    let mut exprs: Vec<&Expr> = Vec::new();
    exprs.extend(args.tags.iter().flat_map(|tags| tags.elems.iter()));
    exprs.extend(args.jitter.iter().chain(&args.early_refresh));
    for duration in [&args.ttl, &args.stale, &args.none_ttl]
        .into_iter()
        .flatten()
    {
        if let DurationArg::Expr(e) = duration {
            exprs.push(e);
        }
    }
    for expr in exprs {
        let m = Mentions::of(expr);
        if let Some(id) = ids.iter().find(|id| m.uses(&id.to_string())) {
            let msg = format!(
                "options of a batch apply to all its ids at once, so they cannot use `{id}`"
            );
            errors.at(expr.span(), msg);
        }
    }
}

/// Makes the ids parameter of `outline` one id, `id: &I` to the key and the companions;
/// returns the parameter's name in the emitted signature and the pattern the body binds the
/// ids with.
fn per_id(outline: &mut Outline, ids: &Ids) -> (Ident, Pat) {
    let param = &mut outline.params.typed[ids.index];
    let original = param.destructure.clone().unwrap_or_else(|| {
        let name = &param.name;
        syn::parse_quote!(#name)
    });
    let id = Ident::new("id", param.name.span());
    param.key_pat = syn::parse_quote!(#id);
    param.bindings = vec![id.clone()];
    param.destructure = None;
    param.ty = ids.elem.clone();
    let emitted = std::mem::replace(&mut param.name, id);
    (emitted, original)
}

fn emitted_fn(
    plan: &Plan,
    ids: &Ids,
    (ids_arg, ids_pat): (Ident, Pat),
    fallible: bool,
) -> TokenStream {
    let outline = &plan.outline;
    let (p, func) = (&outline.private, &outline.func);
    let (attrs, vis, sig, block) = (&func.attrs, &func.vis, &func.sig, &func.block);
    let static_opts = &plan.static_opts;
    let opts = if plan.dynamic_opts.is_empty() {
        quote!(&__CACHED_OPTS)
    } else {
        let dynamic = &plan.dynamic_opts;
        quote!(&#p::Options::clone(&__CACHED_OPTS) #(.#dynamic)*)
    };
    let cache = outline.cache_ref(true);
    let elem = &ids.elem;
    let ids_iter = if ids.slice {
        quote!(::core::iter::Iterator::cloned(<[#elem]>::iter(#ids_arg)))
    } else {
        quote!(#ids_arg)
    };
    let destructure = outline.params.typed.iter().filter_map(|t| {
        let name = &t.name;
        t.destructure.as_ref().map(|pat| quote!(let #pat = #name;))
    });
    let bind_ids = if ids.slice {
        quote!(let #ids_pat: &[#elem] = &__cached_ids;)
    } else {
        quote!(let #ids_pat: ::std::vec::Vec<#elem> = __cached_ids;)
    };
    let key = key_value(plan, quote!(self), KeyUse::Build);
    let entry = if fallible {
        quote!(load_batch)
    } else {
        quote!(load_batch_value)
    };
    let span = ret_span(sig);
    let call = quote_spanned!(span=> #p::#entry);
    let body = quote! {{
        static __CACHED_OPTS: #p::LazyLock<#p::Options> =
            #p::LazyLock::new(|| #p::Options::new() #(.#static_opts)*);
        let __cached_opts: &#p::Options = #opts;
        let __cached_cache: &#p::Cache = #cache;
        #call(
            __cached_cache,
            #ids_iter,
            |id: &#elem| -> #p::CacheKey { #key },
            __cached_opts,
            |__cached_ids: ::std::vec::Vec<#elem>| async move {
                #bind_ids
                #(#destructure)*
                #block
            },
        )
        .await
    }};
    quote!(#(#attrs)* #vis #sig #body)
}

fn ret_span(sig: &syn::Signature) -> Span {
    match &sig.output {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => sig.ident.span(),
    }
}
