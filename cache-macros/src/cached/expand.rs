//! Code generation from a validated [`Plan`].
//!
//! For `#[cached(..)] async fn load(#[cache(skip)] db: &Db, id: i64) -> Result<T, E>` it emits:
//!
//! ```text
//! async fn load(db: &Db, id: i64) -> Result<T, E> {
//!     let __cached_key = load_cache_key(&id);
//!     static __CACHED_OPTS: LazyLock<Options> = LazyLock::new(|| Options::new().ttl(..));
//!     let __cached_opts: &Options = &__CACHED_OPTS;
//!     let __cached_cache: &Cache = &global();
//!     load_result(__cached_cache, &__cached_key, __cached_opts, async move || -> Result<T, E> {
//!         /* original body */
//!     }).await
//! }
//! fn load_cache_key(id: &i64) -> CacheKey { CacheKey::with_schema(NAME, 0, &(key_part(id),)) }
//! async fn load_invalidate(id: &i64) { global().invalidate(&load_cache_key(id)).await }
//! ```
//!
//! (every path spelled `::cache_core::__private_x_y_z::…`, see `private.rs`).

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::quote;
use syn::Ident;
use syn::spanned::Spanned;

use super::companions::{self, Bodies};
use super::key::{KeyUse, inline_key};
use super::outline::Companions;
use super::validate::{Plan, Shape};

/// The cached function and its companions.
pub(crate) fn expand(plan: &Plan) -> TokenStream {
    let func = emitted_fn(plan, Call::Cached);
    let companions = companions::companions(&plan.outline, Bodies::Real(plan));
    let refresh = (plan.outline.companions != Companions::None).then(|| {
        let body = emitted_fn(plan, Call::Forced);
        companions::refresh_fn(&plan.outline, Some(body))
    });
    quote!(#func #companions #refresh)
}

/// Which function is emitted.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Call {
    /// The cached function itself.
    Cached,
    /// The body of `<fn>_refresh`: the same load with `force_refresh`, no hit path.
    Forced,
}

