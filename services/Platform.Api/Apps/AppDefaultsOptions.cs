using Microsoft.Extensions.Options;
using Platform.TaskStore.Tasks;

namespace Platform.Api.Apps;

/// <summary>What an app gets when its registration leaves a limit out. Sizes as cf users type them: 256M, 1G.</summary>
public sealed class AppDefaultsOptions
{
    public const string Section = "Apps";

    public string DefaultMemory { get; set; } = "256M";
    public string DefaultDisk { get; set; } = "1G";

    public int DefaultMemoryInMb => Megabytes.Parse(DefaultMemory);
    public int DefaultDiskInMb => Megabytes.Parse(DefaultDisk);
}

internal sealed class AppDefaultsValidation : IValidateOptions<AppDefaultsOptions>
{
    public ValidateOptionsResult Validate(string? name, AppDefaultsOptions options)
    {
        var failures = new List<string>();
        if (!Megabytes.TryParse(options.DefaultMemory, out var memory, out var memoryError)) failures.Add($"Apps:DefaultMemory: {memoryError}");
        else if (TaskDefinition.LimitError("Apps:DefaultMemory", memory, TaskDefinition.MaxMemoryInMb) is { } tooBig) failures.Add(tooBig);
        if (!Megabytes.TryParse(options.DefaultDisk, out var disk, out var diskError)) failures.Add($"Apps:DefaultDisk: {diskError}");
        else if (TaskDefinition.LimitError("Apps:DefaultDisk", disk, TaskDefinition.MaxDiskInMb) is { } tooBig) failures.Add(tooBig);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
