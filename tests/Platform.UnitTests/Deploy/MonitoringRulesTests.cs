using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Platform.UnitTests.Deploy;

/// <summary>
/// deploy/monitoring: the alert rules load in Prometheus's own checker and fire on the series their unit
/// tests give (and not on healthy ones), and every Platform metric the rules and the dashboard use is one
/// the services export, as ARCHITECTURE.md's instrument table names it.
/// </summary>
public sealed partial class MonitoringRulesTests
{
    private static readonly string Root = Checkout.Root;
    private static readonly string Monitoring = Path.Combine(Root, "deploy", "monitoring");

    [Fact]
    public void The_alert_rules_pass_promtools_check_and_their_unit_tests()
    {
        Assert.Equal("", Promtool("check", "rules", "platform-alerts.yml"));
        Assert.Equal("", Promtool("test", "rules", "platform-alerts.test.yml"));
    }

    [Fact]
    public void The_rules_and_the_dashboard_use_only_metrics_the_services_export()
    {
        var exported = ExportedMetrics();
        Assert.Contains("platform_tasks_completed_total", exported);
        foreach (var file in (string[])["platform-alerts.yml", "platform-dashboard.json"])
        {
            var used = MetricName().Matches(File.ReadAllText(Path.Combine(Monitoring, file))).Select(m => m.Value)
                .Select(n => Regex.Replace(n, "_(bucket|count|sum)$", "")).Distinct().ToList();
            Assert.NotEmpty(used);
            Assert.All(used, name => Assert.True(exported.Contains(name), $"{file} uses {name}, which no service exports"));
        }
    }

    /// <summary>Prometheus names of ARCHITECTURE.md's instruments, as OpenTelemetry's exporter writes them.</summary>
    private static HashSet<string> ExportedMetrics()
    {
        var names = new HashSet<string>();
        foreach (Match row in InstrumentRow().Matches(File.ReadAllText(Path.Combine(Root, "ARCHITECTURE.md"))))
        {
            var name = row.Groups["name"].Value.Replace('.', '_');
            names.Add(row.Groups["type"].Value switch
            {
                "counter" => name + "_total",
                "histogram" when row.Groups["unit"].Value == "s" => name + "_seconds",
                _ => name,
            });
        }
        return names;
    }

    private static string Promtool(params string[] arguments)
    {
        var start = new ProcessStartInfo("promtool") { WorkingDirectory = Monitoring, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? "" : output;
    }


    [GeneratedRegex(@"\bplatform_[a-z_]+")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"^\| `(?<name>platform\.[a-z_.]+)` \| (?<type>counter|histogram|up-down counter), `(?<unit>[^`]+)`", RegexOptions.Multiline)]
    private static partial Regex InstrumentRow();
}
