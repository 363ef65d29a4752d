/**
 * The search benchmark's feed: many ids named and described the way real package ids are (vendor, area, sub-area,
 * flavour: `Contoso.Data.SqlClient`, `Fabrikam.Logging.Abstractions`), ten versions each, in the shapes real ids
 * accumulate (patches, prereleases, a SemVer 2.0.0 one). Deterministic: every run builds the same feed.
 */
import { buildNupkg } from '../../test/support/nupkg.js';

/** mulberry32: small, fast and good enough to make deterministic data. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const VENDORS = [
  'Contoso', 'Fabrikam', 'Northwind', 'AdventureWorks', 'Tailspin', 'Litware', 'Woodgrove', 'Wingtip', 'Proseware', 'Adatum',
  'Lucerne', 'Margie', 'Alpine', 'Coho', 'FourthCoffee', 'Humongous', 'BlueYonder', 'Trey', 'WideWorld', 'Relecloud',
  'Munson', 'Lamna', 'Bellows', 'Consolidated', 'Southridge', 'Nod', 'Tasmanian', 'VanArsdel', 'Wingspan', 'Kinetic',
  'Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Stark', 'Wayne', 'Cyberdyne', 'Tyrell', 'Soylent',
] as const;

/** Areas with the words their descriptions and tags use. */
export const AREAS: readonly { name: string; words: readonly string[] }[] = [
  { name: 'Data', words: ['data', 'repository', 'unit of work', 'persistence'] },
  { name: 'Data.SqlClient', words: ['sql server', 'ado.net', 'database', 'queries'] },
  { name: 'Data.Sqlite', words: ['sqlite', 'embedded database', 'local storage'] },
  { name: 'Data.Postgres', words: ['postgresql', 'npgsql', 'database'] },
  { name: 'Data.MongoDb', words: ['mongodb', 'documents', 'nosql'] },
  { name: 'Web', words: ['web', 'middleware', 'asp.net core'] },
  { name: 'Web.Api', words: ['rest', 'http api', 'controllers', 'openapi'] },
  { name: 'Web.Mvc', words: ['mvc', 'views', 'razor'] },
  { name: 'Logging', words: ['logging', 'structured logs', 'log sinks'] },
  { name: 'Logging.Serilog', words: ['serilog', 'enrichers', 'sinks'] },
  { name: 'Caching', words: ['cache', 'caching', 'memoization'] },
  { name: 'Caching.Redis', words: ['redis', 'distributed cache'] },
  { name: 'Http', words: ['http client', 'retries', 'resilience'] },
  { name: 'Messaging', words: ['message bus', 'publish subscribe', 'events'] },
  { name: 'Messaging.RabbitMQ', words: ['rabbitmq', 'amqp', 'queues'] },
  { name: 'Messaging.Kafka', words: ['kafka', 'streams', 'consumers'] },
  { name: 'Security', words: ['authentication', 'authorization', 'security'] },
  { name: 'Security.Cryptography', words: ['encryption', 'hashing', 'keys'] },
  { name: 'Storage', words: ['storage', 'files', 'blobs'] },
  { name: 'Storage.S3', words: ['s3', 'object storage', 'buckets'] },
  { name: 'Configuration', words: ['configuration', 'settings', 'options'] },
  { name: 'DependencyInjection', words: ['dependency injection', 'ioc container', 'services'] },
  { name: 'Diagnostics', words: ['diagnostics', 'health checks', 'metrics', 'tracing'] },
  { name: 'Testing', words: ['testing', 'fakes', 'assertions'] },
  { name: 'Json', words: ['json', 'serializer', 'converters'] },
  { name: 'Xml', words: ['xml', 'serializer', 'schemas'] },
  { name: 'Scheduling', words: ['scheduler', 'background jobs', 'cron'] },
  { name: 'Pdf', words: ['pdf', 'documents', 'reports'] },
  { name: 'Imaging', words: ['images', 'thumbnails', 'resize'] },
  { name: 'Geo', words: ['geospatial', 'maps', 'coordinates'] },
  { name: 'Payments', words: ['payments', 'billing', 'invoices'] },
  { name: 'Search', words: ['full-text search', 'indexing', 'lucene'] },
  { name: 'Email', words: ['email', 'smtp', 'templates'] },
  { name: 'Identity', words: ['identity', 'users', 'claims'] },
  { name: 'Analyzers', words: ['roslyn', 'analyzers', 'code fixes'] },
  { name: 'Grpc', words: ['grpc', 'protobuf', 'rpc'] },
  { name: 'GraphQL', words: ['graphql', 'schema', 'resolvers'] },
  { name: 'Validation', words: ['validation', 'rules', 'fluent'] },
  { name: 'Mapping', words: ['object mapping', 'mapper', 'projection'] },
  { name: 'Localization', words: ['localization', 'translations', 'cultures'] },
  { name: 'Compression', words: ['compression', 'zip', 'gzip'] },
  { name: 'Csv', words: ['csv', 'parsing', 'spreadsheets'] },
  { name: 'Excel', words: ['excel', 'xlsx', 'spreadsheets'] },
  { name: 'Cli', words: ['command line', 'console', 'arguments'] },
  { name: 'Templates', words: ['templates', 'scaffolding', 'dotnet new'] },
  { name: 'Workflows', words: ['workflows', 'state machines', 'orchestration'] },
  { name: 'FeatureFlags', words: ['feature flags', 'toggles', 'rollout'] },
  { name: 'Auditing', words: ['audit', 'history', 'compliance'] },
  { name: 'Notifications', words: ['notifications', 'push', 'sms'] },
  { name: 'Telemetry', words: ['opentelemetry', 'telemetry', 'exporters'] },
];

