using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Platform.Api.OpenApi;

/// <summary>
/// Adds to /openapi/v1.json the routes that are not route handlers, and so never reach the API explorer:
/// the health checks and the Prometheus scrape from the service defaults. They answer plain text, so each
/// is documented by method, path and status codes only; the OpenAPI test holds every mapped route to being here.
/// </summary>
internal sealed class UndescribedRoutes(EndpointDataSource endpoints) : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Paths ??= new OpenApiPaths();
        foreach (var endpoint in endpoints.Endpoints.OfType<RouteEndpoint>())
        {
            if (endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.IExcludeFromDescriptionMetadata>() is { ExcludeFromDescription: true }) continue;
            var path = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            if (document.Paths.ContainsKey(path) || path.StartsWith("/openapi/", StringComparison.Ordinal)) continue;
            if (endpoint.Metadata.GetMetadata<IHttpMethodMetadata>() is { HttpMethods.Count: > 0 }) continue; // a route handler: described already
            var healthCheck = path.StartsWith("/healthz", StringComparison.Ordinal);
            var responses = new OpenApiResponses
            {
                ["200"] = new OpenApiResponse { Description = healthCheck ? "Healthy (text/plain)" : "Prometheus text exposition format" },
            };
            if (healthCheck) responses["503"] = new OpenApiResponse { Description = "Unhealthy (text/plain)" };
            document.Paths[path] = new OpenApiPathItem
            {
                Operations = new Dictionary<HttpMethod, OpenApiOperation>
                {
                    [HttpMethod.Get] = new OpenApiOperation
                    {
                        OperationId = healthCheck ? "Health" + string.Concat(path["/healthz".Length..].Split('/', StringSplitOptions.RemoveEmptyEntries).Select(p => char.ToUpperInvariant(p[0]) + p[1..])) : "Metrics",
                        Summary = endpoint.DisplayName,
                        Responses = responses,
                    },
                },
            };
        }
        return Task.CompletedTask;
    }
}
