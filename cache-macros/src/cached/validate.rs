//! Checking parsed arguments against the function and turning both into a [`Plan`]: what
//! `expand.rs` needs, with every value already known to be valid.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::{Expr, ItemFn, LitStr, ReturnType, Type};

use super::args::CachedArgs;
use super::mentions::Mentions;
use super::params::{self, Params};
use super::{err, options};

/// How the return type maps onto the engine's `Result<T, E>`.
pub(crate) enum Shape {
    Result,
    Option,
    Value,
}

/// Where the emitted function gets its `Cache`.
pub(crate) enum CacheSource {
    Global,
    /// Borrowed for the whole call.
    Borrowed(Expr),
    /// Uses arguments that the loader moves: cloned first.
    Owned(Expr),
}

/// Where `<fn>_cache_key` / `<fn>_invalidate` go, if anywhere.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Companions {
    None,
    /// Free functions (called unqualified).
    Free,
    /// Associated functions of the same impl (called as `Self::…`).
    Assoc,
}

pub(crate) struct Plan {
    pub(crate) krate: TokenStream,
    /// The function as emitted: `#[cache]` attributes removed, patterns renamed.
    pub(crate) func: ItemFn,
    pub(crate) ret: Type,
    pub(crate) shape: Shape,
    pub(crate) params: Params,
    pub(crate) key: Option<Expr>,
    pub(crate) name: TokenStream,
    pub(crate) name_is_default: bool,
    pub(crate) version: u32,
    /// `Options` builder calls that do not depend on the arguments (built once).
    pub(crate) static_opts: Vec<TokenStream>,
    /// Builder calls that use the arguments (applied per call).
    pub(crate) dynamic_opts: Vec<TokenStream>,
    pub(crate) cache: CacheSource,
    pub(crate) companions: Companions,
}

impl Plan {
    pub(crate) fn is_async(&self) -> bool {
        self.func.sig.asyncness.is_some()
    }
}

