// SPDX-License-Identifier: GPL-3.0-or-later
//! A minimal PNG writer for the bench chart: 8-bit RGB, no filtering, the
//! image data in zlib "stored" (uncompressed) deflate blocks — no crate
//! needed, and a bar chart of a few hundred KiB does not need compression.
//! The format: PNG (ISO/IEC 15948, <https://www.w3.org/TR/png/>), zlib
//! (RFC 1950), deflate stored blocks (RFC 1951 §3.2.4).
#![forbid(unsafe_code)]

use anyhow::{Context, Result};

/// An RGB colour.
pub type Rgb = [u8; 3];

/// An RGB image, row-major.
#[derive(Debug, Clone)]
pub struct Canvas {
    width: u32,
    height: u32,
    px: Vec<Rgb>,
}

impl Canvas {
    /// A `width` × `height` canvas filled with `bg`.
    pub fn new(width: u32, height: u32, bg: Rgb) -> Canvas {
        let n = (width as usize) * (height as usize);
        Canvas {
            width,
            height,
            px: vec![bg; n],
        }
    }

    /// Width in pixels.
    #[cfg(test)]
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    #[cfg(test)]
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Sets one pixel; outside the canvas it does nothing.
    pub fn set(&mut self, x: u32, y: u32, c: Rgb) {
        if x < self.width && y < self.height {
            self.px[(y as usize) * (self.width as usize) + (x as usize)] = c;
        }
    }

    /// The pixel at (`x`, `y`).
    #[cfg(test)]
    pub fn get(&self, x: u32, y: u32) -> Rgb {
        self.px[(y as usize) * (self.width as usize) + (x as usize)]
    }

    /// Fills the rectangle `x0..x1` × `y0..y1` (clipped to the canvas).
    pub fn fill(&mut self, x0: u32, y0: u32, x1: u32, y1: u32, c: Rgb) {
        for y in y0..y1.min(self.height) {
            for x in x0..x1.min(self.width) {
                self.set(x, y, c);
            }
        }
    }

    /// The image as a PNG file.
    pub fn to_png(&self) -> Result<Vec<u8>> {
        let row = 1 + 3 * self.width as usize;
        let mut raw = Vec::with_capacity(row * self.height as usize);
        for line in self.px.chunks(self.width.max(1) as usize) {
            raw.push(0); // filter type 0: None
            for p in line {
                raw.extend_from_slice(p);
            }
        }
        encode(self.width, self.height, &raw)
    }
}

/// The eight bytes every PNG file starts with.
pub const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// A PNG of 8-bit RGB pixels; `raw` is the scanlines, each led by its
/// filter-type byte.
pub fn encode(width: u32, height: u32, raw: &[u8]) -> Result<Vec<u8>> {
    let mut png = SIGNATURE.to_vec();
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    // Bit depth 8, colour type 2 (RGB), compression 0, filter 0, no interlace.
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr)?;
    chunk(&mut png, b"IDAT", &zlib_stored(raw))?;
    chunk(&mut png, b"IEND", &[])?;
    Ok(png)
}

/// Appends a chunk: length, type, data, CRC-32 of type and data.
fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) -> Result<()> {
    let len = u32::try_from(data.len()).context("PNG chunk longer than 4 GiB")?;
    png.extend_from_slice(&len.to_be_bytes());
    let start = png.len();
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = crc32(&png[start..]);
    png.extend_from_slice(&crc.to_be_bytes());
    Ok(())
}

