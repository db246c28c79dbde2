namespace Platform.IntegrationTests.Telemetry;

/// <summary>A span as a service exported it; ids in lowercase hex, as in <c>traceparent</c>.</summary>
public sealed record ExportedSpan(
    IReadOnlyDictionary<string, object> Resource, string Scope, string TraceId, string SpanId, string ParentSpanId, string Name,
    int Kind, IReadOnlyDictionary<string, object> Attributes, int StatusCode)
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
    public static IEnumerable<ExportedSpan> Spans(ReadOnlyMemory<byte> body)
    {
        var request = new ProtobufReader(body);
        while (request.Next())
        {
            if (request.Field != 1) { request.Skip(); continue; }
            var resourceSpans = request.Message();
            IReadOnlyDictionary<string, object> resource = new Dictionary<string, object>();
            var scopes = new List<ReadOnlyMemory<byte>>();
            while (resourceSpans.Next())
            {
                if (resourceSpans.Field == 1) resource = Resource(resourceSpans.Message());
                else if (resourceSpans.Field == 2) scopes.Add(resourceSpans.Bytes());
                else resourceSpans.Skip();
            }
            foreach (var scopeBytes in scopes)
            {
                var scopeSpans = new ProtobufReader(scopeBytes);
                var scope = "";
                var spans = new List<ReadOnlyMemory<byte>>();
                while (scopeSpans.Next())
                {
                    if (scopeSpans.Field == 1) scope = ScopeName(scopeSpans.Message());
                    else if (scopeSpans.Field == 2) spans.Add(scopeSpans.Bytes());
                    else scopeSpans.Skip();
                }
                foreach (var span in spans) yield return Span(resource, scope, new ProtobufReader(span));
            }
        }
    }

    private static ExportedSpan Span(IReadOnlyDictionary<string, object> resource, string scope, ProtobufReader span)
    {
        string traceId = "", spanId = "", parent = "", name = "";
        int kind = 0, status = 0;
        var attributes = new Dictionary<string, object>();
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
                case 15: status = StatusCode(span.Message()); break;
                default: span.Skip(); break;
            }
        }
        return new ExportedSpan(resource, scope, traceId, spanId, parent, name, kind, attributes, status);
    }

    public static IEnumerable<ExportedMetricPoint> Metrics(ReadOnlyMemory<byte> body)
    {
        var points = new List<ExportedMetricPoint>();
        var request = new ProtobufReader(body);
        while (request.Next())
        {
            if (request.Field != 1) { request.Skip(); continue; }
            var resourceMetrics = request.Message();
            IReadOnlyDictionary<string, object> resource = new Dictionary<string, object>();
            var scopes = new List<ReadOnlyMemory<byte>>();
            while (resourceMetrics.Next())
            {
                if (resourceMetrics.Field == 1) resource = Resource(resourceMetrics.Message());
                else if (resourceMetrics.Field == 2) scopes.Add(resourceMetrics.Bytes());
                else resourceMetrics.Skip();
            }
            foreach (var scopeBytes in scopes)
            {
                var scopeMetrics = new ProtobufReader(scopeBytes);
                while (scopeMetrics.Next())
                {
                    if (scopeMetrics.Field == 2) points.AddRange(Metric(resource, scopeMetrics.Message()));
                    else scopeMetrics.Skip();
                }
            }
        }
        return points;
    }

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

    public static IEnumerable<ExportedLog> Logs(ReadOnlyMemory<byte> body)
    {
        var logs = new List<ExportedLog>();
        var request = new ProtobufReader(body);
        while (request.Next())
        {
            if (request.Field != 1) { request.Skip(); continue; }
            var resourceLogs = request.Message();
            IReadOnlyDictionary<string, object> resource = new Dictionary<string, object>();
            var scopes = new List<ReadOnlyMemory<byte>>();
            while (resourceLogs.Next())
            {
                if (resourceLogs.Field == 1) resource = Resource(resourceLogs.Message());
                else if (resourceLogs.Field == 2) scopes.Add(resourceLogs.Bytes());
                else resourceLogs.Skip();
            }
            foreach (var scopeBytes in scopes)
            {
                var scopeLogs = new ProtobufReader(scopeBytes);
                while (scopeLogs.Next())
                {
                    if (scopeLogs.Field != 2) { scopeLogs.Skip(); continue; }
                    var record = scopeLogs.Message();
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
                    logs.Add(new ExportedLog(resource, text, traceId, spanId));
                }
            }
        }
        return logs;
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
