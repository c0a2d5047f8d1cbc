//! [`KeyPart`] for std (and optional) types.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::stamp::system_time_micros;
use super::{KeyPart, KeyWriter};

macro_rules! via {
    ($method:ident as $target:ty: $($t:ty),*) => {$(
        impl KeyPart for $t {
            fn write_key(&self, out: &mut KeyWriter<'_>) {
                out.$method(<$target>::from(*self));
            }
        }
    )*};
}
via!(i64 as i64: i8, i16, i32, i64);
via!(u64 as u64: u8, u16, u32, u64);
via!(i128 as i128: i128);
via!(u128 as u128: u128);
via!(bool as bool: bool);
via!(f64 as f64: f64);
via!(f32 as f32: f32);

impl KeyPart for isize {
    fn write_key(&self, out: &mut KeyWriter<'_>) {
        out.integer_leaf(*self);
    }
}

impl KeyPart for usize {
    fn write_key(&self, out: &mut KeyWriter<'_>) {
        out.integer_leaf(*self);
    }
}

impl KeyPart for char {
    fn write_key(&self, out: &mut KeyWriter<'_>) {
        out.str(self.encode_utf8(&mut [0; 4]));
    }
}

impl KeyPart for str {
    fn write_key(&self, out: &mut KeyWriter<'_>) {
        out.str(self);
    }
}

impl KeyPart for String {
    fn write_key(&self, out: &mut KeyWriter<'_>) {
        out.str(self);
    }
}

impl<B: KeyPart + ToOwned + ?Sized> KeyPart for Cow<'_, B> {
    fn write_key(&self, out: &mut KeyWriter<'_>) {
        (**self).write_key(out);
    }
}

macro_rules! deref {
    ($($t:ty),*) => {$(
        impl<T: KeyPart + ?Sized> KeyPart for $t {
            fn write_key(&self, out: &mut KeyWriter<'_>) {
                (**self).write_key(out);
            }
        }
    )*};
}
deref!(&T, &mut T, Box<T>, Rc<T>, Arc<T>);

impl<T: KeyPart> KeyPart for Option<T> {
    fn write_key(&self, out: &mut KeyWriter<'_>) {
        out.option(self.as_ref());
    }
}

impl KeyPart for () {
    fn write_key(&self, _out: &mut KeyWriter<'_>) {}
}

macro_rules! tuple {
    ($($name:ident . $idx:tt),+) => {
        impl<$($name: KeyPart),+> KeyPart for ($($name,)+) {
            fn write_key(&self, out: &mut KeyWriter<'_>) {
                $(self.$idx.write_key(out);)+
            }
        }
    };
}
tuple!(A.0);
tuple!(A.0, B.1);
tuple!(A.0, B.1, C.2);
tuple!(A.0, B.1, C.2, D.3);
tuple!(A.0, B.1, C.2, D.3, E.4);
tuple!(A.0, B.1, C.2, D.3, E.4, F.5);
tuple!(A.0, B.1, C.2, D.3, E.4, F.5, G.6);
tuple!(A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7);
tuple!(A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7, I.8);
tuple!(A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7, I.8, J.9);
tuple!(A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7, I.8, J.9, K.10);
tuple!(A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7, I.8, J.9, K.10, L.11);

impl<T: KeyPart> KeyPart for [T] {
    fn write_key(&self, out: &mut KeyWriter<'_>) {
        out.list(self);
    }
}

impl<T: KeyPart, const N: usize> KeyPart for [T; N] {
    fn write_key(&self, out: &mut KeyWriter<'_>) {
        out.list(self);
    }
}

impl<T: KeyPart> KeyPart for Vec<T> {
    fn write_key(&self, out: &mut KeyWriter<'_>) {
        out.list(self);
    }
}

impl<T: KeyPart> KeyPart for VecDeque<T> {
    fn write_key(&self, out: &mut KeyWriter<'_>) {
        out.list(self);
    }
}

impl<T: KeyPart> KeyPart for BTreeSet<T> {
    fn write_key(&self, out: &mut KeyWriter<'_>) {
        out.list(self);
    }
}

impl<K: KeyPart, V: KeyPart> KeyPart for BTreeMap<K, V> {
    fn write_key(&self, out: &mut KeyWriter<'_>) {
        out.list(self.iter());
    }
}

/// Whole microseconds since the Unix epoch (negative before it).
impl KeyPart for SystemTime {
    fn write_key(&self, out: &mut KeyWriter<'_>) {
        out.i64(system_time_micros(*self));
    }
}

/// Whole nanoseconds, so that distinct durations never share a key.
impl KeyPart for Duration {
    fn write_key(&self, out: &mut KeyWriter<'_>) {
        out.u128(self.as_nanos());
    }
}

/// Hyphenated lowercase: `67e55044-10b1-426f-9247-bb680e5fe0c8`.
#[cfg(feature = "uuid")]
impl KeyPart for uuid::Uuid {
    fn write_key(&self, out: &mut KeyWriter<'_>) {
        out.str(
            self.hyphenated()
                .encode_lower(&mut uuid::Uuid::encode_buffer()),
        );
    }
}

/// Microseconds since the Unix epoch: the same instant in any zone is the same key.
#[cfg(feature = "chrono")]
impl<Tz: chrono::TimeZone> KeyPart for chrono::DateTime<Tz> {
    fn write_key(&self, out: &mut KeyWriter<'_>) {
        out.i64(self.timestamp_micros());
    }
}

/// Microseconds since the Unix epoch, the value read as UTC.
#[cfg(feature = "chrono")]
impl KeyPart for chrono::NaiveDateTime {
    fn write_key(&self, out: &mut KeyWriter<'_>) {
        out.i64(self.and_utc().timestamp_micros());
    }
}

/// ISO 8601 calendar date: `2024-11-27`.
#[cfg(feature = "chrono")]
impl KeyPart for chrono::NaiveDate {
    fn write_key(&self, out: &mut KeyWriter<'_>) {
        out.display_leaf(self.format("%Y-%m-%d"));
    }
}

/// A key nested in another key (`#[cached(key = store.cache_key())]`): written as its text, so
/// the outer cache's name still comes first.
impl KeyPart for crate::CacheKey {
    fn write_key(&self, out: &mut KeyWriter<'_>) {
        out.str(self.as_str());
    }
}
