namespace Platform.UnitTests.Deploy;

/// <summary>The checkout the tests run from, for tests that read its deployment files.</summary>
internal static class Checkout
{
    public static readonly string Root = Find();

    private static string Find()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Platform.sln"))) directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("Platform.sln not found above the test's directory");
    }
}
