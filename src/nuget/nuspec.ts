/**
 * Reading a package's `.nuspec` manifest: untrusted XML in, validated {@link PackageMetadata} out. Pure, no I/O.
 *
 * Follows NuGet's `NuspecReader`: the root is `<package>`, its `<metadata>` child is found by local name whatever the
 * namespace (every nuspec schema version, and legacy packages that put the namespace on `<metadata>`), and every
 * element is matched by local name. Simple text fields are matched case-insensitively and the first non-empty one
 * wins, as `GetMetadataValue` does; `<id>` and `<version>` are matched exactly, as `GetId`/`GetVersion` do.
 *
 * Safety: any DTD (`<!DOCTYPE`, `<!ENTITY`, ...) is refused before parsing, the parser never expands entities
 * (we decode the five XML built-ins and character references ourselves), nesting is capped by the parser, and every
 * field has a length limit ({@link NUSPEC_LIMITS}).
 *
 * Characters: what NuGet's XML reader refuses is refused here too, since a stored package that clients cannot read
 * can be neither restored nor replaced: bytes that are not valid in the document's encoding, and characters outside
 * XML 1.0's `Char` production (C0 controls but tab and line ends, lone surrogates, U+FFFE, U+FFFF), written raw or as
 * character references, anywhere in the document.
 */
import { isUtf8 } from 'node:buffer';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { badRequest } from '../errors.js';
import type {
  Dependency,
  DependencyGroup,
  License,
  PackageMetadata,
  PackageType,
  Repository,
} from '../package/metadata.js';
import { isUnsupported, parseFramework, tryShortFolderName } from './framework.js';
import { isValidPackageId, MAX_PACKAGE_ID_LENGTH } from './id.js';
import { parseRange, rangeIsSemVer2 } from './range.js';
import { isSemVer2, parseVersion, type NuGetVersion } from './version.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * A nuspec bigger than this is refused before parsing. Real ones are a few KiB (the largest on nuget.org are a few
 * hundred KiB, from huge dependency lists); 1 MiB bounds parse time and memory per push.
 */
export const DEFAULT_MAX_NUSPEC_BYTES = 1 * MiB;

/**
 * Length limits per field, in characters. A longer value is a 400 naming the field. Where nuget.org has a limit we
 * allow at least as much (a package nuget.org took must be mirrorable); the rest keep rows, search entries and pages
 * small.
 */
export const NUSPEC_LIMITS = {
  /** nuget.org stores 64 characters normalized; room for long build metadata. */
  version: 256,
  /** nuget.org: 256; private feeds get headroom. */
  title: 1024,
  /** nuget.org: 4000. */
  authors: 4000,
  owners: 4000,
  /** nuget.org: 4000; private packages often paste their readme here. */
  description: 32 * KiB,
  /** nuget.org: 4000. */
  summary: 4000,
  /** nuget.org: 35,000; changelogs get pasted. */
  releaseNotes: 64 * KiB,
  copyright: 4000,
  /** A culture name (nuget.org: 20). */
  language: 100,
  /** The whole `<tags>` text (nuget.org: 4000). */
  tags: 4000,
  /** URLs (nuget.org: 4000 each). */
  url: 4000,
  /** Paths inside the package (`<icon>`, `<readme>`, license file): same cap as zip entry names. */
  path: 1024,
  /** A license expression or file path. */
  license: 1024,
  /** nuget.org: 256. */
  dependencyRange: 256,
  /** Short attribute values: versions of things, repository type/branch/commit, include/exclude flags, type names. */
  short: 256,
  /** Dependency groups per package: one per target framework; real packages have a few dozen at most. */
  dependencyGroups: 1000,
  /** Dependencies over all groups; the biggest meta-packages have a few hundred per framework. */
  dependencies: 10_000,
  packageTypes: 100,
} as const;

