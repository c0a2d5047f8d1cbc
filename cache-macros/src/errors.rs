//! The one error collector of every macro (serde's `Ctxt` idea): each step records what is
//! wrong and carries on with a best guess, so one run reports every mistake; the entry point
//! combines them at the end.

use std::cell::RefCell;
use std::fmt::Display;

use proc_macro2::Span;

/// Errors found so far. Shared by reference (`&Errors`), so closures and nested steps can all
/// record into it. Dropping it without [`Errors::finish`] is a bug in the macro, caught by a
/// panic in debug builds of its tests.
pub(crate) struct Errors {
    found: RefCell<Option<Vec<syn::Error>>>,
}

impl Errors {
    pub(crate) fn new() -> Errors {
        Errors {
            found: RefCell::new(Some(Vec::new())),
        }
    }

    /// Records `error`.
    pub(crate) fn push(&self, error: syn::Error) {
        if let Some(found) = self.found.borrow_mut().as_mut() {
            found.push(error);
        }
    }

    /// Records `message` at `span`.
    pub(crate) fn at(&self, span: Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    /// Records the error of `result`, if any, and passes its value on.
    pub(crate) fn ok<T>(&self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|error| self.push(error)).ok()
    }

    /// Whether nothing has been recorded.
    pub(crate) fn is_empty(&self) -> bool {
        self.found.borrow().as_ref().is_none_or(Vec::is_empty)
    }

    /// Every recorded error, combined into one, in the order they were found.
    pub(crate) fn finish(self) -> syn::Result<()> {
        let found = self.found.borrow_mut().take().unwrap_or_default();
        match found.into_iter().reduce(|mut all, next| {
            all.combine(next);
            all
        }) {
            Some(all) => Err(all),
            None => Ok(()),
        }
    }
}

impl Drop for Errors {
    fn drop(&mut self) {
        let unreported = self.found.get_mut().as_ref().is_some_and(|f| !f.is_empty());
        debug_assert!(
            !unreported || std::thread::panicking(),
            "macro errors were collected but never reported"
        );
    }
}
