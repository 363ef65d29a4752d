import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PawketError } from '../../../src/errors.js';
import { normalizeVersion } from '../../../src/nuget/version.js';
import { assetFrameworks } from '../../../src/package/frameworks.js';
import { readEntry, readPackageFile } from '../../../src/package/read.js';
import { buildNupkg, buildZip, nuspecXml, type ZipEntry } from '../../support/nupkg.js';
import { badRequestMessageOf as rejection } from '../../support/bad-request.js';

let dir: string;
let counter = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pawket-read-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function tempFile(bytes: Buffer): Promise<string> {
  const path = join(dir, `p${counter++}.nupkg`);
  await writeFile(path, bytes);
  return path;
}


const RELS = { name: '_rels/.rels', data: '<Relationships />' };
const minimalNuspec = (id = 'Pkg') => nuspecXml({ id, version: '1.0.0' });

describe('readPackageFile: a good package', () => {
  const extraMetadata = `
    <title>Full</title><owners>o</owners><summary>s</summary><releaseNotes>r</releaseNotes>
    <copyright>c</copyright><language>en</language><tags>a b,c</tags><projectUrl>https://p</projectUrl>
    <iconUrl>https://i</iconUrl><icon>icon.png</icon><readme>docs\\README.md</readme>
    <licenseUrl>https://l</licenseUrl><license type="file">LICENSE.txt</license>
    <repository type="git" url="https://r" commit="abc" />
    <requireLicenseAcceptance>true</requireLicenseAcceptance><developmentDependency>true</developmentDependency>
    <serviceable>true</serviceable><packageTypes><packageType name="Dependency" /></packageTypes>`;
  let path: string;
  let nuspecBytes: Buffer;

  beforeAll(async () => {
    const options = {
      id: 'Contoso.Full',
      version: '2.0.0-rc.1',
      dependencies: { 'net6.0': [['Dep.A', '[1.0, 2.0)']] as const, '.NETFramework4.8': [] },
      extraMetadata,
    };
    nuspecBytes = Buffer.from(nuspecXml(options));
    path = await tempFile(
      await buildNupkg({
        ...options,
        files: [
          { name: 'icon.png', data: Buffer.from([0x89, 0x50, 0x4e, 0x47]) },
          { name: 'docs/README.md', data: '# Full\n' },
          { name: 'LICENSE.txt', data: 'MIT' },
          { name: 'lib/net8.0/Contoso.Full.dll', data: 'MZ' },
          { name: 'ref/net8.0/Contoso.Full.dll', data: 'MZ' },
        ],
      }),
    );
  });

  it('returns the metadata with every field', async () => {
    const { metadata } = await readPackageFile(path, {});
    expect(metadata).toMatchObject({
      id: 'Contoso.Full',
      title: 'Full',
      authors: 'Pawket Tests',
      owners: 'o',
      description: 'Test package Contoso.Full',
      summary: 's',
      releaseNotes: 'r',
      copyright: 'c',
      language: 'en',
      tags: ['a', 'b', 'c'],
      projectUrl: 'https://p',
      iconUrl: 'https://i',
      icon: 'icon.png',
      readme: 'docs\\README.md',
      licenseUrl: 'https://l',
      license: { type: 'file', value: 'LICENSE.txt', version: null },
      repository: { type: 'git', url: 'https://r', branch: null, commit: 'abc' },
      requireLicenseAcceptance: true,
      developmentDependency: true,
      serviceable: true,
      minClientVersion: null,
      packageTypes: [{ name: 'Dependency', version: null }],
      isSemVer2: true,
    });
    expect(normalizeVersion(metadata.version)).toBe('2.0.0-rc.1');
    expect(metadata.dependencyGroups).toEqual([
      { targetFramework: 'net6.0', dependencies: [{ id: 'Dep.A', range: '[1.0, 2.0)' }] },
      { targetFramework: 'net48', dependencies: [] },
    ]);
  });

  it('unites dependency-group and asset frameworks', async () => {
    const { metadata } = await readPackageFile(path, {});
    expect(metadata.frameworks).toEqual(['net48', 'net6.0', 'net8.0', 'netstandard2.0']);
  });

  it('returns the nuspec bytes exactly as stored and every entry name', async () => {
    const { nuspec, entries } = await readPackageFile(path, {});
    expect(nuspec.equals(nuspecBytes)).toBe(true);
    expect(entries).toEqual([
      '_rels/.rels',
      'Contoso.Full.nuspec',
      'lib/netstandard2.0/_._',
      'icon.png',
      'docs/README.md',
      'LICENSE.txt',
      'lib/net8.0/Contoso.Full.dll',
      'ref/net8.0/Contoso.Full.dll',
      '[Content_Types].xml',
    ]);
  });

  it('works without limits', async () => {
    expect((await readPackageFile(path)).metadata.id).toBe('Contoso.Full');
  });
});