/** Options for {@link parseNuspec}. */
export interface NuspecOptions {
  /** Refuse a nuspec larger than this many bytes; default {@link DEFAULT_MAX_NUSPEC_BYTES}. */
  readonly maxBytes?: number;
}

/**
 * Parses and validates a nuspec. Every problem is a `PawketError` 400 whose message names it, for the pushing client
 * to print. `frameworks` holds the dependency-group frameworks only; the package reader adds the asset folders.
 *
 * @example
 * const m = parseNuspec(Buffer.from('<package><metadata><id>Foo</id><version>1.0</version>' +
 *   '<authors>me</authors><description>d</description></metadata></package>'));
 * m.id // 'Foo'
 */
export function parseNuspec(xml: Buffer | string, options: NuspecOptions = {}): PackageMetadata {
  return readMetadata(metadataElement(xml, options));
}

/** The identity and package types of a nuspec: what a symbols package's nuspec must have. */
export interface NuspecIdentity {
  readonly id: string;
  readonly version: NuGetVersion;
  readonly packageTypes: readonly PackageType[];
}

/**
 * Parses a nuspec as {@link parseNuspec} does, with the same safety and limits, but reads only the id, the version
 * and the package types: a symbols package's nuspec (`.snupkg`) leaves out authors and other required fields.
 *
 * @example parseNuspecIdentity(snupkgNuspec).packageTypes // [{ name: 'SymbolsPackage', version: null }]
 */
export function parseNuspecIdentity(xml: Buffer | string, options: NuspecOptions = {}): NuspecIdentity {
  const metadata = metadataElement(xml, options);
  const id = readId(metadata);
  const versionText = required(metadata, 'version', NUSPEC_LIMITS.version, true);
  const version = parseVersion(versionText);
  if (!version) throw badRequest(`'${shown(versionText)}' is not a valid NuGet version.`);
  return { id, version, packageTypes: readPackageTypes(metadata) };
}

/** The `<metadata>` element of a nuspec, after the size, DTD and well-formedness checks. */
function metadataElement(xml: Buffer | string, options: NuspecOptions): XmlElement {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_NUSPEC_BYTES;
  const size = typeof xml === 'string' ? Buffer.byteLength(xml) : xml.length;
  if (size > maxBytes) throw badRequest(`The nuspec is ${size} bytes; at most ${maxBytes} bytes are allowed.`);
  // A BOM left in a string (or read as a character) is no part of the document.
  const text = (typeof xml === 'string' ? xml : decodeXmlBytes(xml)).replace(/^\uFEFF/, '');
  const root = parseXmlDocument(text);
  if (root.name !== 'package') {
    throw badRequest(`The nuspec's root element must be <package>, not <${shown(root.name)}>.`);
  }
  const metadata = root.children.find((e) => e.name === 'metadata');
  if (!metadata) throw badRequest('The nuspec has no <metadata> element.');
  return metadata;
}

// ---------------------------------------------------------------------------------------------------------------
// XML: a small element tree over fast-xml-parser, with no DTDs and no entity expansion.

/** One XML element; names are local names (namespace prefixes removed). */
interface XmlElement {
  readonly name: string;
  readonly attributes: ReadonlyMap<string, string>;
  readonly children: readonly XmlElement[];
  /** The element's own text and CDATA (not its children's), entities decoded, untrimmed. */
  readonly text: string;
}

/**
 * Every tag and attribute name gets this mark, so no XML name can collide with the parser's own keys (`#text`,
 * `:@`) or trip its prototype-pollution guard (`<constructor>` would make it throw). XML names never contain `~`.
 */
const MARK = '~';
const TEXT = '#text';
const CDATA = '#cdata';
const ATTRIBUTES = ':@';

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: MARK,
  transformTagName: (name) => MARK + name,
  removeNSPrefix: true,
  // Entities stay as written; decodeEntities handles the XML built-ins. Nothing else is ever expanded.
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  cdataPropName: CDATA,
  ignoreDeclaration: true,
  ignorePiTags: true,
  // Real nuspecs nest 5 deep; the cap stops deep-nesting attacks on the parser and on our recursion.
  maxNestedTags: 64,
});