const FLAVOURS = ['', '.Abstractions', '.Extensions', '.AspNetCore', '.Testing'] as const;

export interface BenchPackageSpec {
  readonly id: string;
  readonly description: string;
  readonly tags: string;
  readonly authors: string;
  readonly title: string | null;
  readonly packageType: 'DotnetTool' | 'Template' | null;
}

/** All id specs (vendor × area × flavour), shuffled deterministically; the first `count` are the feed. */
export function packageSpecs(count: number): BenchPackageSpec[] {
  const all: { vendor: string; area: (typeof AREAS)[number]; flavour: string }[] = [];
  for (const vendor of VENDORS) for (const area of AREAS) for (const flavour of FLAVOURS) all.push({ vendor, area, flavour });
  if (count > all.length) throw new Error(`the feed model has ${all.length} ids; asked for ${count}`);
  const rnd = random(42);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, count).map(({ vendor, area, flavour }, i) => {
    const words = area.words;
    const pick = (k: number) => words[(i + k) % words.length]!;
    const kind = flavour === '' ? 'Core library' : flavour === '.Abstractions' ? 'Interfaces and contracts' : flavour === '.Extensions' ? 'Extension methods' : flavour === '.AspNetCore' ? 'ASP.NET Core integration' : 'Test helpers';
    return {
      id: `${vendor}.${area.name}${flavour}`,
      description: `${kind} for ${pick(0)} and ${pick(1)} by ${vendor}. Supports ${pick(2)}, async APIs and .NET 8. Built for production services that need ${pick(3)}.`,
      tags: [vendor.toLowerCase(), ...words.map((w) => w.replace(/\s+/g, '-'))].join(' '),
      authors: `${vendor} Engineering`,
      title: i % 3 === 0 ? `${vendor} ${area.name.replace(/\./g, ' ')}${flavour.replace('.', ' ')}` : null,
      packageType: area.name === 'Cli' && flavour === '' ? 'DotnetTool' : area.name === 'Templates' && flavour === '' ? 'Template' : null,
    };
  });
}

/**
 * `count` versions per id in the shapes real ids have: for 10, 1.0.0 1.0.1 1.1.0-beta.1 1.1.0 1.2.0-preview4 2.0.0
 * 2.0.1 2.1.0-beta.1 2.1.0 2.2.0-preview9 (SemVer 2.0.0 prereleases included).
 */
export function packageVersions(count: number): string[] {
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    const major = 1 + Math.floor(k / 5);
    out.push([`${major}.0.0`, `${major}.0.1`, `${major}.1.0-beta.1`, `${major}.1.0`, `${major}.2.0-preview${k}`][k % 5]!);
  }
  return out;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** One package of the feed: a small but complete .nupkg whose nuspec carries the spec's metadata. */
export function buildBenchPackage(spec: BenchPackageSpec, version: string): Promise<Buffer> {
  const extra = [
    `<tags>${esc(spec.tags)}</tags>`,
    spec.title ? `<title>${esc(spec.title)}</title>` : '',
    `<projectUrl>https://example.com/${spec.id.toLowerCase()}</projectUrl>`,
    '<license type="expression">MIT</license>',
    spec.packageType ? `<packageTypes><packageType name="${spec.packageType}" /></packageTypes>` : '',
  ].join('');
  return buildNupkg({
    id: spec.id,
    version,
    authors: esc(spec.authors),
    description: esc(spec.description),
    extraMetadata: extra,
    dependencies: { 'net8.0': [['Microsoft.Extensions.Logging.Abstractions', '8.0.0']] },
  });
}