describe('readPackageFile: the nuspec entry', () => {
  it('refuses a file that is not a zip', async () => {
    for (const bytes of [Buffer.from('hello, this is not a zip file at all'), Buffer.alloc(0), Buffer.alloc(100)]) {
      expect(await rejection(readPackageFile(await tempFile(bytes), {}))).toMatch(
        /^The file is not a valid zip\/NuGet package/,
      );
    }
  });

  it('refuses a truncated zip', async () => {
    const zip = await buildNupkg({ id: 'Pkg', version: '1.0.0' });
    const message = await rejection(readPackageFile(await tempFile(zip.subarray(0, zip.length - 30)), {}));
    expect(message).toMatch(/not a valid zip/);
  });

  it('refuses a package without a nuspec', async () => {
    const path = await tempFile(await buildZip([RELS, { name: 'lib/net8.0/a.dll', data: 'MZ' }]));
    expect(await rejection(readPackageFile(path, {}))).toBe('The package has no .nuspec file at its root.');
  });

  it('refuses a nuspec that is only in a subfolder, saying where it is', async () => {
    const path = await tempFile(await buildZip([RELS, { name: 'content/Pkg.nuspec', data: minimalNuspec() }]));
    expect(await rejection(readPackageFile(path, {}))).toBe(
      "The package has no .nuspec file at its root ('content/Pkg.nuspec' is not at the root).",
    );
  });

  it('refuses two nuspecs at the root, naming both', async () => {
    const path = await tempFile(
      await buildZip([
        { name: 'A.nuspec', data: minimalNuspec('A') },
        { name: 'b.NUSPEC', data: minimalNuspec('B') },
      ]),
    );
    const message = await rejection(readPackageFile(path, {}));
    expect(message).toContain("'A.nuspec'");
    expect(message).toContain("'b.NUSPEC'");
    expect(message).toMatch(/more than one \.nuspec/);
  });

  it('accepts a stored (uncompressed) nuspec with any case of extension', async () => {
    const path = await tempFile(await buildZip([{ name: 'Pkg.NuSpec', data: minimalNuspec(), compress: false }]));
    expect((await readPackageFile(path, {})).metadata.id).toBe('Pkg');
  });

  it('passes nuspec errors through as 400s', async () => {
    const path = await tempFile(await buildNupkg({ id: 'bad..id', version: '1.0.0' }));
    expect(await rejection(readPackageFile(path, {}))).toMatch(/The package id 'bad\.\.id' is not valid/);
  });

  it('refuses a nuspec over the configured size', async () => {
    const path = await tempFile(await buildNupkg({ id: 'Pkg', version: '1.0.0' }));
    expect(await rejection(readPackageFile(path, { maxNuspecBytes: 200 }))).toMatch(
      /The nuspec 'Pkg\.nuspec' is \d+ bytes uncompressed; at most 200 are allowed/,
    );
  });

  it('refuses an icon, readme or license file the package does not contain', async () => {
    for (const [element, xml] of [
      ['icon', '<icon>images/icon.png</icon>'],
      ['readme', '<readme>README.md</readme>'],
      ['license', '<license type="file">LICENSE</license>'],
    ] as const) {
      const path = await tempFile(await buildNupkg({ id: 'Pkg', version: '1.0.0', extraMetadata: xml }));
      expect(await rejection(readPackageFile(path, {}))).toMatch(new RegExp(`<${element}> names the file .* not in the package`));
    }
  });

  it('lets file-system errors through as they are', async () => {
    const error = await readPackageFile(join(dir, 'missing.nupkg'), {}).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(PawketError);
    expect((error as NodeJS.ErrnoException).code).toBe('ENOENT');
  });
});