/** A DTD in any form: a nuspec never needs one, and refusing it outright rules out XXE and entity bombs. */
const DTD_MARKUP = /<!\s*(?:DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/i;

/** Parses an XML document into its root element. Refuses DTDs, malformed XML, several roots and unknown entities. */
function parseXmlDocument(text: string): XmlElement {
  if (DTD_MARKUP.test(text)) {
    throw badRequest('The nuspec contains a DTD (<!DOCTYPE> or <!ENTITY>); a nuspec may not declare a DTD or entities.');
  }
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    const reason = shown(valid.err.msg).replace(/\.$/, '');
    throw badRequest(`The nuspec is not well-formed XML: ${reason} (line ${valid.err.line}).`);
  }
  let nodes: unknown;
  try {
    nodes = parser.parse(text);
  } catch (error) {
    throw badRequest(`The nuspec is not well-formed XML: ${shown((error as Error).message)}`);
  }
  const roots = toElements(nodes);
  // Text and attribute values were checked while building the tree, naming their element; what is left is markup
  // the tree drops (comments, processing instructions, the declaration).
  const stray = NOT_XML_CHAR.exec(text);
  if (stray) {
    const line = text.slice(0, stray.index).split('\n').length;
    throw badRequest(`The nuspec contains the character ${codePoint(stray[0])} on line ${line}, which XML does not allow.`);
  }
  const [root] = roots;
  if (roots.length !== 1 || !root) throw badRequest('The nuspec must have exactly one root element, <package>.');
  return root;
}

/**
 * Decodes nuspec bytes as .NET's XML reader does: UTF-16 by its BOM (or a NUL byte beside the first `<`), otherwise
 * the encoding the XML declaration names when it is Latin-1, Windows-1252 or ASCII, otherwise UTF-8, which must then
 * be valid (.NET refuses a byte sequence that is not; Node would quietly put U+FFFD in its place).
 */
function decodeXmlBytes(bytes: Buffer): string {
  const [b0, b1, b2] = bytes;
  if (b0 === 0xff && b1 === 0xfe) return bytes.toString('utf16le', 2);
  if (b0 === 0xfe && b1 === 0xff) return swapToLittleEndian(bytes.subarray(2)).toString('utf16le');
  if (b0 === 0x3c && b1 === 0x00) return bytes.toString('utf16le');
  if (b0 === 0x00 && b1 === 0x3c) return swapToLittleEndian(bytes).toString('utf16le');
  const body = b0 === 0xef && b1 === 0xbb && b2 === 0xbf ? bytes.subarray(3) : bytes;
  // .NET lets the declaration override a UTF-8 BOM.
  const declared = declaredEncoding(body);
  if (declared !== null && LATIN1_NAMES.has(declared)) return body.toString('latin1');
  if (declared !== null && ASCII_NAMES.has(declared)) return body.toString('latin1').replace(/[\x80-\xff]/g, '?');
  // .NET (Core) cannot read Windows-1252; .NET Framework clients (Visual Studio, nuget.exe) can, and old packages use it.
  if (declared === 'windows-1252') return decodeWindows1252(body);
  // isUtf8 is the native check; the offset is looked for only to word the refusal.
  const invalidAt = isUtf8(body) ? -1 : invalidUtf8Offset(body);
  if (invalidAt !== -1) {
    const line = countNewlines(body.subarray(0, invalidAt)) + 1;
    throw badRequest(
      `The nuspec is not valid UTF-8: byte 0x${toHex(body[invalidAt] ?? 0, 2)} on line ${line} is not part of a UTF-8 character. Save it as UTF-8.`,
    );
  }
  return body.toString('utf8');
}

/**
 * Windows-1252 is Latin-1 but for 0x80-0x9F, which are printable characters (five are unassigned and stay C1
 * controls, as Windows maps them). Decoded by hand: Node 20's TextDecoder reads this label as Latin-1.
 */
