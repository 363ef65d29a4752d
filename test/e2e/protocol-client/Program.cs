// NuGet's own client library (NuGet.Protocol 8.0.0, as Visual Studio and the Package Manager Console use it) asked
// about a feed, so the end-to-end tests see what those clients see. One program, one build, several questions:
//   ProtocolClient metadata <v3 service index URL> <v2 feed URL> <id> <version> [<id> <version> ...]
//   ProtocolClient autocomplete <source> ids <prefix> <includePrerelease>
//   ProtocolClient autocomplete <source> versions <id> <prefix> <includePrerelease>
// Each prints one JSON value on stdout (client.ts runs it).
return args.FirstOrDefault() switch
{
    "metadata" => await Metadata.RunAsync(args[1..]),
    "autocomplete" => await Autocomplete.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: ProtocolClient metadata|autocomplete ...");
    return 2;
}
