using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Platform.Api.Http;

/// <summary>The one rule for the names of apps, jobs, spaces and service accounts (a DNS label, as Cloud Foundry's).</summary>
internal static partial class ResourceNames
{
    public const string Rule = "name must be 1 to 63 lower-case letters, digits and '-', starting with a letter or digit.";

    public static bool IsValid([NotNullWhen(true)] string? name) => !string.IsNullOrWhiteSpace(name) && Pattern().IsMatch(name);

    /// <summary>The problem with a required name, or null when it is fine.</summary>
    public static string? Problem(string? name) =>
        string.IsNullOrWhiteSpace(name) ? "name is required." : IsValid(name) ? null : Rule;

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$")]
    private static partial Regex Pattern();
}