function decodeWindows1252(bytes: Buffer): string {
  return bytes.toString('latin1').replace(/[\x80-\x9f]/g, (c) => WINDOWS_1252_HIGH[c.charCodeAt(0) - 0x80] ?? c);
}

const WINDOWS_1252_HIGH = [
  '\u20ac', '\x81', '\u201a', '\u0192', '\u201e', '\u2026', '\u2020', '\u2021', '\u02c6', '\u2030', '\u0160', '\u2039', '\u0152', '\x8d', '\u017d', '\x8f',
  '\x90', '\u2018', '\u2019', '\u201c', '\u201d', '\u2022', '\u2013', '\u2014', '\u02dc', '\u2122', '\u0161', '\u203a', '\u0153', '\x9d', '\u017e', '\u0178',
];

/** Encoding names .NET resolves to Latin-1 and to ASCII (lower case). */
const LATIN1_NAMES = new Set(['iso-8859-1', 'latin1', 'l1', 'iso_8859-1', 'iso_8859-1:1987', 'ibm819', 'cp819', 'csisolatin1', 'iso-ir-100']);
const ASCII_NAMES = new Set(['us-ascii', 'ascii', 'us', 'ansi_x3.4-1968', 'ansi_x3.4-1986', 'cp367', 'csascii', 'ibm367', 'iso-ir-6', 'iso646-us', 'iso_646.irv:1991']);

/** The `encoding` of an XML declaration at the very start, lower case; `null` when there is none. */
function declaredEncoding(bytes: Buffer): string | null {
  const head = bytes.toString('latin1', 0, Math.min(bytes.length, 256));
  const match = /^<\?xml\s[^>]*?\bencoding\s*=\s*(["'])([^"'<>]{1,64})\1/.exec(head);
  return match?.[2] ? match[2].toLowerCase() : null;
}

/**
 * Where the first byte that does not belong to a well-formed UTF-8 sequence is (RFC 3629: no overlong forms, no
 * encoded surrogates, nothing past U+10FFFF); -1 when the bytes are valid UTF-8.
 */
function invalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    // Length of the sequence and the allowed range of its second byte, by lead byte.
    let length: number;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) length = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      if (b === 0xe0) low = 0xa0;
      if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      if (b === 0xf0) low = 0x90;
      if (b === 0xf4) high = 0x8f;
    } else return i;
    const second = bytes[i + 1];
    if (second === undefined || second < low || second > high) return i;
    for (let k = 2; k < length; k++) {
      const next = bytes[i + k];
      if (next === undefined || next < 0x80 || next > 0xbf) return i;
    }
    i += length;
  }
  return -1;
}

function countNewlines(bytes: Buffer): number {
  let count = 0;
  for (let at = bytes.indexOf(0x0a); at !== -1; at = bytes.indexOf(0x0a, at + 1)) count++;
  return count;
}

function swapToLittleEndian(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes.subarray(0, bytes.length - (bytes.length % 2)));
  return copy.swap16();
}

type ParsedNode = Record<string, unknown>;

function toElements(nodes: unknown): XmlElement[] {
  const elements: XmlElement[] = [];
  for (const node of asNodes(nodes)) {
    const key = Object.keys(node).find((k) => k.startsWith(MARK));
    if (key !== undefined) elements.push(toElement(key, node[key], node[ATTRIBUTES]));
  }
  return elements;
}

function toElement(key: string, content: unknown, attributes: unknown): XmlElement {
  const name = localName(key);
  const where = `<${name}>`;
  let text = '';
  const children: XmlElement[] = [];
  for (const node of asNodes(content)) {
    if (TEXT in node) text += decodeEntities(checkCharacters(String(node[TEXT]), where), where);
    else if (CDATA in node) text += checkCharacters(asNodes(node[CDATA]).map((n) => String(n[TEXT] ?? '')).join(''), where);
    else children.push(...toElements([node]));
  }
  return { name, attributes: toAttributes(name, attributes), children, text };
}

