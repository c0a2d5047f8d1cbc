//! PROVISIONAL (replaced by the key module being written in parallel).
#![allow(missing_docs)]
use std::hash::{Hash, Hasher};
use std::sync::Arc;
pub const MAX_KEY_LEN: usize = 250;
pub struct KeyWriter<'a> { buf: &'a mut String }
impl KeyWriter<'_> { pub fn str(&mut self, s: &str) { self.buf.push_str(s); self.buf.push(':'); } }
pub trait KeyPart { fn write_key(&self, out: &mut KeyWriter<'_>); }
impl KeyPart for str { fn write_key(&self, out: &mut KeyWriter<'_>) { out.str(self) } }
impl KeyPart for String { fn write_key(&self, out: &mut KeyWriter<'_>) { out.str(self) } }
impl KeyPart for i64 { fn write_key(&self, out: &mut KeyWriter<'_>) { out.str(&self.to_string()) } }
impl KeyPart for u64 { fn write_key(&self, out: &mut KeyWriter<'_>) { out.str(&self.to_string()) } }
impl KeyPart for i32 { fn write_key(&self, out: &mut KeyWriter<'_>) { out.str(&self.to_string()) } }
impl KeyPart for u32 { fn write_key(&self, out: &mut KeyWriter<'_>) { out.str(&self.to_string()) } }
impl KeyPart for usize { fn write_key(&self, out: &mut KeyWriter<'_>) { out.str(&self.to_string()) } }
impl<T: KeyPart + ?Sized> KeyPart for &T { fn write_key(&self, out: &mut KeyWriter<'_>) { (**self).write_key(out) } }
impl<A: KeyPart, B: KeyPart> KeyPart for (A, B) { fn write_key(&self, out: &mut KeyWriter<'_>) { self.0.write_key(out); self.1.write_key(out) } }
impl KeyPart for () { fn write_key(&self, _out: &mut KeyWriter<'_>) {} }
pub trait VersionStamp { fn version_micros(&self) -> i64; }
pub struct Micros(pub i64);
impl VersionStamp for Micros { fn version_micros(&self) -> i64 { self.0 } }
#[derive(Clone)]
pub struct CacheKey { text: Arc<str>, name: Arc<str>, schema_version: u32 }
impl CacheKey {
    pub fn new(cache_name: &str, parts: &(impl KeyPart + ?Sized)) -> CacheKey { Self::with_schema(cache_name, 0, parts) }
    pub fn with_schema(cache_name: &str, schema_version: u32, parts: &(impl KeyPart + ?Sized)) -> CacheKey {
        let mut s = format!("{cache_name}@{schema_version}:"); parts.write_key(&mut KeyWriter { buf: &mut s });
        CacheKey { text: s.into(), name: cache_name.into(), schema_version }
    }
    pub fn as_str(&self) -> &str { &self.text }
    pub fn cache_name(&self) -> &str { &self.name }
    pub fn schema_version(&self) -> u32 { self.schema_version }
    pub fn stable_hash(&self) -> u64 { xxhash_rust::xxh3::xxh3_64(self.text.as_bytes()) }
}
impl PartialEq for CacheKey { fn eq(&self, o: &Self) -> bool { self.text == o.text } }
impl Eq for CacheKey {}
impl Hash for CacheKey { fn hash<H: Hasher>(&self, h: &mut H) { self.as_str().hash(h) } }
impl std::borrow::Borrow<str> for CacheKey { fn borrow(&self) -> &str { &self.text } }
impl std::fmt::Debug for CacheKey { fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { write!(f, "CacheKey({:?})", self.text) } }
impl std::fmt::Display for CacheKey { fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(&self.text) } }