/// A zlib stream of `data` in stored deflate blocks of at most 65 535 bytes.
pub fn zlib_stored(data: &[u8]) -> Vec<u8> {
    // CMF 0x78: deflate, 32 KiB window; FLG 0x01: no dictionary, fastest
    // level, and 0x7801 is a multiple of 31 as the header check requires.
    let mut out = vec![0x78, 0x01];
    let mut blocks = data.chunks(usize::from(u16::MAX)).peekable();
    if blocks.peek().is_none() {
        // An empty final block: header, LEN 0, NLEN 0xffff.
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(block) = blocks.next() {
        let last = blocks.peek().is_none();
        // BFINAL in bit 0, BTYPE 00 (stored); the rest of the byte is padding.
        out.push(u8::from(last));
        let len = u16::try_from(block.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

/// Adler-32 (RFC 1950 §8.2).
pub fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 bytes is the most that cannot overflow `b` before the reduction.
    for part in data.chunks(5552) {
        for &byte in part {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

/// CRC-32 as PNG and zlib's gzip use it (reflected, polynomial 0xEDB88320).
pub fn crc32(data: &[u8]) -> u32 {
    !data.iter().fold(!0u32, |crc, &byte| {
        CRC_TABLE[usize::from(crc.to_le_bytes()[0] ^ byte)] ^ (crc >> 8)
    })
}

/// The CRC-32 of each byte value.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0u32;
    while n < 256 {
        let mut c = n;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[n as usize] = c;
        n += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    fn be32(b: &[u8]) -> u32 {
        u32::from_be_bytes(b[..4].try_into().unwrap())
    }

    /// Decodes a zlib stream made only of stored blocks, checking the
    /// header, each block's LEN/NLEN and the Adler-32 trailer.
    fn inflate_stored(z: &[u8]) -> Vec<u8> {
        assert_eq!(z[0] & 0x0f, 8, "CM must be deflate");
        assert_eq!((u16::from(z[0]) << 8 | u16::from(z[1])) % 31, 0, "FCHECK");
        assert_eq!(z[1] & 0x20, 0, "no preset dictionary");
        let mut out = Vec::new();
        let mut i = 2;
        loop {
            let header = z[i];
            assert_eq!(header >> 1 & 3, 0, "BTYPE must be stored");
            let len = u16::from_le_bytes([z[i + 1], z[i + 2]]);
            let nlen = u16::from_le_bytes([z[i + 3], z[i + 4]]);
            assert_eq!(len, !nlen);
            i += 5;
            out.extend_from_slice(&z[i..i + usize::from(len)]);
            i += usize::from(len);
            if header & 1 == 1 {
                break;
            }
        }
        assert_eq!(be32(&z[i..]), adler32(&out));
        assert_eq!(i + 4, z.len(), "nothing after the trailer");
        out
    }

    #[test]
    fn checksums_match_known_values() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        assert_eq!(adler32(b""), 1);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        // Long enough to need the periodic reduction.
        let big = vec![0xffu8; 100_000];
        let (mut a, mut b) = (1u64, 0u64);
        for &x in &big {
            a = (a + u64::from(x)) % 65_521;
            b = (b + a) % 65_521;
        }
        assert_eq!(u64::from(adler32(&big)), b << 16 | a);
    }

    #[test]
    fn zlib_stored_round_trips() {
        for n in [0usize, 1, 65_535, 65_536, 200_000] {
            let data: Vec<u8> = (0..n).map(|i| u8::try_from(i * 7 % 251).unwrap()).collect();
            let z = zlib_stored(&data);
            assert_eq!(inflate_stored(&z), data, "{n} bytes");
            let blocks = n.div_ceil(65_535).max(1);
            assert_eq!(z.len(), 2 + 5 * blocks + n + 4);
        }
    }

    #[test]
    fn png_structure() {
        let mut c = Canvas::new(3, 2, [255, 255, 255]);
        c.set(0, 0, [1, 2, 3]);
        c.fill(1, 1, 10, 10, [9, 8, 7]);
        let png = c.to_png().unwrap();
        assert_eq!(png[..8], SIGNATURE);

        // Walk the chunks, checking each CRC.
        let mut chunks = Vec::new();
        let mut i = 8;
        while i < png.len() {
            let len = be32(&png[i..]) as usize;
            let kind = &png[i + 4..i + 8];
            let data = &png[i + 8..i + 8 + len];
            let crc = be32(&png[i + 8 + len..]);
            assert_eq!(crc, crc32(&png[i + 4..i + 8 + len]), "CRC of {kind:?}");
            chunks.push((kind.to_vec(), data.to_vec()));
            i += 12 + len;
        }
        assert_eq!(i, png.len());
        let kinds: Vec<&[u8]> = chunks.iter().map(|(k, _)| k.as_slice()).collect();
        assert_eq!(kinds, [b"IHDR".as_slice(), b"IDAT", b"IEND"]);

        let ihdr = &chunks[0].1;
        assert_eq!(ihdr.len(), 13);
        assert_eq!(be32(&ihdr[0..]), 3, "width");
        assert_eq!(be32(&ihdr[4..]), 2, "height");
        assert_eq!(ihdr[8..], [8, 2, 0, 0, 0], "depth, RGB, methods");

        let raw = inflate_stored(&chunks[1].1);
        #[rustfmt::skip]
        let want = [
            0, 1, 2, 3, 255, 255, 255, 255, 255, 255,
            0, 255, 255, 255, 9, 8, 7, 9, 8, 7,
        ];
        assert_eq!(raw, want);
        assert!(chunks[2].1.is_empty());
    }
}
