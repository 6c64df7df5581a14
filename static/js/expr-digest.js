// digest(text, algorithm, encoding) as server/domain/expr/odk.py: MD5, SHA-1, SHA-256, SHA-384 and
// SHA-512 of the text's UTF-8 bytes, in base64 (the default) or hex. Synchronous because the
// evaluator is (crypto.subtle.digest answers with a promise); the fill page loads this file only for
// forms that call digest(). The constants are FIPS 180-4's and RFC 1321's, checked by the vectors.
import { FN, toString } from './expr-eval.js';

const K256 = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2
];
const H256 = [
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
];
const K512 = [
  0x428a2f98, 0xd728ae22, 0x71374491, 0x23ef65cd, 0xb5c0fbcf, 0xec4d3b2f, 0xe9b5dba5, 0x8189dbbc, 0x3956c25b,
  0xf348b538, 0x59f111f1, 0xb605d019, 0x923f82a4, 0xaf194f9b, 0xab1c5ed5, 0xda6d8118, 0xd807aa98, 0xa3030242,
  0x12835b01, 0x45706fbe, 0x243185be, 0x4ee4b28c, 0x550c7dc3, 0xd5ffb4e2, 0x72be5d74, 0xf27b896f, 0x80deb1fe,
  0x3b1696b1, 0x9bdc06a7, 0x25c71235, 0xc19bf174, 0xcf692694, 0xe49b69c1, 0x9ef14ad2, 0xefbe4786, 0x384f25e3,
  0x0fc19dc6, 0x8b8cd5b5, 0x240ca1cc, 0x77ac9c65, 0x2de92c6f, 0x592b0275, 0x4a7484aa, 0x6ea6e483, 0x5cb0a9dc,
  0xbd41fbd4, 0x76f988da, 0x831153b5, 0x983e5152, 0xee66dfab, 0xa831c66d, 0x2db43210, 0xb00327c8, 0x98fb213f,
  0xbf597fc7, 0xbeef0ee4, 0xc6e00bf3, 0x3da88fc2, 0xd5a79147, 0x930aa725, 0x06ca6351, 0xe003826f, 0x14292967,
  0x0a0e6e70, 0x27b70a85, 0x46d22ffc, 0x2e1b2138, 0x5c26c926, 0x4d2c6dfc, 0x5ac42aed, 0x53380d13, 0x9d95b3df,
  0x650a7354, 0x8baf63de, 0x766a0abb, 0x3c77b2a8, 0x81c2c92e, 0x47edaee6, 0x92722c85, 0x1482353b, 0xa2bfe8a1,
  0x4cf10364, 0xa81a664b, 0xbc423001, 0xc24b8b70, 0xd0f89791, 0xc76c51a3, 0x0654be30, 0xd192e819, 0xd6ef5218,
  0xd6990624, 0x5565a910, 0xf40e3585, 0x5771202a, 0x106aa070, 0x32bbd1b8, 0x19a4c116, 0xb8d2d0c8, 0x1e376c08,
  0x5141ab53, 0x2748774c, 0xdf8eeb99, 0x34b0bcb5, 0xe19b48a8, 0x391c0cb3, 0xc5c95a63, 0x4ed8aa4a, 0xe3418acb,
  0x5b9cca4f, 0x7763e373, 0x682e6ff3, 0xd6b2b8a3, 0x748f82ee, 0x5defb2fc, 0x78a5636f, 0x43172f60, 0x84c87814,
  0xa1f0ab72, 0x8cc70208, 0x1a6439ec, 0x90befffa, 0x23631e28, 0xa4506ceb, 0xde82bde9, 0xbef9a3f7, 0xb2c67915,
  0xc67178f2, 0xe372532b, 0xca273ece, 0xea26619c, 0xd186b8c7, 0x21c0c207, 0xeada7dd6, 0xcde0eb1e, 0xf57d4f7f,
  0xee6ed178, 0x06f067aa, 0x72176fba, 0x0a637dc5, 0xa2c898a6, 0x113f9804, 0xbef90dae, 0x1b710b35, 0x131c471b,
  0x28db77f5, 0x23047d84, 0x32caab7b, 0x40c72493, 0x3c9ebe0a, 0x15c9bebc, 0x431d67c4, 0x9c100d4c, 0x4cc5d4be,
  0xcb3e42b6, 0x597f299c, 0xfc657e2a, 0x5fcb6fab, 0x3ad6faec, 0x6c44198c, 0x4a475817
];
const H512 = [
  0x6a09e667, 0xf3bcc908, 0xbb67ae85, 0x84caa73b, 0x3c6ef372, 0xfe94f82b, 0xa54ff53a, 0x5f1d36f1, 0x510e527f,
  0xade682d1, 0x9b05688c, 0x2b3e6c1f, 0x1f83d9ab, 0xfb41bd6b, 0x5be0cd19, 0x137e2179
];
const H384 = [
  0xcbbb9d5d, 0xc1059ed8, 0x629a292a, 0x367cd507, 0x9159015a, 0x3070dd17, 0x152fecd8, 0xf70e5939, 0x67332667,
  0xffc00b31, 0x8eb44a87, 0x68581511, 0xdb0c2e0d, 0x64f98fa7, 0x47b5481d, 0xbefa4fa4
];
const KMD5 = [
  0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501, 0x698098d8,
  0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340,
  0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87,
  0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
  0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039,
  0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92,
  0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
  0xeb86d391
];