function toAttributes(elementName: string, attributes: unknown): Map<string, string> {
  const map = new Map<string, string>();
  if (attributes === null || typeof attributes !== 'object') return map;
  for (const [key, value] of Object.entries(attributes as ParsedNode)) {
    if (typeof value !== 'string') continue;
    const name = localName(key);
    const where = `<${elementName}> attribute '${name}'`;
    map.set(name, decodeEntities(checkCharacters(value, where), where));
  }
  return map;
}

/** A character outside XML 1.0's `Char` production; the `u` flag makes a lone surrogate one (unmatched) code point. */
const NOT_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** Returns `raw` (text as written) unless it holds a character XML forbids; then a 400 naming `where` and it. */
function checkCharacters(raw: string, where: string): string {
  const bad = NOT_XML_CHAR.exec(raw);
  if (bad) throw badRequest(`The nuspec's ${where} contains the character ${codePoint(bad[0])}, which XML does not allow.`);
  return raw;
}

/** `U+0007` for a character (or a lone surrogate). */
function codePoint(char: string): string {
  return `U+${toHex(char.codePointAt(0) ?? 0, 4)}`;
}

function toHex(value: number, digits: number): string {
  return value.toString(16).toUpperCase().padStart(digits, '0');
}

function asNodes(value: unknown): ParsedNode[] {
  return Array.isArray(value) ? value.filter((n): n is ParsedNode => n !== null && typeof n === 'object') : [];
}

/** Drops our marks (the parser can apply the tag transform twice to self-closing tags) and any namespace prefix. */
function localName(key: string): string {
  let start = 0;
  while (key[start] === MARK) start++;
  const name = key.slice(start);
  return name.slice(name.lastIndexOf(':') + 1);
}

