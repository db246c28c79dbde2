namespace Platform.IntegrationTests.Telemetry;

/// <summary>A span as a service exported it; ids in lowercase hex, as in <c>traceparent</c>.</summary>
public sealed record ExportedSpan(
    IReadOnlyDictionary<string, object> Resource, string Scope, string TraceId, string SpanId, string ParentSpanId, string Name,
    int Kind, IReadOnlyDictionary<string, object> Attributes, int StatusCode, IReadOnlyList<(string TraceId, string SpanId)> Links)
{
    public const int Server = 2, Producer = 4, Consumer = 5;
    public string Service => (string)Resource["service.name"];
    public object? this[string attribute] => Attributes.GetValueOrDefault(attribute);
}

/// <summary>One data point of a metric: a sum's value, or a histogram's count and sum.</summary>
public sealed record ExportedMetricPoint(
    IReadOnlyDictionary<string, object> Resource, string Name, IReadOnlyDictionary<string, object> Attributes, double Value, double? HistogramSum)
{
    public string Instance => (string)Resource["service.instance.id"];
}

/// <summary>A log record with the trace context it was written in.</summary>
public sealed record ExportedLog(IReadOnlyDictionary<string, object> Resource, string Body, string TraceId, string SpanId);

/// <summary>
/// Decodes the OTLP/HTTP protobuf export requests (opentelemetry-proto, collector/*/v1): only the fields
/// the tests assert on. Field numbers are those of the .proto files.
/// </summary>
internal static class OtlpRequests
{
    public static IEnumerable<ExportedSpan> Spans(ReadOnlyMemory<byte> body) =>
        Items(body).Select(item => Span(item.Resource, item.Scope, item.Item));

    public static IEnumerable<ExportedMetricPoint> Metrics(ReadOnlyMemory<byte> body) =>
        Items(body).SelectMany(item => Metric(item.Resource, item.Item));

    /// <summary>
    /// The three export requests share one shape: <c>repeated Resource{Spans,Metrics,Logs} = 1</c>, each
    /// with <c>Resource resource = 1</c> and <c>repeated Scope{Spans,Metrics,Logs} = 2</c>, each with
    /// <c>InstrumentationScope scope = 1</c> and the items (spans, metrics, log records) as field 2.
    /// </summary>
    private static IEnumerable<(IReadOnlyDictionary<string, object> Resource, string Scope, ProtobufReader Item)> Items(ReadOnlyMemory<byte> body)
    {
        var items = new List<(IReadOnlyDictionary<string, object>, string, ProtobufReader)>();
        var request = new ProtobufReader(body);
        while (request.Next())
        {
            if (request.Field != 1) { request.Skip(); continue; }
            var resourceItems = request.Message();
            IReadOnlyDictionary<string, object> resource = new Dictionary<string, object>();
            var scopes = new List<ReadOnlyMemory<byte>>();
            while (resourceItems.Next())
            {
                if (resourceItems.Field == 1) resource = Resource(resourceItems.Message());
                else if (resourceItems.Field == 2) scopes.Add(resourceItems.Bytes());
                else resourceItems.Skip();
            }
            foreach (var scopeBytes in scopes)
            {
                var scopeItems = new ProtobufReader(scopeBytes);
                var scope = "";
                var inScope = new List<ReadOnlyMemory<byte>>();
                while (scopeItems.Next())
                {
                    if (scopeItems.Field == 1) scope = ScopeName(scopeItems.Message());
                    else if (scopeItems.Field == 2) inScope.Add(scopeItems.Bytes());
                    else scopeItems.Skip();
                }
                items.AddRange(inScope.Select(item => (resource, scope, new ProtobufReader(item))));
            }
        }
        return items;
    }

    // Span { trace_id 1; span_id 2; parent_span_id 4; name 5; kind 6; attributes 9; links 13; status 15 }
    private static ExportedSpan Span(IReadOnlyDictionary<string, object> resource, string scope, ProtobufReader span)
    {
        string traceId = "", spanId = "", parent = "", name = "";
        int kind = 0, status = 0;
        var attributes = new Dictionary<string, object>();
        var links = new List<(string, string)>();
        while (span.Next())
        {
            switch (span.Field)
            {
                case 1: traceId = span.Hex(); break;
                case 2: spanId = span.Hex(); break;
                case 4: parent = span.Hex(); break;
                case 5: name = span.String(); break;
                case 6: kind = (int)span.Varint(); break;
                case 9: Attribute(span.Message(), attributes); break;
                case 13: links.Add(Link(span.Message())); break;
                case 15: status = StatusCode(span.Message()); break;
                default: span.Skip(); break;
            }
        }
        return new ExportedSpan(resource, scope, traceId, spanId, parent, name, kind, attributes, status, links);
    }

