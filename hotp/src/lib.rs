//! HMAC (RFC 2104) of one 8-byte counter, keyed once per credential, over the hash crates' own
//! compression functions (sha1's `compress`, sha2's `compress256` and `compress512`, which use
//! the CPU's SHA instructions where it has them), and RFC 4226's dynamic truncation of it: the
//! value each of authcore's codes is made from. No hash is written here: only the two one-block
//! messages an HOTP value needs are laid out.
//!
//! Why not `hmac::HmacCore`: copying its two hash cores per code, running the counter through a
//! block buffer (zeroized on drop) and the generic finalization cost 1.46x the two compressions
//! (docs/benchmarks.md). Here a counter and an inner digest each fit one block whose padding
//! is known in advance, so a code is two blocks filled in place and two compressions started
//! from copies of the keyed states (20 to 64 bytes each). The RFC vectors in authcore's
//! otp_tests.rs, the comparison with the `hmac` crate below and the differential test against
//! totp-rs (core/tests/otp_differential.rs) guard it.
//!
//! A crate of its own so that this loop keeps full optimisation while `authcore` is built for
//! size: [`KeyedMac`]'s methods are not generic and not inlined, so their code is generated
//! here, at this crate's opt-level, whichever crate calls them.

use sha1::Digest;
use zeroize::Zeroize;

/// What HMAC needs of a Merkle-Damgard hash: its initial state, its compression of one block,
/// its digest of a state, and the hash of a key longer than a block.
trait BlockHash {
    type State: Copy + Zeroize;
    type Block: AsRef<[u8]> + AsMut<[u8]> + Zeroize;
    /// The initial hash value (FIPS 180-4, 5.3).
    const IV: Self::State;
    const DIGEST_LEN: usize;
    fn zero_block() -> Self::Block;
    fn compress(state: &mut Self::State, block: &Self::Block);
    /// The state as the big-endian digest, into the first `DIGEST_LEN` bytes of `out`.
    fn write_digest(state: &Self::State, out: &mut [u8]);
    /// The whole hash of `key`, into the first `DIGEST_LEN` bytes of `out`.
    fn hash_key(key: &[u8], out: &mut [u8]);
    /// RFC 4226's dynamic truncation of the digest `state` holds.
    #[inline(always)]
    fn truncate(state: &Self::State) -> u32 {
        let mut digest = [0u8; 64];
        Self::write_digest(state, &mut digest);
        truncate(&digest[..Self::DIGEST_LEN])
    }
}

/// RFC 4226's dynamic truncation read from 32-bit big-endian state words, without writing the
/// digest out: its last byte is the low byte of the last word, and the window it points at
/// (offset 0..=15) spans at most two words.
#[inline(always)]
fn truncate_words(words: &[u32]) -> u32 {
    let offset = (words[words.len() - 1] & 0x0f) as usize;
    let (word, shift) = (offset / 4, (offset % 4) * 8);
    let high = words[word] << shift;
    // Widened so that a window starting on a word boundary shifts the next word out whole.
    let low = (u64::from(words[word + 1]) >> (32 - shift)) as u32;
    (high | low) & 0x7fff_ffff
}

/// One `BlockHash` per hash: its state and block types, initial value, compression function,
/// the whole hash for long keys; `truncate = f` gives a truncation read from the state itself
/// (the hashes with 32-bit words) instead of from the digest written out.
macro_rules! block_hash {
    ($name:ident, $word:ty, $words:literal, $block:literal, $digest:literal, $compress:path,
     $hash:ty, [$($iv:expr),+ $(,)?] $(, truncate = $truncate:ident)?) => {
        struct $name;

        impl BlockHash for $name {
            type State = [$word; $words];
            type Block = [u8; $block];
            const IV: [$word; $words] = [$($iv),+];
            const DIGEST_LEN: usize = $digest;
            fn zero_block() -> [u8; $block] {
                [0; $block]
            }
            #[inline(always)]
            fn compress(state: &mut [$word; $words], block: &[u8; $block]) {
                $compress(state, std::slice::from_ref(block));
            }
            #[inline(always)]
            fn write_digest(state: &[$word; $words], out: &mut [u8]) {
                const WIDTH: usize = std::mem::size_of::<$word>();
                for (bytes, word) in out.chunks_exact_mut(WIDTH).zip(state) {
                    bytes.copy_from_slice(&word.to_be_bytes());
                }
            }
            fn hash_key(key: &[u8], out: &mut [u8]) {
                out[..Self::DIGEST_LEN].copy_from_slice(&<$hash>::digest(key));
            }
            $(
                #[inline(always)]
                fn truncate(state: &[$word; $words]) -> u32 {
                    $truncate(state)
                }
            )?
        }
    };
}