const BUILT_IN_ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const ENTITY_REFERENCE = /&(?:#([0-9]+)|#x([0-9a-fA-F]+)|([^\s&;<>]+));/g;

/**
 * Decodes the five XML built-in entities and character references; an undefined entity, or a reference to a
 * character XML forbids (`&#x7;`, `&#0;`, `&#xD800;`...), is a 400 naming `where` (the element or attribute).
 */
function decodeEntities(text: string, where: string): string {
  if (!text.includes('&')) return text;
  return text.replace(ENTITY_REFERENCE, (reference, decimal?: string, hex?: string, name?: string) => {
    if (name !== undefined) {
      const value = BUILT_IN_ENTITIES[name];
      if (value === undefined) {
        throw badRequest(
          `The nuspec uses the undefined entity '${shown(reference)}'; only &lt; &gt; &amp; &quot; &apos; and character references are allowed.`,
        );
      }
      return value;
    }
    const code = decimal !== undefined ? Number.parseInt(decimal, 10) : Number.parseInt(hex ?? '', 16);
    if (!isXmlChar(code)) {
      // Beyond U+10FFFF there is no character to name (and the number may be huge).
      const which = code <= 0x10ffff ? ` (U+${toHex(code, 4)})` : '';
      throw badRequest(`The nuspec's ${where} contains the character reference '${shown(reference)}'${which}, which XML does not allow.`);
    }
    return String.fromCodePoint(code);
  });
}

/** XML 1.0's `Char` production. */
function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Metadata

function readMetadata(metadata: XmlElement): PackageMetadata {
  const id = readId(metadata);
  const versionText = required(metadata, 'version', NUSPEC_LIMITS.version, true);
  const version = parseVersion(versionText);
  if (!version) throw badRequest(`'${shown(versionText)}' is not a valid NuGet version.`);
  const dependencyGroups = readDependencyGroups(metadata);
  const tagsText = field(metadata, 'tags', NUSPEC_LIMITS.tags);
  return {
    id,
    version,
    title: field(metadata, 'title', NUSPEC_LIMITS.title),
    authors: required(metadata, 'authors', NUSPEC_LIMITS.authors),
    owners: field(metadata, 'owners', NUSPEC_LIMITS.owners),
    description: required(metadata, 'description', NUSPEC_LIMITS.description),
    summary: field(metadata, 'summary', NUSPEC_LIMITS.summary),
    releaseNotes: field(metadata, 'releaseNotes', NUSPEC_LIMITS.releaseNotes),
    copyright: field(metadata, 'copyright', NUSPEC_LIMITS.copyright),
    language: field(metadata, 'language', NUSPEC_LIMITS.language),
    tags: tagsText === null ? [] : splitTags(tagsText),
    projectUrl: field(metadata, 'projectUrl', NUSPEC_LIMITS.url),
    iconUrl: field(metadata, 'iconUrl', NUSPEC_LIMITS.url),
    icon: field(metadata, 'icon', NUSPEC_LIMITS.path),
    readme: field(metadata, 'readme', NUSPEC_LIMITS.path),
    licenseUrl: field(metadata, 'licenseUrl', NUSPEC_LIMITS.url),
    license: readLicense(metadata),
    repository: readRepository(metadata),
    // NuGet reads requireLicenseAcceptance leniently (only "true" is true) but throws on a bad value of the other two.
    requireLicenseAcceptance: field(metadata, 'requireLicenseAcceptance', NUSPEC_LIMITS.short)?.toLowerCase() === 'true',
    developmentDependency: readBoolean(metadata, 'developmentDependency'),
    serviceable: readBoolean(metadata, 'serviceable'),
    minClientVersion: readMinClientVersion(metadata),
    dependencyGroups,
    packageTypes: readPackageTypes(metadata),
    frameworks: dependencyFrameworks(dependencyGroups),
    isSemVer2: isSemVer2(version) || dependencyGroups.some((g) => g.dependencies.some(hasSemVer2Range)),
  };
}

function readId(metadata: XmlElement): string {
  // No length cap here: checkId gives the better message, and the nuspec size already bounds the text.
  const id = required(metadata, 'id', Number.POSITIVE_INFINITY, true);
  checkId(id, 'The package id');
  return id;
}

/** Throws a 400 saying why `id` is not a valid package id. */
function checkId(id: string, what: string): void {
  if (id.length > MAX_PACKAGE_ID_LENGTH) {
    throw badRequest(`${what} '${shown(id)}' is ${id.length} characters long; at most ${MAX_PACKAGE_ID_LENGTH} are allowed.`);
  }
  if (!isValidPackageId(id)) {
    throw badRequest(
      `${what} '${shown(id)}' is not valid: an id is letters, digits and underscores, joined by single '.' or '-' (no spaces, and no leading, trailing or doubled separators).`,
    );
  }
}

/**
 * The first child named `name` that has no child elements and non-empty text, trimmed; `null` when none.
 * `exact` matches the name case-sensitively (NuGet does for id and version), otherwise case-insensitively.
 */
function field(parent: XmlElement, name: string, limit: number, exact = false): string | null {
  const lower = name.toLowerCase();
  for (const child of parent.children) {
    if (exact ? child.name !== name : child.name.toLowerCase() !== lower) continue;
    if (child.children.length > 0) continue;
    const value = child.text.trim();
    if (value.length === 0) continue;
    return bounded(value, `<${name}>`, limit);
  }
  return null;
}

function required(parent: XmlElement, name: string, limit: number, exact = false): string {
  const value = field(parent, name, limit, exact);
  if (value !== null) return value;
  // NuGet ignores an element with child elements, so unescaped markup (`<b>`) reads as a missing value.
  if (parent.children.some((c) => c.name.toLowerCase() === name.toLowerCase() && c.children.length > 0)) {
    throw badRequest(`The nuspec element <${name}> contains XML elements; escape '<' as &lt; or wrap the text in CDATA.`);
  }
  throw badRequest(`The nuspec is missing the required element <${name}>.`);
}

function bounded(value: string, what: string, limit: number): string {
  if (value.length > limit) {
    throw badRequest(`The nuspec ${what} is ${value.length} characters long; at most ${limit} are allowed.`);
  }
  return value;
}

/** An attribute trimmed; `null` when absent or empty. */
function attribute(element: XmlElement, name: string, limit: number): string | null {
  const value = element.attributes.get(name)?.trim() ?? '';
  return value.length === 0 ? null : bounded(value, `${element.name} attribute '${name}'`, limit);
}

function childrenNamed(parent: XmlElement, name: string): XmlElement[] {
  return parent.children.filter((c) => c.name === name);
}

/**
 * Splits tags on whitespace, commas and semicolons, as nuget.org does; empty and repeated tags are dropped.
 * @example splitTags('json, xml;  yaml json') // ['json', 'xml', 'yaml']
 */
export function splitTags(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).filter((t) => t.length > 0))];
}

