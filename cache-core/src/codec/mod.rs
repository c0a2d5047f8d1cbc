//! PROVISIONAL (replaced by the codec module being written in parallel).
#![allow(missing_docs)]
use crate::{Error, Result};
pub const HEADER_LEN: usize = 22;
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EntryMeta { pub fresh_until_ms: u64, pub stale_until_ms: u64, pub load_micros: u32 }
#[derive(Debug, Clone)]
pub struct CodecConfig { pub compress_threshold: usize, pub compression_level: i32, pub max_decoded_bytes: usize }
impl Default for CodecConfig { fn default() -> Self { CodecConfig { compress_threshold: 1024, compression_level: 1, max_decoded_bytes: 64 << 20 } } }
#[derive(Debug, Clone, Default)]
pub struct Codec { config: CodecConfig }
impl Codec {
    pub fn new(config: CodecConfig) -> Codec { Codec { config } }
    pub fn config(&self) -> &CodecConfig { &self.config }
    pub fn encode<T: serde::Serialize + ?Sized>(&self, value: &T, meta: EntryMeta) -> Result<Vec<u8>> {
        let mut out = vec![0xC1, 0];
        out.extend_from_slice(&meta.fresh_until_ms.to_be_bytes());
        out.extend_from_slice(&meta.stale_until_ms.to_be_bytes());
        out.extend_from_slice(&meta.load_micros.to_be_bytes());
        out.extend(rmp_serde::to_vec_named(value).map_err(|e| Error::Serialize(e.to_string()))?);
        Ok(out)
    }
    pub fn decode<T: serde::de::DeserializeOwned>(&self, bytes: &[u8]) -> Result<(EntryMeta, T)> {
        let meta = Self::decode_meta(bytes)?;
        let v = rmp_serde::from_slice(&bytes[HEADER_LEN..]).map_err(|e| Error::Deserialize(e.to_string()))?;
        Ok((meta, v))
    }
    pub fn decode_meta(bytes: &[u8]) -> Result<EntryMeta> {
        if bytes.len() < HEADER_LEN { return Err(Error::Truncated { needed: HEADER_LEN, found: bytes.len() }); }
        let u = |r: std::ops::Range<usize>| { let mut b = [0u8; 8]; b.copy_from_slice(&bytes[r]); u64::from_be_bytes(b) };
        Ok(EntryMeta { fresh_until_ms: u(2..10), stale_until_ms: u(10..18), load_micros: u32::from_be_bytes([bytes[18], bytes[19], bytes[20], bytes[21]]) })
    }
}
