/**
 * Evaluates parsed `$filter` and `$orderby` expressions against V2 package entries.
 *
 * String equality is case-insensitive (nuget.org answers from a case-insensitive SQL collation, and clients rely on it:
 * Paket asks for `Id eq 'foo'` with any casing). `Version` and `NormalizedVersion` compared with a literal compare as
 * NuGet versions (`'1.0'` equals `1.0.0`), by the rules in nuget/version.ts.
 */
import { badRequest } from '../../errors.js';
import type { V2Package } from '../../feed/v2-catalog.js';
import { toLowerInvariant } from '../../nuget/id.js';
import { compareVersions, parseVersion } from '../../nuget/version.js';
import type { ODataExpr, ODataValue, OrderByItem } from './odata-query.js';
import { propertyNamed } from './properties.js';

/** Checks every property name once, before any entry is read, so a typo is a 400 and not an empty result. */
export function checkProperties(expr: ODataExpr, what: string): void {
  switch (expr.kind) {
    case 'property':
      if (!propertyNamed(expr.name)) throw badRequest(`The ${what} names '${expr.name.slice(0, 60)}', which is not a property of a package.`);
      return;
    case 'call':
      for (const a of expr.args) checkProperties(a, what);
      return;
    case 'not':
      return checkProperties(expr.operand, what);
    case 'binary':
      checkProperties(expr.left, what);
      return checkProperties(expr.right, what);
    default:
      return;
  }
}

const VERSION_PROPERTIES = new Set(['version', 'normalizedversion']);

function isVersionProperty(expr: ODataExpr): boolean {
  return expr.kind === 'property' && VERSION_PROPERTIES.has(expr.name.toLowerCase());
}

function asText(v: ODataValue): string | null {
  if (v === null) return null;
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

/** Compares two values of the same kind; null sorts first. Strings compare case-insensitively (ordinal otherwise). */
export function compareValues(a: ODataValue, b: ODataValue): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  if (a instanceof Date || b instanceof Date) {
    const x = a instanceof Date ? a.getTime() : new Date(String(a)).getTime();
    const y = b instanceof Date ? b.getTime() : new Date(String(b)).getTime();
    return Math.sign(x - y) || 0;
  }
  if (typeof a === 'number' && typeof b === 'number') return Math.sign(a - b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  const x = toLowerInvariant(String(a));
  const y = toLowerInvariant(String(b));
  return x < y ? -1 : x > y ? 1 : 0;
}

function compareAsVersions(a: ODataValue, b: ODataValue): number | null {
  const x = typeof a === 'string' ? parseVersion(a) : null;
  const y = typeof b === 'string' ? parseVersion(b) : null;
  return x && y ? compareVersions(x, y) : null;
}

function callFunction(name: string, args: ODataValue[]): ODataValue {
  const [a, b, c] = args;
  const s = (v: ODataValue) => asText(v) ?? '';
  switch (name) {
    case 'tolower':
      return a === null ? null : toLowerInvariant(s(a!));
    case 'toupper':
      return a === null ? null : s(a!).toUpperCase();
    case 'trim':
      return a === null ? null : s(a!).trim();
    case 'length':
      return a === null ? null : s(a!).length;
    case 'substringof':
      // substringof(needle, haystack)
      return b !== null && s(b!).includes(s(a!));
    case 'startswith':
      return a !== null && s(a!).startsWith(s(b!));
    case 'endswith':
      return a !== null && s(a!).endsWith(s(b!));
    case 'indexof':
      return a === null ? -1 : s(a!).indexOf(s(b!));
    case 'concat':
      return s(a!) + s(b!);
    case 'substring': {
      if (a === null) return null;
      const start = Number(b);
      return c === undefined ? s(a!).slice(start) : s(a!).slice(start, start + Number(c));
    }
    default:
      throw badRequest(`The function ${name}() is not supported.`);
  }
}

/** The value of an expression for one entry. */
export function evaluate(expr: ODataExpr, p: V2Package): ODataValue {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'property':
      return propertyNamed(expr.name)!.value(p);
    case 'call':
      return callFunction(expr.name, expr.args.map((a) => evaluate(a, p)));
    case 'not':
      return !truthy(evaluate(expr.operand, p));
    case 'binary': {
      if (expr.op === 'and') return truthy(evaluate(expr.left, p)) && truthy(evaluate(expr.right, p));
      if (expr.op === 'or') return truthy(evaluate(expr.left, p)) || truthy(evaluate(expr.right, p));
      const left = evaluate(expr.left, p);
      const right = evaluate(expr.right, p);
      if (expr.op === 'add' || expr.op === 'sub') {
        if (typeof left !== 'number' || typeof right !== 'number') return null;
        return expr.op === 'add' ? left + right : left - right;
      }
      // Comparisons with null: only eq/ne are meaningful (OData: null eq null is true).
      if (left === null || right === null) {
        if (expr.op === 'eq') return left === right;
        if (expr.op === 'ne') return left !== right;
        return false;
      }
      const versions = isVersionProperty(expr.left) || isVersionProperty(expr.right) ? compareAsVersions(left, right) : null;
      const order = versions ?? compareValues(left, right);
      switch (expr.op) {
        case 'eq':
          return order === 0;
        case 'ne':
          return order !== 0;
        case 'gt':
          return order > 0;
        case 'ge':
          return order >= 0;
        case 'lt':
          return order < 0;
        default:
          return order <= 0;
      }
    }
  }
}

function truthy(v: ODataValue): boolean {
  return v === true;
}

/** Whether an entry passes a filter (a missing filter passes everything). */
export function matches(filter: ODataExpr | null, p: V2Package): boolean {
  return filter === null || truthy(evaluate(filter, p));
}

/**
 * A comparator for `$orderby`; `Version` and `NormalizedVersion` sort in NuGet order. Ties keep the order the
 * entries came in (Array.prototype.sort is stable).
 */
export function orderComparator(items: readonly OrderByItem[]): (a: V2Package, b: V2Package) => number {
  return (a, b) => {
    for (const item of items) {
      const x = evaluate(item.expr, a);
      const y = evaluate(item.expr, b);
      const order = (isVersionProperty(item.expr) ? compareVersions(a.view.parsed, b.view.parsed) : null) ?? compareValues(x, y);
      if (order !== 0) return item.descending ? -order : order;
    }
    return 0;
  };
}
