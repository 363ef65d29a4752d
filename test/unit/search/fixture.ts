/**
 * A realistic feed for ranking tests: a few hundred ids shaped like real ones (well-known libraries and families of
 * company packages), with descriptions, tags, titles, authors and package types, and download counts that make
 * popularity matter.
 */
import { buildNupkg } from '../../support/nupkg.js';

export interface FixturePackage {
  readonly id: string;
  readonly version: string;
  readonly description: string;
  readonly authors?: string;
  readonly owners?: string;
  readonly title?: string;
  readonly summary?: string;
  readonly tags?: string;
  readonly packageType?: 'DotnetTool' | 'Template';
  /** Downloads the test makes of this version before it asserts anything. */
  readonly downloads?: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Well-known ids with the kind of metadata they really have. */
const WELL_KNOWN: FixturePackage[] = [
  { id: 'Newtonsoft.Json', version: '13.0.3', description: 'Json.NET is a popular high-performance JSON framework for .NET', authors: 'James Newton-King', tags: 'json', title: 'Json.NET', downloads: 9 },
  { id: 'Newtonsoft.Json.Bson', version: '1.0.2', description: 'Json.NET BSON adds support for reading and writing BSON', authors: 'James Newton-King', tags: 'json bson', title: 'Json.NET BSON', downloads: 2 },
  { id: 'System.Text.Json', version: '8.0.5', description: 'Provides high-performance and low-allocating types that serialize objects to JavaScript Object Notation (JSON) text.', authors: 'Microsoft', downloads: 6 },
  { id: 'JsonSubTypes', version: '2.0.1', description: 'Discriminated Json Subtypes Converter implementation for .NET', authors: 'manuc66', tags: 'json converter subtypes polymorphism' },
  { id: 'Json.More.Net', version: '2.0.2', description: 'Provides extended functionality for the System.Text.Json namespace.', authors: 'Greg Dennis', tags: 'json system.text.json' },
  { id: 'Utf8Json', version: '1.3.7', description: 'Definitely Fastest and Zero Allocation JSON Serializer for C#', authors: 'neuecc', tags: 'json serializer' },
  { id: 'Serilog', version: '4.0.1', description: 'Simple .NET logging with fully-structured events', authors: 'Serilog Contributors', tags: 'serilog logging semantic structured', downloads: 7 },
  { id: 'Serilog.Sinks.Console', version: '6.0.0', description: 'A Serilog sink that writes log events to the console/terminal.', authors: 'Serilog Contributors', tags: 'serilog console terminal', downloads: 5 },
  { id: 'Serilog.Sinks.File', version: '6.0.0', description: 'Write Serilog events to text files in plain or JSON format.', authors: 'Serilog Contributors', tags: 'serilog file', downloads: 4 },
  { id: 'Serilog.Sinks.Seq', version: '8.0.0', description: 'A Serilog sink that writes events to Seq using newline-delimited JSON and HTTP/HTTPS.', authors: 'Serilog Contributors', tags: 'serilog seq' },
  { id: 'Serilog.Extensions.Logging', version: '8.0.0', description: 'Low-level Serilog provider for Microsoft.Extensions.Logging', authors: 'Microsoft, Serilog Contributors', tags: 'serilog logging', downloads: 3 },
  { id: 'Serilog.AspNetCore', version: '8.0.2', description: 'Serilog support for ASP.NET Core logging', authors: 'Microsoft, Serilog Contributors', tags: 'serilog aspnet aspnetcore', downloads: 3 },
  { id: 'Microsoft.Extensions.Logging', version: '8.0.1', description: 'Logging infrastructure default implementation for Microsoft.Extensions.Logging.', authors: 'Microsoft', downloads: 8 },
  { id: 'Microsoft.Extensions.Logging.Abstractions', version: '8.0.2', description: 'Logging abstractions for Microsoft.Extensions.Logging.', authors: 'Microsoft', downloads: 8 },
  { id: 'Microsoft.Extensions.Logging.Console', version: '8.0.1', description: 'Console logger provider implementation for Microsoft.Extensions.Logging.', authors: 'Microsoft', downloads: 2 },
  { id: 'Microsoft.Extensions.DependencyInjection', version: '8.0.1', description: 'Default implementation of dependency injection for Microsoft.Extensions.DependencyInjection.', authors: 'Microsoft', downloads: 8 },
  { id: 'Microsoft.Extensions.DependencyInjection.Abstractions', version: '8.0.2', description: 'Abstractions for dependency injection.', authors: 'Microsoft', downloads: 7 },
  { id: 'Microsoft.EntityFrameworkCore', version: '8.0.10', description: 'Entity Framework Core is a modern object-database mapper for .NET.', authors: 'Microsoft', tags: 'Entity Framework Core entity-framework-core EF Data O/RM EntityFramework EntityFrameworkCore EFCore', downloads: 6 },
  { id: 'Microsoft.EntityFrameworkCore.SqlServer', version: '8.0.10', description: 'Microsoft SQL Server database provider for Entity Framework Core.', authors: 'Microsoft', tags: 'Entity Framework Core SQL Server EF Data O/RM', downloads: 4 },
  { id: 'Microsoft.Data.SqlClient', version: '5.2.2', description: 'The current data provider for SQL Server and Azure SQL databases.', authors: 'Microsoft', tags: 'sqlclient microsoft.data.sqlclient', downloads: 5 },
  { id: 'System.Data.SqlClient', version: '4.8.6', description: 'Provides the data provider for SQL Server.', authors: 'Microsoft', downloads: 4 },
  { id: 'Dapper', version: '2.1.35', description: 'A high performance Micro-ORM supporting SQL Server, MySQL, Sqlite, SqlCE, Firebird etc.', authors: 'Sam Saffron, Marc Gravell, Nick Craver', tags: 'orm sql micro-orm', downloads: 5 },
  { id: 'AutoMapper', version: '13.0.1', description: 'A convention-based object-object mapper.', authors: 'Jimmy Bogard', downloads: 5 },
  { id: 'FluentValidation', version: '11.10.0', description: 'A validation library for .NET that uses a fluent interface to construct strongly-typed validation rules.', authors: 'Jeremy Skinner', tags: 'validation validator', downloads: 3 },
  { id: 'Polly', version: '8.4.2', description: 'Polly is a .NET resilience and transient-fault-handling library that allows developers to express policies such as Retry, Circuit Breaker, Timeout.', authors: 'Michael Wolfenden, App vNext', tags: 'Resilience Retry CircuitBreaker Timeout', downloads: 4 },
  { id: 'xunit', version: '2.9.2', description: 'xUnit.net is a developer testing framework, built to support Test Driven Development.', authors: 'jnewkirk, bradwilson', tags: 'unit testing xunit', downloads: 6 },
  { id: 'xunit.runner.visualstudio', version: '2.8.2', description: 'Visual Studio 2022+ Test Explorer runner for the xUnit.net framework.', authors: 'jnewkirk, bradwilson', tags: 'xunit testing', downloads: 5 },
  { id: 'NUnit', version: '4.2.2', description: 'NUnit is a unit-testing framework for all .NET languages.', authors: 'Charlie Poole, Rob Prouse', tags: 'nunit test testing tdd', downloads: 4 },
  { id: 'Moq', version: '4.20.72', description: 'Moq is the most popular and friendly mocking library for .NET.', authors: 'Daniel Cazzulino, kzu', tags: 'moq tdd mocking mocks unittesting', downloads: 4 },
  { id: 'MediatR', version: '12.4.1', description: 'Simple, unambitious mediator implementation in .NET', authors: 'Jimmy Bogard', tags: 'mediator request response queries commands notifications', downloads: 3 },
  { id: 'Swashbuckle.AspNetCore', version: '6.9.0', description: 'Swagger tools for documenting APIs built on ASP.NET Core', authors: 'Swashbuckle', tags: 'Swagger Documentation Discovery Help WebApi AspNet AspNetCore', downloads: 4 },
  { id: 'StackExchange.Redis', version: '2.8.16', description: 'High performance Redis client, incorporating both synchronous and asynchronous usage.', authors: 'Stack Exchange, Inc.; marc.gravell', tags: 'Async Redis Cache PubSub Messaging', downloads: 3 },
  { id: 'RestSharp', version: '112.1.0', description: 'Simple REST and HTTP API Client', authors: 'Andrey Pavlov', tags: 'REST HTTP API JSON XML', downloads: 2 },
  { id: 'NLog', version: '5.3.4', description: 'NLog is a logging platform for .NET with rich log routing and management capabilities.', authors: 'Jarek Kowalski, Kim Christensen, Julian Verdurmen', tags: 'logging log tracing logfiles', downloads: 3 },
  { id: 'log4net', version: '3.0.2', description: 'log4net is a tool to help the programmer output log statements to a variety of output targets.', authors: 'The Apache Software Foundation', tags: 'logging log tracing', downloads: 2 },
  { id: 'Humanizer', version: '2.14.1', description: 'A micro-framework that turns your normal strings, type names, enum fields, date fields etc into a human friendly format', authors: 'Mehdi Khalili, Claire Novotny', downloads: 2 },
  { id: 'CsvHelper', version: '33.0.1', description: 'A library for reading and writing CSV files. Extremely fast, flexible, and easy to use.', authors: 'Josh Close', tags: 'csv', downloads: 2 },
  { id: 'Npgsql', version: '8.0.5', description: 'Npgsql is the open source .NET data provider for PostgreSQL.', authors: 'Shay Rojansky, Nikita Kazmin', tags: 'npgsql postgresql postgres ado ado.net database sql', downloads: 3 },
  { id: 'MySqlConnector', version: '2.3.7', description: 'A truly async MySQL ADO.NET provider, supporting MySQL Server, MariaDB, Percona Server.', authors: 'Bradley Grainger', tags: 'mysql mariadb ado.net database sql' },
  { id: 'Azure.Storage.Blobs', version: '12.22.1', description: 'This client library enables working with the Microsoft Azure Storage Blob service for storing binary and text data.', authors: 'Microsoft', tags: 'Microsoft Azure Storage Blobs Blob Storage', downloads: 3 },
  { id: 'AWSSDK.S3', version: '3.7.405', description: 'Amazon Simple Storage Service (Amazon S3), provides developers and IT teams with secure, durable, highly-scalable object storage.', authors: 'Amazon Web Services', tags: 'AWS Amazon cloud S3', downloads: 2 },
  { id: 'Grpc.Net.Client', version: '2.66.0', description: '.NET client for gRPC', authors: 'The gRPC Authors', tags: 'gRPC RPC HTTP/2', downloads: 2 },
  { id: 'Google.Protobuf', version: '3.28.3', description: 'C# runtime library for Protocol Buffers - Google data interchange format.', authors: 'Google Inc.', tags: 'Protocol Buffers Binary Serialization Format Google proto proto3', downloads: 2 },
  { id: 'dotnet-ef', version: '8.0.10', description: 'Entity Framework Core Tools for the .NET Command-Line Interface.', authors: 'Microsoft', tags: 'Entity Framework Core entity-framework-core EF Data O/RM', packageType: 'DotnetTool', downloads: 3 },
  { id: 'dotnet-reportgenerator-globaltool', version: '5.3.11', description: 'ReportGenerator converts coverage reports into human readable reports.', authors: 'Daniel Palme', tags: 'coverage report', packageType: 'DotnetTool' },
  { id: 'Microsoft.DotNet.Web.ProjectTemplates.8.0', version: '8.0.10', description: 'Templates for ASP.NET Core.', authors: 'Microsoft', packageType: 'Template' },
  { id: 'NUnit3.DotNetNew.Template', version: '1.8.1', description: 'Project and item templates containing basic NUnit 3 Test Project.', authors: 'Aleksei Kharlov', tags: 'nunit template', packageType: 'Template' },
];

const VENDORS = ['Contoso', 'Fabrikam', 'Northwind', 'AdventureWorks', 'Tailspin', 'Litware', 'Woodgrove'];
const AREAS: readonly (readonly [string, string, string])[] = [
  ['Core', 'Core types and helpers shared by every component', 'core common'],
  ['Data', 'Data access layer with unit of work and repositories', 'data repository'],
  ['Data.SqlClient', 'SQL Server data access built on Microsoft.Data.SqlClient', 'data sql sqlserver'],
  ['Data.Sqlite', 'SQLite data access for embedded databases', 'data sqlite'],
  ['Data.Postgres', 'PostgreSQL data access through Npgsql', 'data postgres postgresql'],
  ['Web', 'Web application building blocks and middleware', 'web aspnetcore'],
  ['Web.Api', 'Conventions and filters for HTTP APIs', 'web api rest'],
  ['Logging', 'Structured logging helpers and enrichers', 'logging'],
  ['Logging.Serilog', 'Serilog enrichers and sinks configuration', 'logging serilog'],
  ['Caching', 'In-memory and distributed caching abstractions', 'cache caching'],
  ['Caching.Redis', 'Redis cache provider', 'cache redis'],
  ['Http', 'Typed HTTP clients with retries', 'http client'],
  ['Messaging', 'Message bus abstractions: publish, subscribe, request and reply', 'messaging bus'],
  ['Messaging.RabbitMQ', 'RabbitMQ transport for the message bus', 'messaging rabbitmq amqp'],
  ['Security', 'Authentication and authorization helpers', 'security auth'],
  ['Security.Cryptography', 'Encryption, hashing and key management', 'security crypto encryption'],
  ['Storage.Blobs', 'Blob storage for files and documents', 'storage blobs files'],
  ['Configuration', 'Strongly typed configuration binding and validation', 'configuration settings'],
  ['DependencyInjection', 'Service registration conventions and decorators', 'di ioc'],
  ['Diagnostics', 'Health checks, metrics and tracing', 'diagnostics health metrics'],
  ['Testing', 'Test fixtures, fakes and builders', 'testing test'],
  ['Testing.Xunit', 'xUnit fixtures and theory data', 'testing xunit'],
  ['Json', 'JSON converters and serializer settings', 'json serialization'],
  ['Scheduling', 'Background jobs and recurring tasks', 'jobs scheduler cron'],
  ['Pdf', 'PDF rendering and document generation', 'pdf documents reports'],
  ['Imaging', 'Image resizing, cropping and thumbnails', 'images imaging thumbnails'],
  ['Geo', 'Geospatial types and distance calculations', 'geo gis maps'],
  ['Payments', 'Payment provider integrations and invoicing', 'payments billing'],
  ['Search', 'Full-text search integration and query building', 'search lucene'],
  ['Email', 'Email templates and SMTP delivery', 'email smtp mail'],
  ['Identity', 'User accounts, roles and claims', 'identity users'],
  ['Analyzers', 'Roslyn analyzers enforcing the coding guidelines', 'analyzers roslyn'],
  ['Cli', 'Command line tool for the platform', 'cli tool'],
  ['Templates', 'dotnet new templates for services and libraries', 'templates'],
  ['Abstractions', 'Interfaces and contracts', 'abstractions contracts'],
  ['Extensions', 'Extension methods for strings, collections and dates', 'extensions helpers'],
];

/** Company package families: every vendor gets every area (`Contoso.Data.SqlClient`, `Fabrikam.Logging`, ...). */
function families(): FixturePackage[] {
  const out: FixturePackage[] = [];
  VENDORS.forEach((vendor, v) => {
    AREAS.forEach(([area, what, tags], a) => {
      const id = `${vendor}.${area}`;
      out.push({
        id,
        version: `${1 + ((v + a) % 4)}.${a % 5}.${v}`,
        description: `${what}, by ${vendor}.`,
        authors: `${vendor} Ltd`,
        owners: vendor.toLowerCase(),
        tags: `${vendor.toLowerCase()} ${tags}`,
        packageType: area === 'Cli' ? 'DotnetTool' : area === 'Templates' ? 'Template' : undefined,
        // Contoso is the big vendor here; its core packages are the most used.
        downloads: vendor === 'Contoso' ? (area === 'Data' ? 2 : area === 'Core' ? 3 : 1) : 0,
      });
    });
  });
  return out;
}

/** Packages whose words appear only in text fields, to check that id matches win over them. */
const TEXT_ONLY: FixturePackage[] = [
  { id: 'Acme.Toolkit', version: '1.0.0', description: 'A toolkit with JSON helpers, logging glue and SQL utilities.', title: 'Json Toolkit', authors: 'Acme', tags: 'toolkit', downloads: 9 },
  { id: 'Acme.Reports', version: '2.1.0', description: 'Generates reports.', summary: 'Excel and CSV report generation', authors: 'Acme', tags: 'reports excel' },
  { id: 'Acme.Widgets', version: '3.0.0', description: 'Widgets for dashboards; uses dependency injection throughout.', authors: 'Acme', tags: 'widgets dashboard' },
];

export const FIXTURE: readonly FixturePackage[] = [...WELL_KNOWN, ...families(), ...TEXT_ONLY];

/** Builds a fixture package as a .nupkg. */
export function buildFixturePackage(p: FixturePackage): Promise<Buffer> {
  const extra = [
    p.title ? `<title>${esc(p.title)}</title>` : '',
    p.summary ? `<summary>${esc(p.summary)}</summary>` : '',
    p.tags ? `<tags>${esc(p.tags)}</tags>` : '',
    p.owners ? `<owners>${esc(p.owners)}</owners>` : '',
    p.packageType ? `<packageTypes><packageType name="${p.packageType}" /></packageTypes>` : '',
  ].join('');
  return buildNupkg({ id: p.id, version: p.version, authors: esc(p.authors ?? 'Pawket Tests'), description: esc(p.description), extraMetadata: extra });
}
