using System.Reflection;
using Marten;
using MassTransit;
using Platform.Contracts;
using Platform.TaskStore;
using Platform.TaskStore.Tasks;
using Platform.UnitTests.Deploy;
using Weasel.Postgresql.Tables;

namespace Platform.UnitTests.Docs;

/// <summary>
/// ARCHITECTURE.md's tables and README's configuration table, held to the code: a bus message, a consumer,
/// a stream event, a table beside Marten's or a setting that is added without its row fails here.
/// </summary>
public sealed class ArchitectureTablesTests
{
    private static readonly string[] Architecture = File.ReadAllLines(Path.Combine(Checkout.Root, "ARCHITECTURE.md"));
    private static readonly string[] Readme = File.ReadAllLines(Path.Combine(Checkout.Root, "README.md"));

    /// <summary>The rows of the markdown table whose header starts with <paramref name="firstColumn"/>.</summary>
    private static List<string> Table(string[] lines, string firstColumn)
    {
        var start = Array.FindIndex(lines, l => l.StartsWith($"| {firstColumn} |"));
        Assert.True(start >= 0, $"no table starting with the column '{firstColumn}'");
        return lines.Skip(start + 2).TakeWhile(l => l.StartsWith('|')).ToList();
    }

    private static string? Row(List<string> rows, string name) => rows.FirstOrDefault(r => r.StartsWith($"| `{name}` |"));

    [Fact]
    public void Every_bus_message_has_a_row_in_the_messages_table()
    {
        var rows = Table(Architecture, "message");
        var messages = typeof(RunTask).Assembly.GetExportedTypes().Where(t => t.Namespace == "Platform.Contracts").Select(t => t.Name).ToList();

        Assert.NotEmpty(messages);
        Assert.All(messages, m => Assert.True(Row(rows, m) is not null, $"ARCHITECTURE.md's messages table has no row for {m}"));
        Assert.Equal(messages.Order(), rows.Select(r => r.Split('`')[1]).Order());
    }

    [Fact]
    public void Every_consumer_is_named_in_its_messages_row()
    {
        var rows = Table(Architecture, "message");
        var services = new[] { "Api", "Executor", "Scheduler", "Retention" };
        var consumers = services
            .SelectMany(service => Assembly.Load($"Platform.{service}").GetTypes()
                .SelectMany(t => t.GetInterfaces())
                .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IConsumer<>))
                .Select(i => (Service: service, Message: i.GetGenericArguments()[0].Name)))
            .Distinct()
            .ToList();

        Assert.NotEmpty(consumers);
        Assert.All(consumers, c =>
        {
            var consumersColumn = Row(rows, c.Message)?.Split('|')[4] ?? "";
            Assert.True(consumersColumn.Contains(c.Service), $"{c.Service} consumes {c.Message}, and its row's consumers column does not say so");
        });
    }

    [Fact]
    public void Every_stream_event_is_in_the_streams_table()
    {
        var taskStream = Assert.Single(Table(Architecture, "stream"), r => r.StartsWith("| task |"));
        var events = typeof(AppTaskProjection).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Where(m => m.Name is "Create" or "Apply")
            .Select(m => m.GetParameters()[0].ParameterType.Name)
            .Distinct()
            .ToList();

        Assert.Equal(7, events.Count);
        Assert.All(events, e => Assert.Contains($"`{e}`", taskStream));
    }

    [Fact]
    public void Every_table_beside_martens_is_named()
    {
        var store = new StoreOptions();
        TaskStoreRegistration.ConfigureStore(store, "platform");
        var tables = store.Storage.ExtendedSchemaObjects.OfType<Table>().Select(t => t.Identifier.Name).ToList();
        var text = string.Join('\n', Architecture);

        Assert.Equal(4, tables.Count);
        Assert.Contains($"{NumberWord(tables.Count)} tables sit beside Marten's", text);
        Assert.All(tables, t => Assert.Contains($"`{t}`", text));
    }

    [Fact]
    public void Every_setting_has_a_row_in_the_configuration_table()
    {
        var rows = Table(Readme, "setting");
        var options = new[] { "Api", "Executor", "Scheduler", "Retention", "TaskStore", "Messaging", "Reaping" }
            .SelectMany(project => Assembly.Load($"Platform.{project}").GetTypes())
            .Where(t => t.Name.EndsWith("Options") && t.GetField("Section", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true })
            .ToList();

        Assert.True(options.Count >= 9, string.Join(", ", options.Select(o => o.Name)));
        foreach (var type in options)
        {
            var section = ((string)type.GetField("Section")!.GetRawConstantValue()!).Replace(":", "__") + "__";
            foreach (var property in type.GetProperties().Where(p => p.CanWrite && p.DeclaringType == type && !IsNested(p.PropertyType)))
            {
                // Rows name a setting in full (Section__Key) or, after the first of its section, as __Key.
                Assert.True(rows.Any(r => r.Split('|')[1].Contains(section) && (r.Contains($"{section}{property.Name}`") || r.Contains($"`__{property.Name}`"))),
                    $"README's configuration table has no row for {section}{property.Name}");
            }
        }
    }

    // Nested option objects (Access:Jwt, Access:Limits ...) are rows of their own, named by their keys.
    private static bool IsNested(Type type) => type.IsClass && type != typeof(string);

    private static string NumberWord(int n) => n switch { 2 => "Two", 3 => "Three", 4 => "Four", 5 => "Five", _ => n.ToString() };
}