fn emitted_fn(plan: &Plan, call: Call) -> TokenStream {
    let outline = &plan.outline;
    let p = &outline.private;
    let func = &outline.func;
    let (attrs, vis, sig, ret) = (&func.attrs, &func.vis, &func.sig, &plan.ret);

    let static_opts = &plan.static_opts;
    let opts_static = quote! {
        static __CACHED_OPTS: #p::LazyLock<#p::Options> =
            #p::LazyLock::new(|| #p::Options::new() #(.#static_opts)*);
    };
    let dynamic = &plan.dynamic_opts;
    let opts = match call {
        Call::Cached if dynamic.is_empty() => quote!(&__CACHED_OPTS),
        Call::Cached => quote!(&#p::Options::clone(&__CACHED_OPTS) #(.#dynamic)*),
        Call::Forced => {
            quote!(&#p::Options::clone(&__CACHED_OPTS) #(.#dynamic)* .force_refresh(true))
        }
    };
    let cache = outline.cache_ref(true);

    let destructure = outline.params.typed.iter().filter_map(|t| {
        let name = &t.name;
        t.destructure.as_ref().map(|pat| quote!(let #pat = #name;))
    });
    let block = &func.block;
    let body = quote!({ #(#destructure)* #block });
    let entry = match (outline.is_async(), &plan.shape, plan.none_ttl) {
        // `none_ttl` on `Result<Option<T>, E>` and (as a value shape) on `Option<T>`.
        (true, Shape::Result, true) => "load_result_none_ttl",
        (true, _, true) => "load_option_none_ttl",
        (false, Shape::Result, true) => "load_result_none_ttl_sync",
        (false, _, true) => "load_option_none_ttl_sync",
        (true, Shape::Result, false) => "load_result",
        (true, Shape::Option, false) => "load_option",
        (true, Shape::Value, false) => "load_value",
        (false, Shape::Result, false) => "load_result_sync",
        (false, Shape::Option, false) => "load_option_sync",
        (false, Shape::Value, false) => "load_value_sync",
    };
    // Spanned at the error type (or the value type), so a type that cannot be cached is
    // reported there and only once.
    let span = shape_span(ret, &plan.shape);
    let entry = match &plan.adapt {
        // `load_result_sync` → `load_result_adaptive_sync`.
        Some(_) => match entry.strip_suffix("_sync") {
            Some(base) => format!("{base}_adaptive_sync"),
            None => format!("{entry}_adaptive"),
        },
        None => entry.to_string(),
    };
    let entry = Ident::new(&entry, Span::call_site());
    let entry_call = respan(quote!(#p::#entry), span);
    let loader = if outline.is_async() {
        quote!(async move || -> #ret #body)
    } else {
        quote!(move || -> #ret #body)
    };
    // The decider keeps its own spans: a wrong signature is reported at `adapt = …`.
    let adapt = plan
        .adapt
        .as_ref()
        .map(|adapt| match value_type(ret, &plan.shape) {
            Some(value) => {
                let check = respan(quote!(#p::adapt_for::<#value>), adapt.span());
                quote!(#check(#adapt),)
            }
            None => quote!(#adapt,),
        });
    let mut args = proc_macro2::Group::new(
        proc_macro2::Delimiter::Parenthesis,
        quote!(__cached_cache, &__cached_key, __cached_opts, #adapt #loader),
    );
    args.set_span(span);
    let load = if outline.is_async() {
        let await_ = respan(quote!(.await), span);
        quote!(#entry_call #args #await_)
    } else {
        quote!(#entry_call #args)
    };
    let probe = inline_key(plan, KeyUse::Probe);
    let (name, version) = (&plan.name, plan.version);
    let hit_fn = match value_type(ret, &plan.shape) {
        Some(value) => quote! {{
            #[allow(unused_imports)]
            use #p::{ProbeCacheable as _, ProbeUncacheable as _};
            (&#p::ProbeFor::<#value>::new()).hit_fn()
        }},
        None => quote!(::core::option::Option::None),
    };
    let hit = match plan.shape {
        Shape::Result => quote!(::core::result::Result::Ok(__cached_hit)),
        Shape::Option => quote!(::core::option::Option::Some(__cached_hit)),
        Shape::Value => quote!(__cached_hit),
    };
    if call == Call::Forced {
        let key = inline_key(plan, KeyUse::Build);
        return quote! {{
            #opts_static
            let __cached_opts: &#p::Options = #opts;
            let __cached_cache: &#p::Cache = #cache;
            let __cached_key: #p::CacheKey = #key;
            #load
        }};
    }
    let body = quote! {{
            #opts_static
            let __cached_opts: &#p::Options = #opts;
            let __cached_cache: &#p::Cache = #cache;
            static __CACHED_HEAD: #p::LazyLock<#p::KeyHead> =
                #p::LazyLock::new(|| #p::KeyHead::new(#name, #version));
            let __cached_probe = #p::ProbeArgs {
                hit: #hit_fn,
                cache: __cached_cache,
                opts: __cached_opts,
                name: #name,
                version: #version,
                head: &__CACHED_HEAD,
            };
            // The hit path writes the key into a reused buffer; the key is only allocated
            // when the full path (a miss, a refresh) needs it.
            let __cached_key: #p::CacheKey = match #probe {
                #p::Probe::Hit(__cached_hit) => return #hit,
                #p::Probe::Miss(__cached_key) => __cached_key,
            };
            #load
    }};
    let func = match &outline.boxed {
        Some(boxed) => boxed.rewrap(sig, body),
        None => quote!(#sig #body),
    };
    quote!(#(#attrs)* #vis #func)
}

/// `tokens` with every span set to `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tt| {
            if let TokenTree::Group(g) = &tt {
                let mut group = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                return TokenTree::Group(group);
            }
            tt.set_span(span);
            tt
        })
        .collect()
}

/// The cached value's type as written (`T` of `Result<T, E>`, `Option<T>` or plain `T`), when
/// it can be named in the function body; `None` leaves the call without a hit path.
fn value_type<'a>(ret: &'a syn::Type, shape: &Shape) -> Option<&'a syn::Type> {
    let value = match shape {
        Shape::Value => ret,
        Shape::Result | Shape::Option => match ret {
            syn::Type::Path(p) => match &p.path.segments.last()?.arguments {
                syn::PathArguments::AngleBracketed(a) => {
                    a.args.iter().find_map(|arg| match arg {
                        syn::GenericArgument::Type(t) => Some(t),
                        _ => None,
                    })?
                }
                _ => return None,
            },
            _ => return None,
        },
    };
    // `impl Trait` cannot be named in a body (and cannot be cached anyway).
    let text = quote!(#value).to_string();
    (!text.contains("impl ") && !text.contains("dyn ")).then_some(value)
}

/// Where type errors about the cached types go: `E` of `Result<T, E>`, `T` of `Option<T>`,
/// else the return type.
fn shape_span(ret: &syn::Type, shape: &Shape) -> Span {
    let index = match shape {
        Shape::Result => 1,
        Shape::Option => 0,
        Shape::Value => return ret.span(),
    };
    let arg = match ret {
        syn::Type::Path(p) => p.path.segments.last().and_then(|s| match &s.arguments {
            syn::PathArguments::AngleBracketed(a) => a.args.iter().nth(index),
            _ => None,
        }),
        _ => None,
    };
    arg.map_or_else(|| ret.span(), Spanned::span)
}
