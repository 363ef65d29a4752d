/**
 * The image types the pages serve from inside a package (readme images): known by the file's extension and checked
 * against its first bytes, so a file named `x.png` is never served as an image unless it is one.
 */

const TYPES: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  svg: 'image/svg+xml',
};

/**
 * The content type of an image path by its extension; null for anything else.
 * @example imageTypeOf('docs/Logo.PNG') // 'image/png'
 */
export function imageTypeOf(path: string): string | null {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return null;
  const extension = name.slice(dot + 1).toLowerCase();
  return Object.hasOwn(TYPES, extension) ? TYPES[extension]! : null;
}

/**
 * Whether the bytes are an image of the type: the signature of PNG, JPEG, GIF and WebP; an `<svg` element near the
 * start of an SVG file (text, so no signature).
 */
export function isImageOfType(type: string, bytes: Buffer): boolean {
  switch (type) {
    case 'image/png':
      return bytes.length > 8 && bytes.readUInt32BE(0) === 0x89504e47 && bytes.readUInt32BE(4) === 0x0d0a1a0a;
    case 'image/jpeg':
      return bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
    case 'image/gif':
      return bytes.length > 6 && /^GIF8[79]a$/.test(bytes.subarray(0, 6).toString('latin1'));
    case 'image/webp':
      return bytes.length > 12 && bytes.subarray(0, 4).toString('latin1') === 'RIFF' && bytes.subarray(8, 12).toString('latin1') === 'WEBP';
    case 'image/svg+xml':
      return /<svg[\s>]/i.test(bytes.subarray(0, 4096).toString('utf8'));
    default:
      return false;
  }
}

/**
 * The type of a package's own icon, known by its first bytes alone (the nuspec may name it anything): PNG and JPEG,
 * which NuGet allows, and GIF; null for anything else, which is then not served as an icon.
 */
export function iconTypeOf(bytes: Buffer): 'image/png' | 'image/jpeg' | 'image/gif' | null {
  for (const type of ['image/png', 'image/jpeg', 'image/gif'] as const) if (isImageOfType(type, bytes)) return type;
  return null;
}