/// Validates everything, reporting every problem at once.
pub(crate) fn plan(mut args: CachedArgs, mut func: ItemFn) -> Result<Plan, syn::Error> {
    let mut errors = std::mem::take(&mut args.errors);
    let params = params::analyze(&mut func.sig, &mut errors);
    let sig = &func.sig;
    if let Some(c) = &sig.constness {
        errors.push(err(c.span, "`#[cached]` cannot be used on a `const fn`"));
    }
    let ret = match &sig.output {
        ReturnType::Type(_, ty) => (**ty).clone(),
        ReturnType::Default => {
            errors.push(err(
                sig.ident.span(),
                "a `#[cached]` function must return the value to cache",
            ));
            syn::parse_quote!(())
        }
    };
    if sig.asyncness.is_none() && matches!(&ret, Type::ImplTrait(_)) {
        let msg =
            "`#[cached]` cannot cache an `impl Trait` value; for a future, write an `async fn`";
        errors.push(err(ret.span(), msg));
    }
    let shape = match last_segment(&ret).as_deref() {
        Some("Result") => Shape::Result,
        Some("Option") if !args.cache_none.as_ref().is_some_and(|b| b.value) => Shape::Option,
        Some("Option") => Shape::Value,
        _ => {
            if let Some(b) = args.cache_none.as_ref().filter(|b| b.value) {
                errors.push(err(
                    b.span(),
                    "`cache_none` only applies to functions returning `Option<T>`",
                ));
            }
            Shape::Value
        }
    };

    let krate = match &args.krate {
        Some(path) => path.to_token_stream(),
        None => quote!(::cache_core),
    };
    let p = quote!(#krate::__private);
    let opts = options::calls(&args, sig, &params, &p, &mut errors);

    let version = match &args.version {
        Some(v) => v.base10_parse::<u32>().unwrap_or_else(|e| {
            errors.push(err(
                v.span(),
                &format!("`version` must be a `u32` schema version: {e}"),
            ));
            0
        }),
        None => 0,
    };
    let name_is_default = args.name.is_none();
    let name = match &args.name {
        Some(lit) => lit.to_token_stream(),
        None => {
            let fn_name = LitStr::new(&sig.ident.to_string(), sig.ident.span());
            quote!(::core::concat!(::core::module_path!(), "::", #fn_name))
        }
    };

    check_key(&args.key, &params, &mut errors);

    let cache = match args.cache {
        None => CacheSource::Global,
        Some(e) => {
            let m = Mentions::of(&e);
            let self_moves =
                params.receiver.as_ref().is_some_and(|r| !r.shared_ref) && m.uses("self");
            let arg_moves = params
                .typed
                .iter()
                .any(|t| !t.is_shared_ref() && t.bindings.iter().any(|b| m.uses(&b.to_string())));
            if self_moves || arg_moves {
                CacheSource::Owned(e)
            } else {
                CacheSource::Borrowed(e)
            }
        }
    };

    let companions = match (&args.companions, &params.receiver) {
        (Some(b), _) if !b.value => Companions::None,
        (Some(_), Some(_)) => Companions::Assoc,
        (None, Some(_)) if matches!(func.vis, syn::Visibility::Inherited) => Companions::None,
        (None, Some(_)) => Companions::Assoc,
        (_, None) if mentions_self_type(&func) => Companions::Assoc,
        (_, None) => Companions::Free,
    };

    if let Some(combined) = errors.into_iter().reduce(|mut acc, e| {
        acc.combine(e);
        acc
    }) {
        return Err(combined);
    }
    Ok(Plan {
        krate,
        func,
        ret,
        shape,
        params,
        key: args.key,
        name,
        name_is_default,
        version,
        static_opts: opts.fixed,
        dynamic_opts: opts.per_call,
        cache,
        companions,
    })
}

/// The key safety rule: with `key = …`, every argument not `#[cache(skip)]` must appear in it,
/// and no skipped one may. Without `key`, `impl Trait` arguments must be `impl KeyPart`.
fn check_key(key: &Option<Expr>, params: &Params, errors: &mut Vec<syn::Error>) {
    let Some(key) = key else {
        for p in params.typed.iter().filter(|p| !p.skip) {
            if let Some(bad) = impl_trait_without_key_part(&p.ty) {
                let name = &p.name;
                let msg = format!(
                    "argument `{name}` has an `impl Trait` type, which the default key can only \
                     use as `impl KeyPart`; add `KeyPart` to its bounds, mark it #[cache(skip)], \
                     or say what identifies it with `key = …`"
                );
                errors.push(err(bad, &msg));
            }
        }
        return;
    };
    let m = Mentions::of(key);
    let mut check = |name: String, span: Span, skip: bool| {
        let msg = match (skip, m.values.get(&name)) {
            (false, None) if name == "self" => (
                span,
                "`self` is not part of the cache key, so every instance would share one entry; \
                 use it in `key` (e.g. `key = (self.id, …)`) or write `#[cache(skip)] &self`"
                    .to_string(),
            ),
            (false, None) => (
                span,
                format!(
                    "argument `{name}` is not part of the cache key; \
                     add it to `key` or mark it #[cache(skip)]"
                ),
            ),
            (true, Some(used)) => (
                *used,
                format!(
                    "`{name}` is marked #[cache(skip)] but `key` uses it; remove #[cache(skip)]: \
                     an argument the key reads is part of the key"
                ),
            ),
            _ => return,
        };
        errors.push(err(msg.0, &msg.1));
    };
    if let Some(r) = &params.receiver {
        check("self".into(), r.span, r.skip);
    }
    for p in &params.typed {
        for b in &p.bindings {
            check(b.to_string(), b.span(), p.skip);
        }
    }
}

/// The span of an `impl Trait` (possibly behind `&`) whose bounds do not include `KeyPart`.
fn impl_trait_without_key_part(ty: &Type) -> Option<Span> {
    match ty {
        Type::Reference(r) => impl_trait_without_key_part(&r.elem),
        Type::Paren(p) => impl_trait_without_key_part(&p.elem),
        Type::ImplTrait(i) => {
            let is_key_part = |b: &syn::TypeParamBound| match b {
                syn::TypeParamBound::Trait(t) => {
                    t.path.segments.last().is_some_and(|s| s.ident == "KeyPart")
                }
                _ => false,
            };
            (!i.bounds.iter().any(is_key_part)).then(|| i.span())
        }
        _ => None,
    }
}

fn last_segment(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| s.ident.to_string()),
        Type::Paren(p) => last_segment(&p.elem),
        Type::Group(g) => last_segment(&g.elem),
        _ => None,
    }
}

/// Whether the signature or body names `Self` (then the function is in an impl).
fn mentions_self_type(func: &ItemFn) -> bool {
    fn walk(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|tt| match tt {
            TokenTree::Ident(i) => i == "Self",
            TokenTree::Group(g) => walk(g.stream()),
            _ => false,
        })
    }
    walk(func.sig.to_token_stream()) || walk(func.block.to_token_stream())
}
