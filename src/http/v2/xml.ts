/**
 * A small XML writer: every text and attribute value goes through {@link escapeText}/{@link escapeAttr}, so no caller
 * ever concatenates an unescaped value into a document. Characters XML 1.0 cannot carry are dropped.
 */

/** Characters XML 1.0 forbids (C0 controls but tab/LF/CR, U+FFFE/U+FFFF, unpaired surrogates). */
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function escapeText(value: string): string {
  return value.replace(INVALID_XML, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function escapeAttr(value: string): string {
  return escapeText(value).replace(/"/g, '&quot;').replace(/\r/g, '&#13;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');
}

/** Already-escaped markup, made only by {@link el} and {@link raw}. */
export class Markup {
  constructor(readonly xml: string) {}
}

export type Attrs = Readonly<Record<string, string | number | boolean | undefined>>;
export type Child = Markup | string | null | undefined | false;

/**
 * One element; string children are text (escaped), Markup children are elements. `undefined` attributes are left out.
 * @example el('title', { type: 'text' }, 'A & B').xml // '<title type="text">A &amp; B</title>'
 */
export function el(name: string, attrs: Attrs = {}, ...children: Child[]): Markup {
  let xml = `<${name}`;
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined) xml += ` ${key}="${escapeAttr(String(value))}"`;
  }
  const inner = children.filter((c): c is Markup | string => c !== null && c !== undefined && c !== false);
  if (inner.length === 0) return new Markup(`${xml} />`);
  xml += '>';
  for (const child of inner) xml += typeof child === 'string' ? escapeText(child) : child.xml;
  return new Markup(`${xml}</${name}>`);
}

/** A sequence of elements as one child. */
export function seq(children: readonly Markup[]): Markup {
  return new Markup(children.map((c) => c.xml).join(''));
}

/** A whole document with its declaration. */
export function document(root: Markup): string {
  return `<?xml version="1.0" encoding="utf-8" standalone="yes"?>\n${root.xml}`;
}
