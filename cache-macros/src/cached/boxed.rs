//! Methods that `#[async_trait]` already rewrote. An attribute on an impl expands before the
//! attributes of its items, so by the time `#[cached]` runs, `async fn f(..) -> T { body }` has
//! become
//!
//! ```text
//! fn f<'life0, 'async_trait>(&'life0 self, ..) -> Pin<Box<dyn Future<Output = T> + Send + 'async_trait>>
//! where 'life0: 'async_trait, Self: 'async_trait
//! { Box::pin(async move { body' }) }
//! ```
//!
//! Cached as it stands, that would try to cache the boxed future itself. Instead the method is
//! read back as `async fn f<'life0, 'async_trait>(..) -> T { body' }`, cached like any async
//! fn, and the cached body is boxed again under the original signature, which is the one the
//! trait expects. Only this exact shape is recognized: anything else is left to the rules for
//! plain functions.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Expr, GenericArgument, ItemFn, PathArguments, ReturnType, Stmt, Type, TypeParamBound};

/// A method whose body is a boxed future: the original return type, to emit again.
pub(crate) struct BoxedFuture {
    output: ReturnType,
}

impl BoxedFuture {
    /// `func` read as the `async fn` it was written as, with what is needed to box it again;
    /// `None` when `func` is not of the shape above.
    pub(crate) fn unwrap(func: &ItemFn) -> Option<(ItemFn, BoxedFuture)> {
        if func.sig.asyncness.is_some() {
            return None;
        }
        let ReturnType::Type(arrow, ty) = &func.sig.output else {
            return None;
        };
        let value = future_output(ty)?;
        let body = boxed_async_block(&func.block)?;
        let mut async_fn = func.clone();
        async_fn.sig.asyncness = Some(syn::Token![async](func.sig.fn_token.span));
        async_fn.sig.output = ReturnType::Type(*arrow, Box::new(value.clone()));
        async_fn.block = Box::new(body.clone());
        let boxed = BoxedFuture {
            output: func.sig.output.clone(),
        };
        Some((async_fn, boxed))
    }

    /// `sig` (the async one) as originally written, with `body` (the cached async body) boxed.
    pub(crate) fn rewrap(&self, sig: &syn::Signature, body: TokenStream) -> TokenStream {
        let mut sig = sig.clone();
        sig.asyncness = None;
        sig.output = self.output.clone();
        quote!(#sig { ::std::boxed::Box::pin(async move #body) })
    }
}

/// `T` of `Pin<Box<dyn Future<Output = T> + ..>>` (any paths to `Pin`, `Box`, `Future`).
fn future_output(ty: &Type) -> Option<&Type> {
    let boxed = single_type_arg(ty, "Pin")?;
    let Type::TraitObject(object) = single_type_arg(boxed, "Box")? else {
        return None;
    };
    object.bounds.iter().find_map(|bound| {
        let TypeParamBound::Trait(bound) = bound else {
            return None;
        };
        let future = bound.path.segments.last()?;
        if future.ident != "Future" {
            return None;
        }
        let PathArguments::AngleBracketed(args) = &future.arguments else {
            return None;
        };
        args.args.iter().find_map(|arg| match arg {
            GenericArgument::AssocType(assoc) if assoc.ident == "Output" => Some(&assoc.ty),
            _ => None,
        })
    })
}

/// The one type argument of `ty` when it is a path ending in `name<..>`.
fn single_type_arg<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    let Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|arg| match arg {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    });
    let first = types.next()?;
    types.next().is_none().then_some(first)
}

/// The block of `async move { .. }` when `block` is exactly `{ Box::pin(async move { .. }) }`.
fn boxed_async_block(block: &syn::Block) -> Option<&syn::Block> {
    let [Stmt::Expr(Expr::Call(call), None)] = block.stmts.as_slice() else {
        return None;
    };
    let Expr::Path(callee) = &*call.func else {
        return None;
    };
    let segments: Vec<_> = callee.path.segments.iter().map(|s| &s.ident).collect();
    if segments.len() < 2
        || segments[segments.len() - 2] != "Box"
        || *segments[segments.len() - 1] != "pin"
    {
        return None;
    }
    let mut args = call.args.iter();
    let (Some(Expr::Async(inner)), None) = (args.next(), args.next()) else {
        return None;
    };
    inner.capture.is_some().then_some(&inner.block)
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::BoxedFuture;

    #[test]
    fn an_async_trait_method_reads_back_as_the_async_fn() {
        let func = syn::parse2(quote!(
            fn f<'life0, 'async_trait>(
                &'life0 self,
                id: u64,
            ) -> ::core::pin::Pin<
                Box<
                    dyn ::core::future::Future<Output = String>
                        + ::core::marker::Send
                        + 'async_trait,
                >,
            >
            where
                'life0: 'async_trait,
                Self: 'async_trait,
            {
                Box::pin(async move {
                    let __self = self;
                    format!("{id}")
                })
            }
        ))
        .unwrap();
        let (async_fn, _) = BoxedFuture::unwrap(&func).expect("recognized");
        let sig = &async_fn.sig;
        assert!(sig.asyncness.is_some());
        assert_eq!(quote!(#sig).to_string().matches("Pin").count(), 0);
        let block = &async_fn.block;
        assert_eq!(
            quote!(#block).to_string(),
            quote!({
                let __self = self;
                format!("{id}")
            })
            .to_string()
        );
    }

    #[test]
    fn other_functions_are_left_alone() {
        let plain = syn::parse2(quote!(
            fn f() -> Pin<Box<dyn Future<Output = u8>>> {
                let x = 1;
                Box::pin(async move { x })
            }
        ))
        .unwrap();
        assert!(BoxedFuture::unwrap(&plain).is_none());
        let not_async = syn::parse2(quote!(
            fn f() -> Pin<Box<dyn Future<Output = u8>>> {
                Box::pin(std::future::ready(1))
            }
        ))
        .unwrap();
        assert!(BoxedFuture::unwrap(&not_async).is_none());
    }
}
