//! Which names an expression uses: the basis of the key-coverage check.
//!
//! A name counts when it is a one-segment path (`id`, `self`), when it is an identifier inside
//! the arguments of a macro, or when it is an inline `{name}` / `{:width$}` placeholder of a
//! string literal passed to a macro (`format!("user:{id}")`). Field and method names
//! (`store.id`), path segments after `::`, named macro arguments (`x = …`) and everything
//! inside `stringify!` do not count, and neither do escaped braces (`"{{id}}"`).

use std::collections::BTreeMap;

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{Expr, Ident, LitStr, Token};

/// The names used by an expression, each with the span of its first use.
pub(crate) struct Mentions {
    /// Value names: one-segment paths, macro identifiers, format placeholders.
    pub(crate) values: BTreeMap<String, Span>,
    /// First segments of longer paths (`T::TTL`, `Self::X`): used to tell static options.
    pub(crate) roots: BTreeMap<String, Span>,
    /// Whether string literals in the current macro are format strings.
    formats: bool,
}

impl Mentions {
    pub(crate) fn of(expr: &Expr) -> Mentions {
        let mut m = Mentions {
            values: BTreeMap::new(),
            roots: BTreeMap::new(),
            formats: true,
        };
        m.visit_expr(expr);
        m
    }

    /// Whether `name` is used as a value or as the root of a path.
    pub(crate) fn uses(&self, name: &str) -> bool {
        self.values.contains_key(name) || self.roots.contains_key(name)
    }

    fn value(&mut self, name: String, span: Span) {
        self.values.entry(name).or_insert(span);
    }

    /// The arguments of a macro call: parsed as format-style arguments when possible.
    fn macro_tokens(&mut self, tokens: TokenStream) {
        let parsed = Punctuated::<MacroArg, Token![,]>::parse_terminated.parse2(tokens.clone());
        let Ok(args) = parsed else {
            self.raw_tokens(tokens);
            return;
        };
        let named: Vec<String> = args
            .iter()
            .filter_map(|a| match a {
                MacroArg::Named(name, _) => Some(name.to_string()),
                MacroArg::Expr(_) => None,
            })
            .collect();
        for arg in &args {
            match arg {
                MacroArg::Expr(Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(lit),
                    ..
                })) => self.placeholders(lit, &named),
                MacroArg::Expr(expr) | MacroArg::Named(_, expr) => self.visit_expr(expr),
            }
        }
    }

    fn placeholders(&mut self, lit: &LitStr, named: &[String]) {
        if !self.formats {
            return;
        }
        for name in placeholder_names(&lit.value()) {
            if !named.contains(&name) {
                self.value(name, lit.span());
            }
        }
    }

    /// Tokens that are not expressions: every identifier not after `.` or `::` and not a
    /// macro name counts, and so does every placeholder of every string literal.
    fn raw_tokens(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        for (i, tt) in tokens.iter().enumerate() {
            match tt {
                TokenTree::Ident(ident) => {
                    let after_dot_or_path = i > 0
                        && (is_punct(&tokens[i - 1], '.')
                            || (i > 1
                                && is_punct(&tokens[i - 1], ':')
                                && is_punct(&tokens[i - 2], ':')));
                    let is_macro = tokens.get(i + 1).is_some_and(|next| is_punct(next, '!'));
                    if !after_dot_or_path && !is_macro {
                        self.value(ident.to_string(), ident.span());
                    }
                }
                TokenTree::Group(group) => self.raw_tokens(group.stream()),
                TokenTree::Literal(lit) => {
                    if let Ok(lit) = syn::parse2::<LitStr>(TokenTree::Literal(lit.clone()).into()) {
                        self.placeholders(&lit, &[]);
                    }
                }
                TokenTree::Punct(_) => {}
            }
        }
    }
}

