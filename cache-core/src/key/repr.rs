//! How a [`CacheKey`](super::CacheKey) holds its text: the text in one allocation of exactly its
//! length, and what only a few keys need (the unshortened text of a long key, a name that
//! escaping changed) behind one more pointer. The local tier keeps a key per entry, so the
//! common key costs two small allocations: its `Arc` (48 bytes) and its text.

use std::cell::RefCell;

use super::MAX_KEY_LEN;
use super::writer::shorten;

pub(super) struct Inner {
    /// The key text: shortened when the full text is longer than [`MAX_KEY_LEN`].
    text: Box<str>,
    /// Only for a key that was shortened, whose name escaping changed, or whose offsets do
    /// not fit the fields below (never for a text of at most [`MAX_KEY_LEN`] bytes).
    rare: Option<Box<Rare>>,
    schema_version: u32,
    /// End of the escaped name in the text, when `rare` is `None`.
    name_end: u8,
    /// Start of the separator that follows `name[@N]` in the text, when `rare` is `None`.
    tail_start: u8,
}

struct Rare {
    /// The full, unshortened text, when `text` is shortened.
    full: Option<Box<str>>,
    /// The unescaped name, when it differs from its escaped form in the full text.
    name: Option<Box<str>>,
    name_end: usize,
    tail_start: usize,
}

impl Inner {
    /// `full` is the unshortened text, `name` the unescaped name it starts with (escaped,
    /// ending at `name_end`), `tail_start` where the part after `name[@N]` starts.
    pub(super) fn new(
        name: &str,
        schema_version: u32,
        full: &str,
        name_end: usize,
        tail_start: usize,
    ) -> Inner {
        let short = (full.len() > MAX_KEY_LEN).then(|| shorten(full, MAX_KEY_LEN));
        // Escaping only ever lengthens a name, so equal lengths mean an unchanged name.
        let renamed = name_end != name.len();
        let offsets = u8::try_from(name_end)
            .ok()
            .zip(u8::try_from(tail_start).ok());
        let rare = (short.is_some() || renamed || offsets.is_none()).then(|| {
            Box::new(Rare {
                full: short.is_some().then(|| full.into()),
                name: renamed.then(|| name.into()),
                name_end,
                tail_start,
            })
        });
        let (name_end, tail_start) = offsets.unwrap_or_default();
        Inner {
            text: short.unwrap_or_else(|| full.into()),
            rare,
            schema_version,
            name_end,
            tail_start,
        }
    }

    /// The key text.
    #[inline]
    pub(super) fn text(&self) -> &str {
        &self.text
    }

    /// The unshortened text.
    pub(super) fn full(&self) -> &str {
        self.rare
            .as_ref()
            .and_then(|rare| rare.full.as_deref())
            .unwrap_or(&self.text)
    }

    /// The unescaped name, when escaping changed it.
    pub(super) fn unescaped_name(&self) -> Option<&str> {
        self.rare.as_ref()?.name.as_deref()
    }

    /// Where the escaped name ends and the part after `name[@N]` starts, in [`full`](Self::full).
    pub(super) fn offsets(&self) -> (usize, usize) {
        match &self.rare {
            Some(rare) => (rare.name_end, rare.tail_start),
            None => (usize::from(self.name_end), usize::from(self.tail_start)),
        }
    }

    pub(super) fn schema_version(&self) -> u32 {
        self.schema_version
    }

    pub(super) fn is_hashed(&self) -> bool {
        matches!(&self.rare, Some(rare) if rare.full.is_some())
    }
}

thread_local! {
    /// Where keys are written before they are copied into an allocation of their exact length
    /// (writing into a `String` and shrinking it would reallocate on every key).
    static SCRATCH: RefCell<String> = const { RefCell::new(String::new()) };
}

/// A scratch buffer that grew beyond this is not kept for the next key.
const SCRATCH_KEEP: usize = 4 * MAX_KEY_LEN;

/// Runs `write` with an empty buffer: this thread's scratch buffer, or a new one when it is in
/// use (a key part that builds a key itself) or gone (thread teardown).
pub(super) fn with_scratch<R>(write: impl Fn(&mut String) -> R) -> R {
    let reused = SCRATCH.try_with(|cell| {
        let mut buf = cell.try_borrow_mut().ok()?;
        buf.clear();
        let result = write(&mut buf);
        if buf.capacity() > SCRATCH_KEEP {
            *buf = String::new();
        }
        Some(result)
    });
    match reused {
        Ok(Some(result)) => result,
        _ => write(&mut String::new()),
    }
}