block_hash!(
    Sha1Fn,
    u32,
    5,
    64,
    20,
    sha1::block_api::compress,
    sha1::Sha1,
    [
        0x6745_2301,
        0xefcd_ab89,
        0x98ba_dcfe,
        0x1032_5476,
        0xc3d2_e1f0
    ],
    truncate = truncate_words
);
block_hash!(
    Sha256Fn,
    u32,
    8,
    64,
    32,
    sha2::block_api::compress256,
    sha2::Sha256,
    [
        0x6a09_e667,
        0xbb67_ae85,
        0x3c6e_f372,
        0xa54f_f53a,
        0x510e_527f,
        0x9b05_688c,
        0x1f83_d9ab,
        0x5be0_cd19,
    ],
    truncate = truncate_words
);
block_hash!(
    Sha512Fn,
    u64,
    8,
    128,
    64,
    sha2::block_api::compress512,
    sha2::Sha512,
    [
        0x6a09_e667_f3bc_c908,
        0xbb67_ae85_84ca_a73b,
        0x3c6e_f372_fe94_f82b,
        0xa54f_f53a_5f1d_36f1,
        0x510e_527f_ade6_82d1,
        0x9b05_688c_2b3e_6c1f,
        0x1f83_d9ab_fb41_bd6b,
        0x5be0_cd19_137e_2179,
    ]
);

/// The hash states after the key's inner and outer pad blocks: everything of the key a code
/// needs. Derived from the secret, so cleared on drop and never printed.
struct Pads<H: BlockHash> {
    inner: H::State,
    outer: H::State,
}

impl<H: BlockHash> Clone for Pads<H> {
    fn clone(&self) -> Self {
        Pads {
            inner: self.inner,
            outer: self.outer,
        }
    }
}

impl<H: BlockHash> Drop for Pads<H> {
    fn drop(&mut self) {
        self.inner.zeroize();
        self.outer.zeroize();
    }
}

/// Appends SHA's padding to a message of `len` bytes that ends inside the first block after a
/// keyed pad block: the 0x80 byte, zeros, and the bit length of pad block plus message in the
/// last 8 bytes (SHA-512's 16-byte length field has zeros in its upper half at these sizes).
#[inline(always)]
fn pad(block: &mut [u8], len: usize) {
    let n = block.len();
    block[len] = 0x80;
    block[n - 8..].copy_from_slice(&(((n + len) * 8) as u64).to_be_bytes());
}

impl<H: BlockHash> Pads<H> {
    /// Keys the MAC (RFC 2104, 2): the key, hashed first when longer than a block, zero-padded
    /// to a block and XORed with 0x36 and 0x5c, each compressed once from the initial state.
    fn new(key: &[u8]) -> Self {
        let mut block = H::zero_block();
        let padded = block.as_mut();
        if key.len() > padded.len() {
            H::hash_key(key, padded);
        } else {
            padded[..key.len()].copy_from_slice(key);
        }
        padded.iter_mut().for_each(|b| *b ^= 0x36);
        let mut inner = H::IV;
        H::compress(&mut inner, &block);
        block.as_mut().iter_mut().for_each(|b| *b ^= 0x36 ^ 0x5c);
        let mut outer = H::IV;
        H::compress(&mut outer, &block);
        block.zeroize();
        Pads { inner, outer }
    }

    /// The 31-bit dynamically truncated HMAC of the big-endian counter (RFC 4226, 5.3).
    #[inline(always)]
    fn truncated(&self, counter: u64) -> u32 {
        let mut block = H::zero_block();
        let message = block.as_mut();
        message[..8].copy_from_slice(&counter.to_be_bytes());
        pad(message, 8);
        let mut inner = self.inner;
        H::compress(&mut inner, &block);

        let mut block = H::zero_block();
        let message = block.as_mut();
        H::write_digest(&inner, message);
        pad(message, H::DIGEST_LEN);
        let mut outer = self.outer;
        H::compress(&mut outer, &block);
        H::truncate(&outer)
    }
}

