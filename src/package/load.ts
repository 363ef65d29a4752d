/**
 * The zip and nuspec readers (yauzl, fast-xml-parser) load with the first package read, not at start-up; then the same
 * module is reused: a dynamic `import()` resolves its specifier again on every call, which a busy push path notices.
 */
let reader: Promise<typeof import('./read.js')> | undefined;

export function loadPackageReader(): Promise<typeof import('./read.js')> {
  reader ??= import('./read.js');
  return reader;
}
