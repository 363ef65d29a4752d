/**
 * The OData (V2) query language, as far as NuGet clients use it: `$filter` and `$orderby` expressions, `$skip`,
 * `$top`, `$select`, `$inlinecount`/`$count`, and function parameters written as OData literals (`id='Foo'`).
 *
 * Forms seen from real clients (NuGet.Client's V2 feed, nuget.exe 2.x, PowerShellGet/PackageManagement, Paket):
 * - `$filter=IsLatestVersion`, `$filter=IsAbsoluteLatestVersion`, `$filter=IsLatestVersion and substringof('x',Tags)`
 * - `$filter=Id eq 'Foo'`, `$filter=tolower(Id) eq 'foo'`, `$filter=(Id eq 'Foo') and (NormalizedVersion eq '1.0.0')`
 * - `$filter=((Id ne null) and substringof('json',tolower(Id))) or ((Description ne null) and ...)`
 * - `$orderby=Id`, `$orderby=DownloadCount desc,Id`, `$orderby=Published desc`, `$orderby=concat(Title,Id)`
 *
 * Anything else is refused with a 400 that names what could not be read, never silently ignored.
 */
import { badRequest } from '../../errors.js';

/** A literal value of the expression language; DateTime literals are Dates. */
export type ODataValue = string | number | boolean | Date | null;

export type ODataExpr =
  | { readonly kind: 'literal'; readonly value: ODataValue }
  | { readonly kind: 'property'; readonly name: string }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly ODataExpr[] }
  | { readonly kind: 'not'; readonly operand: ODataExpr }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: ODataExpr; readonly right: ODataExpr };

export type BinaryOp = 'and' | 'or' | 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le' | 'add' | 'sub';

export interface OrderByItem {
  readonly expr: ODataExpr;
  readonly descending: boolean;
}

/** Functions of the language that NuGet clients send (names case-insensitive); value: number of arguments. */
export const ODATA_FUNCTIONS: Readonly<Record<string, readonly number[]>> = {
  tolower: [1],
  toupper: [1],
  trim: [1],
  length: [1],
  substringof: [2],
  startswith: [2],
  endswith: [2],
  indexof: [2],
  concat: [2],
  substring: [2, 3],
};

/** Bounds, so a hostile query costs no more than a normal one. */
export const ODATA_LIMITS = { chars: 4000, depth: 40, nodes: 400 } as const;

type Token =
  | { readonly t: 'lparen' | 'rparen' | 'comma' | 'eof'; readonly at: number }
  | { readonly t: 'string'; readonly value: string; readonly at: number }
  | { readonly t: 'number'; readonly value: number; readonly at: number }
  | { readonly t: 'datetime'; readonly value: Date; readonly at: number }
  | { readonly t: 'word'; readonly value: string; readonly at: number };

function fail(what: string, text: string, reason: string): never {
  throw badRequest(`The ${what} '${text.slice(0, 200)}' could not be read: ${reason}.`);
}

