/**
 * Package ids: validation as NuGet's `PackageIdValidator` does it, and the case rules servers rely on.
 *
 * NuGet's rule is the .NET regular expression `^\w+([.-]\w+)*$`: runs of word characters joined by single `.` or `-`.
 * .NET's `\w` is Unicode-aware (letters, non-spacing marks, decimal digits, connector punctuation) and works on UTF-16
 * code units, so characters outside the BMP (stored as surrogate pairs) never match.
 */

/** NuGet's limit on id length (`PackageIdValidator.MaxPackageIdLength`), in UTF-16 code units. */
export const MAX_PACKAGE_ID_LENGTH = 100;

/** .NET's `\w` for one code unit: categories L, Mn, Nd, Pc. */
const WORD_CHAR = /^[\p{L}\p{Mn}\p{Nd}\p{Pc}]$/u;

/**
 * Characters that the ICU in Node 20 here knows (Unicode 17 additions) but .NET 10 does not: .NET sees them as
 * unassigned, so they are not word characters and have no case mapping there. Clients run .NET, so we follow it.
 * Found by the differential test's scan of every BMP character; a newer Node may add more, and that test will say so.
 */
const NEWER_THAN_DOTNET: readonly (readonly [number, number])[] = [
  [0x088f, 0x088f],
  [0x0c5c, 0x0c5c],
  [0x0cdc, 0x0cdc],
  [0x1acf, 0x1aeb],
  [0xa7ce, 0xa7cf],
  [0xa7d2, 0xa7d2],
  [0xa7d4, 0xa7d4],
  [0xa7f1, 0xa7f1],
  [0x16ea0, 0x16edf],
];

function isNewerThanDotnet(codePoint: number): boolean {
  return NEWER_THAN_DOTNET.some(([first, last]) => codePoint >= first && codePoint <= last);
}

/** .NET's `char.IsLetterOrDigit`: categories L and Nd. */
const LETTER_OR_DIGIT = /^[\p{L}\p{Nd}]$/u;

/**
 * A 64 Ki lookup table of the BMP code units matching a single-character pattern, as .NET sees them (surrogates and
 * characters newer than .NET's Unicode data never match). Built on first use: cheaper than a regular expression per
 * character on every request.
 */
function codeUnitTable(pattern: RegExp): (unit: number) => boolean {
  let table: Uint8Array | null = null;
  return (unit) => {
    if (table === null) {
      table = new Uint8Array(0x10000);
      for (let c = 0; c < 0x10000; c++) {
        if ((c >= 0xd800 && c <= 0xdfff) || isNewerThanDotnet(c)) continue;
        if (pattern.test(String.fromCharCode(c))) table[c] = 1;
      }
    }
    return table[unit] === 1;
  };
}

/** True when a UTF-16 code unit matches .NET's `\w`. */
const isWordUnit = codeUnitTable(WORD_CHAR);

/**
 * .NET's `char.IsLetterOrDigit` for one UTF-16 code unit.
 * @example isDotnetLetterOrDigit('é'.charCodeAt(0)) // true
 */
export const isDotnetLetterOrDigit = codeUnitTable(LETTER_OR_DIGIT);

/**
 * NuGet's `PackageIdValidator.IsValidPackageId` plus the 100-character limit that `ValidatePackageId` adds.
 *
 * One deliberate difference: .NET's `$` also matches before a final `\n`, so NuGet accepts `"Foo\n"`. We refuse it:
 * an id with a line break has no business in a URL, a log line or a unique key.
 *
 * @example isValidPackageId('Newtonsoft.Json') // true
 * @example isValidPackageId('a..b') // false: separators must be single
 * @example isValidPackageId('-lead') // false: must start with a word character
 */
export function isValidPackageId(id: string): boolean {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_PACKAGE_ID_LENGTH) return false;
  let expectWord = true;
  for (let i = 0; i < id.length; i++) {
    const unit = id.charCodeAt(i);
    if (isWordUnit(unit)) {
      expectWord = false;
    } else if ((unit === 0x2e || unit === 0x2d) && !expectWord) {
      // '.' or '-' must sit between word characters
      expectWord = true;
    } else {
      return false;
    }
  }
  return !expectWord;
}

const ASCII = /^[\x00-\x7f]*$/;

/**
 * .NET's `ToLowerInvariant()`: code point by code point, simple (one-to-one) mappings only. JavaScript's
 * `toLowerCase()` on a whole string differs: it applies the final-sigma rule and turns `İ` into two characters.
 *
 * @example toLowerInvariant('ΣΑΣ') // 'σασ' (JavaScript's toLowerCase gives 'σας')
 */
export function toLowerInvariant(text: string): string {
  // ASCII (nearly every id and version): both rules agree, and this runs on every request.
  if (ASCII.test(text)) return text.toLowerCase();
  let lower = '';
  for (const ch of text) {
    const mapped = ch.toLowerCase();
    lower += mapped.length === ch.length && !isNewerThanDotnet(ch.codePointAt(0) ?? 0) ? mapped : ch;
  }
  return lower;
}

/**
 * The id as NuGet clients write it in URLs (flat container, registration) with `ToLowerInvariant()`; also the form
 * of unique keys.
 *
 * @example lowerId('Newtonsoft.Json') // 'newtonsoft.json'
 */
export function lowerId(id: string): string {
  return toLowerInvariant(id);
}

/**
 * Case-insensitive id equality, consistent with {@link lowerId} (what the database's unique key uses).
 * @example idsEqual('Newtonsoft.Json', 'newtonsoft.JSON') // true
 */
export function idsEqual(a: string, b: string): boolean {
  return a === b || lowerId(a) === lowerId(b);
}

/**
 * Orders ids case-insensitively (by {@link lowerId}), ties broken ordinally, so listings are stable.
 * @example ['b', 'A'].sort(compareIds) // ['A', 'b']
 */
export function compareIds(a: string, b: string): number {
  const la = lowerId(a);
  const lb = lowerId(b);
  if (la !== lb) return la < lb ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
