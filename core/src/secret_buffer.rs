//! A growable byte buffer for JSON holding secrets (exports, backups): every allocation it
//! leaves behind is zeroized (a plain `Vec` would free its old, unzeroized copy each time it
//! grows).

use zeroize::Zeroizing;

pub(crate) struct SecretBuffer(Zeroizing<Vec<u8>>);

impl SecretBuffer {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        SecretBuffer(Zeroizing::new(Vec::with_capacity(capacity)))
    }

    pub(crate) fn into_inner(self) -> Zeroizing<Vec<u8>> {
        self.0
    }
}

impl std::io::Write for SecretBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let needed = self.0.len() + bytes.len();
        if needed > self.0.capacity() {
            let mut bigger = Zeroizing::new(Vec::with_capacity(needed.max(self.0.capacity() * 2)));
            bigger.extend_from_slice(&self.0);
            // The old allocation is zeroized as it drops here.
            self.0 = bigger;
        }
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    #[test]
    fn grows_and_keeps_everything() {
        let mut b = super::SecretBuffer::with_capacity(1);
        for i in 0..100u8 {
            b.write_all(&[i; 3]).unwrap();
        }
        let v = b.into_inner();
        assert_eq!(v.len(), 300);
        assert_eq!(&v[297..], &[99, 99, 99]);
    }
}