function readBoolean(metadata: XmlElement, name: string): boolean {
  const value = field(metadata, name, NUSPEC_LIMITS.short);
  if (value === null) return false;
  const lower = value.toLowerCase();
  if (lower === 'true' || lower === '1') return true;
  if (lower === 'false' || lower === '0') return false;
  throw badRequest(`The nuspec element <${name}> must be 'true' or 'false', not '${shown(value)}'.`);
}

/** `minClientVersion` is an attribute of `<metadata>`, not an element. */
function readMinClientVersion(metadata: XmlElement): string | null {
  const value = attribute(metadata, 'minClientVersion', NUSPEC_LIMITS.short);
  if (value !== null && parseVersion(value) === null) {
    throw badRequest(`The nuspec minClientVersion '${shown(value)}' is not a valid version.`);
  }
  return value;
}

function readLicense(metadata: XmlElement): License | null {
  const element = metadata.children.find((c) => c.name === 'license');
  if (!element) return null;
  const type = element.attributes.get('type')?.trim().toLowerCase() ?? '';
  if (type !== 'expression' && type !== 'file') {
    throw badRequest(`The nuspec <license> element needs type="expression" or type="file", not '${shown(type)}'.`);
  }
  const value = element.text.trim();
  if (value.length === 0) throw badRequest('The nuspec <license> element is empty.');
  return {
    type,
    value: bounded(value, '<license>', NUSPEC_LIMITS.license),
    version: attribute(element, 'version', NUSPEC_LIMITS.short),
  };
}

function readRepository(metadata: XmlElement): Repository | null {
  const element = metadata.children.find((c) => c.name === 'repository');
  if (!element) return null;
  const repository: Repository = {
    type: attribute(element, 'type', NUSPEC_LIMITS.short),
    url: attribute(element, 'url', NUSPEC_LIMITS.url),
    branch: attribute(element, 'branch', NUSPEC_LIMITS.short),
    commit: attribute(element, 'commit', NUSPEC_LIMITS.short),
  };
  return Object.values(repository).every((v) => v === null) ? null : repository;
}