describe('frameworks', () => {
  const files = (names: string[]): ZipEntry[] => names.map((name) => ({ name, data: 'x' }));

  it('lists lib, ref, runtimes, build, buildTransitive and contentFiles frameworks', async () => {
    const path = await tempFile(
      await buildNupkg({
        id: 'Pkg',
        version: '1.0.0',
        dependencies: { 'net9.0': [] },
        files: files([
          'lib/net45/a.dll',
          'lib/portable-net45%2Bwin8/a.dll',
          'ref/netcoreapp3.1/a.dll',
          'runtimes/win-x64/lib/net7.0/a.dll',
          'runtimes/linux-x64/native/liba.so',
          'build/net472/Pkg.targets',
          'buildTransitive/net6.0/Pkg.props',
          'contentFiles/cs/net5.0/a.cs',
          'contentFiles/any/any/b.txt',
          'lib/a.dll',
          'tools/net8.0/any/tool.dll',
          'tools/init.ps1',
          'content/readme.txt',
        ]),
      }),
    );
    const { metadata } = await readPackageFile(path, {});
    expect(metadata.frameworks).toEqual([
      'net45',
      'net472',
      'net5.0',
      'net6.0',
      'net7.0',
      'net9.0',
      'netcoreapp3.1',
      'netstandard2.0',
      'portable-net45+win8',
    ]);
  });

  it('counts tools/{tfm} only for .NET tool packages', () => {
    const entries = ['tools/net8.0/any/tool.dll', 'tools/net8.0/any/DotnetToolSettings.xml'];
    expect(assetFrameworks(entries, [])).toEqual([]);
    expect(assetFrameworks(entries, [{ name: 'DotnetTool', version: null }])).toEqual(['net8.0']);
  });

  it('skips folders without files and names that are no framework', () => {
    expect(assetFrameworks(['lib/', 'lib/net8.0/', 'lib/any/a.dll', 'lib/%%bad/a.dll'], [])).toEqual([]);
  });
});

describe('readEntry', () => {
  let path: string;
  beforeAll(async () => {
    path = await tempFile(
      await buildNupkg({
        id: 'Pkg',
        version: '1.0.0',
        files: [
          { name: 'docs/README.md', data: '# Readme' },
          { name: 'big.txt', data: 'x'.repeat(5000) },
        ],
      }),
    );
  });

  it('reads an entry by exact name, nuspec-style path or other case', async () => {
    expect((await readEntry(path, 'docs/README.md', 1024))?.toString()).toBe('# Readme');
    expect((await readEntry(path, 'docs\\README.md', 1024))?.toString()).toBe('# Readme');
    expect((await readEntry(path, './docs/readme.md', 1024))?.toString()).toBe('# Readme');
  });

  it('returns null for a missing entry', async () => {
    expect(await readEntry(path, 'nope.md', 1024)).toBeNull();
  });

  it('refuses an entry over maxBytes, naming it', async () => {
    expect(await rejection(readEntry(path, 'big.txt', 1000))).toBe(
      "The entry 'big.txt' is 5000 bytes uncompressed; at most 1000 are allowed.",
    );
  });
});
