namespace Platform.IntegrationTests.Infrastructure;

/// <summary>
/// A measurement, not a test of behaviour: skipped unless <c>PLATFORM_BENCHMARK=1</c>, so that
/// <c>./test.sh</c> never spends minutes on it. Run it with
/// <c>PLATFORM_BENCHMARK=1 dotnet test tests/Platform.IntegrationTests -c Release --filter "Category=Benchmark" --logger "console;verbosity=detailed"</c>.
/// </summary>
public sealed class BenchmarkFactAttribute : FactAttribute
{
    public const string Variable = "PLATFORM_BENCHMARK";

    public BenchmarkFactAttribute()
    {
        if (Environment.GetEnvironmentVariable(Variable) != "1") Skip = $"a measurement: set {Variable}=1 to run it";
        Timeout = (int)TimeSpan.FromMinutes(20).TotalMilliseconds;
    }
}