impl<'ast> Visit<'ast> for Mentions {
    fn visit_expr_path(&mut self, e: &'ast syn::ExprPath) {
        let path = &e.path;
        if e.qself.is_none()
            && path.leading_colon.is_none()
            && let Some(first) = path.segments.first()
        {
            if path.segments.len() == 1 {
                self.value(first.ident.to_string(), first.ident.span());
            } else {
                let root = first.ident.to_string();
                self.roots.entry(root).or_insert(first.ident.span());
            }
        }
        visit::visit_expr_path(self, e);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let name = mac.path.segments.last().map(|s| s.ident.to_string());
        match name.as_deref() {
            // Arguments read as tokens, not evaluated.
            Some("stringify" | "include_str" | "include_bytes" | "env" | "option_env" | "cfg") => {}
            Some(name) => {
                // Evaluated; only formatting macros read `{name}` from their strings.
                let outer = self.formats;
                self.formats = !matches!(
                    name,
                    "concat" | "vec" | "matches" | "assert" | "debug_assert"
                );
                self.macro_tokens(mac.tokens.clone());
                self.formats = outer;
            }
            None => {}
        }
    }
}

fn is_punct(tt: &TokenTree, c: char) -> bool {
    matches!(tt, TokenTree::Punct(p) if p.as_char() == c)
}

/// One argument of a format-style macro: `expr` or `name = expr`.
enum MacroArg {
    Expr(Expr),
    Named(Ident, Expr),
}

impl syn::parse::Parse for MacroArg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(Ident) && input.peek2(Token![=]) && !input.peek2(Token![==]) {
            let name: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            return Ok(MacroArg::Named(name, input.parse()?));
        }
        Ok(MacroArg::Expr(input.parse()?))
    }
}

/// The names a format string reads: `{name}`, `{name:?}`, `{:width$}`, `{:.prec$}`.
/// Positional (`{}`, `{0}`) and escaped (`{{`, `}}`) braces name nothing.
pub(crate) fn placeholder_names(format: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = format;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        if let Some(after) = rest.strip_prefix('{') {
            rest = after;
            continue;
        }
        let Some(close) = rest.find('}') else { break };
        let inner = &rest[..close];
        rest = &rest[close + 1..];
        let (arg, spec) = inner.split_once(':').unwrap_or((inner, ""));
        push_ident(&mut names, arg.trim());
        let mut spec_rest = spec;
        while let Some(dollar) = spec_rest.find('$') {
            let before = &spec_rest[..dollar];
            let start = before
                .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
                .map_or(0, |i| i + 1);
            push_ident(&mut names, &before[start..]);
            spec_rest = &spec_rest[dollar + 1..];
        }
    }
    names
}

fn push_ident(names: &mut Vec<String>, s: &str) {
    let s = s.strip_prefix("r#").unwrap_or(s);
    let mut chars = s.chars();
    let starts_well = chars.next().is_some_and(|c| c.is_alphabetic() || c == '_');
    if starts_well && s != "_" && chars.all(|c| c.is_alphanumeric() || c == '_') {
        names.push(s.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(src: &str) -> Vec<String> {
        let expr: Expr = syn::parse_str(src).expect("expression");
        Mentions::of(&expr).values.into_keys().collect()
    }

    #[test]
    fn format_placeholders_and_arguments_count() {
        assert_eq!(values(r#"format!("u:{id}:{t:?}", x)"#), ["id", "t", "x"]);
        assert_eq!(values(r#"format!("{:>w$.p$}", v)"#), ["p", "v", "w"]);
    }

    #[test]
    fn escaped_braces_named_args_and_fields_do_not_count() {
        assert_eq!(values(r#"format!("{{id}}:{x}", x = other.id)"#), ["other"]);
        assert_eq!(values(r#"(a, b.c, Self::D, e())"#), ["a", "b", "e"]);
    }

    #[test]
    fn stringify_and_plain_literals_name_nothing() {
        assert_eq!(values(r#"(stringify!(id), "{id}")"#), Vec::<String>::new());
        assert_eq!(
            values(r#"format!("{}", concat!("{id}", "x"))"#),
            Vec::<String>::new()
        );
        assert_eq!(values(r#"vec![format!("{id}"), a]"#), ["a", "id"]);
    }

    #[test]
    fn non_expression_macros_fall_back_to_tokens() {
        assert_eq!(
            values(r#"my_key!(tenant; user.id => "{x}", a::b, T { f: v })"#),
            ["T", "a", "f", "tenant", "user", "v", "x"]
        );
    }

    #[test]
    fn placeholder_parser_handles_positional_and_escapes() {
        assert_eq!(placeholder_names("{} {0} {{a}} {b} {c:?} }}"), ["b", "c"]);
    }
}