function tokenize(text: string, what: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i++;
      continue;
    }
    const at = i;
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ t: c === '(' ? 'lparen' : c === ')' ? 'rparen' : 'comma', at });
      i++;
      continue;
    }
    if (c === "'") {
      const [value, end] = readQuoted(text, i, what);
      tokens.push({ t: 'string', value, at });
      i = end;
      continue;
    }
    const number = /^-?\d+(\.\d+)?([eE][+-]?\d+)?[LlMmDdFf]?/.exec(text.slice(i));
    if (number && (c !== '-' || /\d/.test(text[i + 1] ?? ''))) {
      tokens.push({ t: 'number', value: Number.parseFloat(number[0]), at });
      i += number[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(i));
    if (word) {
      i += word[0].length;
      // datetime'2024-01-01T00:00:00' and datetimeoffset'...'
      if (/^datetime(offset)?$/i.test(word[0]) && text[i] === "'") {
        const [value, end] = readQuoted(text, i, what);
        const date = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`);
        if (Number.isNaN(date.getTime())) fail(what, text, `'${value}' is not a date`);
        tokens.push({ t: 'datetime', value: date, at });
        i = end;
        continue;
      }
      tokens.push({ t: 'word', value: word[0], at });
      continue;
    }
    fail(what, text, `unexpected '${c}' at position ${i + 1}`);
  }
  tokens.push({ t: 'eof', at: text.length });
  return tokens;
}

/** Reads `'...'` starting at `start` (a quote), with `''` for a quote inside; returns the value and the end index. */
function readQuoted(text: string, start: number, what: string): [string, number] {
  let value = '';
  let i = start + 1;
  for (;;) {
    const next = text.indexOf("'", i);
    if (next < 0) fail(what, text, 'a quoted string has no closing quote');
    value += text.slice(i, next);
    if (text[next + 1] === "'") {
      value += "'";
      i = next + 2;
      continue;
    }
    return [value, next + 1];
  }
}

const COMPARISON = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const ADDITIVE = new Set(['add', 'sub']);

class Parser {
  private pos = 0;
  private nodes = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly text: string,
    private readonly what: string,
  ) {}

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private next(): Token {
    return this.tokens[this.pos++]!;
  }

  private keyword(): string | null {
    const tok = this.peek();
    return tok.t === 'word' ? tok.value.toLowerCase() : null;
  }

  private count(depth: number): void {
    if (++this.nodes > ODATA_LIMITS.nodes || depth > ODATA_LIMITS.depth) fail(this.what, this.text, 'it is too complex');
  }

  atEnd(): boolean {
    return this.peek().t === 'eof';
  }

  expect(t: Token['t']): void {
    const tok = this.next();
    if (tok.t !== t) fail(this.what, this.text, `expected ${t === 'rparen' ? "')'" : t} at position ${tok.at + 1}`);
  }

  isComma(): boolean {
    return this.peek().t === 'comma';
  }

  skipComma(): void {
    this.pos++;
  }

  /** Reads `asc`/`desc` after an $orderby expression. */
  direction(): boolean {
    const word = this.keyword();
    if (word === 'asc' || word === 'desc') {
      this.pos++;
      return word === 'desc';
    }
    return false;
  }

  expression(depth = 0): ODataExpr {
    return this.or(depth);
  }

  private or(depth: number): ODataExpr {
    let left = this.and(depth);
    while (this.keyword() === 'or') {
      this.pos++;
      this.count(depth);
      left = { kind: 'binary', op: 'or', left, right: this.and(depth + 1) };
    }
    return left;
  }

  private and(depth: number): ODataExpr {
    let left = this.comparison(depth);
    while (this.keyword() === 'and') {
      this.pos++;
      this.count(depth);
      left = { kind: 'binary', op: 'and', left, right: this.comparison(depth + 1) };
    }
    return left;
  }

  private comparison(depth: number): ODataExpr {
    const left = this.additive(depth);
    const word = this.keyword();
    if (word !== null && COMPARISON.has(word)) {
      this.pos++;
      this.count(depth);
      return { kind: 'binary', op: word as BinaryOp, left, right: this.additive(depth + 1) };
    }
    return left;
  }

  private additive(depth: number): ODataExpr {
    let left = this.unary(depth);
    for (let word = this.keyword(); word !== null && ADDITIVE.has(word); word = this.keyword()) {
      this.pos++;
      this.count(depth);
      left = { kind: 'binary', op: word as BinaryOp, left, right: this.unary(depth + 1) };
    }
    return left;
  }

  private unary(depth: number): ODataExpr {
    this.count(depth);
    if (this.keyword() === 'not') {
      this.pos++;
      return { kind: 'not', operand: this.unary(depth + 1) };
    }
    return this.primary(depth);
  }

  private primary(depth: number): ODataExpr {
    const tok = this.next();
    switch (tok.t) {
      case 'lparen': {
        const inner = this.expression(depth + 1);
        this.expect('rparen');
        return inner;
      }
      case 'string':
      case 'number':
      case 'datetime':
        return { kind: 'literal', value: tok.value };
      case 'word': {
        const lower = tok.value.toLowerCase();
        if (lower === 'true' || lower === 'false') return { kind: 'literal', value: lower === 'true' };
        if (lower === 'null') return { kind: 'literal', value: null };
        if (this.peek().t === 'lparen') {
          const arity = ODATA_FUNCTIONS[lower];
          if (!arity) fail(this.what, this.text, `the function ${tok.value}() is not supported`);
          this.pos++;
          const args: ODataExpr[] = [];
          if (this.peek().t !== 'rparen') {
            args.push(this.expression(depth + 1));
            while (this.isComma()) {
              this.skipComma();
              args.push(this.expression(depth + 1));
            }
          }
          this.expect('rparen');
          if (!arity.includes(args.length)) fail(this.what, this.text, `${tok.value}() takes ${arity.join(' or ')} arguments`);
          return { kind: 'call', name: lower, args };
        }
        return { kind: 'property', name: tok.value };
      }
      default:
        return fail(this.what, this.text, `unexpected ${tok.t === 'eof' ? 'end' : `'${this.text[tok.at]}'`} at position ${tok.at + 1}`);
    }
  }
}

function parser(text: string, what: string): Parser {
  if (text.length > ODATA_LIMITS.chars) fail(what, text, `it is longer than ${ODATA_LIMITS.chars} characters`);
  return new Parser(tokenize(text, what), text, what);
}

/**
 * Parses a `$filter` expression.
 * @example parseFilter("tolower(Id) eq 'foo'") // { kind: 'binary', op: 'eq', left: { kind: 'call', name: 'tolower', ... }, ... }
 */
export function parseFilter(text: string): ODataExpr {
  const p = parser(text, '$filter');
  const expr = p.expression();
  if (!p.atEnd()) p.expect('eof');
  return expr;
}

/**
 * Parses `$orderby`: comma-separated expressions, each optionally `asc` or `desc`.
 * @example parseOrderBy('DownloadCount desc,Id') // [{ expr: DownloadCount, descending: true }, { expr: Id, descending: false }]
 */
export function parseOrderBy(text: string): OrderByItem[] {
  const p = parser(text, '$orderby');
  const items: OrderByItem[] = [];
  do {
    if (items.length > 0) p.skipComma();
    const expr = p.expression();
    items.push({ expr, descending: p.direction() });
  } while (p.isComma());
  if (!p.atEnd()) p.expect('eof');
  return items;
}

/**
 * Reads a function parameter written as an OData literal: `'text'` (quotes optional, as some clients omit them),
 * `true`/`false`, or a number. Returns the text form; null when absent.
 *
 * @example literalParam("'Foo.Bar'") // 'Foo.Bar'
 * @example literalParam("'it''s'") // "it's"
 */
export function literalParam(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  const text = raw.trim();
  if (text.startsWith("'")) {
    if (text.length < 2 || !text.endsWith("'")) throw badRequest(`The parameter value ${text.slice(0, 100)} has no closing quote.`);
    return text.slice(1, -1).replaceAll("''", "'");
  }
  return text;
}

/** A boolean function parameter (`includePrerelease=true`); `fallback` when absent or empty. */
export function booleanParam(raw: string | undefined, name: string, fallback: boolean): boolean {
  const text = literalParam(raw)?.toLowerCase() ?? '';
  if (text === '') return fallback;
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  throw badRequest(`The ${name} parameter must be true or false, not '${text.slice(0, 50)}'.`);
}

/** `$skip` and `$top`: whole numbers. */
export function wholeNumberParam(raw: string | undefined, name: string): number | null {
  if (raw === undefined || raw.trim() === '') return null;
  const text = raw.trim();
  if (!/^\d{1,9}$/.test(text)) throw badRequest(`The ${name} parameter must be a whole number, not '${text.slice(0, 50)}'.`);
  return Number(text);
}

/** `$select`: property names (`*` means all, which is the same as none). */
export function parseSelect(raw: string | undefined): string[] | null {
  if (raw === undefined) return null;
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length === 0 || names.includes('*')) return null;
  for (const name of names) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw badRequest(`The $select parameter names '${name.slice(0, 50)}', which is not a property name.`);
  }
  return names;
}

/**
 * The ids an expression pins, when it can only be true for those ids: `Id eq 'x'`, `tolower(Id) eq 'x'`,
 * `'x' eq Id`, conjunctions containing one, and disjunctions of such. Null when the expression does not pin the id.
 * Lets a query read those ids instead of every package; the whole expression is still evaluated on each.
 *
 * @example pinnedIds(parseFilter("(tolower(Id) eq 'foo') and (Version eq '1.0')")) // ['foo']
 */
export function pinnedIds(expr: ODataExpr): string[] | null {
  if (expr.kind === 'binary' && expr.op === 'and') return pinnedIds(expr.left) ?? pinnedIds(expr.right);
  if (expr.kind === 'binary' && expr.op === 'or') {
    const left = pinnedIds(expr.left);
    const right = left && pinnedIds(expr.right);
    return left && right ? [...new Set([...left, ...right])] : null;
  }
  if (expr.kind === 'binary' && expr.op === 'eq') {
    const literal = expr.left.kind === 'literal' ? expr.left : expr.right.kind === 'literal' ? expr.right : null;
    const other = literal === expr.left ? expr.right : expr.left;
    if (literal && typeof literal.value === 'string' && isIdReference(other)) return [literal.value];
  }
  return null;
}

/** `Id`, or `Id` under case and white-space functions (which never change which id a value names). */
function isIdReference(expr: ODataExpr): boolean {
  if (expr.kind === 'property') return expr.name.toLowerCase() === 'id';
  return expr.kind === 'call' && ['tolower', 'toupper', 'trim'].includes(expr.name) && isIdReference(expr.args[0]!);
}
