/**
 * A tiny HTML template helper: every interpolated value is escaped unless it is already {@link Html} (the result of
 * another `html` template, or trusted markup wrapped with {@link trustedHtml}, such as the sanitized readme).
 *
 * @example
 * html`<p title="${title}">${description}</p>`.toString() // quotes, <, >, & escaped
 * html`<ul>${items.map((i) => html`<li>${i}</li>`)}</ul>`  // arrays are joined, each item escaped
 */

/** Markup that is safe to emit as is. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** Values a template accepts; `null`, `undefined` and `false` render nothing. */
export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Escapes text for element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new Html(out);
}

/** Marks markup as safe. Only for constants and the output of the sanitizer. */
export function trustedHtml(markup: string): Html {
  return new Html(markup);
}

/**
 * A URL fit for an `href`/`src` from untrusted metadata: http(s) only (no `javascript:`, `data:`...), else null.
 */
export function safeUrl(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
  } catch {
    return null;
  }
}
