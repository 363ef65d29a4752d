// Autocompletion through NuGet.Protocol, as the Package Manager Console's tab completion does:
//   <source> ids <prefix> <includePrerelease>          -> JSON array of ids
//   <source> versions <id> <prefix> <includePrerelease> -> JSON array of full version strings
// PAWKET_CLIENT_PASSWORD, when set, is sent as the source's password (Basic auth), as nuget.config credentials are.
// Prints the resource type it used on stderr, so a test can see the request went through the V2 implementation.
using System.Text.Json;
using NuGet.Common;
using NuGet.Configuration;
using NuGet.Protocol;
using NuGet.Protocol.Core.Types;

static class Autocomplete
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 4)
        {
            Console.Error.WriteLine("usage: autocomplete <source> ids <prefix> <includePrerelease> | <source> versions <id> <prefix> <includePrerelease>");
            return 2;
        }

        var source = new PackageSource(args[0]);
        var password = Environment.GetEnvironmentVariable("PAWKET_CLIENT_PASSWORD");
        if (!string.IsNullOrEmpty(password))
        {
            source.Credentials = new PackageSourceCredential(args[0], "pawket", password, isPasswordClearText: true, validAuthenticationTypesText: null);
        }
        var repository = Repository.Factory.GetCoreV3(source);
        var autocomplete = await repository.GetResourceAsync<AutoCompleteResource>(CancellationToken.None);
        Console.Error.WriteLine($"resource: {autocomplete?.GetType().Name ?? "none"}");
        if (autocomplete == null) return 3;

        using var cache = new SourceCacheContext { NoCache = true };
        string[] answer = args[1] switch
        {
            "ids" => (await autocomplete.IdStartsWith(args[2], bool.Parse(args[3]), NullLogger.Instance, CancellationToken.None)).ToArray(),
            "versions" => (await autocomplete.VersionStartsWith(args[2], args[3], bool.Parse(args[4]), cache, NullLogger.Instance, CancellationToken.None))
                .Select(v => v.ToFullString())
                .ToArray(),
            var mode => throw new ArgumentException($"unknown mode {mode}"),
        };
        Console.WriteLine(JsonSerializer.Serialize(answer));
        return 0;
    }
}
