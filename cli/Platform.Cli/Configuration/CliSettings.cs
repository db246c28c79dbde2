using System.Text.Json;
using System.Text.Json.Serialization;

namespace Platform.Cli.Configuration;

/// <summary>
/// Where the CLI talks to and with which token: <c>~/.platform/config.json</c> (written by <c>platform
/// login</c>, mode 0600 since it holds a token), each value overridable by <c>PLATFORM_API</c> and
/// <c>PLATFORM_TOKEN</c>.
/// </summary>
internal sealed record CliSettings(string? Api, string? Token)
{
    public static string Directory => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".platform");
    public static string FilePath => Path.Combine(Directory, "config.json");

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };

    /// <summary>The stored settings with the environment's overrides on top.</summary>
    public static CliSettings Load()
    {
        var stored = ReadFile();
        return new CliSettings(
            NonEmpty(Environment.GetEnvironmentVariable("PLATFORM_API")) ?? stored.Api,
            NonEmpty(Environment.GetEnvironmentVariable("PLATFORM_TOKEN")) ?? stored.Token);
    }

    public static CliSettings ReadFile()
    {
        if (!File.Exists(FilePath)) return new CliSettings(null, null);
        try
        {
            return JsonSerializer.Deserialize<CliSettings>(File.ReadAllText(FilePath), Json) ?? new CliSettings(null, null);
        }
        catch (JsonException ex)
        {
            throw new CliFailure(ExitCodes.NotConfigured, $"{FilePath} is not valid JSON ({ex.Message}); run platform login again.");
        }
    }

    /// <summary>Writes the file so that only its owner can read it: the directory 0700, the file 0600 from its creation.</summary>
    public void Save()
    {
        var directory = System.IO.Directory.CreateDirectory(Directory);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(directory.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(FilePath, options))
            JsonSerializer.Serialize(stream, this, Json);
        // A file that existed before keeps its mode on open; make sure it is 0600 now.
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(FilePath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public Uri RequireApi()
    {
        if (Api is null)
            throw new CliFailure(ExitCodes.NotConfigured, "no API target: run 'platform login --api URL' or set PLATFORM_API.");
        if (!Uri.TryCreate(Api, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new CliFailure(ExitCodes.NotConfigured, $"the API target '{Api}' is not an http(s) URL.");
        return uri;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