/// RFC 4226's dynamic truncation (5.3) of an HMAC digest: the 31 bits at the offset its last
/// byte's low nibble names.
pub fn truncate(digest: &[u8]) -> u32 {
    // Digests are 20, 32 or 64 bytes, so the 4-byte window at offset <= 15 always exists.
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let window = [
        digest[offset],
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ];
    u32::from_be_bytes(window) & 0x7fff_ffff
}

/// The hash an HMAC is built on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hash {
    Sha1,
    Sha256,
    Sha512,
}

/// An HMAC keyed with one credential's secret, ready to give the truncated value of any
/// counter. Derived from the secret, so cleared on drop and never printed.
#[derive(Clone)]
pub struct KeyedMac(Keyed);

#[derive(Clone)]
enum Keyed {
    Sha1(Pads<Sha1Fn>),
    Sha256(Pads<Sha256Fn>),
    Sha512(Pads<Sha512Fn>),
}

impl KeyedMac {
    /// Keys the MAC with `key` (any length; a key longer than a block is hashed first). Never
    /// inlined: the padded key it leaves on the stack is in a frame of its own, below the
    /// caller's, where a stack scrub after it finds it.
    #[inline(never)]
    pub fn new(hash: Hash, key: &[u8]) -> Self {
        KeyedMac(match hash {
            Hash::Sha1 => Keyed::Sha1(Pads::new(key)),
            Hash::Sha256 => Keyed::Sha256(Pads::new(key)),
            Hash::Sha512 => Keyed::Sha512(Pads::new(key)),
        })
    }

    /// The 31-bit dynamically truncated HMAC of the big-endian `counter` (RFC 4226, 5.3).
    /// Never inlined, so that it runs at this crate's opt-level from a size-tuned caller.
    #[inline(never)]
    pub fn truncated(&self, counter: u64) -> u32 {
        match &self.0 {
            Keyed::Sha1(m) => m.truncated(counter),
            Keyed::Sha256(m) => m.truncated(counter),
            Keyed::Sha512(m) => m.truncated(counter),
        }
    }
}

impl std::fmt::Debug for KeyedMac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hash = match self.0 {
            Keyed::Sha1(_) => Hash::Sha1,
            Keyed::Sha256(_) => Hash::Sha256,
            Keyed::Sha512(_) => Hash::Sha512,
        };
        f.debug_struct("KeyedMac")
            .field("hash", &hash)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-block HMAC against the `hmac` crate's, on every key length from empty to past
    /// SHA-512's 128-byte block (the block boundaries are where keys start being hashed), for
    /// counters whose bytes are all different.
    #[test]
    fn one_block_hmac_matches_the_hmac_crate() {
        use hmac::{Hmac, KeyInit, Mac};

        fn theirs<M: Mac + KeyInit>(key: &[u8], counter: u64) -> u32 {
            let mut mac = <M as KeyInit>::new_from_slice(key).unwrap();
            mac.update(&counter.to_be_bytes());
            truncate(&mac.finalize().into_bytes())
        }
        for len in 0..=200usize {
            let key: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
            for counter in [0, 1, 0x0102_0304_0506_0708, u64::MAX] {
                assert_eq!(
                    KeyedMac::new(Hash::Sha1, &key).truncated(counter),
                    theirs::<Hmac<sha1::Sha1>>(&key, counter),
                    "SHA-1, {len}-byte key, counter {counter:#x}"
                );
                assert_eq!(
                    KeyedMac::new(Hash::Sha256, &key).truncated(counter),
                    theirs::<Hmac<sha2::Sha256>>(&key, counter),
                    "SHA-256, {len}-byte key, counter {counter:#x}"
                );
                assert_eq!(
                    KeyedMac::new(Hash::Sha512, &key).truncated(counter),
                    theirs::<Hmac<sha2::Sha512>>(&key, counter),
                    "SHA-512, {len}-byte key, counter {counter:#x}"
                );
            }
        }
    }

    #[test]
    fn debug_shows_only_the_hash() {
        let shown = format!("{:?}", KeyedMac::new(Hash::Sha256, b"topsecretkey"));
        assert_eq!(shown, "KeyedMac { hash: Sha256, .. }");
    }
}
