//! Checking `#[cache_key(..)]` against the record: a struct, with `prefix` and `id` given and
//! every named field present. The result, a [`KeyPlan`], holds only valid values.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Data, DataStruct, DeriveInput, Fields, LitStr, Member, Type};

use super::args::KeyAttr;
use crate::errors::Errors;

/// What `expand.rs` needs.
pub(super) struct KeyPlan<'a> {
    pub(super) input: &'a DeriveInput,
    /// `::cache_core::__private_x_y_z` (or under `crate = …`).
    pub(super) private: TokenStream,
    pub(super) prefix: LitStr,
    pub(super) id: Member,
    pub(super) id_ty: Type,
    /// The version field and its type.
    pub(super) version: Option<(Member, Type)>,
}

const USAGE: &str =
    "add `#[cache_key(prefix = \"…\", id = field)]` (and optionally `version = field`)";

/// The plan, or `None` with every problem recorded in `errors`.
pub(super) fn plan<'a>(
    input: &'a DeriveInput,
    attr: Option<KeyAttr>,
    private: TokenStream,
    errors: &Errors,
) -> Option<KeyPlan<'a>> {
    let Data::Struct(data) = &input.data else {
        errors.at(
            input.ident.span(),
            "`#[derive(CacheKey)]` supports structs (a record with an id)",
        );
        return None;
    };
    let Some(KeyAttr { args, span }) = attr else {
        errors.at(
            input.ident.span(),
            format!("`#[derive(CacheKey)]` needs to know the key: {USAGE}"),
        );
        return None;
    };
    if args.prefix.is_none() {
        errors.at(span, format!("missing `prefix`: {USAGE}"));
    }
    if args.id.is_none() {
        errors.at(span, format!("missing `id`: {USAGE}"));
    }
    let id_ty = args
        .id
        .as_ref()
        .and_then(|id| field_type(input, data, id, errors));
    let version = args.version.and_then(|version| {
        let ty = field_type(input, data, &version, errors)?;
        Some((version, ty))
    });
    Some(KeyPlan {
        input,
        private,
        prefix: args.prefix?,
        id: args.id?,
        id_ty: id_ty?,
        version,
    })
    .filter(|_| errors.is_empty())
}

/// The type of the field `member` names, or an error at `member`.
fn field_type(
    input: &DeriveInput,
    data: &DataStruct,
    member: &Member,
    errors: &Errors,
) -> Option<Type> {
    let found = data
        .fields
        .iter()
        .enumerate()
        .find(|(i, f)| match (member, &f.ident) {
            (Member::Named(m), Some(name)) => m == name,
            (Member::Unnamed(idx), None) => idx.index as usize == *i,
            _ => false,
        });
    if let Some((_, field)) = found {
        return Some(field.ty.clone());
    }
    let kind = if matches!(data.fields, Fields::Named(_)) {
        "field"
    } else {
        "tuple field"
    };
    errors.at(
        member.span(),
        format!(
            "no {kind} `{}` on `{}`",
            member.to_token_stream(),
            input.ident
        ),
    );
    None
}
