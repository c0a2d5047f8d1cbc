//! `#[derive(CacheKey)]`: `KeyPart` and `cache_key()` for a record, from
//! `#[cache_key(prefix = "…", id = field, version = field)]`.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, LitStr, Member, Path, Token};

mod kw {
    syn::custom_keyword!(prefix);
    syn::custom_keyword!(id);
    syn::custom_keyword!(version);
}

const ALLOWED: &str = "prefix, id, version, crate";

#[derive(Default)]
struct KeyAttr {
    prefix: Option<LitStr>,
    id: Option<Member>,
    version: Option<Member>,
    krate: Option<Path>,
}

impl Parse for KeyAttr {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut attr = KeyAttr::default();
        let mut errors: Vec<syn::Error> = Vec::new();
        while !input.is_empty() {
            let la = input.lookahead1();
            let span = input.span();
            let duplicate = if la.peek(kw::prefix) {
                input.parse::<kw::prefix>()?;
                input.parse::<Token![=]>()?;
                attr.prefix.replace(input.parse()?).is_some()
            } else if la.peek(kw::id) {
                input.parse::<kw::id>()?;
                input.parse::<Token![=]>()?;
                attr.id.replace(input.parse()?).is_some()
            } else if la.peek(kw::version) {
                input.parse::<kw::version>()?;
                input.parse::<Token![=]>()?;
                attr.version.replace(input.parse()?).is_some()
            } else if la.peek(Token![crate]) {
                input.parse::<Token![crate]>()?;
                input.parse::<Token![=]>()?;
                attr.krate.replace(Path::parse_mod_style(input)?).is_some()
            } else if input.peek(syn::Ident) {
                let name: syn::Ident = input.parse()?;
                return Err(syn::Error::new(
                    name.span(),
                    format!("unknown argument `{name}`; `#[cache_key]` accepts: {ALLOWED}"),
                ));
            } else {
                return Err(la.error());
            };
            if duplicate {
                errors.push(syn::Error::new(
                    span,
                    "duplicate argument: each may appear once",
                ));
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        match errors.into_iter().reduce(|mut a, b| {
            a.combine(b);
            a
        }) {
            Some(error) => Err(error),
            None => Ok(attr),
        }
    }
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    match derive(&input) {
        Ok(tokens) => tokens,
        Err(error) => error.to_compile_error(),
    }
}

fn derive(input: &DeriveInput) -> syn::Result<TokenStream> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new(
            input.ident.span(),
            "`#[derive(CacheKey)]` supports structs (a record with an id)",
        ));
    };
    let usage = "add `#[cache_key(prefix = \"…\", id = field)]` (and optionally `version = field`)";
    let mut found: Option<(Span, KeyAttr)> = None;
    for attr in input
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("cache_key"))
    {
        if found.is_some() {
            return Err(syn::Error::new_spanned(
                attr,
                "`#[cache_key(..)]` is given twice",
            ));
        }
        found = Some((attr.meta.span(), attr.parse_args()?));
    }
    let Some((span, attr)) = found else {
        return Err(syn::Error::new(
            input.ident.span(),
            format!("`#[derive(CacheKey)]` needs to know the key: {usage}"),
        ));
    };
    let mut errors = Vec::new();
    let prefix = attr.prefix.as_ref();
    if prefix.is_none() {
        errors.push(syn::Error::new(span, format!("missing `prefix`: {usage}")));
    }
    if attr.id.is_none() {
        errors.push(syn::Error::new(span, format!("missing `id`: {usage}")));
    }
    let mut field_type = |member: &Member| {
        let found = data
            .fields
            .iter()
            .enumerate()
            .find(|(i, f)| match (member, &f.ident) {
                (Member::Named(m), Some(name)) => m == name,
                (Member::Unnamed(idx), None) => idx.index as usize == *i,
                _ => false,
            });
        match found {
            Some((_, f)) => Some(f.ty.clone()),
            None => {
                let shown = member.to_token_stream();
                let kind = if matches!(data.fields, Fields::Named(_)) {
                    "field"
                } else {
                    "tuple field"
                };
                errors.push(syn::Error::new(
                    member.span(),
                    format!("no {kind} `{shown}` on `{}`", input.ident),
                ));
                None
            }
        }
    };
    let id_ty = attr.id.as_ref().and_then(&mut field_type);
    let version_ty = attr.version.as_ref().and_then(&mut field_type);
    if let Some(error) = errors.into_iter().reduce(|mut a, b| {
        a.combine(b);
        a
    }) {
        return Err(error);
    }
    let (Some(prefix), Some(id), Some(id_ty)) = (prefix, &attr.id, id_ty) else {
        unreachable!("errors reported above");
    };

    let krate = attr
        .krate
        .as_ref()
        .map_or_else(|| quote!(::cache_core), ToTokens::to_token_stream);
    let p = quote!(#krate::__private);
    let ident = &input.ident;
    let mut generics = input.generics.clone();
    if generics.type_params().next().is_some() {
        let clause = generics.make_where_clause();
        clause
            .predicates
            .push(syn::parse_quote!(#id_ty: #p::KeyPart));
        if let Some(v) = &version_ty {
            clause
                .predicates
                .push(syn::parse_quote!(#v: #p::VersionStamp));
        }
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let (write_version, key, doc) = match &attr.version {
        Some(version) => (
            quote!(out.i64(#p::VersionStamp::version_micros(&self.#version));),
            quote!(#p::CacheKey::versioned(#prefix, &self.#id, &self.#version)),
            format!(
                "`{}/<{}>-<{} in µs>`",
                prefix.value(),
                id.to_token_stream(),
                version.to_token_stream()
            ),
        ),
        None => (
            quote!(),
            quote!(#p::CacheKey::new(#prefix, &self.#id)),
            format!("`{}:<{}>`", prefix.value(), id.to_token_stream()),
        ),
    };
    let doc = format!("This record's cache key: {doc}.");
    Ok(quote! {
        impl #impl_generics #p::KeyPart for #ident #ty_generics #where_clause {
            fn write_key(&self, out: &mut #p::KeyWriter<'_>) {
                out.part(&self.#id);
                #write_version
            }
        }

        impl #impl_generics #ident #ty_generics #where_clause {
            #[doc = #doc]
            #[must_use]
            pub fn cache_key(&self) -> #p::CacheKey {
                #key
            }
        }
    })
}
