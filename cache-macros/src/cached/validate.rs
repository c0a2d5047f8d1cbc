//! Checking parsed arguments against the function and turning both into a [`Plan`]: what
//! `expand.rs` needs, with every value already known to be valid.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::{Expr, LitStr, ReturnType, Type};

use super::args::CachedArgs;
use super::mentions::Mentions;
use super::options;
use super::outline::Outline;
use super::params::Params;
use crate::errors::Errors;

/// How the return type maps onto the engine's `Result<T, E>`.
pub(crate) enum Shape {
    Result,
    Option,
    Value,
}

/// A function whose arguments all checked out: what `expand.rs` needs.
pub(crate) struct Plan {
    pub(crate) outline: Outline,
    pub(crate) ret: Type,
    pub(crate) shape: Shape,
    /// `none_ttl` is set (on an `Option<T>` or `Result<Option<T>, E>`): `None` is cached too.
    pub(crate) none_ttl: bool,
    /// `adapt = f`: `f(value) -> Entry<value>` decides how each loaded value is cached.
    pub(crate) adapt: Option<Expr>,
    pub(crate) key: Option<Expr>,
    pub(crate) name: TokenStream,
    pub(crate) name_is_default: bool,
    pub(crate) version: u32,
    /// `Options` builder calls that do not depend on the arguments (built once).
    pub(crate) static_opts: Vec<TokenStream>,
    /// Builder calls that use the arguments (applied per call).
    pub(crate) dynamic_opts: Vec<TokenStream>,
}

/// Checks the arguments against the function, recording every problem in `errors`; the plan
/// is only expanded when there is none.
pub(crate) fn plan(args: CachedArgs, outline: Outline, errors: &Errors) -> Plan {
    let sig = &outline.func.sig;
    if let Some(c) = &sig.constness {
        errors.at(c.span, "`#[cached]` cannot be used on a `const fn`");
    }
    let ret = match &sig.output {
        ReturnType::Type(_, ty) => (**ty).clone(),
        ReturnType::Default => {
            errors.at(
                sig.ident.span(),
                "a `#[cached]` function must return the value to cache",
            );
            syn::parse_quote!(())
        }
    };
    if sig.asyncness.is_none() && matches!(&ret, Type::ImplTrait(_)) {
        let msg =
            "`#[cached]` cannot cache an `impl Trait` value; for a future, write an `async fn`";
        errors.at(ret.span(), msg);
    }
    let none_ttl = check_none_ttl(&args, &ret, errors);
    let shape = match last_segment(&ret).as_deref() {
        Some("Result") => Shape::Result,
        // With `none_ttl` the whole `Option<T>` is the cached value.
        Some("Option") if !args.cache_none.as_ref().is_some_and(|b| b.value) && !none_ttl => {
            Shape::Option
        }
        Some("Option") => Shape::Value,
        _ => {
            if let Some(b) = args.cache_none.as_ref().filter(|b| b.value) {
                errors.at(
                    b.span(),
                    "`cache_none` only applies to functions returning `Option<T>`",
                );
            }
            Shape::Value
        }
    };

    let opts = options::calls(&args, &outline, errors);

    let (name, name_is_default, version) = name_and_version(&args, sig, errors);

    check_key(&args.key, &outline.params, errors);
    if let Some(Expr::Lit(lit)) = &args.adapt {
        let msg = "`adapt` takes the function that decides how a value is cached, \
                   `fn(T) -> Entry<T>` (a path or a closure that captures nothing), not a literal";
        errors.at(lit.span(), msg);
    }

    Plan {
        outline,
        ret,
        shape,
        none_ttl,
        adapt: args.adapt,
        key: args.key,
        name,
        name_is_default,
        version,
        static_opts: opts.fixed,
        dynamic_opts: opts.per_call,
    }
}

/// The cache name (`name = …`, else the function's path), whether it is the default, and the
/// schema `version` (0 unless given).
pub(super) fn name_and_version(
    args: &CachedArgs,
    sig: &syn::Signature,
    errors: &Errors,
) -> (TokenStream, bool, u32) {
    let version = match &args.version {
        Some(v) => v.base10_parse::<u32>().unwrap_or_else(|e| {
            errors.at(
                v.span(),
                format!("`version` must be a `u32` schema version: {e}"),
            );
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

    (name, name_is_default, version)
}

/// The key safety rule: with `key = …`, every argument not `#[cache(skip)]` must appear in it,
/// and no skipped one may. Without `key`, `impl Trait` arguments must be `impl KeyPart`.
fn check_key(key: &Option<Expr>, params: &Params, errors: &Errors) {
    let Some(key) = key else {
        for p in params.typed.iter().filter(|p| !p.skip) {
            if let Some(bad) = impl_trait_without_key_part(&p.ty) {
                let name = &p.name;
                let msg = format!(
                    "argument `{name}` has an `impl Trait` type, which the default key can only \
                     use as `impl KeyPart`; add `KeyPart` to its bounds, mark it #[cache(skip)], \
                     or say what identifies it with `key = …`"
                );
                errors.at(bad, msg);
            }
        }
        return;
    };
    let m = Mentions::of(key);
    let check = |name: String, span: Span, skip: bool| {
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
        errors.at(msg.0, msg.1);
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

/// Whether `none_ttl` applies: only to `Option<T>` and `Result<Option<T>, E>`, whose `None` it
/// caches. Anywhere else it is an error at the argument, since it would silently do nothing.
fn check_none_ttl(args: &CachedArgs, ret: &Type, errors: &Errors) -> bool {
    let Some(arg) = &args.none_ttl else {
        return false;
    };
    if args.cache_none.as_ref().is_some_and(|b| b.value) {
        let msg = "`none_ttl` caches `None` for that long; remove `cache_none = true`, which \
                   would cache it for the full `ttl`";
        errors.at(arg.span(), msg);
        return false;
    }
    let returns_option = match last_segment(ret).as_deref() {
        Some("Option") => true,
        Some("Result") => first_type_arg(ret).and_then(last_segment).as_deref() == Some("Option"),
        _ => false,
    };
    if !returns_option {
        let msg = "`none_ttl` only applies to functions returning `Option<T>` or \
                   `Result<Option<T>, E>`: it is how long a `None` (\"not found\") stays cached";
        errors.at(arg.span(), msg);
    }
    returns_option
}

/// `T` of `Result<T, E>` as written.
fn first_type_arg(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Path(p) => match &p.path.segments.last()?.arguments {
            syn::PathArguments::AngleBracketed(a) => a.args.iter().find_map(|arg| match arg {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            }),
            _ => None,
        },
        Type::Paren(p) => first_type_arg(&p.elem),
        Type::Group(g) => first_type_arg(&g.elem),
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
