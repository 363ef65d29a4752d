// What NuGet.Protocol reads about each version's icon and readme, as Visual Studio's package manager reads it:
// PackageMetadataResource and PackageSearchResource over V3, PackageMetadataResource over V2. Prints one JSON object,
// by package id.
using System.Text.Json;
using NuGet.Common;
using NuGet.Configuration;
using NuGet.Packaging.Core;
using NuGet.Protocol;
using NuGet.Protocol.Core.Types;
using NuGet.Versioning;

static class Metadata
{
    public static async Task<int> RunAsync(string[] args)
    {
        var token = CancellationToken.None;
        var logger = NullLogger.Instance;
        using var cache = new SourceCacheContext { NoCache = true, DirectDownload = true };

        SourceRepository Repo(string url, int protocol) =>
            Repository.Factory.GetCoreV3(new PackageSource(url) { ProtocolVersion = protocol, AllowInsecureConnections = true });

        var v3 = Repo(args[0], 3);
        var v2 = Repo(args[1], 2);
        var v3Metadata = await v3.GetResourceAsync<PackageMetadataResource>(token);
        var v3Search = await v3.GetResourceAsync<PackageSearchResource>(token);
        var v2Metadata = await v2.GetResourceAsync<PackageMetadataResource>(token);

        var result = new Dictionary<string, object>();
        for (var i = 2; i + 1 < args.Length; i += 2)
        {
            var identity = new PackageIdentity(args[i], NuGetVersion.Parse(args[i + 1]));
            var metadata = await v3Metadata.GetMetadataAsync(identity, cache, logger, token);
            var hits = await v3Search.SearchAsync(identity.Id, new SearchFilter(includePrerelease: true), 0, 20, logger, token);
            var hit = hits.FirstOrDefault(p => string.Equals(p.Identity.Id, identity.Id, StringComparison.OrdinalIgnoreCase));
            var legacy = await v2Metadata.GetMetadataAsync(identity, cache, logger, token);
            result[identity.Id] = new
            {
                found = metadata != null,
                iconUrl = metadata?.IconUrl?.AbsoluteUri,
                readmeUrl = metadata?.ReadmeUrl?.AbsoluteUri,
                readmeFileUrl = metadata?.ReadmeFileUrl,
                searchIconUrl = hit?.IconUrl?.AbsoluteUri,
                v2Found = legacy != null,
                v2IconUrl = legacy?.IconUrl?.AbsoluteUri,
            };
        }
        Console.WriteLine(JsonSerializer.Serialize(result));
        return 0;
    }
}