function readPackageTypes(metadata: XmlElement): PackageType[] {
  const elements = childrenNamed(metadata, 'packageTypes').flatMap((e) => childrenNamed(e, 'packageType'));
  if (elements.length > NUSPEC_LIMITS.packageTypes) {
    throw badRequest(`The nuspec declares ${elements.length} package types; at most ${NUSPEC_LIMITS.packageTypes} are allowed.`);
  }
  return elements.map((element) => {
    const name = attribute(element, 'name', NUSPEC_LIMITS.short);
    if (name === null) throw badRequest('A nuspec <packageType> element has no name attribute.');
    const version = attribute(element, 'version', NUSPEC_LIMITS.short);
    // NuGet reads it as a System.Version: numbers only, no release label.
    const parsed = version === null ? null : parseVersion(version);
    if (version !== null && (parsed === null || parsed.releaseLabels.length > 0 || parsed.metadata !== null)) {
      throw badRequest(`The package type '${shown(name)}' has an invalid version '${shown(version)}'.`);
    }
    return { name, version };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Dependencies

/**
 * `<group>` elements under `<dependencies>`; without any group, the legacy flat `<dependency>` list becomes one
 * framework-agnostic group (and is ignored when groups exist, as NuGet does).
 */
function readDependencyGroups(metadata: XmlElement): DependencyGroup[] {
  const containers = childrenNamed(metadata, 'dependencies');
  const groups = containers.flatMap((c) => childrenNamed(c, 'group'));
  if (groups.length > NUSPEC_LIMITS.dependencyGroups) {
    throw badRequest(`The nuspec has ${groups.length} dependency groups; at most ${NUSPEC_LIMITS.dependencyGroups} are allowed.`);
  }
  const result: DependencyGroup[] =
    groups.length > 0
      ? groups.map((g) => ({ targetFramework: readGroupFramework(g), dependencies: readDependencies(g) }))
      : flatGroup(containers);
  const total = result.reduce((n, g) => n + g.dependencies.length, 0);
  if (total > NUSPEC_LIMITS.dependencies) {
    throw badRequest(`The nuspec declares ${total} dependencies; at most ${NUSPEC_LIMITS.dependencies} are allowed.`);
  }
  return result;
}

function flatGroup(containers: readonly XmlElement[]): DependencyGroup[] {
  const dependencies = containers.flatMap(readDependencies);
  return dependencies.length > 0 ? [{ targetFramework: null, dependencies }] : [];
}

/** Framework names NuGet uses for "no particular framework" or "could not parse". */
const NON_FRAMEWORKS = new Set(['any', 'agnostic', 'unsupported']);

function readGroupFramework(group: XmlElement): string | null {
  const text = attribute(group, 'targetFramework', NUSPEC_LIMITS.short);
  if (text === null) return null;
  const framework = parseFramework(text);
  // nuget.org refuses unsupported group frameworks too; clients could never match the group.
  const short = isUnsupported(framework) ? null : tryShortFolderName(framework);
  if (short === null) {
    throw badRequest(`The dependency group targetFramework '${shown(text)}' is not a target framework NuGet understands.`);
  }
  return short;
}

function readDependencies(parent: XmlElement): Dependency[] {
  // Children of the group only: a <group> nested in a flat list is not a dependency.
  return childrenNamed(parent, 'dependency').map(readDependency);
}

function readDependency(element: XmlElement): Dependency {
  const id = attribute(element, 'id', Number.POSITIVE_INFINITY);
  if (id === null) throw badRequest('A nuspec <dependency> element has no id attribute.');
  checkId(id, 'The dependency id');
  const range = element.attributes.get('version')?.trim() ?? '';
  if (range.length > NUSPEC_LIMITS.dependencyRange || (range.length > 0 && parseRange(range) === null)) {
    throw badRequest(`The dependency '${id}' has an invalid version range '${shown(range)}'.`);
  }
  const include = attribute(element, 'include', NUSPEC_LIMITS.short);
  const exclude = attribute(element, 'exclude', NUSPEC_LIMITS.short);
  return {
    id,
    range: range.length > 0 ? range : null,
    ...(include !== null ? { include } : {}),
    ...(exclude !== null ? { exclude } : {}),
  };
}

function hasSemVer2Range(dependency: Dependency): boolean {
  const range = dependency.range === null ? null : parseRange(dependency.range);
  return range !== null && rangeIsSemVer2(range);
}

function dependencyFrameworks(groups: readonly DependencyGroup[]): string[] {
  const names = groups.map((g) => g.targetFramework).filter((f): f is string => f !== null && !NON_FRAMEWORKS.has(f));
  return [...new Set(names)].sort();
}

/** A value for an error message: long values are cut so a hostile nuspec cannot make huge responses. */
function shown(value: string): string {
  return value.length > 120 ? `${value.slice(0, 120)}…` : value;
}
