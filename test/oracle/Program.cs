// Pawket's oracle: answers questions about NuGet rules with NuGet's own libraries.
// Reads one JSON request per line on stdin, writes one JSON answer per line on stdout, in order.
//   {"op":"version","s":"1.0-beta"}                 -> parse, normalized, full, original, semVer2, prerelease
//   {"op":"compare","a":"1.0","b":"1.0.0-rc"}       -> VersionComparer.Default (sign), or null if either fails to parse
//   {"op":"range","s":"[1.0,2.0)","v":["1.5"]}      -> parse, normalized, legacy strings, satisfies per version, best match
//   {"op":"framework","s":"net8.0-windows7.0"}      -> NuGetFramework.Parse: short folder name, long name, parts, or the error
//   {"op":"id","s":"Newtonsoft.Json"}               -> PackageIdValidator.IsValidPackageId, ToLowerInvariant
//   {"op":"nuspec","b64":"PHBhY2thZ2U+..."}          -> NuspecReader over these bytes: accepted? id, description; or the error
// Input strings must be well-formed UTF-16 (no lone surrogates): JSON cannot carry them to .NET intact.
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using NuGet.Frameworks;
using NuGet.Packaging;
using NuGet.Versioning;

var jsonOptions = new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
using var stdout = new StreamWriter(Console.OpenStandardOutput(), new System.Text.UTF8Encoding(false)) { AutoFlush = false };
using var stdin = new StreamReader(Console.OpenStandardInput(), new System.Text.UTF8Encoding(false));

string line;
while ((line = stdin.ReadLine()) != null)
{
    if (line.Length == 0) continue;
    JsonNode answer;
    try
    {
        var request = JsonNode.Parse(line)!.AsObject();
        answer = (string)request["op"] switch
        {
            "version" => Version((string)request["s"]),
            "compare" => Compare((string)request["a"], (string)request["b"]),
            "range" => Range((string)request["s"], request["v"]?.AsArray().Select(n => (string)n).ToList() ?? new List<string>()),
            "framework" => Framework((string)request["s"]),
            "id" => Id((string)request["s"]),
            "nuspec" => Nuspec(Convert.FromBase64String((string)request["b64"])),
            var op => throw new InvalidOperationException($"unknown op {op}"),
        };
    }
    catch (Exception e) when (e is JsonException or InvalidOperationException)
    {
        answer = new JsonObject { ["oracleError"] = e.Message };
    }
    stdout.WriteLine(answer.ToJsonString(jsonOptions));
}
stdout.Flush();

static JsonNode Version(string s)
{
    if (!NuGetVersion.TryParse(s, out var v)) return new JsonObject { ["ok"] = false };
    return new JsonObject
    {
        ["ok"] = true,
        ["normalized"] = v.ToNormalizedString(),
        ["full"] = v.ToFullString(),
        ["original"] = v.OriginalVersion,
        ["semVer2"] = v.IsSemVer2,
        ["prerelease"] = v.IsPrerelease,
    };
}

static JsonNode Compare(string a, string b)
{
    if (!NuGetVersion.TryParse(a, out var va) || !NuGetVersion.TryParse(b, out var vb)) return new JsonObject { ["result"] = null };
    return new JsonObject
    {
        ["result"] = Math.Sign(VersionComparer.Default.Compare(va, vb)),
        ["equals"] = VersionComparer.Default.Equals(va, vb),
    };
}

static JsonNode Range(string s, List<string> versionStrings)
{
    if (!VersionRange.TryParse(s, allowFloating: true, out var r)) return new JsonObject { ["ok"] = false };
    // Parse every candidate once: FindBestMatch works on object identity, so the answer is an index.
    var versions = versionStrings.Select(text => NuGetVersion.TryParse(text, out var v) ? v : null).ToList();
    var best = r.FindBestMatch(versions.Where(v => v != null));
    return new JsonObject
    {
        ["ok"] = true,
        ["normalized"] = r.ToNormalizedString(),
        ["legacy"] = r.ToLegacyString(),
        ["legacyShort"] = r.ToLegacyShortString(),
        ["short"] = r.ToShortString(),
        ["floating"] = r.IsFloating,
        ["min"] = r.MinVersion?.ToFullString(),
        ["max"] = r.MaxVersion?.ToFullString(),
        ["minInclusive"] = r.IsMinInclusive,
        ["maxInclusive"] = r.IsMaxInclusive,
        ["semVer2"] = (r.MinVersion?.IsSemVer2 ?? false) || (r.MaxVersion?.IsSemVer2 ?? false),
        ["satisfies"] = new JsonArray(versions.Select(v => (JsonNode)(v == null ? null : JsonValue.Create(r.Satisfies(v)))).ToArray()),
        ["best"] = best == null ? -1 : versions.FindIndex(v => ReferenceEquals(v, best)),
    };
}

static JsonNode Framework(string s)
{
    NuGetFramework f;
    try
    {
        f = NuGetFramework.Parse(s);
    }
    catch (Exception e)
    {
        return new JsonObject { ["ok"] = false, ["error"] = e.GetType().Name };
    }
    var answer = new JsonObject
    {
        ["ok"] = true,
        ["framework"] = f.Framework,
        ["version"] = f.Version.ToString(),
        ["profile"] = f.Profile,
        ["platform"] = f.Platform,
        ["platformVersion"] = f.PlatformVersion.ToString(),
        ["long"] = f.DotNetFrameworkName,
    };
    try
    {
        answer["short"] = f.GetShortFolderName();
    }
    catch (Exception e)
    {
        answer["shortError"] = e.GetType().Name;
    }
    return answer;
}

static JsonNode Id(string s) => new JsonObject
{
    ["valid"] = PackageIdValidator.IsValidPackageId(s),
    ["lower"] = s.ToLowerInvariant(),
};

// Bytes, not a string, so encodings, byte order marks and lone surrogates reach the XML reader as a push would bring them.
static JsonNode Nuspec(byte[] bytes)
{
    try
    {
        var reader = new NuspecReader(new MemoryStream(bytes));
        return new JsonObject { ["ok"] = true, ["id"] = reader.GetId(), ["description"] = reader.GetDescription() };
    }
    catch (Exception e)
    {
        return new JsonObject { ["ok"] = false, ["error"] = e.GetType().Name, ["message"] = e.Message };
    }
}