    // Metric { name 1; gauge 5; sum 7; histogram 9 }
    private static List<ExportedMetricPoint> Metric(IReadOnlyDictionary<string, object> resource, ProtobufReader metric)
    {
        var name = "";
        var points = new List<(IReadOnlyDictionary<string, object> Attributes, double Value, double? Sum)>();
        while (metric.Next())
        {
            switch (metric.Field)
            {
                case 1: name = metric.String(); break;
                case 5 or 7: points.AddRange(NumberPoints(metric.Message())); break; // gauge, sum
                case 9: points.AddRange(HistogramPoints(metric.Message())); break;
                default: metric.Skip(); break;
            }
        }
        return points.Select(p => new ExportedMetricPoint(resource, name, p.Attributes, p.Value, p.Sum)).ToList();
    }

    private static IEnumerable<(IReadOnlyDictionary<string, object>, double, double?)> NumberPoints(ProtobufReader data)
    {
        while (data.Next())
        {
            if (data.Field != 1) { data.Skip(); continue; }
            var point = data.Message();
            var attributes = new Dictionary<string, object>();
            double value = 0;
            while (point.Next())
            {
                switch (point.Field)
                {
                    case 4: value = point.Double(); break;
                    case 6: value = (long)point.Fixed64(); break;
                    case 7: Attribute(point.Message(), attributes); break;
                    default: point.Skip(); break;
                }
            }
            yield return (attributes, value, null);
        }
    }

    private static IEnumerable<(IReadOnlyDictionary<string, object>, double, double?)> HistogramPoints(ProtobufReader data)
    {
        while (data.Next())
        {
            if (data.Field != 1) { data.Skip(); continue; }
            var point = data.Message();
            var attributes = new Dictionary<string, object>();
            double count = 0, sum = 0;
            while (point.Next())
            {
                switch (point.Field)
                {
                    case 4: count = point.Fixed64(); break;
                    case 5: sum = point.Double(); break;
                    case 9: Attribute(point.Message(), attributes); break;
                    default: point.Skip(); break;
                }
            }
            yield return (attributes, count, sum);
        }
    }

    public static IEnumerable<ExportedLog> Logs(ReadOnlyMemory<byte> body) =>
        Items(body).Select(item => Log(item.Resource, item.Item));

    // LogRecord { body = 5; trace_id = 9; span_id = 10 }
    private static ExportedLog Log(IReadOnlyDictionary<string, object> resource, ProtobufReader record)
    {
        string text = "", traceId = "", spanId = "";
        while (record.Next())
        {
            switch (record.Field)
            {
                case 5: text = AnyValue(record.Message())?.ToString() ?? ""; break;
                case 9: traceId = record.Hex(); break;
                case 10: spanId = record.Hex(); break;
                default: record.Skip(); break;
            }
        }
        return new ExportedLog(resource, text, traceId, spanId);
    }

    private static Dictionary<string, object> Resource(ProtobufReader resource)
    {
        var attributes = new Dictionary<string, object>();
        while (resource.Next())
        {
            if (resource.Field == 1) Attribute(resource.Message(), attributes);
            else resource.Skip();
        }
        return attributes;
    }

    private static string ScopeName(ProtobufReader scope)
    {
        var name = "";
        while (scope.Next())
        {
            if (scope.Field == 1) name = scope.String();
            else scope.Skip();
        }
        return name;
    }

    // Span.Link { trace_id 1; span_id 2 }
    private static (string TraceId, string SpanId) Link(ProtobufReader link)
    {
        string traceId = "", spanId = "";
        while (link.Next())
        {
            if (link.Field == 1) traceId = link.Hex();
            else if (link.Field == 2) spanId = link.Hex();
            else link.Skip();
        }
        return (traceId, spanId);
    }

    private static int StatusCode(ProtobufReader status)
    {
        var code = 0;
        while (status.Next())
        {
            if (status.Field == 3) code = (int)status.Varint();
            else status.Skip();
        }
        return code;
    }

    // KeyValue { key = 1; value = 2 }
    private static void Attribute(ProtobufReader keyValue, Dictionary<string, object> into)
    {
        string key = "";
        object? value = null;
        while (keyValue.Next())
        {
            if (keyValue.Field == 1) key = keyValue.String();
            else if (keyValue.Field == 2) value = AnyValue(keyValue.Message());
            else keyValue.Skip();
        }
        if (value is not null) into[key] = value;
    }

    // AnyValue { string 1; bool 2; int64 3; double 4; array 5; kvlist 6; bytes 7 }: arrays and lists as their text.
    private static object? AnyValue(ProtobufReader value)
    {
        object? result = null;
        while (value.Next())
        {
            result = value.Field switch
            {
                1 => value.String(),
                2 => value.Varint() != 0,
                3 => (long)value.Varint(),
                4 => value.Double(),
                _ => System.Text.Encoding.UTF8.GetString(value.Bytes().Span),
            };
        }
        return result;
    }
}
