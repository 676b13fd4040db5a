// Draws the app and tray icons as PNGs with no image library: a rounded square in the brand
// gradient with a white ring (app), and a plain ring (tray; black on transparent so macOS can use
// it as a template image). Also wraps app PNGs in the two containers the packagers want:
// icon.ico (Windows, Squirrel's setupIcon) and icon.icns (macOS app and DMG). Both formats allow
// PNG payloads (ICO since Vista, ICNS types ic07–ic10), so no encoder is needed.
// Run: node build/make-icons.mjs
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buffer) => {
  let c = 0xffffffff;
  for (const byte of buffer) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
};
const png = (size, pixel) => {
  const raw = Buffer.alloc((size * 4 + 1) * size);
  for (let y = 0; y < size; y += 1) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x += 1) {
      const [r, g, b, a] = pixel(x + 0.5, y + 0.5, size);
      raw.set([r, g, b, a], y * (size * 4 + 1) + 1 + x * 4);
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
};
const clamp = (v) => Math.max(0, Math.min(1, v));
const ring = (x, y, size, inner, outer) => {
  const d = Math.hypot(x - size / 2, y - size / 2) / size;
  return clamp((outer - d) * size) * clamp((d - inner) * size);
};
const app = (x, y, size) => {
  const radius = size * 0.22;
  const dx = Math.max(radius - x, 0, x - (size - radius));
  const dy = Math.max(radius - y, 0, y - (size - radius));
  const inside = clamp(radius - Math.hypot(dx, dy) + 0.5);
  const t = (x + y) / (2 * size);
  const base = [47 + (138 - 47) * t, 111 + (92 - 111) * t, 237 + (246 - 237) * t];
  const white = ring(x, y, size, 0.2, 0.32);
  const rgb = base.map((c) => Math.round(c + (255 - c) * white));
  return [...rgb, Math.round(255 * inside)];
};
const tray = (x, y, size) => [0, 0, 0, Math.round(255 * ring(x, y, size, 0.22, 0.42))];

for (const size of [512, 256])
  writeFileSync(new URL(`icon${size === 512 ? '' : '-256'}.png`, import.meta.url), png(size, app));
// Linux and Windows trays are light or dark: the brand blue reads on both.
writeFileSync(
  new URL('tray.png', import.meta.url),
  png(32, (x, y, s) => [47, 111, 237, tray(x, y, s)[3]]),
);
writeFileSync(new URL('trayTemplate.png', import.meta.url), png(16, tray));
writeFileSync(new URL('trayTemplate@2x.png', import.meta.url), png(32, tray));

/** ICO: a 6-byte header, one 16-byte entry per image, then the PNGs (256 is written as 0). */
const ico = (sizes) => {
  const images = sizes.map((size) => png(size, app));
  const header = Buffer.alloc(6 + 16 * images.length);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(images.length, 4);
  let offset = header.length;
  images.forEach((image, index) => {
    const at = 6 + 16 * index;
    header.writeUInt8(sizes[index] >= 256 ? 0 : sizes[index], at);
    header.writeUInt8(sizes[index] >= 256 ? 0 : sizes[index], at + 1);
    header.writeUInt16LE(1, at + 4);
    header.writeUInt16LE(32, at + 6);
    header.writeUInt32LE(image.length, at + 8);
    header.writeUInt32LE(offset, at + 12);
    offset += image.length;
  });
  return Buffer.concat([header, ...images]);
};

/** ICNS: `icns` + total length, then (type, length incl. 8-byte header, PNG) per image. */
const icns = (entries) => {
  const parts = entries.map(([type, size]) => {
    const image = png(size, app);
    const head = Buffer.alloc(8);
    head.write(type, 0, 'ascii');
    head.writeUInt32BE(image.length + 8, 4);
    return Buffer.concat([head, image]);
  });
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'ascii');
  head.writeUInt32BE(8 + parts.reduce((sum, part) => sum + part.length, 0), 4);
  return Buffer.concat([head, ...parts]);
};

writeFileSync(new URL('icon.ico', import.meta.url), ico([16, 24, 32, 48, 64, 128, 256]));
writeFileSync(
  new URL('icon.icns', import.meta.url),
  // ic07 128 px, ic08 256 px, ic09 512 px, ic10 1024 px (512 px @2x).
  icns([
    ['ic07', 128],
    ['ic08', 256],
    ['ic09', 512],
    ['ic10', 1024],
  ]),
);
