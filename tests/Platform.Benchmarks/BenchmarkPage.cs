using System.Text;
using Platform.Benchmarks.Infrastructure;

namespace Platform.Benchmarks;

/// <summary>
/// Writes the run's figures into docs/benchmarks.md, between two markers, so that the hand-written parts of
/// the page (how to read the figures, what was found) stay as they are.
/// </summary>
public static class BenchmarkPage
{
    private const string Start = "<!-- results:start (written by tests/Platform.Benchmarks; do not edit by hand) -->";
    private const string End = "<!-- results:end -->";

    public static string Write(Machine machine, ResultsTable results, IReadOnlyList<string> loads, TimeSpan duration, BenchmarkOptions options)
    {
        var path = Path.Combine(Repository.Root, "docs", "benchmarks.md");
        var section = new StringBuilder();
        section.AppendLine(Start);
        section.AppendLine($"**Latest run:** {machine.At:yyyy-MM-dd HH:mm} UTC, commit `{machine.Commit}`, {duration.TotalMinutes:0.0} minutes{(options.Quick ? " (--quick: small counts, not for comparison)" : "")}.");
        section.AppendLine();
        section.AppendLine($"**Machine:** {machine.Cores} cores ({machine.Cpu}), {machine.MemoryGiB:0.0} GiB memory; PostgreSQL, RabbitMQ, " +
            "every Platform process, Hangfire, Quartz and the benchmark client all on it.");
        section.AppendLine();
        section.AppendLine($"**Load average (1 min) at the start: {machine.LoadAverage.Split(' ')[0]}**, and at each phase: {string.Join("; ", loads)}. " +
            $"A load above {machine.Cores} means other work shared the machine during the run.");
        section.AppendLine();
        section.Append(results.ToMarkdown());
        section.AppendLine();
        section.AppendLine("Details of this run:");
        section.AppendLine();
        foreach (var note in results.Notes)
        {
            // A note with a table of its own (the statement profile) keeps its lines, as a block inside the item.
            var lines = note.Split('\n');
            section.AppendLine($"- {lines[0]}");
            if (lines.Length == 1) continue;
            section.AppendLine("  ```");
            foreach (var line in lines.Skip(1)) section.AppendLine($"  {line.Trim()}");
            section.AppendLine("  ```");
        }
        section.AppendLine(End);

        var existing = File.Exists(path) ? File.ReadAllText(path) : "";
        var (from, to) = (existing.IndexOf(Start, StringComparison.Ordinal), existing.IndexOf(End, StringComparison.Ordinal));
        var page = from >= 0 && to > from
            ? existing[..from] + section + existing[(to + End.Length)..].TrimStart('\r', '\n').Insert(0, "\n")
            : "# Benchmarks\n\n" + section;
        File.WriteAllText(path, page);
        return path;
    }
}