const rotr = (x, n) => (x >>> n) | (x << (32 - n));
const rotl = (x, n) => (x << n) | (x >>> (32 - n));

// The message padded to whole blocks: 0x80, zeros, and its length in bits (big-endian for SHA,
// little-endian for MD5) in the last 8 (SHA-384/512: 16) bytes.
function pad(bytes, block, little) {
  const out = bytes.slice(), bits = bytes.length * 8, size = block / 8, len = [];
  out.push(0x80);
  while (out.length % block !== block - size) out.push(0);
  for (let i = 0; i < size; i++) len.push(0);
  const hi = Math.floor(bits / 4294967296), lo = bits >>> 0;
  for (let i = 0; i < 4; i++) {
    len[size - 1 - i] = (lo >>> (8 * i)) & 255;
    len[size - 5 - i] = (hi >>> (8 * i)) & 255;
  }
  return out.concat(little ? len.slice(size - 8).reverse() : len);
}

const be = (m, o) => ((m[o] << 24) | (m[o + 1] << 16) | (m[o + 2] << 8) | m[o + 3]) | 0;
const le = (m, o) => (m[o] | (m[o + 1] << 8) | (m[o + 2] << 16) | (m[o + 3] << 24)) | 0;
const bytesBE = (ws) => [].concat.apply([], ws.map((w) => [(w >>> 24) & 255, (w >>> 16) & 255, (w >>> 8) & 255, w & 255]));

function sha256(bytes) {
  const m = pad(bytes, 64, false), h = H256.map((x) => x | 0), w = [];
  for (let o = 0; o < m.length; o += 64) {
    for (let i = 0; i < 64; i++) {
      if (i < 16) w[i] = be(m, o + 4 * i);
      else {
        const a = w[i - 15], b = w[i - 2];
        w[i] = (w[i - 16] + (rotr(a, 7) ^ rotr(a, 18) ^ (a >>> 3)) + w[i - 7] + (rotr(b, 17) ^ rotr(b, 19) ^ (b >>> 10))) | 0;
      }
    }
    const v = h.slice();
    for (let i = 0; i < 64; i++) {
      const e = v[4], a = v[0];
      const t1 = (v[7] + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & v[5]) ^ (~e & v[6])) + K256[i] + w[i]) | 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & v[1]) ^ (a & v[2]) ^ (v[1] & v[2]))) | 0;
      v.pop();
      v.unshift((t1 + t2) | 0);
      v[4] = (v[4] + t1) | 0;
    }
    for (let i = 0; i < 8; i++) h[i] = (h[i] + v[i]) | 0;
  }
  return bytesBE(h);
}

function sha1(bytes) {
  const m = pad(bytes, 64, false), h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0].map((x) => x | 0), w = [];
  for (let o = 0; o < m.length; o += 64) {
    for (let i = 0; i < 80; i++) w[i] = i < 16 ? be(m, o + 4 * i) : rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    let a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (let i = 0; i < 80; i++) {
      const f = i < 20 ? (b & c) | (~b & d) : i < 40 || i >= 60 ? b ^ c ^ d : (b & c) | (b & d) | (c & d);
      const k = i < 20 ? 0x5a827999 : i < 40 ? 0x6ed9eba1 : i < 60 ? 0x8f1bbcdc : 0xca62c1d6;
      const t = (rotl(a, 5) + f + e + k + w[i]) | 0;
      e = d; d = c; c = rotl(b, 30); b = a; a = t;
    }
    [a, b, c, d, e].forEach((x, i) => { h[i] = (h[i] + x) | 0; });
  }
  return bytesBE(h);
}

const MD5_SHIFT = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

