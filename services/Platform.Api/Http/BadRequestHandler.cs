using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;

namespace Platform.Api.Http;

/// <summary>Answers a body that is not valid JSON, or has a value of the wrong type, with a 400 that names the field.</summary>
internal sealed class BadRequestHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad) return false;
        var json = bad.InnerException as JsonException;
        var field = json?.Path is { Length: > 2 } path ? path.TrimStart('$', '.') : "body";
        context.Response.StatusCode = bad.StatusCode;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails =
            {
                Status = bad.StatusCode,
                Title = "The request body could not be read.",
                Detail = json is null ? bad.Message : $"Invalid JSON at '{field}': {json.Message}",
                Extensions = { ["errors"] = new Dictionary<string, string[]> { [field] = [json?.Message ?? bad.Message] } },
            },
        });
    }
}
