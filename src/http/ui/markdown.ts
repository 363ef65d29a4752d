import { Marked } from 'marked';
import sanitizeHtml from 'sanitize-html';
import type { ReadmeLinks } from './readme-links.js';

/**
 * Readmes come from packages anyone with a push key uploaded: Markdown is rendered by `marked` (GitHub flavour), then
 * the HTML goes through `sanitize-html` with an allowlist. Images are allowed (http, https), scripts, styles,
 * iframes, forms, event handlers and `javascript:`/`data:` URLs never.
 *
 * @example renderMarkdown('# Hi <script>alert(1)</script>') // '<h1>Hi </h1>'
 */
const marked = new Marked({ gfm: true, breaks: false, async: false });

const SANITIZE: sanitizeHtml.IOptions = {
  allowedTags: [
    'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'p', 'br', 'hr', 'blockquote', 'pre', 'code', 'kbd', 'samp', 'var',
    'em', 'strong', 'b', 'i', 'u', 's', 'del', 'ins', 'mark', 'sub', 'sup', 'small', 'abbr',
    'ul', 'ol', 'li', 'dl', 'dt', 'dd', 'a', 'img', 'picture', 'source',
    'table', 'thead', 'tbody', 'tfoot', 'tr', 'th', 'td', 'caption', 'details', 'summary', 'div', 'span', 'input',
  ],
  allowedAttributes: {
    a: ['href', 'title', 'name', 'id'],
    img: ['src', 'alt', 'title', 'width', 'height', 'align'],
    source: ['srcset', 'media', 'type'],
    th: ['align', 'colspan', 'rowspan'],
    td: ['align', 'colspan', 'rowspan'],
    ol: ['start'],
    p: ['align'],
    div: ['align'],
    h1: ['id', 'align'],
    h2: ['id'],
    h3: ['id'],
    code: ['class'],
    // GitHub task lists: disabled check boxes only.
    input: ['type', 'checked', 'disabled'],
  },
  allowedClasses: { code: [/^language-[\w+-]+$/] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: ['http', 'https'], source: ['http', 'https'] },
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  // Dropped with their content, not just their tags.
  nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'iframe', 'object', 'embed', 'template'],
  transformTags: transforms(undefined),
};
SANITIZE.allowedAttributes = { ...SANITIZE.allowedAttributes, a: ['href', 'title', 'name', 'id', 'rel'], img: ['src', 'alt', 'title', 'width', 'height', 'align', 'loading'] };

/**
 * Tag rewrites applied before the allowlist: links get `rel`, task-list inputs are disabled, and with `links` the
 * URLs of links and images are rewritten (readme-links.ts; the allowlist still checks the result's scheme).
 */
function transforms(links: ReadmeLinks | undefined): Record<string, sanitizeHtml.Transformer> {
  const rewrite = (attribs: sanitizeHtml.Attributes, name: string, to: ((url: string) => string | null) | undefined) => {
    if (attribs[name] === undefined || !to) return attribs;
    // In place, so the attributes keep their order.
    const out: sanitizeHtml.Attributes = {};
    for (const [key, value] of Object.entries(attribs)) {
      const rewritten = key === name ? to(value) : value;
      if (rewritten !== null) out[key] = rewritten;
    }
    return out;
  };
  return {
    a: (tagName, attribs) => ({ tagName, attribs: { ...rewrite(attribs, 'href', links?.link), rel: 'nofollow ugc noopener noreferrer' } }),
    input: (tagName, attribs) =>
      attribs.type === 'checkbox'
        ? { tagName, attribs: { type: 'checkbox', disabled: '', ...(attribs.checked !== undefined ? { checked: '' } : {}) } }
        : { tagName: 'span', attribs: {} },
    img: (tagName, attribs) => ({ tagName, attribs: { ...rewrite(attribs, 'src', links?.image), loading: 'lazy' } }),
    source: (tagName, attribs) => ({ tagName, attribs: rewrite(attribs, 'srcset', links?.srcset) }),
  };
}

/**
 * Renders untrusted Markdown to HTML that is safe to put in a page. `links` places the readme's relative URLs
 * (images from inside the package, links to its repository); without it they pass as written.
 */
export function renderMarkdown(markdown: string, links?: ReadmeLinks): string {
  const rendered = marked.parse(markdown, { async: false });
  return sanitizeHtml(rendered, links ? { ...SANITIZE, transformTags: transforms(links) } : SANITIZE);
}