function md5(bytes) {
  const m = pad(bytes, 64, true), h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476].map((x) => x | 0);
  for (let o = 0; o < m.length; o += 64) {
    let a = h[0], b = h[1], c = h[2], d = h[3];
    for (let i = 0; i < 64; i++) {
      const r = i >> 4;
      const f = r === 0 ? (b & c) | (~b & d) : r === 1 ? (d & b) | (~d & c) : r === 2 ? b ^ c ^ d : c ^ (b | ~d);
      const g = r === 0 ? i : r === 1 ? (5 * i + 1) % 16 : r === 2 ? (3 * i + 5) % 16 : (7 * i) % 16;
      const t = d;
      d = c;
      c = b;
      b = (b + rotl((a + f + KMD5[i] + le(m, o + 4 * g)) | 0, MD5_SHIFT[r * 4 + (i % 4)])) | 0;
      a = t;
    }
    h[0] = (h[0] + a) | 0; h[1] = (h[1] + b) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0;
  }
  return [].concat.apply([], h.map((w) => [w & 255, (w >>> 8) & 255, (w >>> 16) & 255, (w >>> 24) & 255]));
}

// SHA-512 in pairs of 32-bit halves (no BigInt before Chrome 67): x[2i] high, x[2i + 1] low.
function add64(pairs) {
  let lo = 0, hi = 0;
  pairs.forEach((p) => { lo += p[1] >>> 0; hi += p[0] >>> 0; });
  hi += Math.floor(lo / 4294967296);
  return [hi | 0, lo | 0];
}

function rotr64(p, n) {
  const h = p[0], l = p[1];
  if (n === 32) return [l, h];
  if (n > 32) return rotr64([l, h], n - 32);
  return [(h >>> n) | (l << (32 - n)), (l >>> n) | (h << (32 - n))];
}

const shr64 = (p, n) => [p[0] >>> n, (p[1] >>> n) | (p[0] << (32 - n))];
const xor64 = (a, b, c) => [a[0] ^ b[0] ^ c[0], a[1] ^ b[1] ^ c[1]];

function sha512(bytes, init, size) {
  const m = pad(bytes, 128, false), k = (i) => [K512[2 * i] | 0, K512[2 * i + 1] | 0], w = [];
  const h = [];
  for (let i = 0; i < 8; i++) h.push([init[2 * i] | 0, init[2 * i + 1] | 0]);
  for (let o = 0; o < m.length; o += 128) {
    for (let i = 0; i < 80; i++) {
      if (i < 16) w[i] = [be(m, o + 8 * i), be(m, o + 8 * i + 4)];
      else {
        const a = w[i - 15], b = w[i - 2];
        w[i] = add64([w[i - 16], xor64(rotr64(a, 1), rotr64(a, 8), shr64(a, 7)), w[i - 7],
          xor64(rotr64(b, 19), rotr64(b, 61), shr64(b, 6))]);
      }
    }
    const v = h.slice();
    for (let i = 0; i < 80; i++) {
      const e = v[4], a = v[0];
      const ch = [(e[0] & v[5][0]) ^ (~e[0] & v[6][0]), (e[1] & v[5][1]) ^ (~e[1] & v[6][1])];
      const t1 = add64([v[7], xor64(rotr64(e, 14), rotr64(e, 18), rotr64(e, 41)), ch, k(i), w[i]]);
      const maj = [(a[0] & v[1][0]) ^ (a[0] & v[2][0]) ^ (v[1][0] & v[2][0]), (a[1] & v[1][1]) ^ (a[1] & v[2][1]) ^ (v[1][1] & v[2][1])];
      const t2 = add64([xor64(rotr64(a, 28), rotr64(a, 34), rotr64(a, 39)), maj]);
      v.pop();
      v.unshift(add64([t1, t2]));
      v[4] = add64([v[4], t1]);
    }
    for (let i = 0; i < 8; i++) h[i] = add64([h[i], v[i]]);
  }
  return bytesBE([].concat.apply([], h)).slice(0, size);
}

const ALGORITHMS = {
  MD5: md5, 'SHA-1': sha1, 'SHA-256': sha256,
  'SHA-384': (b) => sha512(b, H384, 48), 'SHA-512': (b) => sha512(b, H512, 64),
};

function digest(a) {
  const algorithm = toString(a[1]), encoding = a.length > 2 ? toString(a[2]) : 'base64';
  const hash = Object.prototype.hasOwnProperty.call(ALGORITHMS, algorithm) ? ALGORITHMS[algorithm] : null;
  if (!hash || (encoding !== 'base64' && encoding !== 'hex')) return '';
  const out = hash(Array.from(new TextEncoder().encode(toString(a[0]))));
  if (encoding === 'hex') return out.map((x) => (x < 16 ? '0' : '') + x.toString(16)).join('');
  return btoa(out.map((x) => String.fromCharCode(x)).join(''));
}

FN.digest = [2, 3, digest];
