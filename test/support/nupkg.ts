import yazl from 'yazl';

/** One file to put in a test zip; `compress: false` stores it. */
export interface ZipEntry {
  readonly name: string;
  readonly data: Buffer | string;
  readonly compress?: boolean;
}

/** Builds a zip in memory from entries, in order. Test-only: real packages come from `dotnet pack`. */
export function buildZip(entries: readonly ZipEntry[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const e of entries) {
    const data = typeof e.data === 'string' ? Buffer.from(e.data, 'utf8') : e.data;
    zip.addBuffer(data, e.name, { compress: e.compress ?? true, mtime: new Date(2024, 0, 1) });
  }
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

export interface NuspecOptions {
  readonly id: string;
  readonly version: string;
  readonly authors?: string;
  readonly description?: string;
  /** Extra XML inserted inside `<metadata>`. */
  readonly extraMetadata?: string;
  /** `{ framework: [[id, range], ...] }`; key `''` is the framework-agnostic group. */
  readonly dependencies?: Readonly<Record<string, ReadonlyArray<readonly [string, string]>>>;
}

export function nuspecXml(o: NuspecOptions): string {
  const groups = Object.entries(o.dependencies ?? {})
    .map(([tfm, deps]) => {
      const inner = deps.map(([id, range]) => `<dependency id="${id}" version="${range}" />`).join('');
      return tfm === '' ? `<group>${inner}</group>` : `<group targetFramework="${tfm}">${inner}</group>`;
    })
    .join('');
  return `<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
  <metadata>
    <id>${o.id}</id>
    <version>${o.version}</version>
    <authors>${o.authors ?? 'Pawket Tests'}</authors>
    <description>${o.description ?? `Test package ${o.id}`}</description>
    ${groups ? `<dependencies>${groups}</dependencies>` : ''}
    ${o.extraMetadata ?? ''}
  </metadata>
</package>`;
}

/** A minimal valid package as `dotnet pack` would lay it out (OPC parts included). */
export function buildNupkg(o: NuspecOptions & { readonly files?: readonly ZipEntry[] }): Promise<Buffer> {
  return buildZip([
    { name: '_rels/.rels', data: '<?xml version="1.0" encoding="utf-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships" />' },
    { name: `${o.id}.nuspec`, data: nuspecXml(o) },
    { name: 'lib/netstandard2.0/_._', data: '' },
    ...(o.files ?? []),
    { name: '[Content_Types].xml', data: '<?xml version="1.0" encoding="utf-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types" />' },
  ]);
}
